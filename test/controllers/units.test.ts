// Pure logic of the controllers, table-driven: the work queue and its rate limiter, rollout arithmetic,
// desired pod counts, deployment status, endpoint building, GC verdicts, daemon placement, flags.

import t from 'tap';
import { WorkQueue, ItemExponentialLimiter, BucketLimiter } from '../../control-plane/controllers/queue/queue.js';
import { FakeClock } from '../../lib/time/fake.js';
import { resolveFenceposts, newReplicaSetReplicas, scaleDownOld, podTemplateHash, templatesEqual, intOrPercent } from '../../control-plane/controllers/deployment/rolling.js';
import { replicaSetDiff, slowStartBatch } from '../../control-plane/controllers/replicaset/replicaset.js';
import { deploymentStatus } from '../../control-plane/controllers/deployment/deployment.js';
import { statusMessage } from '../../control-plane/controllers/deployment/rollout.js';
import { podEndpoints, endpointsSubsets, sliceContents, resolveTargetPort } from '../../control-plane/controllers/endpoints/build.js';
import { ownerVerdict } from '../../control-plane/controllers/gc/gc.js';
import { daemonPlan, shouldRunOn } from '../../control-plane/controllers/daemonset/daemonset.js';
import { parseManagerFlags } from '../../control-plane/controllers/flags.js';
import { EventRecorder } from '../../api/client/events.js';
import { deletionOrder } from '../../control-plane/controllers/podutil.js';
import type { KubeObject } from '../../api/meta.js';

const fakeClock = () => new FakeClock(0);

t.test('work queue: dedupe, in-flight re-add, delays', async (t) => {
  const clock = fakeClock();
  const q = new WorkQueue(new ItemExponentialLimiter(5, 1000), clock);
  q.add('a'); q.add('a'); q.add('b');
  t.equal(q.len(), 2, 'duplicate key waits once');
  const k = await q.get();
  t.equal(k, 'a');
  q.add('a'); // added while in flight: not handed out twice
  t.equal(q.len(), 1);
  t.equal(await q.get(), 'b');
  q.done('a');
  t.equal(q.len(), 1, 'in-flight key re-queued on done');
  q.done('b');
  t.equal(await q.get(), 'a');
  q.done('a');
  q.addRateLimited('x'); q.addRateLimited('y');
  clock.advanceSync(4);
  t.equal(q.len(), 0, 'nothing before 5 ms');
  clock.advanceSync(1);
  t.equal(q.len(), 2, 'due after 5 ms');
  const waiter = q.get();
  q.shutDown();
  t.equal(await waiter, 'x');
});

t.test('rate limiters', async (t) => {
  const l = new ItemExponentialLimiter(5, 1_000_000);
  const seq = Array.from({ length: 5 }, () => l.when('k'));
  t.same(seq, [5, 10, 20, 40, 80], 'doubling from 5 ms');
  for (let i = 0; i < 40; i++) l.when('k');
  t.equal(l.when('k'), 1_000_000, 'capped at 1000 s');
  l.forget('k');
  t.equal(l.when('k'), 5, 'forget resets');
  const clock = fakeClock();
  const b = new BucketLimiter(10, 3, clock);
  t.same([b.when(), b.when(), b.when(), b.when(), b.when()], [0, 0, 0, 100, 200], 'burst then 10 qps');
});

t.test('fenceposts round like kube', async (t) => {
  const rows: [number | string | undefined, number | string | undefined, number, { surge: number; unavailable: number }][] = [
    [undefined, undefined, 10, { surge: 3, unavailable: 2 }],
    [undefined, undefined, 1, { surge: 1, unavailable: 0 }],
    [0, 0, 3, { surge: 0, unavailable: 1 }],
    ['50%', '50%', 3, { surge: 2, unavailable: 1 }],
    [1, '0%', 4, { surge: 1, unavailable: 0 }],
    ['100%', 0, 5, { surge: 5, unavailable: 0 }],
  ];
  for (const [s, u, d, want] of rows) t.same(resolveFenceposts(s, u, d), want, `surge=${s} unavail=${u} replicas=${d}`);
  t.throws(() => intOrPercent('abc', 10, true, 0), /not a percentage/);
});

t.test('new ReplicaSet growth and old scale-down', async (t) => {
  const growth: [number, number, number, number, number][] = [
    // desired, surge, all, new, want
    [3, 1, 3, 0, 1],
    [3, 1, 4, 1, 1],
    [3, 1, 3, 1, 2],
    [3, 0, 2, 0, 1],
    [3, 3, 3, 0, 3],
  ];
  for (const [d, s, a, n, want] of growth) t.equal(newReplicaSetReplicas(d, s, a, n), want, `desired ${d} surge ${s} all ${a} new ${n}`);
  const down: { desired: number; unavailable: number; all: any[]; want: Record<string, number> }[] = [
    { desired: 3, unavailable: 0, all: [{ id: 'old', replicas: 3, available: 3, isNew: false }, { id: 'new', replicas: 1, available: 0, isNew: true }], want: {} },
    { desired: 3, unavailable: 0, all: [{ id: 'old', replicas: 3, available: 3, isNew: false }, { id: 'new', replicas: 1, available: 1, isNew: true }], want: { old: 2 } },
    { desired: 4, unavailable: 1, all: [{ id: 'old', replicas: 4, available: 4, isNew: false }, { id: 'new', replicas: 1, available: 0, isNew: true }], want: { old: 3 } },
    { desired: 2, unavailable: 0, all: [{ id: 'o1', replicas: 1, available: 0, isNew: false }, { id: 'o2', replicas: 2, available: 2, isNew: false }, { id: 'new', replicas: 0, available: 0, isNew: true }], want: { o1: 0 } },
    { desired: 3, unavailable: 3, all: [{ id: 'old', replicas: 3, available: 3, isNew: false }, { id: 'new', replicas: 0, available: 0, isNew: true }], want: { old: 0 } },
  ];
  for (const r of down) t.same(Object.fromEntries(scaleDownOld(r.desired, r.unavailable, r.all)), r.want, JSON.stringify(r.all.map((x) => [x.id, x.replicas, x.available])));
});

t.test('pod-template-hash', async (t) => {
  const a = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };
  const b = { metadata: { labels: { app: 'web', 'pod-template-hash': 'zzz' } }, spec: { containers: [{ image: 'x:1', name: 'c' }] } };
  t.equal(podTemplateHash(a), podTemplateHash(b), 'hash label and key order ignored');
  t.match(podTemplateHash(a), /^[bcdfghjklmnpqrstvwxz2456789]+$/, 'safe alphabet');
  t.not(podTemplateHash(a), podTemplateHash(a, 1), 'collision count changes it');
  t.ok(templatesEqual(a, b));
  t.notOk(templatesEqual(a, { ...a, spec: { containers: [{ name: 'c', image: 'x:2' }] } }));
});

const pod = (name: string, o: { ready?: boolean; node?: string; phase?: string; ip?: string; del?: boolean; created?: string; labels?: Record<string, string>; ports?: any[] } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', ...(o.del ? { deletionTimestamp: '2024-01-01T00:01:00Z' } : {}) },
  spec: { ...(o.node ? { nodeName: o.node } : {}), containers: [{ name: 'c', image: 'x', ports: o.ports ?? [] }] },
  status: { phase: o.phase ?? 'Running', ...(o.ip ? { podIP: o.ip } : {}), conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False' }] },
});

t.test('replica set diff and deletion order', async (t) => {
  const pods = [pod('ready-old', { ready: true, node: 'n', created: '2024-01-01T00:00:00Z' }), pod('pending', { phase: 'Pending' }), pod('notready', { node: 'n' }), pod('ready-new', { ready: true, node: 'n', created: '2024-01-02T00:00:00Z' })];
  t.same(replicaSetDiff(6, pods), { create: 2, delete: [] });
  t.same(replicaSetDiff(4, pods), { create: 0, delete: [] });
  t.same(replicaSetDiff(1, pods).delete.map((p) => p.metadata.name), ['pending', 'notready', 'ready-new'], 'unscheduled, not ready, newest first');
  t.same([...pods].sort(deletionOrder).map((p) => p.metadata.name), ['pending', 'notready', 'ready-new', 'ready-old']);
  let calls = 0;
  const r = await slowStartBatch(10, async () => { calls++; if (calls === 5) throw new Error('quota'); });
  t.same([r.ok, calls], [6, 7], 'batches 1,2,4: the failing batch of 4 stops it');
});

t.test('deployment status and conditions', async (t) => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', generation: 2 }, spec: { replicas: 3 }, status: {} } as KubeObject;
  const rs = (name: string, spec: number, st: number, avail: number) => ({ metadata: { name }, spec: { replicas: spec }, status: { replicas: st, readyReplicas: avail, availableReplicas: avail } }) as unknown as KubeObject;
  const newRS = rs('web-new', 3, 3, 3);
  const s = deploymentStatus(d, newRS, [newRS], Date.parse('2024-01-01T00:00:00Z'), false);
  t.match(s, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
  t.match(s.conditions.find((c: any) => c.type === 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' });
  t.match(s.conditions.find((c: any) => c.type === 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-new" has successfully progressed.' });
  const mid = deploymentStatus(d, rs('web-new', 1, 1, 0), [rs('web-old', 3, 3, 3), rs('web-new', 1, 1, 0)], 0, true);
  t.match(mid.conditions.find((c: any) => c.type === 'Progressing'), { reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-new" is progressing.' });
  const stuck = { ...d, spec: { replicas: 3, progressDeadlineSeconds: 10 }, status: { ...mid, conditions: mid.conditions.map((c: any) => ({ ...c, lastUpdateTime: '1970-01-01T00:00:00Z' })) } };
  const late = deploymentStatus(stuck, rs('web-new', 1, 1, 0), [rs('web-old', 3, 3, 3), rs('web-new', 1, 1, 0)], 11_000, false);
  t.match(late.conditions.find((c: any) => c.type === 'Progressing'), { status: 'False', reason: 'ProgressDeadlineExceeded' });
  t.throws(() => statusMessage({ ...stuck, metadata: { name: 'web', generation: 2 }, status: { ...late, observedGeneration: 2 } }), /exceeded its progress deadline/);
  const rows: [any, string][] = [
    [{ metadata: { name: 'w', generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 2 } }, 'Waiting for deployment spec update to be observed...'],
    [{ metadata: { name: 'w', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 1 } }, 'Waiting for deployment "w" rollout to finish: 1 out of 2 new replicas have been updated...'],
    [{ metadata: { name: 'w', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 2, replicas: 3 } }, 'Waiting for deployment "w" rollout to finish: 1 old replicas are pending termination...'],
    [{ metadata: { name: 'w', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 1 } }, 'Waiting for deployment "w" rollout to finish: 1 of 2 updated replicas are available...'],
    [{ metadata: { name: 'w', generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 } }, 'deployment "w" successfully rolled out'],
  ];
  for (const [dep, want] of rows) t.equal(statusMessage(dep).message, want);
});

t.test('endpoints: readiness, terminating, named ports, publishNotReadyAddresses', async (t) => {
  const svc = (publish = false) => ({ metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'web' }, publishNotReadyAddresses: publish, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] } }) as unknown as KubeObject;
  const p8080 = [{ name: 'web', containerPort: 8080 }];
  const p9090 = [{ name: 'web', containerPort: 9090 }];
  const pods = [
    pod('a', { ready: true, ip: '10.244.0.2', ports: p8080 }),
    pod('b', { ready: false, ip: '10.244.0.3', ports: p8080 }),
    pod('c', { ready: true, ip: '10.244.0.4', ports: p9090 }),
    pod('d', { ready: true, ip: '10.244.0.5', ports: p8080, del: true }),
    pod('e', { ready: true, ip: '10.244.0.6', ports: [] }),
    pod('f', { ready: true, ports: p8080 }),
  ];
  t.equal(resolveTargetPort(pods[2]!, svc().spec.ports[0]), 9090, 'named port per pod');
  t.equal(resolveTargetPort(pods[4]!, svc().spec.ports[0]), undefined);
  const eps = podEndpoints(svc(), pods);
  t.same(eps.map((e) => [e.ip, e.ready, e.serving, e.terminating]), [
    ['10.244.0.2', true, true, false], ['10.244.0.3', false, false, false], ['10.244.0.4', true, true, false], ['10.244.0.5', false, true, true], ['10.244.0.6', true, true, false],
  ], 'no IP: left out; terminating: not ready but serving');
  const subsets = endpointsSubsets(svc(), eps);
  t.same(subsets.map((s) => [s.addresses?.map((a: any) => a.ip), s.notReadyAddresses?.map((a: any) => a.ip), s.ports?.[0]?.port]), [
    [['10.244.0.2'], ['10.244.0.3'], 8080],
    [['10.244.0.4'], undefined, 9090],
  ], 'grouped by resolved port; terminating and portless pods left out');
  const slices = sliceContents(svc(), eps);
  t.same(slices.map((s) => [s.ports[0]!.port, s.endpoints.map((e) => `${e.addresses[0]}:${e.conditions.ready}/${e.conditions.terminating}`)]), [
    [8080, ['10.244.0.2:true/false', '10.244.0.3:false/false', '10.244.0.5:false/true']],
    [9090, ['10.244.0.4:true/false']],
  ], 'slices keep terminating endpoints');
  const pub = podEndpoints(svc(true), pods);
  t.ok(pub.every((e) => e.ready), 'publishNotReadyAddresses: all ready');
  t.same(endpointsSubsets(svc(true), pub)[0]!.addresses.map((a: any) => a.ip), ['10.244.0.2', '10.244.0.3', '10.244.0.5']);
});

t.test('gc verdicts', async (t) => {
  const o = (refs: string[], del = false) => ({ metadata: { name: 'x', ownerReferences: refs.map((u) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: u, uid: u })), ...(del ? { deletionTimestamp: 'x' } : {}) } }) as unknown as KubeObject;
  const rows: [KubeObject, string[], string][] = [
    [o([]), [], 'none'],
    [o(['a']), ['a'], 'none'],
    [o(['a']), [], 'delete'],
    [o(['a', 'b']), ['b'], 'trim'],
    [o(['a'], true), [], 'none'],
  ];
  for (const [obj, present, want] of rows) t.equal(ownerVerdict(obj, (r) => present.includes(r.uid)).action, want, `${JSON.stringify(obj.metadata.ownerReferences?.map((r) => r.uid))} present ${present}`);
  t.same((ownerVerdict(o(['a', 'b']), (r) => r.uid === 'b') as any).keep.map((r: any) => r.uid), ['b']);
});

t.test('daemon placement', async (t) => {
  const ds = { metadata: { name: 'd', uid: 'ds' }, spec: { template: { spec: { nodeSelector: { role: 'edge' } } } } } as unknown as KubeObject;
  const node = (name: string, labels: Record<string, string>, taints: any[] = []) => ({ metadata: { name, labels }, spec: { taints } }) as unknown as KubeObject;
  const nodes = [node('n1', { role: 'edge' }), node('n2', { role: 'core' }), node('n3', { role: 'edge' }, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]), node('n4', { role: 'edge' }, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }])];
  t.same(nodes.map((n) => shouldRunOn(ds, n)), [true, false, false, true], 'selector, untolerated taint, tolerated not-ready');
  const existing = [pod('on-n2', { node: 'n2', ready: true, labels: { 'controller-revision-hash': 'h' } })];
  const plan = daemonPlan(ds, nodes, existing, 'h', 0);
  t.same([plan.create, plan.delete.map((p) => p.metadata.name)], [['n1', 'n4'], ['on-n2']]);
  const stale = [pod('p1', { node: 'n1', ready: true, labels: { 'controller-revision-hash': 'old' } }), pod('p4', { node: 'n4', ready: true, labels: { 'controller-revision-hash': 'old' } })];
  t.equal(daemonPlan(ds, nodes, stale, 'new', 0).delete.length, 1, 'rolling update: one at a time (maxUnavailable 1)');
});

t.test('controller manager flags: every problem reported', async (t) => {
  const ok = parseManagerFlags(['--kubeconfig', '/k', '--leader-elect=false', '--health-port', '0'], { SHOAL_HOME: '/h' });
  t.match(ok.config, { kubeconfig: '/k', leaderElect: false, healthPort: 0, serviceClusterIpRange: '10.96.0.0/12', clusterCidr: '10.244.0.0/16', leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000, serviceAccountKeyFile: '/h/pki/sa.key' });
  const bad = parseManagerFlags(['--service-cluster-ip-range', '10.96.0.1/12', '--health-port', 'x', '--bogus', '1', '--api-server-url', 'http://x', '--controllers', 'deployment,nope']);
  t.equal(bad.config, undefined);
  t.equal(bad.problems.length, 6, bad.problems.join('\n'));
  for (const re of [/unknown flag: --bogus/, /--service-cluster-ip-range: .*host bits set/, /--api-server-url/, /--health-port/, /unknown controller "nope"/])
    t.match(bad.problems.join('\n'), re);
  const some = parseManagerFlags(['--controllers', '*,-garbagecollector']);
  t.notOk(some.config!.controllers.includes('garbagecollector'));
  t.ok(some.config!.controllers.includes('deployment'));
});

t.test('event recorder aggregates repeats', async (t) => {
  const created: KubeObject[] = [];
  const patches: any[] = [];
  const rec = new EventRecorder({
    create: async (e) => { created.push(e); return e; },
    patch: async (_ns, name, p) => { patches.push({ name, ...p }); return {} as KubeObject; },
  }, 'test-controller', () => new Date('2024-01-01T00:00:00Z'));
  const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' } } as KubeObject;
  rec.event(obj, 'Warning', 'FailedScheduling', 'no');
  rec.event(obj, 'Warning', 'FailedScheduling', 'no');
  rec.event(obj, 'Normal', 'Scheduled', 'yes');
  await rec.flush();
  t.equal(created.length, 2);
  t.match(created[0], { metadata: { namespace: 'ns' }, involvedObject: { kind: 'Pod', name: 'p', uid: 'u' }, reason: 'FailedScheduling', type: 'Warning', count: 1, source: { component: 'test-controller' } });
  t.same(patches.map((p) => p.count), [2]);
  t.equal(patches[0].name, created[0]!.metadata.name);
});
