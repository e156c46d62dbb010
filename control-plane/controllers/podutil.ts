// Small pure questions about Pods that several controllers ask (kube's pkg/api/v1/pod and
// controller_utils): is it active, ready, available, and how to order pods for deletion.

import type { KubeObject } from '../../api/meta.js';

/** The Ready condition's status is True. */
export function isPodReady(p: KubeObject): boolean {
  return (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least `minReadySeconds` at `now`. */
export function isPodAvailable(p: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(p)) return false;
  if (!minReadySeconds) return true;
  const c = (p.status?.conditions ?? []).find((x: any) => x.type === 'Ready');
  const since = Date.parse(c?.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** Not terminal and not being deleted (kube's IsPodActive). */
export function isPodActive(p: KubeObject): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

/** Being deleted but not yet gone. */
export function isPodTerminating(p: KubeObject): boolean {
  return !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Pods in the order a scale-down deletes them (kube's ActivePods ordering): unassigned before assigned,
 * Pending before Unknown before Running, not ready before ready, more restarts first, newer first.
 */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const ph = (p: KubeObject) => phaseRank[p.status?.phase ?? 'Pending'] ?? 0;
  if (ph(a) !== ph(b)) return ph(a) - ph(b);
  const r = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  if (r(a) !== r(b)) return r(a) - r(b);
  const restarts = (p: KubeObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const t = (p: KubeObject) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  if (t(a) !== t(b)) return t(b) - t(a);
  return String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** Set (or replace) a condition in a list, keeping lastTransitionTime when the status did not change. */
export function setCondition<C extends { type: string; status: string; lastTransitionTime?: string; lastUpdateTime?: string; reason?: string; message?: string }>(
  list: C[] | undefined,
  c: C,
): C[] {
  const out = [...(list ?? [])];
  const i = out.findIndex((x) => x.type === c.type);
  if (i < 0) return [...out, c];
  const prev = out[i]!;
  if (prev.status === c.status && prev.reason === c.reason && prev.message === c.message) return out;
  out[i] = prev.status === c.status && prev.lastTransitionTime ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
  return out;
}

/** RFC 3339 with second precision, as Kubernetes serializes metav1.Time. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** JSON deep equality for plain objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** JSON with object keys sorted, so equal objects give equal strings. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object).filter((k) => (v as any)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as any)[k])}`).join(',')}}`;
}
