// Schema-guided walks over objects for server-side apply, in structured-merge-diff's terms:
// the field set an applied configuration sets, the comparison of two objects (added / modified /
// removed paths), the merge of a configuration into a live object, and removal of one path.
// The schema is the SSA half of merge-keys.ts: associative lists by their keys, sets, atomic
// lists and atomic maps; everything else is a map merged field by field.

import { errors } from '../../../api/errors.js';
import { type PathElement, FieldSet, fieldPE, keyPE, pathString, valuePE } from './fieldpath.js';
import { type FieldRule, type ListRule, type TypeRules, childRules, typeRules } from './merge-keys.js';
import { type JsonObject, deepClone, deepEqual, isObject } from './value.js';

const ATOMIC: ListRule = { smp: 'replace', ssa: 'atomic' };
const listRule = (r: FieldRule | undefined): ListRule => r?.list ?? ATOMIC;

/** The path element of an associative-list item, or an error naming the item and the key field. */
export function itemPE(item: unknown, rule: ListRule, path: readonly PathElement[], i: number): PathElement {
  if (rule.ssa === 'set') return valuePE(item);
  const keys: Record<string, unknown> = {};
  for (const k of rule.ssaKeys ?? []) {
    const v = isObject(item) && item[k] !== undefined ? item[k] : rule.keyDefaults?.[k];
    if (v === undefined || isObject(v) || Array.isArray(v)) {
      throw errors.badRequest(`failed to create typed patch object: ${pathString(path)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(k)}`, [
        { reason: 'FieldValueRequired', message: `element ${i} omits key field ${JSON.stringify(k)}`, field: `${pathString(path).slice(1)}[${i}].${k}` },
      ]);
    }
    keys[k] = v;
  }
  return keyPE(keys);
}

// ---- the field set of an applied configuration ----

/** Fields set by `obj`: leaves, list items, atomic values, nulls and empty maps (SMD's ToFieldSet). */
export function toFieldSet(obj: JsonObject, rules: TypeRules): FieldSet {
  const set = new FieldSet();
  walkFields(obj, rules, [], set);
  return set;
}

function walkFields(obj: JsonObject, rules: TypeRules, path: PathElement[], set: FieldSet): void {
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined) continue;
    const p = [...path, fieldPE(k)];
    const r = rules[k];
    if (v === null || r?.atomic) set.insert(p);
    else if (Array.isArray(v)) walkList(v, listRule(r), p, set);
    else if (isObject(v)) {
      if (Object.keys(v).length === 0) set.insert(p);
      else walkFields(v, childRules(rules, k), p, set);
    } else set.insert(p);
  }
}

function walkList(list: unknown[], rule: ListRule, path: PathElement[], set: FieldSet): void {
  if (rule.ssa === 'atomic') return set.insert(path);
  list.forEach((item, i) => {
    const p = [...path, itemPE(item, rule, path, i)];
    set.insert(p);
    if (rule.ssa === 'map' && isObject(item)) walkFields(item, typeRules(rule.item), p, set);
  });
}

// ---- comparing two versions of an object ----

/** What changed between two versions of an object, as field sets. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compare `lhs` (before) with `rhs` (after); either may be undefined (absent). */
export function compare(lhs: JsonObject | undefined, rhs: JsonObject | undefined, rules: TypeRules): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  cmpMap(lhs ?? {}, rhs ?? {}, rules, [], c);
  return c;
}

function cmpMap(l: JsonObject, r: JsonObject, rules: TypeRules, path: PathElement[], c: Comparison): void {
  for (const k of Object.keys(l)) cmpValue(l[k], r[k], rules[k], childRules(rules, k), [...path, fieldPE(k)], c);
  for (const k of Object.keys(r)) if (!(k in l)) cmpValue(undefined, r[k], rules[k], childRules(rules, k), [...path, fieldPE(k)], c);
}

const container = (v: unknown) => isObject(v) || Array.isArray(v);

function cmpValue(l: unknown, r: unknown, rule: FieldRule | undefined, rules: TypeRules, path: PathElement[], c: Comparison): void {
  if (l === undefined && r === undefined) return;
  if (l === undefined) return collect(r, rule, rules, path, c.added);
  if (r === undefined) return collect(l, rule, rules, path, c.removed);
  if (rule?.atomic || !container(l) || !container(r) || (Array.isArray(r) && listRule(rule).ssa === 'atomic')) {
    // a null container counts as an empty one (Go's nil slice or map), so null -> [..] adds items only
    if (l === null && container(r) && !rule?.atomic) return cmpValue(Array.isArray(r) ? [] : {}, r, rule, rules, path, c);
    if (r === null && container(l) && !rule?.atomic) return cmpValue(l, Array.isArray(l) ? [] : {}, rule, rules, path, c);
    if (!deepEqual(l, r)) c.modified.insert(path);
    return;
  }
  if (isObject(l) && isObject(r)) return cmpMap(l, r, rules, path, c);
  if (Array.isArray(l) && Array.isArray(r)) return cmpList(l, r, listRule(rule), path, c);
  c.modified.insert(path);
}

function cmpList(l: unknown[], r: unknown[], rule: ListRule, path: PathElement[], c: Comparison): void {
  const itemRules = typeRules(rule.item);
  const lm = indexItems(l, rule, path);
  const rm = indexItems(r, rule, path);
  for (const [pe, lv] of lm) {
    const p = [...path, pe];
    if (!rm.has(pe)) collect(lv, undefined, itemRules, p, c.removed, rule);
    else if (rule.ssa === 'map') cmpMap(isObject(lv) ? lv : {}, asObj(rm.get(pe)), itemRules, p, c);
  }
  for (const [pe, rv] of rm) if (!lm.has(pe)) collect(rv, undefined, itemRules, [...path, pe], c.added, rule);
}

const asObj = (v: unknown): JsonObject => (isObject(v) ? v : {});

/** Items of an associative list or set by path element; the first of duplicates wins. */
export function indexItems(list: unknown[], rule: ListRule, path: readonly PathElement[]): Map<PathElement, unknown> {
  const m = new Map<PathElement, unknown>();
  list.forEach((item, i) => {
    const pe = itemPE(item, rule, path, i);
    if (!m.has(pe)) m.set(pe, item);
  });
  return m;
}

/** Insert `path` and every path below it in `v` into `set`. `item` is set for list items. */
function collect(v: unknown, rule: FieldRule | undefined, rules: TypeRules, path: PathElement[], set: FieldSet, item?: ListRule): void {
  set.insert(path);
  if (rule?.atomic || (item && item.ssa === 'set')) return;
  if (isObject(v)) {
    for (const k of Object.keys(v)) collect(v[k], rules[k], childRules(rules, k), [...path, fieldPE(k)], set);
  } else if (Array.isArray(v)) {
    const lr = listRule(rule);
    if (lr.ssa === 'atomic') return;
    for (const [pe, iv] of indexItems(v, lr, path)) collect(iv, undefined, typeRules(lr.item), [...path, pe], set, lr);
  }
}

// ---- merging an applied configuration into a live object ----

/**
 * Merge `cfg` into `live` in place (the caller owns `live`): maps field by field, associative
 * lists and sets item by item, atomic values replaced; a null in `cfg` removes the field.
 * Values taken from `cfg` are copied, so the result never aliases the configuration.
 */
export function mergeApplied(live: JsonObject, cfg: JsonObject, rules: TypeRules, path: PathElement[] = []): JsonObject {
  for (const k of Object.keys(cfg)) {
    const cv = cfg[k];
    if (cv === undefined) continue;
    const r = rules[k];
    const lv = live[k];
    const p = [...path, fieldPE(k)];
    if (cv === null) delete live[k];
    else if (r?.atomic) live[k] = deepClone(cv);
    else if (isObject(cv) && isObject(lv)) live[k] = mergeApplied(lv, cv, childRules(rules, k), p);
    else if (Array.isArray(cv) && Array.isArray(lv) && listRule(r).ssa !== 'atomic') live[k] = mergeList(lv, cv, listRule(r), p);
    else live[k] = deepClone(cv);
  }
  return live;
}

/**
 * Associative merge of two lists: configuration items in configuration order; live-only items
 * stay where they were relative to the configuration items that preceded them in the live list.
 */
function mergeList(live: unknown[], cfg: unknown[], rule: ListRule, path: PathElement[]): unknown[] {
  const cm = indexItems(cfg, rule, path);
  const itemRules = typeRules(rule.item);
  const liveByPE = new Map<PathElement, unknown>();
  const leading: unknown[] = [];
  const after = new Map<PathElement, unknown[]>();
  let lastShared: PathElement | undefined;
  live.forEach((item, i) => {
    const pe = itemPE(item, rule, path, i);
    if (cm.has(pe)) {
      if (!liveByPE.has(pe)) liveByPE.set(pe, item);
      lastShared = pe;
    } else if (lastShared === undefined) leading.push(item);
    else {
      const group = after.get(lastShared);
      if (group) group.push(item);
      else after.set(lastShared, [item]);
    }
  });
  const out: unknown[] = [...leading];
  for (const [pe, cv] of cm) {
    const lv = liveByPE.get(pe);
    if (rule.ssa === 'map' && isObject(lv) && isObject(cv)) out.push(mergeApplied(lv, cv, itemRules, [...path, pe]));
    else out.push(deepClone(cv));
    out.push(...(after.get(pe) ?? []));
  }
  return out;
}

// ---- removing fields ----

/**
 * Remove the value at `path` from `obj` in place, then remove containers the removal left empty,
 * unless `keep` says that container is itself owned. Returns false when the path is absent.
 */
export function removePath(obj: JsonObject, path: readonly PathElement[], rules: TypeRules, keep: (p: readonly PathElement[]) => boolean): boolean {
  const trail: { parent: JsonObject | unknown[]; at: string | number; path: PathElement[] }[] = [];
  let cur: unknown = obj;
  let curRules = rules;
  let curRule: FieldRule | undefined;
  for (let i = 0; i < path.length; i++) {
    const pe = path[i]!;
    const p = path.slice(0, i + 1) as PathElement[];
    if (pe.startsWith('f:') && isObject(cur)) {
      const name = pe.slice(2);
      if (!(name in cur)) return false;
      trail.push({ parent: cur, at: name, path: p });
      curRule = curRules[name];
      curRules = childRules(curRules, name);
      cur = cur[name];
    } else if ((pe.startsWith('k:') || pe.startsWith('v:')) && Array.isArray(cur)) {
      const lr = listRule(curRule);
      const list: unknown[] = cur;
      const at = list.findIndex((it, j) => itemPE(it, lr, path.slice(0, i), j) === pe);
      if (at < 0) return false;
      trail.push({ parent: list, at, path: p });
      curRules = typeRules(lr.item);
      curRule = undefined;
      cur = list[at];
    } else return false;
  }
  for (let i = trail.length - 1; i >= 0; i--) {
    const { parent, at, path: p } = trail[i]!;
    if (i < trail.length - 1) {
      const v = Array.isArray(parent) ? parent[at as number] : parent[at as string];
      const isEmpty = Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
      if (!isEmpty || keep(p)) break;
    }
    if (Array.isArray(parent)) parent.splice(at as number, 1);
    else delete parent[at as string];
  }
  return true;
}
