// One HPA sync (kube's reconcileAutoscaler), over seams so it runs in unit tests with a fake clock,
// fake metrics and a fake scale: read the target's scale, compute a recommendation per metric (the
// largest wins), normalize it (behavior.ts), rescale through `/scale` when it differs, and produce the
// status (currentReplicas, desiredReplicas, currentMetrics, lastScaleTime, conditions AbleToScale,
// ScalingActive, ScalingLimited) and the events kube records.

import type { KubeObject } from '../../../api/meta.js';
import { parseSelector, matches } from '../../../api/labels.js';
import { milliValue } from '../../../api/quantity.js';
import { isoSeconds, setCondition } from '../podutil.js';
import type { HpaMemory, CondReq } from './behavior.js';
import type { MetricsSource } from './metrics.js';
import { MetricError, resourceReplicas, DEFAULT_TOLERANCE } from './replicas.js';

/** The target's scale as the sync needs it. */
export interface ScaleView {
  specReplicas: number;
  statusReplicas: number;
  selector: string;
}

/** What the sync reads and writes through. */
export interface SyncDeps {
  getScale(hpa: KubeObject): Promise<ScaleView>;
  setScale(hpa: KubeObject, replicas: number): Promise<void>;
  /** pods of the HPA's namespace */
  pods(namespace: string): KubeObject[];
  metrics: MetricsSource;
  memory: HpaMemory;
  now: number;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** The outcome of a sync: the new status (written by the caller when changed). */
export interface SyncResult {
  status: Record<string, any>;
  rescaled?: { from: number; to: number };
}

/** A milli-unit amount as a quantity (`250m`, `3`). */
export function milliQuantity(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

type Recommendation = { replicas: number; metricName: string; status: Record<string, any> };

async function resourceRecommendation(m: any, hpa: KubeObject, scale: ScaleView, podsSel: KubeObject[], d: SyncDeps): Promise<Recommendation> {
  const src = m.type === 'Resource' ? m.resource : m.containerResource;
  const name: string = src.name;
  const container: string | undefined = m.type === 'ContainerResource' ? src.container : undefined;
  const t = src.target ?? {};
  const tolerance = DEFAULT_TOLERANCE;
  const metrics = await d.metrics.podMetrics(hpa.metadata.namespace!, scale.selector, name, container).catch((e) => {
    throw new MetricError(`unable to get metrics for resource ${name}: ${(e as Error).message}`);
  });
  if (!metrics.size) throw new MetricError(`unable to get metrics for resource ${name}: no metrics returned from resource metrics API`);
  const where = container ? `${name} container resource` : `${name} resource`;
  if (t.averageUtilization !== undefined) {
    const r = resourceReplicas({ currentReplicas: scale.specReplicas, pods: podsSel, metrics, resource: name, container, targetUtilization: t.averageUtilization, tolerance, now: d.now });
    const current = { averageUtilization: r.utilization, averageValue: milliQuantity(r.rawAverage) };
    const status = m.type === 'Resource' ? { type: 'Resource', resource: { name, current } } : { type: 'ContainerResource', containerResource: { name, container, current } };
    return { replicas: r.replicas, metricName: `${where} utilization (percentage of request)`, status };
  }
  const r = resourceReplicas({ currentReplicas: scale.specReplicas, pods: podsSel, metrics, resource: name, container, targetAverageMilli: milliValue(t.averageValue), tolerance, now: d.now });
  const current = { averageValue: milliQuantity(r.rawAverage) };
  const status = m.type === 'Resource' ? { type: 'Resource', resource: { name, current } } : { type: 'ContainerResource', containerResource: { name, container, current } };
  return { replicas: r.replicas, metricName: where, status };
}

const cond = (type: string, c: CondReq, now: number) => ({ type, status: c.status, lastTransitionTime: isoSeconds(now), reason: c.reason, message: c.message });

/** One sync of one HPA. */
export async function syncHpa(hpa: KubeObject, d: SyncDeps): Promise<SyncResult> {
  const key = `${hpa.metadata.namespace}/${hpa.metadata.name}`;
  const spec = hpa.spec ?? {};
  const status: Record<string, any> = structuredClone(hpa.status ?? {});
  status.observedGeneration = hpa.metadata.generation;
  let conditions: any[] = status.conditions ?? [];
  const set = (type: string, c: CondReq) => (conditions = setCondition(conditions, cond(type, c, d.now)));
  const finish = (r: Omit<SyncResult, 'status'> = {}): SyncResult => ({ ...r, status: { ...status, conditions } });

  let scale: ScaleView;
  try {
    scale = await d.getScale(hpa);
  } catch (e) {
    const msg = `the HPA controller was unable to get the target's current scale: ${(e as Error).message}`;
    set('AbleToScale', { status: 'False', reason: 'FailedGetScale', message: msg });
    d.event('Warning', 'FailedGetScale', (e as Error).message);
    return finish();
  }
  set('AbleToScale', { status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
  const current = scale.specReplicas;
  status.currentReplicas = scale.statusReplicas;
  const min = spec.minReplicas ?? 1;
  const max = spec.maxReplicas;
  let desired: number;
  let reason = '';

  if (current === 0 && min !== 0) {
    desired = 0;
    set('ScalingActive', { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
  } else if (current > max) {
    desired = max;
    reason = 'Current number of replicas above Spec.MaxReplicas';
  } else if (current < min) {
    desired = min;
    reason = 'Current number of replicas below Spec.MinReplicas';
  } else {
    let sel;
    try {
      if (!scale.selector) throw new Error('selector is required');
      sel = parseSelector(scale.selector);
    } catch (e) {
      set('ScalingActive', { status: 'False', reason: 'InvalidSelector', message: `the HPA target's scale has an invalid selector: ${(e as Error).message}` });
      d.event('Warning', 'InvalidSelector', `the HPA target's scale has an invalid selector: ${(e as Error).message}`);
      return finish();
    }
    const pods = d.pods(hpa.metadata.namespace!).filter((p) => matches(sel, p.metadata.labels));
    const metricsSpec: any[] = spec.metrics ?? [];
    const statuses: Record<string, any>[] = [];
    let best: Recommendation | undefined;
    let firstError: { reason: string; message: string } | undefined;
    let invalid = 0;
    for (const m of metricsSpec) {
      try {
        if (m.type !== 'Resource' && m.type !== 'ContainerResource')
          throw Object.assign(new MetricError(`the metric source type ${JSON.stringify(m.type)} needs a custom or external metrics API, which this cluster does not serve`), { reason: 'InvalidMetricSourceType' });
        const r = await resourceRecommendation(m, hpa, scale, pods, d);
        statuses.push(r.status);
        if (!best || r.replicas > best.replicas) best = r;
      } catch (e) {
        invalid++;
        statuses.push({ type: '' });
        const rs = (e as { reason?: string }).reason ?? (m.type === 'ContainerResource' ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric');
        firstError ??= { reason: rs, message: (e as Error).message };
        d.event('Warning', rs, (e as Error).message);
      }
    }
    status.currentMetrics = statuses.filter((s) => s.type);
    if (!status.currentMetrics.length) delete status.currentMetrics;
    if (firstError && (invalid >= metricsSpec.length || (best && best.replicas < current))) {
      d.event('Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${invalid} invalid out of ${metricsSpec.length}), first error is: ${firstError.message}`);
      set('ScalingActive', { status: 'False', reason: firstError.reason, message: `the HPA was unable to compute the replica count: ${firstError.message}` });
      return finish();
    }
    const rec = best!;
    set('ScalingActive', { status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${rec.metricName}` });
    reason = rec.replicas > current ? `${rec.metricName} above target` : 'All metrics below target';
    const n = d.memory.normalize({ key, current, desired: rec.replicas, min, max, behavior: spec.behavior, now: d.now });
    set('AbleToScale', n.ableToScale);
    set('ScalingLimited', n.scalingLimited);
    desired = n.replicas;
  }

  status.desiredReplicas = desired;
  if (desired === current || (current === 0 && min !== 0)) return finish();
  try {
    await d.setScale(hpa, desired);
  } catch (e) {
    set('AbleToScale', { status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${(e as Error).message}` });
    d.event('Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${(e as Error).message}`);
    return finish();
  }
  set('AbleToScale', { status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
  d.memory.recordScale(key, current, desired, d.now, spec.behavior);
  d.event('Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
  status.lastScaleTime = isoSeconds(d.now);
  return finish({ rescaled: { from: current, to: desired } });
}
