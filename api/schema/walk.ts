// The one generic schema walker. It checks a decoded JSON value against a Schema and appends a
// FieldError for every unknown field, wrong type, bad enum value, bad quantity and missing required
// field, each with its full path. Error forms (documented in api/README.md):
//   <path>: Invalid value: "<key>": field not declared in schema        unknown field
//   <path>: Invalid value: <value>: must be of type <type>               wrong JSON type
//   <path>: Unsupported value: "<v>": supported values: "A", "B"         enum
//   <path>: Required value                                                required field missing
// null is treated as absent, as Kubernetes' decoder does, except as an array item (a type error). Paths are built only as the walk descends,
// with plain string concatenation (V8 makes these cheap rope strings).

import { type FieldError, fieldError } from '../field.js';
import { isQuantity } from '../quantity.js';
import type { Schema } from './schema.js';

/** The outcome of a walk: the errors and whether every value had the right JSON type. */
export interface WalkResult {
  errors: FieldError[];
  /** False when some value had the wrong JSON type; semantic checks are then skipped. */
  typesOk: boolean;
}

/** Walk `value` against `schema`; `path` is the prefix for error fields ('' at the object root). */
export function walk(schema: Schema, value: unknown, path = ''): WalkResult {
  const st = { errors: [] as FieldError[], typesOk: true };
  visit(schema, value, path, st);
  return st;
}

function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function typeError(st: WalkResult, path: string, value: unknown, type: string): void {
  st.typesOk = false;
  st.errors.push(fieldError.invalid(path, shortValue(value), `must be of type ${type}`));
}

/** Keep error values small: objects and arrays are named by their JSON type. */
function shortValue(v: unknown): unknown {
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return v;
}

const TYPE_NAMES: Record<Schema['t'], string> = {
  object: 'object', map: 'object', array: 'array', string: 'string', enum: 'string', int: 'integer', number: 'number',
  bool: 'boolean', intOrString: 'integer or string', quantity: 'quantity (number or string)', any: 'any',
};

function typeName(s: Schema): string {
  return TYPE_NAMES[s.t];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function visit(s: Schema, v: unknown, path: string, st: WalkResult): void {
  if (v === null || v === undefined) return;
  switch (s.t) {
    case 'string':
      if (typeof v !== 'string') typeError(st, path, v, 'string');
      return;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) typeError(st, path, v, 'integer');
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) typeError(st, path, v, 'number');
      return;
    case 'bool':
      if (typeof v !== 'boolean') typeError(st, path, v, 'boolean');
      return;
    case 'intOrString':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) typeError(st, path, v, 'integer or string');
      return;
    case 'quantity':
      if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string') typeError(st, path, v, 'quantity (number or string)');
      else if (typeof v === 'string' && !isQuantity(v))
        st.errors.push(fieldError.invalid(path, v, "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      return;
    case 'enum':
      if (typeof v !== 'string') typeError(st, path, v, 'string');
      else if (!s.set.has(v)) st.errors.push(fieldError.notSupported(path, v, s.values));
      return;
    case 'any':
      return;
    case 'array':
      if (!Array.isArray(v)) return typeError(st, path, v, 'array');
      for (let i = 0; i < v.length; i++) {
        // a null item is not "absent" (it would shift every index after it): a type error, as a CRD's
        // structural schema reports it
        if (v[i] === null && s.items.t !== 'any') typeError(st, `${path}[${i}]`, null, typeName(s.items));
        else visit(s.items, v[i], `${path}[${i}]`, st);
      }
      return;
    case 'map': {
      if (!isPlainObject(v)) return typeError(st, path, v, 'object');
      for (const k in v) visit(s.values, v[k], `${path}[${k}]`, st);
      return;
    }
    case 'object': {
      if (!isPlainObject(v)) return typeError(st, path, v, 'object');
      const fields = s.fields;
      for (const k in v) {
        const fs = fields[k];
        if (fs === undefined) st.errors.push(fieldError.invalid(child(path, k), k, 'field not declared in schema'));
        else {
          const fv = v[k];
          if (fv !== null && fv !== undefined) visit(fs, fv, child(path, k), st);
        }
      }
      for (let i = 0; i < s.required.length; i++) {
        const r = s.required[i]!;
        if (v[r] === undefined || v[r] === null) st.errors.push(fieldError.required(child(path, r)));
      }
      return;
    }
  }
}
