// Real pods, real nftables, then userspace mode on the same pods: a client pod calls a ClusterIP 300
// times, NodePort from the host (127.0.0.1), REJECT without endpoints, hairpin, session affinity. Root only.
import t from 'tap';
import { createPod, isReady, rand4, waitPod } from '../agent/fixture.js';
import { callFromHost, callFromPod, rootSkip, startProxyEnv } from './fixture.js';

const skip = rootSkip();
const svcRef = { apiVersion: 'v1', plural: 'services', namespaced: true } as const;

t.test('service proxy e2e', { skip }, async (t) => {
  const env = await startProxyEnv(t, 98);
  const ready = { readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } };
  const backends = ['web-a', 'web-b', 'web-c'];
  await Promise.all([
    ...backends.map((n) => createPod(env, n, { containers: [{ name: 'app', image: 'shoal/hello', ...ready }] }).then(() => undefined)),
    createPod(env, 'web-unready', { containers: [{ name: 'app', image: 'shoal/hello', readinessProbe: { httpGet: { path: '/healthz', port: 9999 }, periodSeconds: 1 } }] }),
    createPod(env, 'client', { containers: [{ name: 'app', image: 'shoal/hello' }] }),
  ]);
  for (const n of backends) await env.client.patch({ apiVersion: 'v1', plural: 'pods', namespaced: true }, n, { metadata: { labels: { app: 'web', name: n } } }, { type: 'merge', namespace: 'default' });
  await env.client.patch({ apiVersion: 'v1', plural: 'pods', namespaced: true }, 'web-unready', { metadata: { labels: { app: 'web' } } }, { type: 'merge', namespace: 'default' });
  await Promise.all([...backends, 'client'].map((n) => waitPod(env, n, isReady, 30000)));
  const nodePort = 30000 + Math.floor(Math.random() * 2700);
  const mk = (name: string, last: number, selector: Record<string, string>, extra: Record<string, unknown> = {}) => env.client.create(svcRef, {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
    spec: { clusterIP: env.vip(last), selector, ports: [{ port: 80, targetPort: 8080 }], ...extra },
  } as any, { namespace: 'default' });
  await mk('web', 10, { app: 'web' }, { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort }] });
  await mk('sticky', 11, { app: 'web' }, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  await mk('self', 12, { name: 'web-a' });
  await mk('empty', 13, { app: 'nothing' });
  const web = `http://${env.vip(10)}/`;
  const suffix = `t${rand4()}`;

  await t.test('nftables mode', async (t) => {
    const proxy = await env.startProxy('nftables', suffix);
    // wait until the endpoints controller published all three and the proxy applied them
    const end = Date.now() + 15000;
    let counts: Record<string, number> = {};
    for (;;) {
      await proxy.synced();
      counts = await callFromHost(web, 3);
      if (backends.every((b) => counts[b]) || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    counts = await callFromPod(env, 'client', web, 300);
    t.same(Object.keys(counts).sort(), backends, `every ready backend answers, nothing else: ${JSON.stringify(counts)}`);
    for (const b of backends) t.ok(Math.abs(counts[b] - 100) <= 20, `${b}: ${counts[b]} of 300 within ±20% of even`);
    const host = await callFromHost(web, 30);
    t.same(Object.keys(host).filter((k) => !backends.includes(k)), [], `host → ClusterIP: ${JSON.stringify(host)}`);
    const np = await callFromHost(`http://127.0.0.1:${nodePort}/`, 30);
    t.same(Object.keys(np).filter((k) => !backends.includes(k)), [], `NodePort via 127.0.0.1: ${JSON.stringify(np)}`);
    t.ok(Object.keys(np).length >= 2, 'NodePort spreads');
    const sticky = await callFromPod(env, 'client', `http://${env.vip(11)}/`, 20);
    t.equal(Object.keys(sticky).length, 1, `affinity pins the client: ${JSON.stringify(sticky)}`);
    const self = await callFromPod(env, 'web-a', `http://${env.vip(12)}/`, 5);
    t.same(self, { 'web-a': 5 }, 'hairpin: a pod reaches itself through its service');
    const t0 = Date.now();
    const empty = await callFromPod(env, 'client', `http://${env.vip(13)}/`, 3);
    t.same(empty, { 'ERR:ECONNREFUSED': 3 }, 'no endpoints: refused');
    t.ok(Date.now() - t0 < 2500, `refused at once (${Date.now() - t0} ms incl. exec)`);
    t.same(await callFromHost(`http://${env.vip(13)}/`, 2), { 'ERR:ECONNREFUSED': 2 }, 'host: refused too');
    t.same(await callFromHost(`http://${env.vip(99)}/`, 1), { 'ERR:EHOSTUNREACH': 1 }, 'a VIP without a Service stays unreachable');
    await proxy.close();
  });

  await t.test('userspace mode', async (t) => {
    const proxy = await env.startProxy('userspace', `u${suffix.slice(1)}`);
    await proxy.synced();
    const counts = await callFromPod(env, 'client', web, 300);
    t.same(counts, { 'web-a': 100, 'web-b': 100, 'web-c': 100 }, 'round robin: exactly even, ready backends only');
    const sticky = await callFromPod(env, 'client', `http://${env.vip(11)}/`, 20);
    t.equal(Object.keys(sticky).length, 1, `affinity pins the client: ${JSON.stringify(sticky)}`);
    t.same(await callFromHost(`http://${env.vip(13)}/`, 2), { 'ERR:ECONNREFUSED': 2 }, 'no endpoints: refused');
    const np = await callFromHost(`http://127.0.0.1:${nodePort}/`, 3);
    t.equal(Object.values(np).reduce((a, b) => a + b, 0), 3);
    t.same(Object.keys(np).filter((k) => !backends.includes(k)), [], `NodePort: ${JSON.stringify(np)}`);
    await proxy.close();
  });

  await t.test('scaled to 0: refused at once (nftables)', async (t) => {
    const proxy = await env.startProxy('nftables', `z${suffix.slice(1)}`);
    await env.client.patch(svcRef, 'web', { spec: { selector: { app: 'gone' } } }, { type: 'merge', namespace: 'default' });
    const end = Date.now() + 10000;
    let r: Record<string, number> = {};
    while (Date.now() < end) {
      await proxy.synced();
      r = await callFromHost(web, 1);
      if (r['ERR:ECONNREFUSED']) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const t0 = Date.now();
    t.same(await callFromHost(web, 5), { 'ERR:ECONNREFUSED': 5 }, 'refused');
    t.ok(Date.now() - t0 < 500, `5 refusals in ${Date.now() - t0} ms`);
  });
});
