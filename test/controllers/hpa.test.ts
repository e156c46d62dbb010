// The HPA controller's algorithm with a fake clock and fake metrics: kube's replica calculator cases
// (replica_calculator_test.go, plus the conservative rules worked through), the normalization without
// and with spec.behavior (stabilization windows, Pods/Percent policies, selectPolicy), and whole syncs
// (status, conditions, events, /scale writes), table-driven.

import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { resourceReplicas, MetricError, type PodMetric } from '../../control-plane/controllers/hpa/replicas.js';
import { HpaMemory, scaleUpLimit, scaleDownLimit } from '../../control-plane/controllers/hpa/behavior.js';
import { syncHpa, milliQuantity, type ScaleView } from '../../control-plane/controllers/hpa/sync.js';
import { podMetricsFrom, parseWindow, type MetricsSource } from '../../control-plane/controllers/hpa/metrics.js';
import { scaleTarget } from '../../control-plane/controllers/hpa/hpa.js';
import { registry } from '../../api/registry.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

interface PodOpts { phase?: string; ready?: 'True' | 'False'; startAgoMs?: number; transitionAgoMs?: number; request?: string; deleted?: boolean; labels?: Record<string, string> }
function pod(name: string, o: PodOpts = {}): KubeObject {
  const start = NOW - (o.startAgoMs ?? 3_600_000);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: o.labels ?? { app: 'web' }, ...(o.deleted ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: 'c', ...(o.request === '' ? {} : { resources: { requests: { cpu: o.request ?? '1' } } }) }] },
    status: {
      phase: o.phase ?? 'Running', startTime: iso(start),
      conditions: [{ type: 'Ready', status: o.ready ?? 'True', lastTransitionTime: iso(o.transitionAgoMs !== undefined ? NOW - o.transitionAgoMs : start) }],
    },
  };
}
const metric = (value: number, timestamp = NOW, windowMs = 30_000): PodMetric => ({ value, timestamp, windowMs });

t.test("replica calculator: kube's cases", async (t) => {
  const rows: { name: string; current: number; pods: KubeObject[]; levels: (number | undefined)[]; target?: number; targetAvg?: number; want: number; wantUtil?: number; wantRaw?: number }[] = [
    { name: 'scale up', current: 3, pods: [pod('p0'), pod('p1'), pod('p2')], levels: [300, 500, 700], target: 30, want: 5, wantUtil: 50, wantRaw: 500 },
    { name: 'scale up, unready pods count 0 (less scale)', current: 3, pods: [pod('p0', { ready: 'False' }), pod('p1'), pod('p2')], levels: [300, 500, 700], target: 30, want: 4, wantUtil: 60, wantRaw: 600 },
    { name: 'scale up ignores failed pods', current: 2, pods: [pod('p0'), pod('p1'), pod('p2', { phase: 'Failed', ready: 'False' }), pod('p3', { phase: 'Failed', ready: 'False' })], levels: [500, 700, 100, 100], target: 30, want: 4, wantUtil: 60, wantRaw: 600 },
    { name: 'scale up ignores deleted pods', current: 2, pods: [pod('p0'), pod('p1'), pod('p2', { deleted: true })], levels: [500, 700, 100], target: 30, want: 4, wantUtil: 60, wantRaw: 600 },
    { name: 'scale up ignores pending pods', current: 2, pods: [pod('p0'), pod('p1'), pod('p2', { phase: 'Pending' })], levels: [500, 700, 100], target: 30, want: 4, wantUtil: 60 },
    { name: 'scale down', current: 5, pods: ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n)), levels: [100, 300, 500, 250, 250], target: 50, want: 3, wantUtil: 28, wantRaw: 280 },
    { name: 'scale down ignores unready pods', current: 5, pods: [pod('a'), pod('b'), pod('c'), pod('d', { ready: 'False' }), pod('e', { ready: 'False' })], levels: [100, 300, 500, 250, 250], target: 50, want: 2, wantUtil: 30, wantRaw: 300 },
    { name: 'within tolerance', current: 3, pods: [pod('p0', { request: '900m' }), pod('p1', { request: '1' }), pod('p2', { request: '1100m' })], levels: [1010, 1030, 1020], target: 100, want: 3, wantUtil: 102, wantRaw: 1020 },
    { name: 'ratio 1.1 is past the tolerance in float64 (|1 − 1.1| = 0.10000000000000009), as in kube', current: 2, pods: [pod('p0'), pod('p1')], levels: [550, 550], target: 50, want: 3, wantUtil: 55 },
    { name: 'ratio 1.08 stays', current: 2, pods: [pod('p0'), pod('p1')], levels: [540, 540], target: 50, want: 2, wantUtil: 54 },
    { name: 'just past tolerance scales', current: 2, pods: [pod('p0'), pod('p1')], levels: [560, 560], target: 50, want: 3, wantUtil: 56 },
    { name: 'missing metrics, no change at 100%', current: 2, pods: [pod('p0'), pod('p1')], levels: [1000, undefined], target: 100, want: 2, wantUtil: 100 },
    { name: 'missing metrics count 0% on a scale-up', current: 3, pods: [pod('p0'), pod('p1'), pod('p2')], levels: [1000, 1500, undefined], target: 50, want: 5, wantUtil: 125 },
    { name: 'missing metrics count 100% on a scale-down', current: 3, pods: [pod('p0'), pod('p1'), pod('p2')], levels: [100, 100, undefined], target: 80, want: 2, wantUtil: 10 },
    { name: 'missing metrics flip a scale-down: no change', current: 4, pods: ['a', 'b', 'c', 'd'].map((n) => pod(n)), levels: [100, 100, undefined, undefined], target: 50, want: 4, wantUtil: 10 },
    { name: 'new pod sampled before ready for a window is unready: counted 0, lands in tolerance', current: 2, pods: [pod('p0', { startAgoMs: 60_000, transitionAgoMs: 20_000 }), pod('p1')], levels: [900, 900], target: 50, want: 2, wantUtil: 90 },
    { name: 'new pod ready for longer than a window counts', current: 2, pods: [pod('p0', { startAgoMs: 120_000, transitionAgoMs: 60_000 }), pod('p1')], levels: [900, 900], target: 50, want: 4, wantUtil: 90 },
    { name: 'average value target', current: 3, pods: [pod('p0'), pod('p1'), pod('p2')], levels: [300, 500, 700], targetAvg: 250, want: 6, wantRaw: 500 },
    { name: 'average value within tolerance', current: 3, pods: [pod('p0'), pod('p1'), pod('p2')], levels: [480, 500, 520], targetAvg: 500, want: 3, wantRaw: 500 },
  ];
  for (const r of rows) {
    const metrics = new Map<string, PodMetric>();
    r.pods.forEach((p, i) => { if (r.levels[i] !== undefined) metrics.set(p.metadata.name!, metric(r.levels[i]!)); });
    const got = resourceReplicas({ currentReplicas: r.current, pods: r.pods, metrics, resource: 'cpu', targetUtilization: r.target, targetAverageMilli: r.targetAvg, now: NOW });
    t.equal(got.replicas, r.want, `${r.name}: replicas`);
    if (r.wantUtil !== undefined) t.equal(got.utilization, r.wantUtil, `${r.name}: utilization`);
    if (r.wantRaw !== undefined) t.equal(got.rawAverage, r.wantRaw, `${r.name}: raw average`);
  }
});

t.test('replica calculator: memory ignores readiness (only CPU has the unready rule)', async (t) => {
  const mem = (name: string, o: PodOpts = {}) => {
    const p = pod(name, o);
    p.spec.containers[0].resources = { requests: { memory: '100Mi' } };
    return p;
  };
  const pods = [mem('p0', { ready: 'False' }), mem('p1')];
  const mib = 1024 * 1024 * 1000; // milli-units of a MiB, as kube's metrics client gives memory
  const metrics = new Map([['p0', metric(150 * mib)], ['p1', metric(150 * mib)]]);
  const r = resourceReplicas({ currentReplicas: 2, pods, metrics, resource: 'memory', targetUtilization: 75, now: NOW });
  t.same([r.replicas, r.utilization], [4, 150], 'both pods count: 150% of a 75% target doubles');
  const avg = resourceReplicas({ currentReplicas: 2, pods, metrics, resource: 'memory', targetAverageMilli: 50 * mib, now: NOW });
  t.equal(avg.replicas, 6, 'AverageValue 50Mi with 150Mi each: 2 × 3');
});

t.test('replica calculator: errors', async (t) => {
  const rows: { name: string; pods: KubeObject[]; levels: number[]; want: RegExp }[] = [
    { name: 'no pods', pods: [], levels: [], want: /no pods returned by selector/ },
    { name: 'no metrics for ready pods', pods: [pod('p0', { ready: 'False' })], levels: [100], want: /did not receive metrics for targeted pods/ },
    { name: 'missing request', pods: [pod('p0', { request: '' })], levels: [100], want: /missing request for cpu in container c of Pod p0/ },
  ];
  for (const r of rows) {
    const metrics = new Map<string, PodMetric>(r.pods.map((p, i) => [p.metadata.name!, metric(r.levels[i]!)]));
    t.throws(() => resourceReplicas({ currentReplicas: 1, pods: r.pods, metrics, resource: 'cpu', targetUtilization: 50, now: NOW }), r.want, r.name);
    try {
      resourceReplicas({ currentReplicas: 1, pods: r.pods, metrics, resource: 'cpu', targetUtilization: 50, now: NOW });
    } catch (e) {
      t.ok(e instanceof MetricError, `${r.name}: MetricError`);
    }
  }
});

t.test('rate limits: Pods/Percent policies and selectPolicy', async (t) => {
  const none = () => 0;
  const up = [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }];
  t.equal(scaleUpLimit(1, { selectPolicy: 'Max', policies: up }, none), 5, 'max(1+4, 1×2)');
  t.equal(scaleUpLimit(10, { selectPolicy: 'Max', policies: up }, none), 20, 'max(14, 20)');
  t.equal(scaleUpLimit(10, { selectPolicy: 'Min', policies: up }, none), 14, 'min(14, 20)');
  t.equal(scaleUpLimit(10, { selectPolicy: 'Disabled', policies: up }, none), 10, 'disabled');
  t.equal(scaleUpLimit(10, { selectPolicy: 'Max', policies: up }, () => 6), 8, 'events in the period count: start 4 → max(8, 8)');
  const down = [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }, { type: 'Percent' as const, value: 50, periodSeconds: 60 }];
  t.equal(scaleDownLimit(10, { selectPolicy: 'Max', policies: down }, none), 5, 'Max picks the biggest change: min(8, 5)');
  t.equal(scaleDownLimit(10, { selectPolicy: 'Min', policies: down }, none), 8, 'Min picks the smallest change');
  t.equal(scaleDownLimit(10, { selectPolicy: 'Disabled', policies: down }, none), 10, 'disabled');
  t.equal(scaleDownLimit(3, { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] }, none), 2, '3 × 0.9 truncates to 2');
});

t.test('normalization without behavior: 5-minute downscale stabilization, legacy rate, min/max', async (t) => {
  const m = new HpaMemory();
  const base = { key: 'default/web', min: 1, max: 10 };
  let n = m.normalize({ ...base, current: 5, desired: 5, now: NOW });
  t.same([n.replicas, n.ableToScale.reason, n.scalingLimited.reason], [5, 'ReadyForNewScale', 'DesiredWithinRange']);
  n = m.normalize({ ...base, current: 5, desired: 2, now: NOW + 60_000 });
  t.same([n.replicas, n.ableToScale.reason], [5, 'ScaleDownStabilized'], 'a higher recommendation within 5 min holds');
  n = m.normalize({ ...base, current: 5, desired: 2, now: NOW + 301_000 });
  t.equal(n.replicas, 2, 'after the window the lower one wins');
  n = new HpaMemory().normalize({ ...base, current: 1, desired: 9, now: NOW });
  t.same([n.replicas, n.scalingLimited.status, n.scalingLimited.reason], [4, 'True', 'ScaleUpLimit'], 'max(2×1, 4)');
  n = new HpaMemory().normalize({ ...base, max: 3, current: 2, desired: 9, now: NOW });
  t.same([n.replicas, n.scalingLimited.reason], [3, 'TooManyReplicas']);
  n = new HpaMemory().normalize({ ...base, min: 2, current: 3, desired: 1, now: NOW });
  t.same([n.replicas, n.scalingLimited.reason], [2, 'TooFewReplicas']);
});

t.test('normalization with behavior: windows and policies over time (fake clock)', async (t) => {
  const behavior = {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] },
  };
  const m = new HpaMemory();
  const key = 'default/web';
  let n = m.normalize({ key, current: 1, desired: 10, min: 1, max: 20, behavior, now: NOW });
  t.same([n.replicas, n.scalingLimited.reason, n.scalingLimited.status], [5, 'ScaleUpLimit', 'True'], 'scale-up default policy: 1 → 5');
  m.recordScale(key, 1, 5, NOW, behavior);
  n = m.normalize({ key, current: 5, desired: 10, min: 1, max: 20, behavior, now: NOW + 5_000 });
  t.equal(n.replicas, 5, 'within the 15 s period the 4 pods already added use up the Pods policy, and 100% of 1');
  n = m.normalize({ key, current: 5, desired: 10, min: 1, max: 20, behavior, now: NOW + 16_000 });
  t.equal(n.replicas, 10, 'a new period: Pods allows 9, Percent 10, Max picks 10');
  const m2 = new HpaMemory();
  n = m2.normalize({ key, current: 10, desired: 1, min: 1, max: 20, behavior, now: NOW });
  t.same([n.replicas, n.scalingLimited.reason], [8, 'ScaleDownLimit'], '2 pods per 60 s');
  m2.recordScale(key, 10, 8, NOW, behavior);
  n = m2.normalize({ key, current: 8, desired: 1, min: 1, max: 20, behavior, now: NOW + 30_000 });
  t.equal(n.replicas, 8, 'the period is used up');
  n = m2.normalize({ key, current: 8, desired: 1, min: 1, max: 20, behavior, now: NOW + 61_000 });
  t.equal(n.replicas, 6, 'next period');
  const disabled = { ...behavior, scaleDown: { ...behavior.scaleDown, selectPolicy: 'Disabled' as const } };
  n = new HpaMemory().normalize({ key, current: 4, desired: 1, min: 1, max: 20, behavior: disabled, now: NOW });
  t.same([n.replicas, n.scalingLimited.reason], [4, 'ScaleDownLimit'], 'Disabled never scales down');
  // scale-up stabilization: the lowest recommendation of the window
  const slowUp = { ...behavior, scaleUp: { ...behavior.scaleUp, stabilizationWindowSeconds: 60 } };
  const m3 = new HpaMemory();
  m3.normalize({ key, current: 3, desired: 3, min: 1, max: 20, behavior: slowUp, now: NOW });
  n = m3.normalize({ key, current: 3, desired: 6, min: 1, max: 20, behavior: slowUp, now: NOW + 10_000 });
  t.same([n.replicas, n.ableToScale.reason], [3, 'ScaleUpStabilized']);
  n = m3.normalize({ key, current: 3, desired: 6, min: 1, max: 20, behavior: slowUp, now: NOW + 61_000 });
  t.equal(n.replicas, 6, 'after the window');
  // scale-down stabilization defaults to the controller's 300 s when unset
  const m4 = new HpaMemory();
  const noWindow = { ...behavior, scaleDown: { selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] } };
  m4.normalize({ key, current: 4, desired: 4, min: 1, max: 20, behavior: noWindow, now: NOW });
  t.equal(m4.normalize({ key, current: 4, desired: 1, min: 1, max: 20, behavior: noWindow, now: NOW + 200_000 }).replicas, 4);
  t.equal(m4.normalize({ key, current: 4, desired: 1, min: 1, max: 20, behavior: noWindow, now: NOW + 301_000 }).replicas, 1);
});

function hpa(spec: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', generation: 1 },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }], ...spec },
  };
}

function harness(scale: ScaleView, pods: KubeObject[], levels: Record<string, number>, memory = new HpaMemory()) {
  const events: string[] = [];
  const writes: number[] = [];
  const metrics: MetricsSource = { podMetrics: async () => new Map(Object.entries(levels).map(([k, v]) => [k, metric(v)])) };
  return {
    events, writes,
    deps: (now = NOW) => ({
      getScale: async () => scale, setScale: async (_h: KubeObject, r: number) => { writes.push(r); scale.specReplicas = r; },
      pods: () => pods, metrics, memory, now, event: (type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`),
    }),
  };
}

t.test('sync: scale up through /scale with status, conditions and event', async (t) => {
  const h = harness({ specReplicas: 1, statusReplicas: 1, selector: 'app=web' }, [pod('p0')], { p0: 1000 });
  const r = await syncHpa(hpa(), h.deps());
  t.same(h.writes, [2], 'utilization 100% of a 50% target: 1 → 2');
  t.same(r.rescaled, { from: 1, to: 2 });
  t.equal(r.status.desiredReplicas, 2);
  t.equal(r.status.currentReplicas, 1);
  t.equal(r.status.lastScaleTime, '2026-01-01T12:00:00Z');
  t.same(r.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '1' } } }]);
  const c = Object.fromEntries(r.status.conditions.map((x: any) => [x.type, `${x.status} ${x.reason}`]));
  t.same(c, { AbleToScale: 'True SucceededRescale', ScalingActive: 'True ValidMetricFound', ScalingLimited: 'False DesiredWithinRange' });
  t.same(h.events, ['Normal SuccessfulRescale New size: 2; reason: cpu resource utilization (percentage of request) above target']);
});

t.test('sync: limited by maxReplicas, then scale down after the (behavior) window', async (t) => {
  const memory = new HpaMemory();
  const pods = ['a', 'b'].map((n) => pod(n));
  const h = harness({ specReplicas: 2, statusReplicas: 2, selector: 'app=web' }, pods, { a: 1000, b: 1000 }, memory);
  const spec = { behavior: { scaleDown: { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }, scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } } };
  let r = await syncHpa(hpa(spec), h.deps());
  t.same(h.writes, [4], 'wants 4, max is 4');
  const lim = r.status.conditions.find((x: any) => x.type === 'ScalingLimited');
  t.same([lim.status, lim.reason], ['False', 'DesiredWithinRange']);
  const idle = harness({ specReplicas: 4, statusReplicas: 4, selector: 'app=web' }, pods, { a: 10, b: 10 }, memory);
  r = await syncHpa(hpa(spec), idle.deps(NOW + 15_000));
  t.same(idle.writes, [], 'the scale-down window (30 s) still holds the recommendation of 4');
  t.equal(r.status.conditions.find((x: any) => x.type === 'AbleToScale').reason, 'ScaleDownStabilized');
  r = await syncHpa(hpa(spec), idle.deps(NOW + 50_000));
  t.same(idle.writes, [1], 'after it, down to minReplicas');
  t.same(idle.events, ['Normal SuccessfulRescale New size: 1; reason: All metrics below target']);
});

t.test('sync: failures set conditions and events, never a scale', async (t) => {
  const noMetrics = harness({ specReplicas: 2, statusReplicas: 2, selector: 'app=web' }, [pod('p0')], {});
  let r = await syncHpa(hpa(), noMetrics.deps());
  const sa = r.status.conditions.find((x: any) => x.type === 'ScalingActive');
  t.same([sa.status, sa.reason], ['False', 'FailedGetResourceMetric']);
  t.match(noMetrics.events.join('\n'), /Warning FailedGetResourceMetric unable to get metrics for resource cpu/);
  t.match(noMetrics.events.join('\n'), /Warning FailedComputeMetricsReplicas invalid metrics \(1 invalid out of 1\)/);
  t.same(noMetrics.writes, []);
  const badScale = { ...harness({ specReplicas: 1, statusReplicas: 1, selector: 'app=web' }, [], {}).deps(), getScale: async () => { throw new Error('deployments.apps "web" not found'); } };
  r = await syncHpa(hpa(), badScale);
  const ab = r.status.conditions.find((x: any) => x.type === 'AbleToScale');
  t.same([ab.status, ab.reason], ['False', 'FailedGetScale']);
  const zero = harness({ specReplicas: 0, statusReplicas: 0, selector: 'app=web' }, [pod('p0')], { p0: 1000 });
  r = await syncHpa(hpa(), zero.deps());
  t.same([zero.writes, r.status.conditions.find((x: any) => x.type === 'ScalingActive').reason], [[], 'ScalingDisabled'], 'a target scaled to 0 is left alone');
  const above = harness({ specReplicas: 7, statusReplicas: 7, selector: 'app=web' }, [], {});
  await syncHpa(hpa(), above.deps());
  t.same(above.writes, [4], 'above maxReplicas: set to max without metrics');
  t.match(above.events[0], /New size: 4; reason: Current number of replicas above Spec.MaxReplicas/);
  const pods = harness({ specReplicas: 2, statusReplicas: 2, selector: 'app=web' }, [pod('p0')], { p0: 1000 });
  r = await syncHpa(hpa({ metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } }] }), pods.deps());
  t.equal(r.status.conditions.find((x: any) => x.type === 'ScalingActive').reason, 'InvalidMetricSourceType');
});

t.test('metrics client parsing and helpers', async (t) => {
  t.equal(parseWindow('15s'), 15_000);
  t.equal(parseWindow('1m0.5s'), 60_500);
  t.equal(parseWindow('500ms'), 500);
  const m = podMetricsFrom([{ metadata: { name: 'p' }, timestamp: '2026-01-01T12:00:00Z', window: '10s', containers: [{ name: 'a', usage: { cpu: '250000000n', memory: '1Ki' } }, { name: 'b', usage: { cpu: '5m', memory: '1Ki' } }] }], 'cpu');
  t.same(m.get('p'), { value: 255, timestamp: NOW, windowMs: 10_000 });
  t.equal(podMetricsFrom([{ metadata: { name: 'p' }, containers: [{ name: 'a', usage: { cpu: '1' } }, { name: 'b', usage: { cpu: '2' } }] }], 'cpu', 'b').get('p')!.value, 2000);
  t.equal(milliQuantity(250), '250m');
  t.equal(milliQuantity(2000), '2');
  t.same(scaleTarget({ apiVersion: 'apps/v1', kind: 'Deployment' }), { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true });
  t.same(scaleTarget({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }).plural, 'replicasets');
  t.throws(() => scaleTarget({ apiVersion: 'apps/v1', kind: 'DaemonSet' }), /does not have a scale subresource/);
  t.throws(() => scaleTarget({ apiVersion: 'example.com/v1', kind: 'Widget' }), /no matches for kind "Widget"/);
  t.ok(registry.get('autoscaling', 'v2', 'horizontalpodautoscalers'));
});
