// Client-side apply's patch, as kubectl computes it: a three-way merge between the configuration applied
// last time (the kubectl.kubernetes.io/last-applied-configuration annotation), the new configuration and
// the live object. Fields the user set are sent when the live value differs; fields the user removed
// since last time are set to null; fields only the server or other writers set are left alone. Lists are
// sent whole when any element changed (JSON merge patch semantics; our server and CRDs take that).

/** The annotation kubectl keeps the last applied configuration in. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True when `modified` needs no change on `current`, given what was applied before (`original`). */
function listUnchanged(original: unknown, modified: unknown[], current: unknown): boolean {
  if (!Array.isArray(current) || current.length !== modified.length) return false;
  const orig = Array.isArray(original) && original.length === modified.length ? original : [];
  return modified.every((m, i) => {
    const c = current[i];
    if (isObj(m)) return isObj(c) && Object.keys(threeWayMergePatch(isObj(orig[i]) ? (orig[i] as Obj) : undefined, m, c)).length === 0;
    if (Array.isArray(m)) return listUnchanged(orig[i], m, c);
    return m === c;
  });
}

/**
 * The JSON merge patch that turns `current` into what the user wants: `modified` where it says
 * something, nulls for what `original` had and `modified` dropped. `{}` means unchanged.
 */
export function threeWayMergePatch(original: Obj | undefined, modified: Obj, current: Obj | undefined): Obj {
  const patch: Obj = {};
  for (const k of Object.keys(original ?? {})) {
    if (!(k in modified) && current && k in current) patch[k] = null;
  }
  for (const [k, m] of Object.entries(modified)) {
    const c = current?.[k];
    const o = original?.[k];
    if (isObj(m) && isObj(c)) {
      const sub = threeWayMergePatch(isObj(o) ? o : undefined, m, c);
      if (Object.keys(sub).length) patch[k] = sub;
    } else if (Array.isArray(m)) {
      if (!listUnchanged(o, m, c)) patch[k] = m;
    } else if (m === null) {
      if (c !== undefined && c !== null) patch[k] = null;
    } else if (!deepEqual(m, c)) {
      patch[k] = m;
    }
  }
  return patch;
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The object to apply with the annotation holding its own configuration (as kubectl stores it). */
export function withLastApplied<T extends { metadata?: { annotations?: Record<string, string> } }>(obj: T): T {
  const copy = structuredClone(obj);
  const ann = { ...(copy.metadata?.annotations ?? {}) };
  delete ann[LAST_APPLIED];
  const stored = structuredClone(copy);
  if (stored.metadata) {
    if (Object.keys(ann).length) stored.metadata.annotations = ann;
    else delete stored.metadata.annotations;
  }
  copy.metadata = { ...(copy.metadata ?? {}), annotations: { ...ann, [LAST_APPLIED]: `${JSON.stringify(stored)}\n` } };
  return copy;
}

/** The last applied configuration of a live object, or undefined. */
export function lastApplied(live: { metadata?: { annotations?: Record<string, string> } }): Obj | undefined {
  const s = live.metadata?.annotations?.[LAST_APPLIED];
  if (!s) return undefined;
  try {
    const v = JSON.parse(s);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
