// The ingress under a real `shoal up` (root: network namespaces): the system manifest's Deployment
// (hostNetwork, shoal/ingress) moved to free host ports, a meshed app (istio-injection) behind an Ingress,
// requests through the host port reach the pods over the mesh (the sidecars count connections from the
// ingress's SPIFFE identity), Ingress status carries the node address, and a rolling restart of the app
// behind the ingress under load fails no request. Run alone (it starts a whole cluster).
import t from 'tap';
import { request as httpRequest, Agent } from 'node:http';
import type { KubeObject } from '../../api/meta.js';
import { freePort } from '../../lib/serve/serve.js';
import { waitFor } from '../wait.js';
import { moveIngress, shoalUp } from '../e2e/shoal-up.js';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, bridge, cgroups); CI runs as root' : false;
const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const deployments = { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true };
const ready = (p: KubeObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

t.test('ingress under shoal up', { skip, timeout: 420_000 }, async (t) => {
  const c = await shoalUp('ingr', 20 + Math.floor(Math.random() * 200));
  t.teardown(() => c.close());
  const api = c.api;
  t.match(c.out(), /applying the system manifests \(cluster DNS, ingress\)/);
  const moving = moveIngress(api, freePort, waitFor);

  await api.create({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', labels: { 'istio-injection': 'enabled' } } } as any);
  const app = (replicas: number) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello', namespace: 'web' },
    spec: {
      replicas, selector: { matchLabels: { app: 'hello' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'hello' } }, spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'hello', image: 'shoal/hello:1', ports: [{ containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] } },
    },
  });
  await api.create(deployments, app(2) as any);
  await api.create({ apiVersion: 'v1', plural: 'services', namespaced: true }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'web' },
    spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } as any);
  await api.create({ apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true }, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'hello', namespace: 'web' },
    spec: { rules: [{ host: 'hello.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'hello', port: { name: 'http' } } } }] } }] } } as any);

  const { http } = await moving;
  const ingressPod = (await api.list(pods, { namespace: 'kube-system', labelSelector: 'app.kubernetes.io/name=shoal-ingress' })).items.find((p) => ready(p) && JSON.stringify(p.spec.containers[0].args).includes(String(http)))!;
  t.ok(ingressPod.spec.hostNetwork, 'host network');
  await waitFor('two app pods ready', async () => (await api.list(pods, { namespace: 'web', labelSelector: 'app=hello' })).items.filter(ready).length === 2, 120_000);

  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  const get = (): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: http, path: '/', headers: { host: 'hello.test' }, agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
  const first = await waitFor('a request through the ingress', async () => { const r = await get().catch(() => null); return r?.status === 200 ? r : undefined; }, 60_000);
  t.match(JSON.parse(first.body).pod, /^hello-/);

  // The sidecar of an app pod counted the ingress's mTLS identity.
  const appPods = (await api.list(pods, { namespace: 'web', labelSelector: 'app=hello' })).items.filter(ready);
  t.equal(appPods[0].spec.initContainers?.some((x: any) => x.name === 'istio-proxy') ?? false, true, 'the app is meshed');
  const seen = await waitFor('sidecar metrics name the ingress', async () => {
    for (const p of appPods) {
      const m = await (await fetch(`http://${p.status.podIP}:15090/stats/prometheus`).catch(() => null))?.text();
      if (m && m.includes('kube-system/sa/shoal-ingress')) return m;
    }
    return undefined;
  }, 30_000);
  t.match(seen, /source_principal="(spiffe:\/\/)?cluster\.local\/ns\/kube-system\/sa\/shoal-ingress"/);

  const ing: any = await waitFor('Ingress status', async () => {
    const o: any = await api.get({ apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true }, 'hello', { namespace: 'web' });
    return o.status?.loadBalancer?.ingress?.[0]?.ip ? o : undefined;
  }, 30_000);
  t.equal(ing.status.loadBalancer.ingress[0].ip, ingressPod.status.hostIP, 'the node address');

  // Rolling restart under load: zero failed requests.
  let ok = 0;
  const failures: string[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const r = await get().catch((e) => ({ status: 0, body: (e as Error).message }));
      if (r.status === 200) ok++;
      else failures.push(`${r.status} ${r.body}`.slice(0, 200));
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  const loops = [loop(), loop(), loop()];
  await api.patch(deployments, 'hello', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }, { namespace: 'web', type: 'merge' });
  const oldNames = new Set(appPods.map((p) => p.metadata.name));
  await waitFor('rollout done', async () => {
    const l = (await api.list(pods, { namespace: 'web', labelSelector: 'app=hello' })).items;
    return l.length === 2 && l.every((p) => ready(p) && !oldNames.has(p.metadata.name));
  }, 180_000);
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  await Promise.all(loops);
  t.equal(failures.length, 0, `failed requests during the rollout: ${failures.slice(0, 3).join(' | ')}`);
  t.ok(ok > 50, `${ok} requests served during the rollout`);
});
