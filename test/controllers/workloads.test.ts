// Integration: a real API server with the allocator, every controller in-process and a fake kubelet.
// Deployments scaled, rolled (RollingUpdate and Recreate), undone with our rollout functions and with
// the real kubectl; a DaemonSet on two Nodes; Endpoints/EndpointSlices following readiness and named
// ports; Service IP/NodePort allocation and conflicts; the kubernetes Service; namespace deletion; GC in
// the three propagation modes; default ServiceAccount tokens.

import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startControllerCluster, waitFor } from './fixture.js';
import { KubeApiError } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { rolloutHistory, rolloutUndo, rolloutStatus, rolloutPause, rolloutResume, rolloutRestart, formatHistory } from '../../control-plane/controllers/deployment/rollout.js';
import { verifyServiceAccountToken } from '../../control-plane/controllers/serviceaccount/token.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const run = promisify(execFile);
const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
const rsRef = { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true };
const podRef = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const svcRef = { apiVersion: 'v1', plural: 'services', namespaced: true };
const cmRef = { apiVersion: 'v1', plural: 'configmaps', namespaced: true };
const evRef = { apiVersion: 'v1', plural: 'events', namespaced: true };

const c = await startControllerCluster('shoalt-controllers-');
t.teardown(() => c.close());
const api = c.admin;

function deployment(name: string, image: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image, ports: [{ name: 'web', containerPort: 8080 }] }] } }, ...extra },
  };
}
const podsOf = async (app: string) => (await api.list(podRef, { namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
const done = async (name: string) => (await rolloutStatus(api, 'default', name, { watch: false })).includes('successfully rolled out');

t.test('deployment: create, scale, rolling update, history, undo', async (t) => {
  await api.create(deploy, deployment('web', 'web:1', 3));
  await waitFor('3 ready pods', async () => (await podsOf('web')).length === 3 && (await done('web')));
  const d1 = await api.get(deploy, 'web', { namespace: 'default' });
  t.match(d1.status, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.match(d1.status.conditions.find((x: any) => x.type === 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' });
  t.match(d1.status.conditions.find((x: any) => x.type === 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' });
  t.equal(d1.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  await api.scale(deploy, 'web', 5, { namespace: 'default' });
  await waitFor('5 pods', async () => (await podsOf('web')).length === 5 && (await done('web')));
  // roll to web:2, watching that availability never drops below replicas - maxUnavailable (5 - 1)
  await api.patch(deploy, 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'web:2' }] } } } }, { namespace: 'default', type: 'strategic' });
  let minReady = Infinity;
  let maxPods = 0;
  await waitFor('rollout to web:2', async () => {
    const pods = await podsOf('web');
    minReady = Math.min(minReady, pods.filter((p) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')).length);
    maxPods = Math.max(maxPods, pods.length);
    return pods.length === 5 && pods.every((p) => p.spec.containers[0].image === 'web:2') && (await done('web'));
  }, 30_000);
  t.ok(minReady >= 4, `ready pods never below 4 (saw ${minReady})`);
  t.ok(maxPods <= 7, `pods never above 5 + maxSurge 2 (saw ${maxPods})`);
  const hist = await rolloutHistory(api, 'default', 'web');
  t.same(hist.map((h) => h.revision), [1, 2]);
  t.match(formatHistory('web', hist), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  const events = (await api.list(evRef, { namespace: 'default' })).items.filter((e) => e.reason === 'ScalingReplicaSet');
  t.ok(events.some((e) => /^Scaled up replica set web-\w+ from 0 to \d$/.test(e.message)), 'ScalingReplicaSet events');
  t.ok((await api.list(evRef, { namespace: 'default' })).items.some((e) => e.reason === 'SuccessfulCreate' && /^Created pod: web-/.test(e.message)), 'SuccessfulCreate events');
  t.equal(await rolloutUndo(api, 'default', 'web'), 'deployment.apps/web rolled back');
  await waitFor('undo to web:1', async () => (await podsOf('web')).every((p) => p.spec.containers[0].image === 'web:1') && (await podsOf('web')).length === 5 && (await done('web')), 30_000);
  const after = await rolloutHistory(api, 'default', 'web');
  t.same(after.map((h) => h.revision), [2, 3], 'revision 1 came back as 3');
  const rs3 = (await api.list(rsRef, { namespace: 'default' })).items.find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3');
  t.equal(rs3?.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  await t.rejects(rolloutUndo(api, 'default', 'web', 9), /unable to find specified revision 9 in history/);
  t.equal(await rolloutPause(api, 'default', 'web'), 'deployment.apps/web paused');
  await t.rejects(rolloutPause(api, 'default', 'web'), /already paused/);
  await t.rejects(rolloutUndo(api, 'default', 'web'), /cannot rollback a paused deployment/);
  await waitFor('paused condition', async () => (await api.get(deploy, 'web', { namespace: 'default' })).status?.conditions?.some((x: any) => x.reason === 'DeploymentPaused'));
  t.equal(await rolloutResume(api, 'default', 'web'), 'deployment.apps/web resumed');
  t.equal(await rolloutRestart(api, 'default', 'web'), 'deployment.apps/web restarted');
  const lines: string[] = [];
  const final = await rolloutStatus(api, 'default', 'web', { timeoutMs: 30_000, onMessage: (l) => lines.push(l) });
  t.equal(final, 'deployment "web" successfully rolled out');
  t.same((await rolloutHistory(api, 'default', 'web')).map((h) => h.revision), [2, 3, 4], 'restart made revision 4');
});

t.test('deployment: Recreate stops old pods before new ones start', async (t) => {
  await api.create(deploy, deployment('rec', 'rec:1', 2, { strategy: { type: 'Recreate' } }));
  await waitFor('2 pods', async () => (await podsOf('rec')).length === 2 && (await done('rec')));
  await api.patch(deploy, 'rec', { spec: { template: { spec: { containers: [{ name: 'c', image: 'rec:2' }] } } } }, { namespace: 'default', type: 'strategic' });
  let mixed = false;
  await waitFor('recreated', async () => {
    const imgs = new Set((await api.list(podRef, { namespace: 'default', labelSelector: 'app=rec' })).items.map((p) => p.spec.containers[0].image));
    if (imgs.size > 1) mixed = true;
    return imgs.size === 1 && imgs.has('rec:2') && (await podsOf('rec')).length === 2 && (await done('rec'));
  }, 30_000);
  t.notOk(mixed, 'never old and new pods at once');
});

t.test('kubectl rollout against the controllers', { skip: hasKubectl() ? false : 'kubectl not installed' }, async (t) => {
  const k = (...args: string[]) => run('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { timeout: 60_000 });
  await api.create(deploy, deployment('kc', 'kc:1', 2));
  const st = await k('rollout', 'status', 'deployment/kc', '--timeout=30s');
  t.match(st.stdout, /deployment "kc" successfully rolled out/);
  await k('set', 'image', 'deployment/kc', 'c=kc:2');
  t.match((await k('rollout', 'status', 'deployment/kc', '--timeout=30s')).stdout, /successfully rolled out/);
  const h = await k('rollout', 'history', 'deployment/kc');
  t.match(h.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  t.match((await k('rollout', 'undo', 'deployment/kc')).stdout, /deployment.apps\/kc rolled back/);
  t.match((await k('rollout', 'status', 'deployment/kc', '--timeout=30s')).stdout, /successfully rolled out/);
  t.ok((await podsOf('kc')).every((p) => p.spec.containers[0].image === 'kc:1'), 'kubectl undo went back to kc:1');
  t.match((await k('rollout', 'restart', 'deployment/kc')).stdout, /deployment.apps\/kc restarted/);
  t.match((await k('rollout', 'status', 'deployment/kc', '--timeout=30s')).stdout, /successfully rolled out/);
  t.match((await k('rollout', 'history', 'deployment/kc')).stdout, /\n4\s+<none>/);
});

t.test('daemonset on two nodes', async (t) => {
  const nodeRef = { apiVersion: 'v1', plural: 'nodes', namespaced: false };
  for (const n of ['node-a', 'node-b']) await api.create(nodeRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'kubernetes.io/hostname': n } }, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' } } });
  const dsRef = { apiVersion: 'apps/v1', plural: 'daemonsets', namespaced: true };
  await api.create(dsRef, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } } } });
  await waitFor('a pod per node', async () => {
    const pods = await podsOf('agent');
    return pods.length === 2 && new Set(pods.map((p) => p.spec.nodeName)).size === 2;
  });
  await waitFor('status', async () => (await api.get(dsRef, 'agent', { namespace: 'default' })).status?.numberReady === 2);
  t.match((await api.get(dsRef, 'agent', { namespace: 'default' })).status, { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 });
  await api.create(nodeRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-c' }, spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
  await api.delete(nodeRef, 'node-b');
  await waitFor('pod on node-b gone, none on tainted node-c', async () => {
    const pods = await podsOf('agent');
    return pods.length === 1 && pods[0]!.spec.nodeName === 'node-a';
  });
  t.pass('daemon pods follow nodes');
});

t.test('endpoints and slices follow readiness and named ports', async (t) => {
  const pod = (name: string, port: number) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'ep' } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: port }] }] } });
  await api.create(podRef, pod('ep-a', 8080));
  await api.create(podRef, pod('ep-b', 9090));
  await api.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ep', namespace: 'default' }, spec: { selector: { app: 'ep' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  const epRef = { apiVersion: 'v1', plural: 'endpoints', namespaced: true };
  const slRef = { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true };
  const ep = await waitFor('endpoints', async () => {
    const e = await api.get(epRef, 'ep', { namespace: 'default' });
    return (e.subsets ?? []).flatMap((s: any) => s.addresses ?? []).length === 2 ? e : undefined;
  });
  t.same(ep.subsets.map((s: any) => s.ports[0].port).sort(), [8080, 9090], 'named port resolved per pod');
  // make ep-a not ready: the fake kubelet reports Ready=False for pods labelled test/not-ready=true
  await api.patch(podRef, 'ep-a', { metadata: { labels: { 'test/not-ready': 'true' } } }, { namespace: 'default', type: 'merge' });
  const slice = await waitFor('slice with ep-a not ready', async () => {
    const sl = (await api.list(slRef, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=ep' })).items;
    const all = sl.flatMap((s) => s.endpoints ?? []);
    const ea = all.find((e: any) => e.targetRef?.name === 'ep-a');
    return all.length === 2 && ea?.conditions?.ready === false ? sl : undefined;
  });
  t.equal(slice.length, 2, 'one slice per port set');
  t.ok(slice.every((s) => s.metadata.ownerReferences?.[0]?.kind === 'Service' && s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io'));
  const e2 = await api.get(epRef, 'ep', { namespace: 'default' });
  t.same(e2.subsets.flatMap((s: any) => (s.notReadyAddresses ?? []).map((x: any) => x.targetRef.name)), ['ep-a']);
  await api.patch(svcRef, 'ep', { spec: { publishNotReadyAddresses: true } }, { namespace: 'default', type: 'merge' });
  await waitFor('publishNotReadyAddresses', async () => (await api.get(epRef, 'ep', { namespace: 'default' })).subsets.flatMap((s: any) => s.addresses ?? []).length === 2);
  await api.delete(svcRef, 'ep', { namespace: 'default' });
  await waitFor('endpoints and slices removed', async () => {
    const gone = await api.get(epRef, 'ep', { namespace: 'default' }).then(() => false, () => true);
    return gone && (await api.list(slRef, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=ep' })).items.length === 0;
  });
  t.pass('removed with the Service');
});

t.test('service IP and NodePort allocation', async (t) => {
  const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }], ...spec } });
  const a = await api.create(svcRef, svc('alloc-a', {}));
  t.match(a.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/, 'IP at once from 10.96.0.0/12');
  t.same(a.spec.clusterIPs, [a.spec.clusterIP]);
  const dns = await api.create(svcRef, svc('dns', { clusterIP: '10.96.0.10' }));
  t.equal(dns.spec.clusterIP, '10.96.0.10');
  const err = await api.create(svcRef, svc('dns2', { clusterIP: '10.96.0.10' })).catch((e) => e);
  t.ok(err instanceof KubeApiError);
  t.equal(err.status.code, 422);
  t.match(err.message, /spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated/);
  const out = await api.create(svcRef, svc('far', { clusterIP: '192.168.0.1' })).catch((e) => e);
  t.match(out.message, /The range of valid IPs is 10.96.0.0\/12/);
  const np = await api.create(svcRef, svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }, { name: 'b', port: 81 }].map((p, i) => (i === 0 ? { ...p, name: 'a' } : p)) }));
  t.equal(np.spec.ports[0].nodePort, 30080);
  t.ok(np.spec.ports[1].nodePort >= 30000 && np.spec.ports[1].nodePort <= 32767, 'dynamic node port');
  const npErr = await api.create(svcRef, svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).catch((e) => e);
  t.match(npErr.message, /spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated/);
  await api.delete(svcRef, 'dns', { namespace: 'default' });
  const again = await api.create(svcRef, svc('dns3', { clusterIP: '10.96.0.10' }));
  t.equal(again.spec.clusterIP, '10.96.0.10', 'freed on delete');
  const kube = await waitFor('kubernetes service', () => api.get(svcRef, 'kubernetes', { namespace: 'default' }).catch(() => undefined));
  t.equal(kube.spec.clusterIP, '10.96.0.1');
  const kep = await waitFor('kubernetes endpoints', () => api.get({ apiVersion: 'v1', plural: 'endpoints', namespaced: true }, 'kubernetes', { namespace: 'default' }).catch(() => undefined));
  t.same(kep.subsets[0].addresses[0].ip, '127.0.0.1');
  t.equal(kep.subsets[0].ports[0].port, Number(new URL(c.url).port));
});

t.test('garbage collection: background, foreground, orphan', async (t) => {
  const owner = await api.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: 'default' } });
  const dep = (name: string, o: KubeObject, block = false) => api.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, ...(block ? { blockOwnerDeletion: true } : {}) }] } });
  await dep('child-bg', owner);
  await api.delete(cmRef, 'owner', { namespace: 'default' });
  await waitFor('background: dependent deleted', () => api.get(cmRef, 'child-bg', { namespace: 'default' }).then(() => false, () => true));
  const fg = await api.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fg', namespace: 'default' } });
  await dep('fg-child', fg, true);
  await api.delete(cmRef, 'fg', { namespace: 'default', propagationPolicy: 'Foreground' });
  await waitFor('foreground: owner and dependent gone', async () => {
    const ownerGone = await api.get(cmRef, 'fg', { namespace: 'default' }).then(() => false, () => true);
    const childGone = await api.get(cmRef, 'fg-child', { namespace: 'default' }).then(() => false, () => true);
    if (ownerGone) t.ok(childGone, 'the owner outlived its blocking dependent');
    return ownerGone;
  });
  const or = await api.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'or', namespace: 'default' } });
  await dep('or-child', or);
  await api.delete(cmRef, 'or', { namespace: 'default', propagationPolicy: 'Orphan' });
  await waitFor('orphan: owner gone', () => api.get(cmRef, 'or', { namespace: 'default' }).then(() => false, () => true));
  const child = await api.get(cmRef, 'or-child', { namespace: 'default' });
  t.same(child.metadata.ownerReferences ?? [], [], 'dependent kept without the reference');
  // a Deployment deleted in the foreground takes its ReplicaSets and pods with it
  await api.create(deploy, deployment('gcd', 'g:1', 2));
  await waitFor('gcd pods', async () => (await podsOf('gcd')).length === 2);
  await api.delete(deploy, 'gcd', { namespace: 'default', propagationPolicy: 'Foreground' });
  await waitFor('deployment, replica sets and pods gone', async () => {
    const d = await api.get(deploy, 'gcd', { namespace: 'default' }).then(() => true, () => false);
    const rs = (await api.list(rsRef, { namespace: 'default', labelSelector: 'app=gcd' })).items.length;
    const pods = (await api.list(podRef, { namespace: 'default', labelSelector: 'app=gcd' })).items.length;
    return !d && rs === 0 && pods === 0;
  });
  t.pass('cascade');
});

t.test('namespace deletion and service accounts', async (t) => {
  const nsRef = { apiVersion: 'v1', plural: 'namespaces', namespaced: false };
  await api.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  const saRef = { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true };
  const secRef = { apiVersion: 'v1', plural: 'secrets', namespaced: true };
  await waitFor('default SA', () => api.get(saRef, 'default', { namespace: 'doomed' }).catch(() => undefined));
  const sec = await waitFor('token secret', () => api.get(secRef, 'default-token', { namespace: 'doomed' }).catch(() => undefined));
  t.equal(sec.type, 'kubernetes.io/service-account-token');
  const token = Buffer.from(sec.data.token, 'base64').toString();
  const pub = readFileSync(join(c.home, 'pki', 'sa.pub'), 'utf8');
  t.match(verifyServiceAccountToken(pub, token), { sub: 'system:serviceaccount:doomed:default', iss: 'https://kubernetes.default.svc.cluster.local' });
  t.equal(verifyServiceAccountToken(pub, token.slice(0, -4) + 'AAAA'), undefined, 'tampered token rejected');
  await api.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'doomed' } });
  await api.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'doomed' }, spec: { ports: [{ port: 80 }] } });
  await api.create(deploy, { ...deployment('d', 'd:1', 1), metadata: { name: 'd', namespace: 'doomed' } });
  await waitFor('pod in doomed', async () => (await api.list(podRef, { namespace: 'doomed' })).items.length === 1);
  await api.delete(nsRef, 'doomed');
  await waitFor('namespace gone', () => api.get(nsRef, 'doomed').then(() => false, () => true), 30_000);
  t.pass('namespace and its content deleted');
});

function hasKubectl(): boolean {
  try {
    readFileSync('/usr/bin/kubectl');
    return true;
  } catch {
    return false;
  }
}
