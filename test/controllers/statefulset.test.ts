// StatefulSets through a real API server with every controller in-process and the fixture's stand-in
// kubelet (pods Running and Ready unless labelled test/not-ready=true): stable names and identity labels,
// OrderedReady blocking on an unready pod, Parallel, claim templates as emptyDirs, a rolling update with
// a partition, OnDelete, ordered scale-down, ControllerRevisions, and the real kubectl's `rollout status`
// and `rollout history` for a StatefulSet.

import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startControllerCluster, waitFor } from './fixture.js';
import type { KubeObject } from '../../api/meta.js';
import { ordinalOf, planStatefulSet } from '../../control-plane/controllers/statefulset/plan.js';

const sts = { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true };
const podRef = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const revRef = { apiVersion: 'apps/v1', plural: 'controllerrevisions', namespaced: true };

let hasKubectl = true;
try {
  await new Promise<void>((res, rej) => execFile('kubectl', ['version', '--client'], (e) => (e ? rej(e) : res())));
} catch {
  hasKubectl = false;
}

const c = await startControllerCluster('shoalt-sts-');
t.teardown(() => c.close());
const api = c.admin;
const kubectl = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
  execFile('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { timeout: 60_000, env: { ...process.env, HOME: c.home, KUBECACHEDIR: join(c.home, 'kcache') } }, (e, stdout, stderr) => res({ code: e ? ((e as any).code ?? 1) : 0, stdout, stderr })));

function set(name: string, replicas: number, extra: Record<string, any> = {}, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: 'default' },
    spec: {
      replicas, serviceName: name, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'c', image: 'app:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...extra,
    },
  };
}
const podsOf = async (app: string) => (await api.list(podRef, { namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name).sort();
const ready = (p: KubeObject) => (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');

t.test('plan: ordinals and ordered creation (pure)', async (t) => {
  const s = { metadata: { name: 'web', generation: 1 }, spec: { replicas: 3 } } as KubeObject;
  t.equal(ordinalOf(s, { metadata: { name: 'web-12' } } as KubeObject), 12);
  t.equal(ordinalOf(s, { metadata: { name: 'web-01' } } as KubeObject), undefined);
  t.equal(ordinalOf(s, { metadata: { name: 'webx-1' } } as KubeObject), undefined);
  t.same(planStatefulSet(s, [], 'r1', 'r1', 0).create, [{ ordinal: 0, update: true }], 'OrderedReady: one at a time');
  t.same(planStatefulSet({ ...s, spec: { replicas: 3, podManagementPolicy: 'Parallel' } }, [], 'r1', 'r1', 0).create.map((x) => x.ordinal), [0, 1, 2], 'Parallel: all at once');
  t.same(planStatefulSet({ ...s, spec: { replicas: 2, ordinals: { start: 5 } } }, [], 'r1', 'r1', 0).create, [{ ordinal: 5, update: true }], 'ordinals.start');
});

t.test('stable identity, OrderedReady, claims as emptyDir, rollout status', async (t) => {
  await api.create(sts, set('web', 3));
  const ps = await waitFor('web-0..2 ready', async () => {
    const x = await podsOf('web');
    return x.length === 3 && x.every(ready) ? x : undefined;
  });
  t.same(names(ps), ['web-0', 'web-1', 'web-2']);
  const created = [...ps].sort((a, b) => (Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!)) || a.metadata.name!.localeCompare(b.metadata.name!));
  t.same(created.map((p) => p.metadata.name), ['web-0', 'web-1', 'web-2'], 'created in order');
  const w1 = ps.find((p) => p.metadata.name === 'web-1')!;
  t.equal(w1.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
  t.equal(w1.metadata.labels?.['apps.kubernetes.io/pod-index'], '1');
  t.match(w1.metadata.labels?.['controller-revision-hash'], /^web-[a-z0-9]+$/);
  t.equal(w1.spec.hostname, 'web-1');
  t.equal(w1.spec.subdomain, 'web');
  t.same(w1.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', emptyDir: {} }, 'the claim is an emptyDir');
  const s = await waitFor('status', async () => {
    const x = await api.get(sts, 'web', { namespace: 'default' });
    return x.status?.readyReplicas === 3 && x.status.currentRevision ? x : undefined;
  });
  t.match(s.status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1, collisionCount: 0 });
  t.equal(s.status.currentRevision, s.status.updateRevision);
  const revs = (await api.list(revRef, { namespace: 'default' })).items.filter((r) => r.metadata.ownerReferences?.[0]?.name === 'web');
  t.equal(revs.length, 1, 'one ControllerRevision');
  t.equal(revs[0]!.metadata.name, s.status.currentRevision);
  t.equal(revs[0]!.revision, 1);
  if (hasKubectl) {
    const r = await kubectl('rollout', 'status', 'statefulset/web', '--timeout=30s');
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /partitioned roll out complete: 3 new pods have been updated\.\.\./);
    const g = await kubectl('get', 'sts', 'web');
    t.match(g.stdout, /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+\d+s\n$/);
  }
});

t.test('OrderedReady waits for readiness; Parallel does not', async (t) => {
  await api.create(sts, set('slow', 3, {}, { 'test/not-ready': 'true' }));
  await api.create(sts, set('par', 3, { podManagementPolicy: 'Parallel' }, { 'test/not-ready': 'true' }));
  await waitFor('par: three pods', async () => (await podsOf('par')).length === 3);
  await new Promise((r) => setTimeout(r, 1500));
  t.same(names(await podsOf('slow')), ['slow-0'], 'OrderedReady: slow-1 waits for slow-0 to be Ready');
  t.same(names(await podsOf('par')), ['par-0', 'par-1', 'par-2'], 'Parallel: all three though none is ready');
});

t.test('rolling update with a partition, then all', async (t) => {
  const before = (await api.get(sts, 'web', { namespace: 'default' })).status.currentRevision;
  await api.patch(sts, 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'app:2' }] } } } }, { namespace: 'default', type: 'strategic' });
  const image = (ps: KubeObject[], n: string) => ps.find((p) => p.metadata.name === n)?.spec.containers[0].image;
  await waitFor('web-2 and web-1 at app:2, web-0 kept', async () => {
    const ps = await podsOf('web');
    return ps.length === 3 && ps.every(ready) && image(ps, 'web-2') === 'app:2' && image(ps, 'web-1') === 'app:2' && image(ps, 'web-0') === 'app:1';
  }, 30_000);
  const mid = await waitFor('status', async () => {
    const x = await api.get(sts, 'web', { namespace: 'default' });
    return x.status?.updatedReplicas === 2 ? x : undefined;
  });
  t.equal(mid.status.currentRevision, before, 'the current revision stays while a partition holds');
  t.not(mid.status.updateRevision, before);
  if (hasKubectl) {
    const r = await kubectl('rollout', 'status', 'statefulset/web', '--timeout=20s');
    t.match(r.stdout, /partitioned roll out complete: 2 new pods have been updated/);
  }
  // a pod below the partition that is deleted comes back at the current (old) revision
  await api.delete(podRef, 'web-0', { namespace: 'default', gracePeriodSeconds: 0 });
  await waitFor('web-0 back at app:1', async () => {
    const p = await api.get(podRef, 'web-0', { namespace: 'default' }).catch(() => undefined);
    return p && !p.metadata.deletionTimestamp && ready(p) && p.spec.containers[0].image === 'app:1';
  });
  t.pass('web-0 recreated at the current revision');
  await api.patch(sts, 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, { namespace: 'default', type: 'strategic' });
  const done = await waitFor('all at app:2 and current', async () => {
    const x = await api.get(sts, 'web', { namespace: 'default' });
    const ps = await podsOf('web');
    return ps.every((p) => p.spec.containers[0].image === 'app:2') && x.status?.currentRevision === x.status?.updateRevision && x.status.updatedReplicas === 3 ? x : undefined;
  }, 30_000);
  t.equal(done.status.currentReplicas, 3);
  if (hasKubectl) {
    const h = await kubectl('rollout', 'history', 'statefulset/web');
    t.equal(h.code, 0, h.stderr);
    t.match(h.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  }
});

t.test('kubectl rollout undo statefulset', { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
  const u = await kubectl('rollout', 'undo', 'statefulset/web', '--to-revision=1');
  t.equal(u.code, 0, u.stderr);
  t.match(u.stdout, /statefulset.apps\/web rolled back/);
  await waitFor('all back at app:1', async () => {
    const x = await api.get(sts, 'web', { namespace: 'default' });
    const ps = await podsOf('web');
    return ps.length === 3 && ps.every((p) => ready(p) && p.spec.containers[0].image === 'app:1') && x.status?.currentRevision === x.status?.updateRevision;
  }, 30_000);
  const revs = (await api.list(revRef, { namespace: 'default' })).items.filter((r) => r.metadata.ownerReferences?.[0]?.name === 'web');
  t.same(revs.map((r) => r.revision).sort(), [2, 3], 'the old template came back as revision 3');
});

t.test('scale down removes the highest ordinal first', async (t) => {
  const seen: string[] = [];
  await api.scale(sts, 'web', 1, { namespace: 'default' });
  await waitFor('one pod left', async () => {
    const ps = names(await podsOf('web'));
    for (const n of ['web-2', 'web-1']) if (!ps.includes(n) && !seen.includes(n)) seen.push(n);
    return ps.length === 1 ? ps : undefined;
  }, 30_000);
  t.same(seen, ['web-2', 'web-1'], 'web-2 went before web-1');
  t.same(names(await podsOf('web')), ['web-0']);
});

t.test('OnDelete: pods change only when deleted', async (t) => {
  await api.create(sts, set('od', 2, { updateStrategy: { type: 'OnDelete' } }));
  await waitFor('od ready', async () => (await podsOf('od')).filter(ready).length === 2);
  await api.patch(sts, 'od', { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:9' }] } } } }, { namespace: 'default', type: 'strategic' });
  await new Promise((r) => setTimeout(r, 1500));
  t.ok((await podsOf('od')).every((p) => p.spec.containers[0].image === 'app:1'), 'nothing replaced on its own');
  await api.delete(podRef, 'od-1', { namespace: 'default', gracePeriodSeconds: 0 });
  await waitFor('od-1 at app:9', async () => {
    const p = await api.get(podRef, 'od-1', { namespace: 'default' }).catch(() => undefined);
    return p && p.spec.containers[0].image === 'app:9';
  });
  t.equal((await api.get(podRef, 'od-0', { namespace: 'default' })).spec.containers[0].image, 'app:1');
});
