// The arithmetic of a Deployment rollout, as pure functions (kube's pkg/controller/deployment/util and
// rolling.go): the pod-template hash that names ReplicaSets, maxSurge/maxUnavailable resolved against
// the replica count (surge rounds up, unavailable rounds down, never both zero), how far the new
// ReplicaSet may grow, and how far the old ones may shrink without going below minimum availability.

import { stableStringify } from '../podutil.js';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The `pod-template-hash` of a pod template (its own hash label ignored) and collision count. */
export function podTemplateHash(template: any, collisionCount = 0): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels['pod-template-hash'];
  const digits = String(fnv32a(stableStringify(t) + (collisionCount ? `/${collisionCount}` : '')));
  return [...digits].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** Two templates equal when the hash label is ignored (kube's EqualIgnoreHash). */
export function templatesEqual(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels['pod-template-hash'];
      if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
    }
    if (c.metadata && !Object.keys(c.metadata).length) delete c.metadata;
    return stableStringify(c);
  };
  return strip(a) === strip(b);
}

/** An int-or-percent against `total` (`25%` of 10 = 2.5 → 3 rounding up, 2 down). */
export function intOrPercent(v: number | string | undefined, total: number, roundUp: boolean, fallback: number | string): number {
  const x = v === undefined || v === null ? fallback : v;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(x)}`);
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/** maxSurge and maxUnavailable as counts (kube's ResolveFenceposts). */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = intOrPercent(maxSurge, desired, true, '25%');
  let unavailable = intOrPercent(maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, desired) };
}

/** The replicas the new ReplicaSet should have now in a rolling update (kube's NewRSNewReplicas). */
export function newReplicaSetReplicas(desired: number, surge: number, allReplicas: number, newReplicas: number): number {
  const maxTotal = desired + surge;
  if (allReplicas >= maxTotal) return newReplicas;
  const up = Math.min(maxTotal - allReplicas, Math.max(0, desired - newReplicas));
  return newReplicas + up;
}

/** One ReplicaSet as the scale-down math sees it. */
export interface RsCount {
  id: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  isNew: boolean;
}

/**
 * New spec.replicas for the old ReplicaSets of a rolling update (kube's reconcileOldReplicaSets: first
 * unhealthy replicas, then healthy ones while availability stays at desired - maxUnavailable).
 * `all` lists the old ones oldest first. Returns only those that change.
 */
export function scaleDownOld(desired: number, maxUnavailable: number, all: RsCount[]): Map<string, number> {
  const out = new Map<string, number>();
  const old = all.filter((r) => !r.isNew);
  const nw = all.find((r) => r.isNew);
  if (old.reduce((n, r) => n + r.replicas, 0) === 0) return out;
  const allPods = all.reduce((n, r) => n + r.replicas, 0);
  const minAvailable = desired - maxUnavailable;
  const newUnavailable = nw ? Math.max(0, nw.replicas - nw.available) : 0;
  let maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  const cur = new Map(old.map((r) => [r.id, r.replicas]));
  // 1. unhealthy replicas of old sets go first; they count nothing towards availability
  for (const r of old) {
    if (maxScaledDown <= 0) break;
    const unhealthy = Math.max(0, r.replicas - r.available);
    if (!unhealthy) continue;
    const n = Math.min(maxScaledDown, unhealthy);
    cur.set(r.id, r.replicas - n);
    maxScaledDown -= n;
  }
  // 2. then healthy ones, while available pods stay above minAvailable
  const available = all.reduce((n, r) => n + r.available, 0);
  let total = Math.min(available - minAvailable, maxScaledDown);
  for (const r of old) {
    if (total <= 0) break;
    const now = cur.get(r.id)!;
    if (now === 0) continue;
    const n = Math.min(now, total);
    cur.set(r.id, now - n);
    total -= n;
  }
  for (const r of old) if (cur.get(r.id) !== r.replicas) out.set(r.id, cur.get(r.id)!);
  return out;
}
