// Scheduler filters, as kube-scheduler's plugins (each a pure function node × pod → reason or undefined):
// NodeUnschedulable, NodeResourcesFit (requests against allocatable, pod count), NodeAffinity
// (nodeSelector and required node affinity) and TaintToleration. The reason strings are kube's, so
// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.`
// reads the same as on a real cluster. The DaemonSet controller reuses nodeFits() for its placement.

import type { KubeObject } from '../../api/meta.js';
import { tryParseQuantity } from '../../api/quantity.js';

/** Requested resources, CPU in millicores, memory in bytes. */
export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** What is already placed on a node. */
export interface NodeInfo {
  node: KubeObject;
  requested: Resources;
  /** pods on the node (for spreading) */
  pods: KubeObject[];
}

const num = (q: unknown) => (typeof q === 'string' || typeof q === 'number' ? tryParseQuantity(q) ?? 0 : 0);

/** A pod's effective requests: the sum over containers, or the largest init container if bigger (kube's rule). */
export function podRequests(pod: KubeObject): Resources {
  const sum = { milliCpu: 0, memory: 0, pods: 1 };
  const req = (c: any) => c?.resources?.requests ?? c?.resources?.limits ?? {};
  for (const c of pod.spec?.containers ?? []) {
    sum.milliCpu += Math.round(num(req(c).cpu) * 1000);
    sum.memory += num(req(c).memory);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    sum.milliCpu = Math.max(sum.milliCpu, Math.round(num(req(c).cpu) * 1000));
    sum.memory = Math.max(sum.memory, num(req(c).memory));
  }
  return sum;
}

/** A node's allocatable (falling back to capacity). Pods default to 110 as kubelet's. */
export function allocatable(node: KubeObject): Resources {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    milliCpu: a.cpu !== undefined ? Math.round(num(a.cpu) * 1000) : Infinity,
    memory: a.memory !== undefined ? num(a.memory) : Infinity,
    pods: a.pods !== undefined ? num(a.pods) : 110,
  };
}

/** A filter: the reason the node does not fit, or undefined. */
export type Filter = (pod: KubeObject, n: NodeInfo) => string | undefined;

function tolerates(pod: KubeObject, taint: any): boolean {
  return (pod.spec?.tolerations ?? []).some((t: any) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** node.spec.unschedulable, unless tolerated. */
export const nodeUnschedulable: Filter = (pod, n) =>
  n.node.spec?.unschedulable && !tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }) ? "node(s) were unschedulable" : undefined;

/** Requests against allocatable minus what is placed. Several reasons are joined the kube way by the caller. */
export const nodeResourcesFit: Filter = (pod, n) => {
  const want = podRequests(pod);
  const have = allocatable(n.node);
  const out: string[] = [];
  if (n.requested.pods + 1 > have.pods) out.push('Too many pods');
  if (want.milliCpu > 0 && n.requested.milliCpu + want.milliCpu > have.milliCpu) out.push('Insufficient cpu');
  if (want.memory > 0 && n.requested.memory + want.memory > have.memory) out.push('Insufficient memory');
  return out.length ? out.join('\x00') : undefined;
};

function matchExpr(labels: Record<string, string>, e: any, fields: Record<string, string> = {}): boolean {
  const src = e.__field ? fields : labels;
  const v = src[e.key];
  switch (e.operator) {
    case 'In': return v !== undefined && (e.values ?? []).includes(v);
    case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
    case 'Exists': return v !== undefined;
    case 'DoesNotExist': return v === undefined;
    case 'Gt': return v !== undefined && Number(v) > Number(e.values?.[0]);
    case 'Lt': return v !== undefined && Number(v) < Number(e.values?.[0]);
  }
  return false;
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms ORed, expressions ANDed). */
export function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return true;
  const fields = { 'metadata.name': node.metadata.name ?? '' };
  return terms.some((t: any) =>
    (t.matchExpressions ?? []).every((e: any) => matchExpr(labels, e)) &&
    (t.matchFields ?? []).every((e: any) => matchExpr(labels, { ...e, __field: true }, fields)) &&
    ((t.matchExpressions ?? []).length + (t.matchFields ?? []).length > 0));
}

/** NodeAffinity filter. */
export const nodeAffinity: Filter = (pod, n) => (matchesNodeAffinity(pod, n.node) ? undefined : "node(s) didn't match Pod's node affinity/selector");

/** TaintToleration filter: NoSchedule and NoExecute taints must be tolerated. */
export const taintToleration: Filter = (pod, n) => {
  const t = (n.node.spec?.taints ?? []).find((x: any) => (x.effect === 'NoSchedule' || x.effect === 'NoExecute') && !tolerates(pod, x));
  return t ? `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}` : undefined;
};

/** The filters in kube-scheduler's order. */
export const defaultFilters: Filter[] = [nodeUnschedulable, nodeAffinity, taintToleration, nodeResourcesFit];

/** Every reason `n` does not fit `pod` (empty = fits). */
export function nodeFits(pod: KubeObject, n: NodeInfo, filters: Filter[] = defaultFilters): string[] {
  const out: string[] = [];
  for (const f of filters) {
    const r = f(pod, n);
    if (r) {
      out.push(...r.split('\x00'));
      break; // kube stops at the first failing plugin per node
    }
  }
  return out;
}

/** `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.` */
export function failureMessage(total: number, reasons: string[][]): string {
  const counts = new Map<string, number>();
  for (const rs of reasons) for (const r of rs) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  if (total === 0) return 'no nodes available to schedule pods';
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

export { tolerates };
