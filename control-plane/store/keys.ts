// Key ranges and argument checks shared by both backends, so that "which keys does this prefix cover" and
// "is this revision acceptable" have one answer. Keys compare as UTF-8 bytes (etcd's order, and SQLite's
// BINARY collation over TEXT), which equals JavaScript string order for every key made of BMP characters.

import { StoreError } from './types.js';

/** A half-open key range [start, end); `end` null means "no upper bound"; `exact` means only `start`. */
export interface KeyRange {
  start: string;
  end: string | null;
  exact: boolean;
}

/**
 * The smallest string greater than every string starting with `prefix`, or null when there is none
 * (the empty prefix, or one made only of U+FFFF).
 */
export function prefixEnd(prefix: string): string | null {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    if (last < 0xffff) return p.slice(0, -1) + String.fromCharCode(last + 1);
    p = p.slice(0, -1);
  }
  return null;
}

/** The keys a list or count covers: every key starting with `prefix` ('' = every key). */
export function listRange(prefix: string): KeyRange {
  return { start: prefix, end: prefixEnd(prefix), exact: false };
}

/** The keys a watch covers: a prefix when `prefix` ends with '/' or is '', otherwise exactly that key. */
export function watchRange(prefix: string): KeyRange {
  if (prefix === '' || prefix.endsWith('/')) return listRange(prefix);
  return { start: prefix, end: null, exact: true };
}

/** True when `key` lies in `range`. */
export function inRange(range: KeyRange, key: string): boolean {
  if (range.exact) return key === range.start;
  return key >= range.start && (range.end === null || key < range.end);
}

// ---------------------------------------------------------------------------------------------------------
// Argument checks. A bad argument is a programming error in the caller, so it is a TypeError naming the
// argument, not a StoreError.

/** Throws unless `key` is a non-empty string. */
export function checkKey(key: unknown, field = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError(`store: ${field}: must be a non-empty string`);
}

/** Throws unless `value` is a string. */
export function checkValue(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`store: value: must be a string, got ${typeof value}`);
}

/** Throws unless `rev` is an integer >= `min` (or undefined when `optional`). */
export function checkRevision(rev: unknown, field: string, min = 0): void {
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < min) {
    throw new TypeError(`store: ${field}: must be an integer >= ${min}, got ${JSON.stringify(rev)}`);
  }
}

/** The error for a read below the compaction point. */
export function compactedError(asked: number, compacted: number, key?: string): StoreError {
  return new StoreError('Compacted', `revision ${asked} has been compacted (oldest readable revision is ${compacted})`, {
    revision: compacted,
    ...(key === undefined ? {} : { key }),
  });
}

/** The error for a read beyond the current revision. */
export function futureError(asked: number, current: number): StoreError {
  return new StoreError('FutureRevision', `revision ${asked} is newer than the current revision ${current}`, {
    revision: current,
  });
}

/** The error for a missing key. */
export function notFoundError(key: string): StoreError {
  return new StoreError('NotFound', `key ${JSON.stringify(key)} not found`, { key });
}

/** The error for a failed compare-and-swap; `actual` is the key's real modRevision. */
export function conflictError(key: string, expected: number, actual: number): StoreError {
  return new StoreError('Conflict', `key ${JSON.stringify(key)}: expected modRevision ${expected}, found ${actual}`, {
    key,
    revision: actual,
  });
}

/** The error for creating a key that exists. */
export function alreadyExistsError(key: string, modRevision: number): StoreError {
  return new StoreError('AlreadyExists', `key ${JSON.stringify(key)} already exists`, { key, revision: modRevision });
}
