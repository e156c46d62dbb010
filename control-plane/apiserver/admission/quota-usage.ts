// What an object uses of a ResourceQuota, as kube's quota evaluators compute it: object counts
// (`pods`, `services`, `configmaps`, `secrets`, … and `count/<resource>[.<group>]`), `services.nodeports` and
// `services.loadbalancers`, and a pod's compute requests and limits (`requests.cpu` = `cpu`,
// `requests.memory` = `memory`, `limits.cpu`, `limits.memory`, ephemeral-storage likewise): the sum over its
// containers or the largest init container, whichever is more. Pods that finished (Succeeded, Failed)
// use nothing. Shared by the ResourceQuota admission plugin and the quota status keeper.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { formatQuantity, tryParseQuantity } from '../../../api/quantity.js';

/** The legacy object-count names of core kinds. */
const CORE_COUNTS = new Set(['pods', 'services', 'configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas', 'persistentvolumeclaims']);
const COMPUTE = ['cpu', 'memory', 'ephemeral-storage'];

/** A usage: resource name → amount (numbers in base units). */
export type Usage = Map<string, number>;

/** True for a pod that no longer uses quota. */
export const podTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** The count names an object of `rt` is counted under. */
export function countNames(rt: ResourceType): string[] {
  const count = rt.group ? `count/${rt.plural}.${rt.group}` : `count/${rt.plural}`;
  return !rt.group && CORE_COUNTS.has(rt.plural) ? [rt.plural, count] : [count];
}

function podCompute(pod: KubeObject, kind: 'requests' | 'limits', r: string): number {
  const of = (c: any) => {
    const v = c?.resources?.[kind]?.[r] ?? (kind === 'requests' ? c?.resources?.limits?.[r] : undefined);
    return v === undefined ? 0 : tryParseQuantity(v) ?? 0;
  };
  const sum = (pod.spec?.containers ?? []).reduce((a: number, c: any) => a + of(c), 0);
  const init = Math.max(0, ...(pod.spec?.initContainers ?? []).map(of));
  return Math.max(sum, init);
}

/** Everything `obj` (of `rt`) uses. */
export function usageOf(rt: ResourceType, obj: KubeObject): Usage {
  const u: Usage = new Map();
  if (rt.kind === 'Pod' && !rt.group && podTerminal(obj)) return u;
  for (const n of countNames(rt)) u.set(n, 1);
  if (rt.kind === 'Service' && !rt.group) {
    const type = obj.spec?.type;
    if (type === 'LoadBalancer') u.set('services.loadbalancers', 1);
    if (type === 'NodePort' || type === 'LoadBalancer') u.set('services.nodeports', (obj.spec?.ports ?? []).length);
  }
  if (rt.kind === 'Pod' && !rt.group) {
    for (const r of COMPUTE) {
      const req = podCompute(obj, 'requests', r);
      const lim = podCompute(obj, 'limits', r);
      u.set(`requests.${r}`, req);
      u.set(r, req);
      u.set(`limits.${r}`, lim);
    }
  }
  return u;
}

/** The compute names a pod must set when a quota limits them: `requests.cpu` → the container's requests.cpu. */
export function missingCompute(pod: KubeObject, hard: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(hard).sort()) {
    const m = /^(requests|limits)\.(cpu|memory|ephemeral-storage)$/.exec(key) ?? (COMPUTE.includes(key) ? [key, 'requests', key] : null);
    if (!m) continue;
    const [, kind, r] = m;
    const lacking = (pod.spec?.containers ?? []).filter((c: any) => c?.resources?.[kind!]?.[r!] === undefined && !(kind === 'requests' && c?.resources?.limits?.[r!] !== undefined)).map((c: any) => c.name);
    if (lacking.length) out.push(`${key} for: ${lacking.join(',')}`);
  }
  return out;
}

const isMemoryLike = (k: string) => /memory|storage/.test(k);

/** A quantity as kube prints it for resource `k`. */
export function formatFor(k: string, v: number): string {
  return formatQuantity(v, isMemoryLike(k));
}

/** kube's prettyPrint of a ResourceList: `k=v,k2=v2`, keys sorted. */
export function prettyPrint(m: Map<string, number> | Record<string, number>): string {
  const entries = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${formatFor(k, v)}`).join(',');
}
