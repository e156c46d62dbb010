// Integration: the scheduler process logic (startScheduler, leader election off) against a real API
// server: binding through pods/binding to the node that fits, FailedScheduling with kube's message for a
// pod that fits nowhere, and scheduling once a node that fits appears. Then leader election: two
// controller managers, only the leader acts; when it stops, the other takes over.

import t from 'tap';
import { startCluster } from '../client/fixture.js';
import { waitFor } from '../controllers/fixture.js';
import { startScheduler, parseSchedulerFlags } from '../../control-plane/scheduler/run.js';
import { startControllerManager } from '../../control-plane/controllers/manager.js';
import { parseManagerFlags } from '../../control-plane/controllers/flags.js';

const c = await startCluster('shoalt-scheduler-');
t.teardown(() => c.close());
const api = c.client();
const nodeRef = { apiVersion: 'v1', plural: 'nodes', namespaced: false };
const podRef = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const evRef = { apiVersion: 'v1', plural: 'events', namespaced: true };

t.test('scheduler flags', async (t) => {
  t.match(parseSchedulerFlags([]).config, { leaderElect: true, healthPort: 10259, schedulerName: 'default-scheduler' });
  const bad = parseSchedulerFlags(['--health-port', '-1', '--leader-elect', 'maybe', '--x']);
  t.equal(bad.config, undefined);
  t.equal(bad.problems.length, 3, bad.problems.join('\n'));
});

t.test('filters, binding and FailedScheduling', async (t) => {
  const { config } = parseSchedulerFlags(['--leader-elect=false', '--health-port', '0']);
  const s = await startScheduler(config!, { client: c.client() });
  t.teardown(() => s.stop());
  await s.leading;
  const health = await fetch(`${s.healthUrl}/healthz`);
  t.equal(health.status, 200);
  await api.create(nodeRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'small', labels: { disk: 'hdd' } }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
  await api.create(nodeRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'tainted', labels: { disk: 'ssd' } }, spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }, status: { allocatable: { cpu: '8', memory: '8Gi', pods: '10' } } });
  const pod = (name: string, cpu: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }], ...extra } });
  await api.create(podRef, pod('fits', '500m'));
  const bound = await waitFor('fits bound', async () => {
    const p = await api.get(podRef, 'fits', { namespace: 'default' });
    return p.spec.nodeName ? p : undefined;
  });
  t.equal(bound.spec.nodeName, 'small', 'the untainted node');
  t.match(bound.status.conditions, [{ type: 'PodScheduled', status: 'True' }]);
  await api.create(podRef, pod('big', '2'));
  const ev = await waitFor('FailedScheduling event', async () => (await api.list(evRef, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'big'));
  t.equal(ev.type, 'Warning');
  t.equal(ev.message, '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: db}.');
  const pending = await waitFor('PodScheduled=False', async () => {
    const p = await api.get(podRef, 'big', { namespace: 'default' });
    return p.status.conditions?.some((x: any) => x.type === 'PodScheduled' && x.status === 'False') ? p : undefined;
  });
  t.equal(pending.status.phase, 'Pending');
  t.notOk(pending.spec.nodeName);
  // a pod that tolerates the taint and selects ssd goes to the tainted node
  await api.create(podRef, pod('db', '2', { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }));
  await waitFor('db on tainted', async () => (await api.get(podRef, 'db', { namespace: 'default' })).spec.nodeName === 'tainted');
  // a node with room appears: the pending pod is retried at once
  await api.create(nodeRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'large' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } });
  await waitFor('big bound to large', async () => (await api.get(podRef, 'big', { namespace: 'default' })).spec.nodeName === 'large');
  t.pass('retried when a node was added');
});

t.test('leader election: one manager acts, the other takes over', async (t) => {
  const flags = ['--leader-elect-lease-duration', '2s', '--leader-elect-renew-deadline', '1500ms', '--leader-elect-retry-period', '200ms', '--health-port', '0', '--controllers', 'replicaset'];
  const { config } = parseManagerFlags(flags, { SHOAL_HOME: c.home });
  const a = await startControllerManager(config!, { client: c.client(), identity: 'manager-a' });
  t.teardown(() => a.stop());
  await a.leading;
  const b = await startControllerManager(config!, { client: c.client(), identity: 'manager-b' });
  t.teardown(() => b.stop());
  await new Promise((r) => setTimeout(r, 600)); // several retry periods
  t.ok(a.isLeader(), 'a leads');
  t.notOk(b.isLeader(), 'b waits');
  const lease = await api.get({ apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true }, 'kube-controller-manager', { namespace: 'kube-system' });
  t.equal(lease.spec.holderIdentity, 'manager-a');
  const metrics = await (await fetch(`${b.healthUrl}/metrics`)).text();
  t.match(metrics, /leader_election_master_status\{name="kube-controller-manager"\} 0/);
  const rsRef = { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true };
  const rs = (name: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  await api.create(rsRef, rs('le1'));
  await waitFor('a made pods', async () => (await api.list(podRef, { namespace: 'default', labelSelector: 'app=le1' })).items.length === 2);
  await a.stop();
  t.notOk(a.isLeader());
  await b.leading;
  t.ok(b.isLeader(), 'b took over');
  await api.create(rsRef, rs('le2'));
  await waitFor('b made pods', async () => (await api.list(podRef, { namespace: 'default', labelSelector: 'app=le2' })).items.length === 2);
  const le1 = (await api.list(podRef, { namespace: 'default', labelSelector: 'app=le1' })).items.length;
  t.equal(le1, 2, 'no duplicate pods after the handover');
});
