// kube's replica calculator (pkg/controller/podautoscaler/replica_calculator.go), pure: from the pods the
// target selects, their metrics and requests, the number of replicas a resource metric asks for.
//   desired = ceil(readyPods × usage/target), unchanged while |1 − ratio| ≤ tolerance (0.1).
// The conservative rules: deleted, failed and pending pods are ignored; for CPU, pods not ready yet (or
// inside their first 5 minutes with a sample taken before they became ready) count as using 0 % on a
// scale-up and are left out otherwise; pods without metrics count as 0 % on a scale-up and as 100 % of
// their request (or the target, if higher) on a scale-down; and when that reassessment flips the
// direction or lands inside the tolerance, the current count stays.

import type { KubeObject } from '../../../api/meta.js';
import { milliValue } from '../../../api/quantity.js';

/** kube's defaults: --horizontal-pod-autoscaler-tolerance, -cpu-initialization-period, -initial-readiness-delay. */
export const DEFAULT_TOLERANCE = 0.1;
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's metric: the sum over its containers, in milli-units (millicores, or millibytes as kube does). */
export interface PodMetric {
  value: number;
  /** when the sample ends, and over how long (ms) */
  timestamp: number;
  windowMs: number;
}

/** The result of a calculation. */
export interface ReplicaResult {
  replicas: number;
  /** integer percent of request (utilization targets) */
  utilization?: number;
  /** average usage per pod in milli-units */
  rawAverage: number;
}

/** Failure of a calculation, with kube's message. */
export class MetricError extends Error {}

/** The pods grouped as kube's groupPods does. */
export function groupPods(pods: KubeObject[], metrics: Map<string, PodMetric>, resource: string, now: number) {
  let readyPodCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata.name!;
    const phase = pod.status?.phase;
    if (pod.metadata.deletionTimestamp || phase === 'Failed' || phase === 'Pending' || phase === undefined) {
      ignored.add(name);
      continue;
    }
    const m = metrics.get(name);
    if (!m) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      const start = Date.parse(pod.status?.startTime ?? '');
      let isUnready: boolean;
      if (!cond || !Number.isFinite(start)) isUnready = true;
      else {
        const transition = Date.parse(cond.lastTransitionTime ?? '') || 0;
        if (start + CPU_INITIALIZATION_PERIOD_MS > now) isUnready = cond.status === 'False' || m.timestamp < transition + m.windowMs;
        else isUnready = cond.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
      }
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/** Each pod's request for `resource` (sum over containers, or the one named), in milli-units. */
export function podRequests(pods: KubeObject[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const r = c.resources?.requests?.[resource];
      if (r === undefined) throw new MetricError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += milliValue(r);
    }
    out.set(pod.metadata.name!, sum);
  }
  return out;
}

/** kube's GetResourceUtilizationRatio: ratio to the target, integer utilization, average raw usage. */
export function utilizationRatio(metrics: Map<string, number>, requests: Map<string, number>, target: number) {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  for (const [pod, v] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    metricsTotal += v;
    requestsTotal += r;
    n++;
  }
  if (requestsTotal === 0) throw new MetricError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / target, utilization, rawAverage: n ? Math.trunc(metricsTotal / n) : 0 };
}

/** Inputs of a resource-metric calculation. */
export interface ResourceCalc {
  currentReplicas: number;
  pods: KubeObject[];
  metrics: Map<string, PodMetric>;
  resource: string;
  container?: string;
  /** percent of request (Utilization) … */
  targetUtilization?: number;
  /** … or average value per pod in milli-units (AverageValue) */
  targetAverageMilli?: number;
  tolerance?: number;
  now: number;
}

/** kube's GetResourceReplicas (Utilization) and GetRawResourceReplicas (AverageValue). */
export function resourceReplicas(c: ResourceCalc): ReplicaResult {
  const tolerance = c.tolerance ?? DEFAULT_TOLERANCE;
  if (!c.pods.length) throw new MetricError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unready, missing, ignored } = groupPods(c.pods, c.metrics, c.resource, c.now);
  const values = new Map<string, number>();
  for (const [k, m] of c.metrics) if (!ignored.has(k) && !unready.has(k) && c.pods.some((p) => p.metadata.name === k)) values.set(k, m.value);
  if (!values.size) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');

  const utilizationMode = c.targetUtilization !== undefined;
  const requests = utilizationMode ? podRequests(c.pods, c.resource, c.container) : new Map<string, number>();
  const target = utilizationMode ? c.targetUtilization! : c.targetAverageMilli!;
  const ratioOf = (vals: Map<string, number>) => {
    if (utilizationMode) return utilizationRatio(vals, requests, target);
    let sum = 0;
    for (const v of vals.values()) sum += v;
    const avg = sum / vals.size;
    return { ratio: avg / target, utilization: undefined, rawAverage: Math.trunc(avg) };
  };
  const first = ratioOf(values);
  const base: ReplicaResult = { replicas: c.currentReplicas, rawAverage: first.rawAverage, ...(first.utilization !== undefined ? { utilization: first.utilization } : {}) };
  const scaleUpWithUnready = unready.size > 0 && first.ratio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1.0 - first.ratio) <= tolerance) return base;
    return { ...base, replicas: Math.ceil(first.ratio * readyPodCount) };
  }
  if (missing.size > 0) {
    for (const p of missing) {
      if (first.ratio < 1.0) values.set(p, utilizationMode ? Math.trunc((requests.get(p)! * Math.max(100, target)) / 100) : target);
      else if (first.ratio > 1.0) values.set(p, 0);
    }
  }
  if (scaleUpWithUnready) for (const p of unready) values.set(p, 0);
  const second = ratioOf(values);
  if (Math.abs(1.0 - second.ratio) <= tolerance || (first.ratio < 1.0 && second.ratio > 1.0) || (first.ratio > 1.0 && second.ratio < 1.0)) return base;
  const replicas = Math.ceil(second.ratio * values.size);
  if ((second.ratio < 1.0 && replicas > c.currentReplicas) || (second.ratio > 1.0 && replicas < c.currentReplicas)) return base;
  return { ...base, replicas };
}
