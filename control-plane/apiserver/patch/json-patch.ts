// JSON patch (RFC 6902, `application/json-patch+json`) with JSON pointers (RFC 6901).
// Errors follow kube-apiserver: a body that is not a list of operation objects is 400 BadRequest;
// an operation that cannot be applied (missing path, failed test, bad index...) is 422 Invalid.
// Every message names the operation's index and path, e.g.
// `json patch operation 2 (remove) at "/spec/ports/5": array index 5 out of bounds (length 2)`.

import { ApiError, errors } from '../../../api/errors.js';
import { type JsonObject, deepClone, deepEqual, isObject, show } from './value.js';

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Split an RFC 6901 pointer into unescaped reference tokens ('' is the whole document). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (pointer[0] !== '/') throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  // ~1 before ~0, so that "~01" decodes to "~1" (RFC 6901 section 4)
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Apply a JSON patch. `ops` is the decoded body. The target is copied once and never mutated;
 * operations apply in order to that copy, and the first failure aborts the whole patch.
 */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  const list = validateOps(ops);
  const box = { doc: deepClone(target) };
  list.forEach((op, i) => {
    try {
      applyOp(box, op);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw invalid(i, op, (e as Error).message);
    }
  });
  return box.doc;
}

// ---- decoding (400) ----

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function validateOps(ops: unknown): JsonPatchOp[] {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch: the body must be a JSON array of operations');
  ops.forEach((op, i) => {
    if (!isObject(op)) throw errors.badRequest(`json patch operation ${i}: must be a JSON object, got ${show(op)}`, [{ reason: 'FieldValueInvalid', field: `[${i}]`, message: 'must be a JSON object' }]);
  });
  // Unknown ops and missing members are found while applying (422), as evanphx/json-patch does.
  return ops as JsonPatchOp[];
}

function invalid(i: number, op: Partial<JsonPatchOp>, detail: string): ApiError {
  const where = typeof op.path === 'string' ? ` at ${JSON.stringify(op.path)}` : '';
  const msg = `json patch operation ${i} (${String(op.op)})${where}: ${detail}`;
  return new ApiError('Invalid', `the server rejected our request due to an error in our request: ${msg}`, {}, [
    { reason: 'FieldValueInvalid', message: msg, field: typeof op.path === 'string' ? op.path : `[${i}].path` },
  ]);
}

// ---- applying (422) ----

interface Box {
  doc: unknown;
}

function applyOp(box: Box, op: JsonPatchOp): void {
  if (!OPS.has(op.op as string)) throw new Error(`unknown operation ${show(op.op)}; supported: add, remove, replace, move, copy, test`);
  if (typeof op.path !== 'string') throw new Error('missing "path"');
  const path = parsePointer(op.path);
  switch (op.op) {
    case 'add':
      return add(box, path, valueOf(op));
    case 'remove':
      remove(box, path);
      return;
    case 'replace':
      remove(box, path, 'replace');
      return add(box, path, valueOf(op));
    case 'move': {
      const from = fromOf(op);
      if (op.path !== op.from && (op.path.startsWith(`${op.from}/`))) throw new Error(`cannot move ${JSON.stringify(op.from)} into its own child`);
      const v = remove(box, from, 'move from');
      return add(box, path, v);
    }
    case 'copy':
      return add(box, path, deepClone(get(box.doc, fromOf(op), 'copy from')));
    case 'test': {
      const want = valueOf(op);
      const got = get(box.doc, path, 'test');
      if (!deepEqual(got, want)) throw new Error(`test failed: value is ${show(got)}, want ${show(want)}`);
      return;
    }
  }
}

function valueOf(op: JsonPatchOp): unknown {
  if (!('value' in op)) throw new Error('missing "value"');
  return deepClone(op.value);
}

function fromOf(op: JsonPatchOp): string[] {
  if (typeof op.from !== 'string') throw new Error('missing "from"');
  return parsePointer(op.from);
}

/** RFC 6901 array index: "0" or digits without a leading zero; "-" only where allowed. */
function arrayIndex(arr: unknown[], token: string, allowEnd: boolean): number {
  if (token === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`invalid array index ${JSON.stringify(token)}`);
  const i = Number(token);
  const max = allowEnd ? arr.length : arr.length - 1;
  if (i > max) throw new Error(`array index ${i} out of bounds (length ${arr.length})`);
  return i;
}

/** The container holding the last token of `path`, or an error naming the missing part. */
function parentOf(doc: unknown, path: string[], what: string): unknown {
  let cur = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const t = path[i]!;
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new Error(`${what}: path /${path.slice(0, i + 1).join('/')} does not exist`);
  }
  return cur;
}

function get(doc: unknown, path: string[], what: string): unknown {
  if (path.length === 0) return doc;
  const parent = parentOf(doc, path, what);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last];
  throw new Error(`${what}: path does not exist`);
}

function add(box: Box, path: string[], value: unknown): void {
  if (path.length === 0) {
    box.doc = value;
    return;
  }
  const parent = parentOf(box.doc, path, 'add');
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isObject(parent)) (parent as JsonObject)[last] = value;
  else throw new Error('add: the parent is not an object or array');
}

function remove(box: Box, path: string[], what = 'remove'): unknown {
  if (path.length === 0) {
    const v = box.doc;
    box.doc = null;
    return v;
  }
  const parent = parentOf(box.doc, path, what);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const v = parent[last];
    delete parent[last];
    return v;
  }
  throw new Error(`${what}: path does not exist`);
}
