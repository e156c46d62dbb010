// Scheduler filters and scores, table-driven, plus the Service allocator's bitmaps (pure, no sockets).

import t from 'tap';
import { nodeFits, failureMessage, podRequests, type NodeInfo } from '../../control-plane/scheduler/filters.js';
import { pickNode, normalize } from '../../control-plane/scheduler/scores.js';
import { snapshot, needsScheduling } from '../../control-plane/scheduler/scheduler.js';
import { RangeAllocator, parseCidr, serviceIpRange, firstServiceIp } from '../../control-plane/allocators/range.js';
import { serviceAllocatorPlugin } from '../../control-plane/allocators/plugin.js';
import type { KubeObject } from '../../api/meta.js';

const node = (name: string, o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: o.labels ?? {} },
  spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
  status: { allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' } },
});
const pod = (o: { cpu?: string; memory?: string; nodeSelector?: Record<string, string>; tolerations?: any[]; affinity?: any; owner?: string; nodeName?: string } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }] } : {}) },
  spec: { ...(o.nodeName ? { nodeName: o.nodeName } : {}), nodeSelector: o.nodeSelector, tolerations: o.tolerations, affinity: o.affinity, containers: [{ name: 'c', image: 'x', resources: { requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) } } }] },
});
const info = (n: KubeObject, used: { milliCpu?: number; memory?: number; pods?: number } = {}, pods: KubeObject[] = []): NodeInfo => ({ node: n, requested: { milliCpu: used.milliCpu ?? 0, memory: used.memory ?? 0, pods: used.pods ?? 0 }, pods });

t.test('filters', async (t) => {
  const rows: { name: string; pod: KubeObject; node: NodeInfo; want: string[] }[] = [
    { name: 'fits', pod: pod({ cpu: '500m' }), node: info(node('n')), want: [] },
    { name: 'cpu', pod: pod({ cpu: '1500m' }), node: info(node('n'), { milliCpu: 1000 }), want: ['Insufficient cpu'] },
    { name: 'cpu and memory', pod: pod({ cpu: '3', memory: '5Gi' }), node: info(node('n')), want: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'pods', pod: pod(), node: info(node('n', { pods: '1' }), { pods: 1 }), want: ['Too many pods'] },
    { name: 'selector', pod: pod({ nodeSelector: { disk: 'ssd' } }), node: info(node('n')), want: ["node(s) didn't match Pod's node affinity/selector"] },
    { name: 'selector ok', pod: pod({ nodeSelector: { disk: 'ssd' } }), node: info(node('n', { labels: { disk: 'ssd' } })), want: [] },
    { name: 'required affinity', pod: pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } } }), node: info(node('n', { labels: { zone: 'c' } })), want: ["node(s) didn't match Pod's node affinity/selector"] },
    { name: 'matchFields', pod: pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] } } } }), node: info(node('n')), want: [] },
    { name: 'taint', pod: pod(), node: info(node('n', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] })), want: ['node(s) had untolerated taint {gpu: yes}'] },
    { name: 'tolerated', pod: pod({ tolerations: [{ key: 'gpu', operator: 'Exists' }] }), node: info(node('n', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] })), want: [] },
    { name: 'PreferNoSchedule is no filter', pod: pod(), node: info(node('n', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })), want: [] },
    { name: 'unschedulable', pod: pod(), node: info(node('n', { unschedulable: true })), want: ['node(s) were unschedulable'] },
  ];
  for (const r of rows) t.same(nodeFits(r.pod, r.node), r.want, r.name);
  t.same(podRequests(pod({ cpu: '250m', memory: '64Mi' })), { milliCpu: 250, memory: 64 * 2 ** 20, pods: 1 });
  t.equal(failureMessage(3, [['Insufficient cpu'], ["node(s) didn't match Pod's node affinity/selector"], ["node(s) didn't match Pod's node affinity/selector"]]),
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
  t.equal(failureMessage(1, [['Insufficient cpu']]), '0/1 nodes are available: 1 Insufficient cpu.');
});

t.test('scores: least allocated, spreading, preferences', async (t) => {
  const busy = info(node('busy'), { milliCpu: 1500, memory: 3 * 2 ** 30, pods: 3 });
  const idle = info(node('idle'));
  t.equal(pickNode(pod({ cpu: '100m' }), [busy, idle]).node, 'idle', 'least allocated');
  const sib = (n: string) => ({ ...pod({ owner: 'rs1', nodeName: n }), metadata: { name: `s-${n}`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs1', controller: true }] } }) as KubeObject;
  const a = info(node('a'), {}, [sib('a'), sib('a')]);
  const b = info(node('b'), {}, []);
  t.equal(pickNode(pod({ owner: 'rs1' }), [a, b]).node, 'b', 'spread siblings');
  const pref = pod({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] } }] } } });
  t.equal(pickNode(pref, [info(node('z1', { labels: { zone: 'z1' } })), info(node('z2', { labels: { zone: 'z2' } }))]).node, 'z2', 'preferred affinity');
  t.equal(pickNode(pod(), [info(node('t', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })), info(node('u'))]).node, 'u', 'PreferNoSchedule avoided');
  const none = pickNode(pod({ cpu: '8' }), [idle]);
  t.equal(none.node, undefined);
  t.equal((none as any).message, '0/1 nodes are available: 1 Insufficient cpu.');
  t.same(normalize([0, 5, 10]), [0, 50, 100]);
  const picks = new Set([0, 0.99].map((r) => pickNode(pod(), [info(node('x')), info(node('y'))], { random: () => r }).node));
  t.same([...picks].sort(), ['x', 'y'], 'ties broken by the random seam');
});

t.test('snapshot counts bound and assumed pods', async (t) => {
  const bound = { ...pod({ cpu: '1', nodeName: 'n' }), metadata: { name: 'b', namespace: 'default' } } as KubeObject;
  const assumedPod = { ...pod({ cpu: '500m' }), metadata: { name: 'a', namespace: 'default' } } as KubeObject;
  const infos = snapshot([node('n')], [bound], new Map([['default/a', { pod: assumedPod, node: 'n' }]]));
  t.same(infos[0]!.requested, { milliCpu: 1500, memory: 0, pods: 2 });
  t.ok(needsScheduling(pod()));
  t.notOk(needsScheduling(pod({ nodeName: 'n' })));
  t.notOk(needsScheduling({ ...pod(), spec: { ...pod().spec, schedulerName: 'other' } }));
});

t.test('range allocator', async (t) => {
  const c = parseCidr('10.96.0.0/12');
  const r = serviceIpRange(c);
  t.same([r.base, r.size], [c.network + 1, 2 ** 20 - 2]);
  t.equal(firstServiceIp('10.96.0.0/12'), '10.96.0.1');
  t.throws(() => parseCidr('10.96.0.1/12'), /host bits set/);
  t.throws(() => parseCidr('nope'), /IPv4 CIDR/);
  const a = new RangeAllocator(100, 64, () => 0);
  t.equal(a.staticBand, 16);
  t.equal(a.allocateNext(), 116, 'dynamic allocation starts above the static band');
  for (let i = 0; i < 47; i++) a.allocateNext();
  t.equal(a.allocateNext(), 100, 'static band used once the upper part is full');
  t.ok(a.has(100));
  a.release(100);
  t.notOk(a.has(100));
  t.notOk(a.allocate(99), 'out of range');
});

t.test('allocator plugin: pending allocations expire when the write failed', async (t) => {
  let now = 0;
  const stored: KubeObject[] = [];
  const p = serviceAllocatorPlugin({ serviceCidr: '10.96.0.0/28', nodePortRange: '30000-30002', list: async () => stored, now: () => now, resyncMs: 0, pendingTtlMs: 1000 });
  const req = (svc: any) => ({ operation: 'CREATE' as const, resource: {} as any, subresource: '', namespace: 'default', name: svc.metadata.name, object: svc, oldObject: undefined, dryRun: false, userInfo: { username: 'u', uid: '', groups: [] } });
  const s1 = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
  t.same(await p.mutate!(req(s1)), { allowed: true });
  t.match(s1.spec, { clusterIP: /^10\.96\.0\.\d+$/, ports: [{ nodePort: Number }] });
  t.not((s1.spec as any).clusterIP, '10.96.0.1', 'first IP reserved');
  const s2 = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'default' }, spec: { clusterIP: (s1.spec as any).clusterIP, ports: [{ port: 80 }] } };
  const r2 = await p.mutate!(req(s2));
  t.match(r2, { allowed: false, code: 422, causes: [{ field: 'spec.clusterIP', detail: 'provided IP is already allocated' }] });
  now = 2000; // s1's write never happened: its pending allocation expires
  t.same(await p.mutate!(req({ ...s2, spec: { ...s2.spec } })), { allowed: true }, 'freed after the pending TTL');
  const out = await p.mutate!(req({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c', namespace: 'default' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] } }));
  t.match(out, { allowed: false, causes: [{ field: 'spec.clusterIP', detail: /not in the valid range. The range of valid IPs is 10.96.0.0\/28/ }] });
});
