// The canary controller against a real API server (in-process, loopback), with the deployment and
// replicaset controllers, a fake kubelet and fake sidecars: each pod's :15090 answer is a real
// ProxyMetrics registry that the test feeds with requests split by the VirtualService's current weights.
// A healthy canary goes through its steps and is promoted; a failing one is rolled back; a weight changed
// by hand pauses the canary (ManualOverride) until it is put back. No root.
import t from 'tap';
import { startCluster } from '../client/fixture.js';
import { fakeKubelet, waitFor } from '../controllers/fixture.js';
import { InformerFactory } from '../../control-plane/controllers/informers.js';
import { makeContext } from '../../control-plane/controllers/context.js';
import { deploymentController } from '../../control-plane/controllers/deployment/deployment.js';
import { replicaSetController } from '../../control-plane/controllers/replicaset/replicaset.js';
import { canaryController } from '../../control-plane/controllers/canary/canary.js';
import { ProxyMetrics, type RequestLabels } from '../../proxy/admin/metrics.js';
import type { KubeObject } from '../../api/meta.js';

const R = {
  ns: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  deployments: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  dr: { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true },
  vs: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  canaries: { apiVersion: 'shoal.io/v1alpha1', plural: 'canaries', namespaced: true },
  hr: { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true },
};
const NS = 'shop';

const lbl = (dst: string, version: string, reporter: 'source' | 'destination', code: number): RequestLabels => ({
  reporter, source_workload: 'load', source_workload_namespace: NS, source_principal: '', source_app: 'load', source_version: '', source_canonical_service: 'load', source_canonical_revision: 'latest',
  destination_workload: dst, destination_workload_namespace: NS, destination_principal: '', destination_app: 'web', destination_version: version, destination_service: `web.${NS}.svc.cluster.local`,
  destination_canonical_service: 'web', destination_canonical_revision: version, request_protocol: 'http', response_code: String(code), response_flags: '-', grpc_response_status: '', connection_security_policy: 'mutual_tls',
});

t.test('the canary controller: promote, roll back, manual override', { timeout: 120_000 }, async (t) => {
  const c = await startCluster('canaryctl');
  t.teardown(() => c.close());
  const client = c.client();
  const logs: string[] = [];
  const informers = new InformerFactory(client, () => undefined);
  const ctx = makeContext(client, informers, (m) => logs.push(m));
  const registries = new Map<string, ProxyMetrics>(); // by pod name
  const pods = informers.for(R.pods);
  const ctls = [deploymentController(ctx), replicaSetController(ctx), canaryController(ctx, {
    pollMs: 100,
    sources: {
      fetchText: async (url) => {
        const ip = new URL(url).hostname;
        const p = pods.list().find((x: KubeObject) => x.status?.podIP === ip);
        if (!p) throw new Error('no such pod');
        let m = registries.get(p.metadata.name!);
        if (!m) registries.set(p.metadata.name!, (m = new ProxyMetrics()));
        return m.registry.metrics();
      },
    },
  })];
  informers.start();
  await informers.waitForSync();
  for (const x of ctls) x.start();
  const kubelet = fakeKubelet(client);
  t.teardown(async () => {
    for (const x of ctls) x.queue.shutDown();
    await Promise.all(ctls.map((x) => x.stop()));
    await kubelet.stop();
    await informers.stop();
  });

  await client.create(R.ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const tpl = (image: string) => ({ metadata: { labels: { app: 'web', version: 'v1' } }, spec: { containers: [{ name: 'web', image }, { name: 'istio-proxy', image: 'shoal/sidecar' }] } });
  await client.create(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS }, spec: { replicas: 1, selector: { matchLabels: { app: 'web', version: 'v1' } }, template: tpl('shoal/hello:v1') } }, { namespace: NS });
  await client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }, { namespace: NS });
  await client.create(R.vs, { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web', namespace: NS }, spec: { hosts: ['web'], http: [{ name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'admin' } }] }, { name: 'main', route: [{ destination: { host: 'web', subset: 'v1' }, weight: 100 }] }] } }, { namespace: NS });

  // the load: 100 requests every 200 ms, split by the VirtualService's weights; the canary fails `failRate`
  let failRate = 0;
  let running = true;
  const load = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, 200));
      const vs = await client.get(R.vs, 'web', { namespace: NS }).catch(() => undefined);
      const route: any[] = vs?.spec?.http?.[1]?.route ?? [];
      const hr = await client.get(R.hr, 'api', { namespace: NS }).catch(() => undefined);
      const refs: any[] = hr?.spec?.rules?.[0]?.backendRefs ?? [];
      const hrW = (refs.find((b) => b.name === 'api-canary')?.weight ?? 0) * 100 / Math.max(1, refs.reduce((x, b) => x + (b.weight ?? 1), 0));
      const canaryW: Record<string, number> = { web: route.find((d) => d.destination.subset === 'canary')?.weight ?? 0, api: hrW };
      for (const p of pods.list().filter((x: KubeObject) => x.metadata.namespace === NS && x.status?.podIP && !x.metadata.deletionTimestamp)) {
        const isCanary = p.metadata.labels?.version === 'canary';
        const app = p.metadata.labels?.app as string;
        const dst = isCanary ? `${app}-canary` : app;
        const n = Math.round(isCanary ? canaryW[app]! : 100 - canaryW[app]!);
        let m = registries.get(p.metadata.name!);
        if (!m) registries.set(p.metadata.name!, (m = new ProxyMetrics()));
        for (let i = 0; i < n; i++) m.request({ ...lbl(dst, isCanary ? 'canary' : 'v1', 'destination', isCanary && i < n * failRate ? 500 : 200), destination_app: app }, 3);
      }
    }
  })();
  t.teardown(async () => { running = false; await load; });

  const phases: string[] = [];
  const follow = (until: string[]) => waitFor('the canary to finish', async () => {
    const x = await client.get(R.canaries, 'web', { namespace: NS });
    const line = `${x.status?.phase}/${x.status?.canaryWeight}`;
    if (phases[phases.length - 1] !== line) phases.push(line);
    return until.includes(x.status?.phase) ? x : undefined;
  }, 60_000, 50).catch(async (e) => {
    t.comment(`phases: ${phases.join(' → ')}\nstatus: ${JSON.stringify((await client.get(R.canaries, 'web', { namespace: NS })).status)}\nlog: ${logs.slice(-20).join('\n')}`);
    throw e;
  });
  const mk = (image: string) => client.create(R.canaries, { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: NS }, spec: { targetRef: { name: 'web' }, image, steps: [20, 50, 100], interval: '1s', minRequests: 5 } }, { namespace: NS });

  // --- healthy: promoted
  await mk('shoal/hello:v2');
  let cn = await follow(['Succeeded', 'Failed']);
  t.comment(phases.join(' → '));
  t.equal(cn.status.phase, 'Succeeded', cn.status.message);
  for (const w of [20, 50, 100]) t.ok(phases.includes(`Progressing/${w}`), `went through ${w}%`);
  t.match(cn.status.message, /promoted: Deployment web runs shoal\/hello:v2/);
  const dep = await client.get(R.deployments, 'web', { namespace: NS });
  t.equal(dep.spec.template.spec.containers[0].image, 'shoal/hello:v2', 'the primary got the image');
  t.equal(dep.spec.template.spec.containers[1].image, 'shoal/sidecar', 'the sidecar container untouched');
  const dr = (await client.list(R.dr, { namespace: NS })).items;
  t.same(dr.map((d) => [d.metadata.name, d.spec.subsets.map((s: any) => s.name)]), [['web-canary', ['v1', 'canary']]], 'no DestinationRule: one made with both subsets');
  let vs = await client.get(R.vs, 'web', { namespace: NS });
  t.same(vs.spec.http[0], { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'admin' } }] }, 'the other rule untouched');
  t.same(vs.spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 100], ['canary', 0]]);
  await waitFor('web-canary deleted', () => client.get(R.deployments, 'web-canary', { namespace: NS }).then(() => false, () => true), 10_000);

  // --- failing: rolled back at the first step
  await client.delete(R.canaries, 'web', { namespace: NS });
  await waitFor('the old canary gone', () => client.get(R.canaries, 'web', { namespace: NS }).then(() => false, () => true), 10_000);
  failRate = 0.2;
  phases.length = 0;
  await mk('shoal/hello:v3');
  cn = await follow(['Succeeded', 'Failed']);
  t.comment(phases.join(' → '));
  t.equal(cn.status.phase, 'Failed');
  t.match(cn.status.message, /rolled back at weight 20%: error rate 20% \(\d+\/\d+\) is above the maximum 1\.0%/, cn.status.message);
  t.notOk(phases.some((p) => /\/(50|100)$/.test(p)), 'never past 20%');
  t.equal((await client.get(R.deployments, 'web', { namespace: NS })).spec.template.spec.containers[0].image, 'shoal/hello:v2', 'the primary kept v2');
  vs = await client.get(R.vs, 'web', { namespace: NS });
  t.same(vs.spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 100], ['canary', 0]], 'all traffic back on the primary');
  t.ok(cn.status.conditions.some((x: any) => x.type === 'Promoted' && x.status === 'False' && x.reason === 'RolledBack'), 'Promoted=False RolledBack');

  // --- manual override: pause, then resume when the weights are put back
  await client.delete(R.canaries, 'web', { namespace: NS });
  await waitFor('the old canary gone', () => client.get(R.canaries, 'web', { namespace: NS }).then(() => false, () => true), 10_000);
  failRate = 0;
  await client.create(R.canaries, { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: NS }, spec: { targetRef: { name: 'web' }, image: 'shoal/hello:v4', steps: [20, 50, 100], interval: '2s', minRequests: 5 } }, { namespace: NS });
  await waitFor('step 1', async () => (await client.get(R.canaries, 'web', { namespace: NS })).status?.canaryWeight === 20, 30_000, 50);
  vs = await client.get(R.vs, 'web', { namespace: NS });
  const edited = structuredClone(vs);
  edited.spec.http[1].route[0].weight = 95;
  edited.spec.http[1].route[1].weight = 5;
  await client.update(R.vs, edited);
  cn = await waitFor('paused', async () => {
    const x = await client.get(R.canaries, 'web', { namespace: NS });
    return x.status?.paused ? x : undefined;
  }, 10_000, 50);
  t.match(cn.status.message, /paused: manual override/, cn.status.message);
  t.ok(cn.status.conditions.some((x: any) => x.type === 'ManualOverride' && x.status === 'True'), 'ManualOverride=True');
  await new Promise((r) => setTimeout(r, 3000));
  vs = await client.get(R.vs, 'web', { namespace: NS });
  t.same(vs.spec.http[1].route.map((d: any) => d.weight), [95, 5], 'the hand-made weights are left alone while paused');
  t.equal((await client.get(R.canaries, 'web', { namespace: NS })).status.canaryWeight, 5, 'the status shows the weight as it is');
  vs.spec.http[1].route[0].weight = 80;
  vs.spec.http[1].route[1].weight = 20;
  await client.update(R.vs, vs);
  cn = await follow(['Succeeded', 'Failed']);
  t.equal(cn.status.phase, 'Succeeded', 'put back: it resumed and finished');
  t.ok(cn.status.conditions.some((x: any) => x.type === 'ManualOverride' && x.status === 'False'), 'ManualOverride=False after the weights were restored');

  // --- deleted mid-run: the finalizer puts the traffic back on the primary first
  await waitFor('a finished canary to hold no finalizer', async () => !(await client.get(R.canaries, 'web', { namespace: NS })).metadata.finalizers?.length, 5_000, 50);
  t.pass('a finished canary holds no finalizer (released right after its last status)');
  await client.delete(R.canaries, 'web', { namespace: NS });
  await waitFor('the old canary gone', () => client.get(R.canaries, 'web', { namespace: NS }).then(() => false, () => true), 10_000);
  await client.create(R.canaries, { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'web', namespace: NS }, spec: { targetRef: { name: 'web' }, image: 'shoal/hello:v5', steps: [30, 100], interval: '10s', minRequests: 5 } }, { namespace: NS });
  cn = await waitFor('step 1', async () => {
    const x = await client.get(R.canaries, 'web', { namespace: NS });
    return x.status?.canaryWeight === 30 ? x : undefined;
  }, 30_000, 50);
  t.same(cn.metadata.finalizers, ['shoal.io/canary'], 'a running canary holds its finalizer');
  t.same((await client.get(R.vs, 'web', { namespace: NS })).spec.http[1].route.map((d: any) => d.weight), [70, 30]);
  await client.delete(R.canaries, 'web', { namespace: NS });
  await waitFor('the deleted canary gone', () => client.get(R.canaries, 'web', { namespace: NS }).then(() => false, () => true), 10_000);
  t.same((await client.get(R.vs, 'web', { namespace: NS })).spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 100], ['canary', 0]], 'deleted at 30%: the weights went back to the primary before it was gone');

  // --- an HTTPRoute (GAMMA: parentRef the Service): a canary Service as the second backendRef
  await client.create(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: NS }, spec: { replicas: 1, selector: { matchLabels: { app: 'api', version: 'v1' } }, template: { ...tpl('shoal/hello:v1'), metadata: { labels: { app: 'api', version: 'v1' } } } } }, { namespace: NS });
  await client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: NS }, spec: { selector: { app: 'api', version: 'v1' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }, { namespace: NS });
  const other = { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }] };
  await client.create(R.hr, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'api', namespace: NS }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'api', port: 80 }], rules: [{ backendRefs: [{ name: 'api', port: 80 }] }, other] } }, { namespace: NS });
  await client.create(R.canaries, { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: 'api', namespace: NS }, spec: { targetRef: { name: 'api' }, image: 'shoal/hello:v2', steps: [50, 100], interval: '1s', minRequests: 5 } }, { namespace: NS });
  const hrWeights: string[] = [];
  cn = await waitFor('the HTTPRoute canary to finish', async () => {
    const x = await client.get(R.canaries, 'api', { namespace: NS });
    const h = await client.get(R.hr, 'api', { namespace: NS });
    const w = JSON.stringify(h.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight]));
    if (hrWeights[hrWeights.length - 1] !== w) hrWeights.push(w);
    return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
  }, 60_000, 50).catch(async (e) => {
    t.comment(`weights: ${hrWeights.join(' → ')}\nstatus: ${JSON.stringify((await client.get(R.canaries, 'api', { namespace: NS })).status)}\nlog: ${logs.slice(-10).join('\n')}`);
    throw e;
  });
  t.comment(hrWeights.join(' → '));
  t.equal(cn.status.phase, 'Succeeded', cn.status.message);
  t.ok(hrWeights.includes('[["api",50],["api-canary",50]]'), 'the HTTPRoute went 50/50');
  t.ok(hrWeights.includes('[["api",0],["api-canary",100]]'), 'then all to the canary Service');
  const hrEnd = await client.get(R.hr, 'api', { namespace: NS });
  t.same(hrEnd.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight]), [['api', 100]], 'at the end: the primary only, the canary backendRef removed');
  t.same(hrEnd.spec.rules[1], other, 'the other rule untouched');
  t.same(hrEnd.spec.parentRefs, [{ group: '', kind: 'Service', name: 'api', port: 80 }], 'parentRefs untouched');
  await waitFor('the canary Service deleted', () => client.get(R.services, 'api-canary', { namespace: NS }).then(() => false, () => true), 10_000);
  t.equal((await client.get(R.deployments, 'api', { namespace: NS })).spec.template.spec.containers[0].image, 'shoal/hello:v2', 'promoted');
  if (t.passing() === false) t.comment(logs.join('\n'));
});
