// Scheduler scores, as kube-scheduler's default score plugins (each 0..100 per node, then weighted):
// NodeResourcesFit LeastAllocated (weight 1), PodTopologySpread-style spreading of a workload's pods
// across nodes (weight 2), preferred NodeAffinity (weight 2), TaintToleration for PreferNoSchedule
// taints (weight 3). `pickNode` filters, scores and picks, breaking ties at random as kube does.

import type { KubeObject } from '../../api/meta.js';
import { allocatable, defaultFilters, failureMessage, matchesNodeAffinity, nodeFits, podRequests, tolerates, type Filter, type NodeInfo } from './filters.js';

/** A score plugin: raw scores for the feasible nodes (higher is better), normalized by the caller. */
export type Scorer = { name: string; weight: number; score(pod: KubeObject, nodes: NodeInfo[]): number[] };

/** Least allocated: free share of CPU and memory after placing the pod, averaged. */
export const leastAllocated: Scorer = {
  name: 'NodeResourcesFit', weight: 1,
  score(pod, nodes) {
    const want = podRequests(pod);
    return nodes.map((n) => {
      const a = allocatable(n.node);
      const parts: number[] = [];
      if (Number.isFinite(a.milliCpu) && a.milliCpu > 0) parts.push(Math.max(0, (a.milliCpu - n.requested.milliCpu - want.milliCpu) / a.milliCpu));
      if (Number.isFinite(a.memory) && a.memory > 0) parts.push(Math.max(0, (a.memory - n.requested.memory - want.memory) / a.memory));
      return parts.length ? (100 * parts.reduce((x, y) => x + y, 0)) / parts.length : 100;
    });
  },
};

/** Same-workload pods already on the node (by controller owner, else by equal labels). */
function siblings(pod: KubeObject, n: NodeInfo): number {
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
  const labels = JSON.stringify(pod.metadata.labels ?? {});
  return n.pods.filter((p) => {
    if (p.metadata.deletionTimestamp) return false;
    const o = p.metadata.ownerReferences?.find((r) => r.controller)?.uid;
    return owner ? o === owner : JSON.stringify(p.metadata.labels ?? {}) === labels && labels !== '{}';
  }).length;
}

/** Spread a workload: fewer of its pods on a node scores higher. */
export const spread: Scorer = {
  name: 'PodTopologySpread', weight: 2,
  score(pod, nodes) {
    const counts = nodes.map((n) => siblings(pod, n));
    const max = Math.max(0, ...counts);
    return counts.map((c) => (max === 0 ? 100 : (100 * (max - c)) / max));
  },
};

/** Preferred node affinity: the sum of the weights of matching terms. */
export const preferredAffinity: Scorer = {
  name: 'NodeAffinity', weight: 2,
  score(pod, nodes) {
    const terms = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    return nodes.map((n) =>
      terms.reduce((s: number, t: any) => {
        const probe = { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [t.preference] } } } } } as KubeObject;
        return s + (matchesNodeAffinity(probe, n.node) ? t.weight ?? 0 : 0);
      }, 0));
  },
};

/** PreferNoSchedule taints the pod does not tolerate count against a node. */
export const preferNoSchedule: Scorer = {
  name: 'TaintToleration', weight: 3,
  score(pod, nodes) {
    return nodes.map((n) => -(n.node.spec?.taints ?? []).filter((t: any) => t.effect === 'PreferNoSchedule' && !tolerates(pod, t)).length);
  },
};

/** The default score plugins. */
export const defaultScorers: Scorer[] = [leastAllocated, spread, preferredAffinity, preferNoSchedule];

/** Scale raw scores to 0..100 (kube's DefaultNormalizeScore; all-equal → all 100... or 0 when all 0). */
export function normalize(raw: number[]): number[] {
  const max = Math.max(...raw);
  const min = Math.min(...raw);
  if (max === min) return raw.map(() => (max === 0 ? 0 : 100));
  return raw.map((r) => (100 * (r - min)) / (max - min));
}

/** The outcome of scheduling one pod. */
export type Decision = { node: string; scores: Record<string, number> } | { node?: undefined; message: string };

/** Filter then score; pick the best node (ties at random). */
export function pickNode(pod: KubeObject, nodes: NodeInfo[], o: { filters?: Filter[]; scorers?: Scorer[]; random?: () => number } = {}): Decision {
  const reasons: string[][] = [];
  const feasible: NodeInfo[] = [];
  for (const n of nodes) {
    const r = nodeFits(pod, n, o.filters ?? defaultFilters);
    if (r.length) reasons.push(r);
    else feasible.push(n);
  }
  if (!feasible.length) return { message: failureMessage(nodes.length, reasons) };
  const total = feasible.map(() => 0);
  for (const s of o.scorers ?? defaultScorers) {
    const norm = s.name === 'NodeResourcesFit' ? s.score(pod, feasible) : normalize(s.score(pod, feasible));
    norm.forEach((v, i) => (total[i]! += v * s.weight));
  }
  const best = Math.max(...total);
  const ties = feasible.filter((_n, i) => Math.abs(total[i]! - best) < 1e-9);
  const chosen = ties[Math.floor((o.random ?? Math.random)() * ties.length)]!;
  return { node: chosen.node.metadata.name!, scores: Object.fromEntries(feasible.map((n, i) => [n.node.metadata.name!, Math.round(total[i]! * 100) / 100])) };
}
