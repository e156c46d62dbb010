// The injection as an RFC 6902 JSON Patch, which is what a mutating webhook must answer with: the
// difference between the pod as received and the injected pod (Istio computes it the same way, with
// jsonpatch.CreatePatch). Object members are diffed key by key (pointers escaped per RFC 6901: an
// annotation key `sidecar.istio.io/status` becomes `sidecar.istio.io~1status`); arrays of the same
// length element by element; an array that only grew at the front or the back gets `add` operations;
// any other array change is one `replace`.

import { injectPod, type InjectOptions, type InjectResult } from './inject.js';

/** One RFC 6902 operation (the webhook only produces add, remove and replace). */
export interface PatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

/** Escapes one RFC 6901 reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The operations that turn `from` into `to`. */
export function createPatch(from: unknown, to: unknown, path = ''): PatchOp[] {
  if (jsonEqual(from, to)) return [];
  if (isObj(from) && isObj(to)) {
    const ops: PatchOp[] = [];
    for (const k of Object.keys(from)) {
      if (from[k] !== undefined && to[k] === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(k)}` });
    }
    for (const k of Object.keys(to)) {
      if (to[k] === undefined) continue;
      const p = `${path}/${escapePointer(k)}`;
      if (from[k] === undefined) ops.push({ op: 'add', path: p, value: to[k] });
      else ops.push(...createPatch(from[k], to[k], p));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    if (from.length === to.length) return from.flatMap((x, i) => createPatch(x, to[i], `${path}/${i}`));
    const n = from.length;
    if (to.length > n && from.every((x, i) => jsonEqual(x, to[i]))) {
      return to.slice(n).map((v) => ({ op: 'add' as const, path: `${path}/-`, value: v }));
    }
    const k = to.length - n;
    if (k > 0 && from.every((x, i) => jsonEqual(x, to[k + i]))) {
      return to.slice(0, k).map((v, i) => ({ op: 'add' as const, path: `${path}/${i}`, value: v }));
    }
  }
  return [{ op: 'replace', path: path, value: to }];
}

/** Injects a Pod and answers with the patch as well (empty when not injected). */
export function injectPodPatch(pod: any, opts: InjectOptions = {}): InjectResult & { patch: PatchOp[] } {
  const r = injectPod(pod, opts);
  return { ...r, patch: r.decision.inject ? createPatch(pod, r.object) : [] };
}
