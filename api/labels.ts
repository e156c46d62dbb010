// Label selectors: the string form kubectl and `?labelSelector=` use (`a=b,c!=d,e in (x,y),!f`),
// the structured metav1.LabelSelector (matchLabels + matchExpressions), matching, printing and
// validation. Both forms become one internal LabelSelector: a list of requirements ANDed together.

import { errors } from './errors.js';
import { type FieldError, Path, fieldError } from './field.js';
import { labelValue, qualifiedName } from './validation/names.js';

/** A requirement operator, as Kubernetes' selection.Operator. */
export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'Gt' | 'Lt';

/** One requirement: `key op values`. */
export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** An internal selector: every requirement must hold. `nothing` selects no object at all. */
export interface LabelSelector {
  requirements: Requirement[];
  nothing?: boolean;
}

/** metav1.LabelSelector as it appears in objects. */
export interface MetaLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Selects everything. */
export const everything: LabelSelector = Object.freeze({ requirements: [] }) as LabelSelector;
/** Selects nothing (a missing selector on a workload). */
export const nothing: LabelSelector = Object.freeze({ requirements: [], nothing: true }) as LabelSelector;

// ---------------------------------------------------------------------------------------------
// Parsing the string form

type Tok = { kind: 'id' | 'op' | 'eof'; text: string; pos: number };

const special = new Set(['=', '!', '(', ')', ',', '>', '<']);

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (special.has(c)) {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ kind: 'op', text: two, pos: i });
        i += 2;
      } else {
        out.push({ kind: 'op', text: c, pos: i });
        i++;
      }
      continue;
    }
    const start = i;
    while (i < s.length && !special.has(s[i]!) && !/\s/.test(s[i]!)) i++;
    out.push({ kind: 'id', text: s.slice(start, i), pos: start });
  }
  out.push({ kind: 'eof', text: '', pos: s.length });
  return out;
}

function fail(input: string, tok: Tok, expected: string): never {
  const found = tok.kind === 'eof' ? 'end of string' : `'${tok.text}'`;
  throw errors.badRequest(`unable to parse requirement: found ${found}, expected: ${expected} (at position ${tok.pos} in ${JSON.stringify(input)})`);
}

function check(input: string, pos: number, key: string, values: string[]): void {
  const ks = qualifiedName(key);
  if (ks.length) throw errors.badRequest(`unable to parse requirement: key ${JSON.stringify(key)} at position ${pos} in ${JSON.stringify(input)}: ${ks.join('; ')}`);
  for (const v of values) {
    const vs = labelValue(v);
    if (vs.length) throw errors.badRequest(`unable to parse requirement: value ${JSON.stringify(v)} for key ${JSON.stringify(key)} in ${JSON.stringify(input)}: ${vs.join('; ')}`);
  }
}

/**
 * Parse `a=b,a==b,c!=d,e in (x,y),f notin (z),g,!h,i>3,j<4`. Throws an ApiError BadRequest (400)
 * naming the position, e.g. `unable to parse requirement: found ')', expected: '(' (at position 5 in "e in )")`.
 */
export function parseSelector(input: string): LabelSelector {
  const toks = lex(input);
  let p = 0;
  const reqs: Requirement[] = [];
  if (toks[0]!.kind === 'eof') return { requirements: [] };
  while (true) {
    let t = toks[p]!;
    if (t.kind === 'op' && t.text === '!') {
      const k = toks[++p]!;
      if (k.kind !== 'id') fail(input, k, 'identifier');
      check(input, k.pos, k.text, []);
      reqs.push({ key: k.text, operator: 'DoesNotExist', values: [] });
      p++;
    } else {
      if (t.kind !== 'id') fail(input, t, "identifier or '!'");
      const key = t.text;
      const keyPos = t.pos;
      t = toks[++p]!;
      if (t.kind === 'eof' || (t.kind === 'op' && t.text === ',')) {
        check(input, keyPos, key, []);
        reqs.push({ key, operator: 'Exists', values: [] });
      } else if (t.kind === 'op' && (t.text === '=' || t.text === '==' || t.text === '!=')) {
        const v = toks[p + 1]!;
        let value = '';
        if (v.kind === 'id') {
          value = v.text;
          p++;
        } else if (!(v.kind === 'eof' || (v.kind === 'op' && v.text === ','))) fail(input, v, 'identifier');
        p++;
        check(input, keyPos, key, [value]);
        reqs.push({ key, operator: t.text === '!=' ? 'NotEquals' : 'Equals', values: [value] });
      } else if (t.kind === 'op' && (t.text === '>' || t.text === '<')) {
        const v = toks[++p]!;
        if (v.kind !== 'id' || !/^-?[0-9]+$/.test(v.text)) fail(input, v, 'an integer');
        p++;
        check(input, keyPos, key, []);
        reqs.push({ key, operator: t.text === '>' ? 'Gt' : 'Lt', values: [v.text] });
      } else if (t.kind === 'id' && (t.text === 'in' || t.text === 'notin')) {
        const open = toks[++p]!;
        if (!(open.kind === 'op' && open.text === '(')) fail(input, open, "'('");
        const values: string[] = [];
        p++;
        while (true) {
          const v = toks[p]!;
          if (v.kind === 'id') {
            values.push(v.text);
            p++;
          } else if (v.kind === 'op' && (v.text === ',' || v.text === ')')) values.push('');
          else fail(input, v, "identifier, ',' or ')'");
          const sep = toks[p]!;
          if (sep.kind === 'op' && sep.text === ',') {
            p++;
            continue;
          }
          if (sep.kind === 'op' && sep.text === ')') {
            p++;
            break;
          }
          fail(input, sep, "',' or ')'");
        }
        check(input, keyPos, key, values);
        reqs.push({ key, operator: t.text === 'in' ? 'In' : 'NotIn', values: [...new Set(values)].sort() });
      } else fail(input, t, "'=', '==', '!=', 'in', 'notin', '>', '<', ',' or end of string");
    }
    const sep = toks[p]!;
    if (sep.kind === 'eof') break;
    if (!(sep.kind === 'op' && sep.text === ',')) fail(input, sep, "',' or end of string");
    p++;
  }
  return { requirements: sortReqs(reqs) };
}

function sortReqs(r: Requirement[]): Requirement[] {
  return r.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Structured selectors

/** A selector for a `map[string]string` (Service selector, nodeSelector): each key must equal its value. */
export function fromSet(set: Record<string, string> | undefined): LabelSelector {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(set ?? {})) reqs.push({ key: k, operator: 'Equals', values: [v] });
  return { requirements: sortReqs(reqs) };
}

/**
 * metav1.LabelSelector to a selector, as LabelSelectorAsSelector: undefined selects nothing, `{}`
 * selects everything. Throws BadRequest on an unknown operator (validate first to get field errors).
 */
export function fromLabelSelector(ls: MetaLabelSelector | undefined | null): LabelSelector {
  if (ls === undefined || ls === null) return nothing;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key: k, operator: 'Equals', values: [v] });
  for (const e of ls.matchExpressions ?? []) {
    const op = e.operator as Operator;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
      throw errors.badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    reqs.push({ key: e.key, operator: op, values: [...(e.values ?? [])].sort() });
  }
  return { requirements: sortReqs(reqs) };
}

/** True when `labels` satisfy every requirement of `sel`. */
export function matches(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (sel.nothing) return false;
  const l = labels ?? {};
  for (const r of sel.requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = has ? l[r.key]! : undefined;
    switch (r.operator) {
      case 'Equals':
      case 'In':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case 'NotEquals':
      case 'NotIn':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'Gt':
      case 'Lt': {
        if (!has || !/^-?[0-9]+$/.test(v!)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.operator === 'Gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

/** The string form, as Kubernetes prints it: requirements sorted by key, e.g. `app=web,tier in (a,b)`. */
export function toString(sel: LabelSelector): string {
  return sel.requirements
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0]}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0]}`;
        case 'In':
          return `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0]}`;
        case 'Lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

/** Whether a selector selects no label set at all beyond `nothing` (empty = everything). */
export function isEmpty(sel: LabelSelector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Validation of labels and selectors inside objects

/** Every problem with a label map: keys must be qualified names, values label values. */
export function validateLabels(labels: Record<string, string> | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of qualifiedName(k)) errs.push(fieldError.invalid(path, k, m));
    if (typeof v === 'string') for (const m of labelValue(v)) errs.push(fieldError.invalid(path.key(k), v, m));
  }
  return errs;
}

/** Every problem with a metav1.LabelSelector (operators, values per operator, keys, values). */
export function validateLabelSelector(ls: MetaLabelSelector | undefined, path: Path): FieldError[] {
  if (!ls) return [];
  const errs = validateLabels(ls.matchLabels, path.child('matchLabels'));
  (ls.matchExpressions ?? []).forEach((e, i) => {
    const p = path.child('matchExpressions').index(i);
    const n = e.values?.length ?? 0;
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (n === 0) errs.push(fieldError.required(p.child('values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (n > 0) errs.push(fieldError.forbidden(p.child('values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    } else errs.push(fieldError.notSupported(p.child('operator'), e.operator, ['In', 'NotIn', 'Exists', 'DoesNotExist']));
    if (typeof e.key === 'string') for (const m of qualifiedName(e.key)) errs.push(fieldError.invalid(p.child('key'), e.key, m));
    for (const [j, v] of (e.values ?? []).entries()) for (const m of labelValue(v)) errs.push(fieldError.invalid(p.child('values').index(j), v, m));
  });
  return errs;
}

