// Schema pieces and helpers shared by many kinds: ObjectMeta, LabelSelector, conditions, object
// references, the `kind()` top-level wrapper, and tiny defensive accessors for defaulting code
// (defaults run before validation, so they must not trust the input's shape).

import { type FieldError, Path, fieldError } from '../field.js';
import { any, arr, bool, enm, int, map, obj, type ObjectSchema, type Schema, str } from '../schema/schema.js';
import { portNumber, portName } from '../validation/names.js';

/** metav1.ObjectMeta */
export const objectMeta = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: map(),
  annotations: map(),
  ownerReferences: arr(
    obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }, ['apiVersion', 'kind', 'name', 'uid']),
  ),
  finalizers: arr(str),
  managedFields: arr(
    obj({ manager: str, operation: enm('Apply', 'Update'), apiVersion: str, time: str, fieldsType: str, fieldsV1: any, subresource: str }),
  ),
});

/** metav1.LabelSelector */
export const labelSelector = obj({
  matchLabels: map(),
  matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) }, ['key', 'operator'])),
});

/** metav1.Condition (used by Gateway API and others). */
export const condition = obj({
  type: str,
  status: enm('True', 'False', 'Unknown'),
  observedGeneration: int,
  lastTransitionTime: str,
  reason: str,
  message: str,
});

/** A top-level object schema: apiVersion, kind, metadata plus the kind's own fields. */
export function kindSchema(fields: Record<string, Schema>, required: string[] = []): ObjectSchema {
  return obj({ apiVersion: str, kind: str, metadata: objectMeta, ...fields }, required);
}

// ---------------------------------------------------------------------------------------------
// Defensive accessors for defaulting code

/** `v` if it is a plain object, else undefined. */
export function asObj(v: unknown): Record<string, any> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : undefined;
}

/** `v` if it is an array, else an empty array (not attached to anything). */
export function asArr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** Get `o[k]` as an object, creating `{}` when missing (null counts as missing); undefined if the field has another type. */
export function ensureObj(o: Record<string, any>, k: string): Record<string, any> | undefined {
  if (o[k] === undefined || o[k] === null) o[k] = {};
  return asObj(o[k]);
}

/** Set `o[k] = v` when the field is missing or null. */
export function setDefault(o: Record<string, any>, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

/** Error for a value that changed on update: `<path>: Invalid value: <v>: field is immutable`. */
export function immutable(path: Path | string, value: unknown): FieldError {
  return fieldError.invalid(path, value, 'field is immutable');
}

/** Structural equality for JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/** A non-negative integer field: `must be greater than or equal to 0`. */
export function nonNegative(errs: FieldError[], path: Path, v: unknown): void {
  if (typeof v === 'number' && v < 0) errs.push(fieldError.invalid(path, v, 'must be greater than or equal to 0'));
}

/** A positive integer field: `must be greater than 0`. */
export function positive(errs: FieldError[], path: Path, v: unknown): void {
  if (typeof v === 'number' && v <= 0) errs.push(fieldError.invalid(path, v, 'must be greater than 0'));
}

/** Push one Invalid error per message. */
export function each(errs: FieldError[], path: Path, v: unknown, msgs: string[]): void {
  for (const m of msgs) errs.push(fieldError.invalid(path, v, m));
}

/** A port given as number or IANA name (targetPort, probe ports). */
export function validatePortNumOrName(errs: FieldError[], path: Path, v: unknown): void {
  if (typeof v === 'number') each(errs, path, v, portNumber(v));
  else if (typeof v === 'string') {
    if (/^[0-9]+$/.test(v)) each(errs, path, v, portNumber(Number(v)));
    else each(errs, path, v, portName(v));
  }
}

/** An int-or-percent (`25%`, 1): percent must be `^[0-9]+%$`, numbers >= 0. */
export function validateIntOrPercent(errs: FieldError[], path: Path, v: unknown): void {
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v)) errs.push(fieldError.invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
  } else nonNegative(errs, path, v);
}

/** Value of an int-or-percent against a total (percent rounds as the caller asks), for comparisons. */
export function intOrPercentValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const n = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(n) : Math.floor(n);
  }
  return 0;
}

/** Duplicate detection helper: returns a function that reports a Duplicate on the second sighting. */
export function dupChecker(errs: FieldError[]): (path: Path, value: string) => void {
  const seen = new Set<string>();
  return (path, value) => {
    if (seen.has(value)) errs.push(fieldError.duplicate(path, value));
    else seen.add(value);
  };
}

export { Path, fieldError, type FieldError };
