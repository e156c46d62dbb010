// Strategic merge patch (`application/strategic-merge-patch+json`), the format `kubectl apply`
// (client-side) and `kubectl patch` send for built-in kinds. Like a JSON merge patch, except that
// lists named in merge-keys.ts merge item by item by their patch merge key, and the directives
// below steer the merge:
//   $patch: replace | delete | merge           on a map: replace it / empty it / merge (default)
//   list item {$patch: replace}                 replace the whole list by the other patch items
//   list item {<key>: v, $patch: delete}        remove the item(s) with that key from the list
//   $retainKeys: [..]                           drop the map's keys not in the list, then merge
//   $deleteFromPrimitiveList/<field>: [..]      remove these scalars from list <field>
//   $setElementOrder/<field>: [..]              the final order of the items the patch names
// Behaviour, ordering rules and error codes follow k8s.io/apimachinery's strategicpatch package
// (server side: unmatched nulls are ignored). Malformed directives are 400 BadRequest; a list of
// lists and a patch key missing from $retainKeys are 422 Invalid, as kube-apiserver answers.

import { ApiError, errors } from '../../../api/errors.js';
import { type ListRule, type TypeRules, childRules, rulesForKind, typeRules } from './merge-keys.js';
import { type JsonObject, deepClone, isObject, show } from './value.js';

const DIRECTIVE = '$patch';
const RETAIN = '$retainKeys';
const DELETE_PREFIX = '$deleteFromPrimitiveList/';
const ORDER_PREFIX = '$setElementOrder/';

/**
 * Apply a strategic merge patch to `target`, a Kubernetes object of kind `kindKey` (`Deployment`,
 * `apps/v1/Deployment`). The target is copied once and never mutated; the patch is only read.
 */
export function strategicMergePatch(target: unknown, patch: unknown, kindKey: string): JsonObject {
  if (!isObject(patch)) throw errors.badRequest(`strategic merge patch: the patch must be a JSON object, got ${show(patch)}`);
  const original: JsonObject = isObject(target) ? deepClone(target) : {};
  return mergeMap(original, patch, rulesForKind(kindKey), '');
}

function bad(path: string, detail: string): ApiError {
  return errors.badRequest(`strategic merge patch: ${path || '<root>'}: ${detail}`, [{ reason: 'FieldValueInvalid', message: detail, field: path || '<root>' }]);
}

function invalid(path: string, detail: string): ApiError {
  return new ApiError('Invalid', `strategic merge patch: ${path || '<root>'}: ${detail}`, {}, [{ reason: 'FieldValueInvalid', message: detail, field: path || '<root>' }]);
}

const join = (path: string, k: string) => (path ? `${path}.${k}` : k);

// ---- maps ----

/** Merge `patch` into `original`, which the caller owns and which is modified and returned. */
function mergeMap(original: JsonObject, patch: JsonObject, rules: TypeRules, path: string): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined && directive !== 'merge') {
    if (directive === 'replace') return clean(patch, rules, path) as JsonObject;
    if (directive === 'delete') return {};
    throw bad(path, `unknown patch type ${show(directive)} in ${DIRECTIVE} (want replace, delete or merge)`);
  }
  if (RETAIN in patch) applyRetainKeys(original, patch, path);

  const done = new Set<string>();
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(ORDER_PREFIX)) continue;
    const field = key.slice(ORDER_PREFIX.length);
    if (!field) throw bad(path, `bad ${ORDER_PREFIX} directive ${show(key)}`);
    const order = patch[key];
    if (!Array.isArray(order)) throw bad(join(path, key), `${ORDER_PREFIX}<field> must be a list`);
    const list = ruleOf(rules, field);
    const merged = mergeListField(original[field], patch[field], list, join(path, field));
    if (merged === undefined) continue;
    original[field] = orderBy(merged, order, Array.isArray(original[field]) ? (original[field] as unknown[]) : [], list.smpKey, join(path, field), patch[field]);
    done.add(field);
  }

  for (const key of Object.keys(patch)) {
    if (key === DIRECTIVE || key === RETAIN || key.startsWith(ORDER_PREFIX) || done.has(key)) continue;
    const pv = patch[key];
    if (key.startsWith(DELETE_PREFIX)) {
      const field = key.slice(DELETE_PREFIX.length);
      if (!field || !Array.isArray(pv)) throw bad(join(path, key), `${DELETE_PREFIX}<field> must be a list`);
      const cur = original[field];
      if (Array.isArray(cur)) original[field] = cur.filter((v) => !pv.some((d) => d === v));
      continue;
    }
    if (pv === null) {
      delete original[key];
      continue;
    }
    const cur = original[key];
    const sub = join(path, key);
    if (isObject(pv) && isObject(cur)) {
      original[key] = mergeMap(cur, pv, childRules(rules, key), sub);
    } else if (Array.isArray(pv) && Array.isArray(cur)) {
      original[key] = mergeListField(cur, pv, ruleOf(rules, key), sub);
    } else {
      original[key] = clean(pv, childRules(rules, key), sub, ruleOf(rules, key));
    }
  }
  return original;
}

function ruleOf(rules: TypeRules, field: string): ListRule {
  return rules[field]?.list ?? { smp: 'replace', ssa: 'atomic' };
}

function applyRetainKeys(original: JsonObject, patch: JsonObject, path: string): void {
  const keep = patch[RETAIN];
  if (!Array.isArray(keep)) throw bad(join(path, RETAIN), `${RETAIN} must be a list of field names`);
  for (const k of Object.keys(patch)) {
    if (k === DIRECTIVE || k === RETAIN || k.startsWith(DELETE_PREFIX) || k.startsWith(ORDER_PREFIX) || patch[k] === null) continue;
    if (!keep.includes(k)) throw invalid(join(path, k), `field is in the patch but not in ${RETAIN} ${show(keep)}`);
  }
  for (const k of Object.keys(original)) if (!keep.includes(k)) delete original[k];
}

// ---- lists ----

/** Merge a patch list into a live list by `rule`; undefined when neither exists. */
function mergeListField(cur: unknown, pv: unknown, rule: ListRule, path: string): unknown[] | undefined {
  if (pv === undefined) return Array.isArray(cur) ? cur : undefined;
  if (!Array.isArray(pv)) throw bad(path, `expected a list, got ${show(pv)}`);
  const itemRules = typeRules(rule.item);
  if (!Array.isArray(cur) || rule.smp !== 'merge') return clean(pv, itemRules, path, rule) as unknown[];
  if (pv.length === 0 && cur.length === 0) return cur;
  if (pv.some(Array.isArray) || cur.some(Array.isArray)) throw invalid(path, 'lists of lists are not supported');
  const mapItems = pv.some(isObject) || cur.some(isObject);
  if (!mapItems) {
    const merged = dedupe([...cur, ...pv]);
    return orderBy(merged, pv, cur, undefined, path, undefined);
  }
  const key = rule.smpKey;
  if (!key) throw bad(path, 'cannot merge a list of maps without a merge key');
  let original = cur as unknown[];
  const items: JsonObject[] = [];
  let replace = false;
  pv.forEach((item, i) => {
    if (!isObject(item)) throw bad(`${path}[${i}]`, `expected a map in a list merged by ${key}, got ${show(item)}`);
    const d = item[DIRECTIVE];
    if (d === undefined || d === 'merge') {
      if (!(key in item)) throw bad(`${path}[${i}]`, `map ${show(item)} does not contain declared merge key: ${key}`);
      items.push(item);
    } else if (d === 'delete') {
      if (!(key in item)) throw bad(`${path}[${i}]`, `map ${show(item)} does not contain declared merge key: ${key}`);
      original = original.filter((o) => !(isObject(o) && o[key] === item[key]));
    } else if (d === 'replace') {
      replace = true;
    } else {
      throw bad(`${path}[${i}]`, `unknown patch type ${show(d)} in ${DIRECTIVE}`);
    }
  });
  if (replace) return items.map((it, i) => clean(it, itemRules, `${path}[${i}]`));
  const merged = [...original];
  for (const item of items) {
    const at = merged.findIndex((o) => isObject(o) && o[key] === item[key]);
    const sub = `${path}[${key}=${String(item[key])}]`;
    if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, item, itemRules, sub);
    else merged.push(clean(item, itemRules, sub));
  }
  return orderBy(merged, items, original, key, path, undefined);
}

function dedupe(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.includes(v)) out.push(v);
  return out;
}

const keyOf = (v: unknown, key: string | undefined): unknown => (key === undefined ? v : isObject(v) ? v[key] : undefined);

/**
 * Order `merged`: the items named in `order` (the patch list or $setElementOrder) follow that order;
 * the other (server-only) items keep their live order and are interleaved by their live position.
 * An item new to the server goes before the remaining server-only items, as in apimachinery.
 */
function orderBy(merged: unknown[], order: unknown[], live: unknown[], key: string | undefined, path: string, patchList: unknown): unknown[] {
  const orderKeys = order.filter((o) => !(isObject(o) && o[DIRECTIVE] !== undefined)).map((o) => keyOf(o, key));
  if (Array.isArray(patchList) && order !== patchList) checkOrder(patchList, orderKeys, key, path);
  const liveKeys = live.map((o) => keyOf(o, key));
  const idx = (keys: unknown[], v: unknown) => keys.indexOf(keyOf(v, key));
  const named: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) (idx(orderKeys, v) >= 0 ? named : serverOnly).push(v);
  named.sort((a, b) => idx(orderKeys, a) - idx(orderKeys, b));
  serverOnly.sort((a, b) => idx(liveKeys, a) - idx(liveKeys, b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (j >= named.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(named[j++]);
    else {
      const li = idx(liveKeys, serverOnly[i]);
      const ri = idx(liveKeys, named[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(named[j++]);
    }
  }
  return out;
}

/** The patch list must name its items in the same relative order as $setElementOrder. */
function checkOrder(patchList: unknown[], orderKeys: unknown[], key: string | undefined, path: string): void {
  let o = 0;
  for (const item of patchList) {
    if (isObject(item) && item[DIRECTIVE] !== undefined) continue;
    const k = keyOf(item, key);
    while (o < orderKeys.length && orderKeys[o] !== k) o++;
    if (o >= orderKeys.length) throw bad(path, `the order in the patch list doesn't match the ${ORDER_PREFIX} list ${show(orderKeys)}`);
    o++;
  }
}

// ---- values new to the target ----

/**
 * A patch value that lands where the target has nothing to merge with: copy it and strip what
 * only makes sense against a live value (nulls, directives, items marked for deletion).
 */
function clean(v: unknown, rules: TypeRules, path: string, list?: ListRule): unknown {
  if (Array.isArray(v)) {
    const itemRules = list ? typeRules(list.item) : rules;
    return v
      .filter((it) => !(isObject(it) && (it[DIRECTIVE] === 'delete' || it[DIRECTIVE] === 'replace')))
      .map((it, i) => clean(it, itemRules, `${path}[${i}]`));
  }
  if (isObject(v)) {
    if (v[DIRECTIVE] === 'delete') return {};
    const out: JsonObject = {};
    for (const k of Object.keys(v)) {
      if (k === DIRECTIVE || k === RETAIN || k.startsWith(DELETE_PREFIX) || k.startsWith(ORDER_PREFIX) || v[k] === null) continue;
      out[k] = clean(v[k], childRules(rules, k), join(path, k), rules[k]?.list);
    }
    return out;
  }
  return v;
}
