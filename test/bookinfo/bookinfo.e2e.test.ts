// The Bookinfo sample end to end, as a user runs it: `shoal up`, `shoal apply -f samples/bookinfo/`, then
// from a pod in the mesh `curl http://productpage.bookinfo:9080/productpage`. Checks: every object applies
// (the VirtualService and the Ingress too, stored for later); all six pods Ready with 2/2 containers (app +
// native sidecar); the page shows details and reviews, with stars from ratings for v2 (black) and v3 (red);
// trace headers reach details, reviews and ratings; the hops went over HBONE mTLS with each caller's
// ServiceAccount identity (sidecars' metrics); a pod labelled like reviews but with another ServiceAccount is
// let through by the NetworkPolicy and refused by ratings' AuthorizationPolicy; plaintext from a namespace
// outside the mesh is refused by STRICT mTLS; the default-deny NetworkPolicy drops what no allow names.
// Root only.
import t from 'tap';
import { join } from 'node:path';
import type { KubeObject } from '../../api/meta.js';
import { waitFor } from '../wait.js';
import { cli, moveIngress, rootSkip, sh, shoalUp } from '../e2e/shoal-up.js';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
const sample = join(root, 'samples', 'bookinfo');
const R = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
} as const;
const NS = 'bookinfo';
const ready = (p: KubeObject | undefined) => !!p && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const proxyReady = (p: KubeObject | undefined) => !!p && p.status?.phase === 'Running' && (p.status?.initContainerStatuses ?? []).some((c: any) => c.name === 'istio-proxy' && c.ready);

t.test('Bookinfo through a shoal up cluster', { skip: rootSkip }, async (t) => {
  const rand = Math.floor(Math.random() * 0xffff);
  const c = await shoalUp('bookinfo', 20 + (rand % 200));
  t.teardown(() => c.close());
  const { api } = c;
  const shoal = (...args: string[]) => sh(process.execPath, [cli, '--kubeconfig', c.kubeconfig, ...args], { timeout: 30_000 });
  const exec = (ns: string, pod: string, container: string, ...cmd: string[]) => shoal('exec', '-n', ns, pod, '-c', container, '--', ...cmd);
  const curl = (ns: string, pod: string, url: string, ...extra: string[]) => exec(ns, pod, 'c', 'curl', '-s', '--max-time', '5', '-w', '\n%{http_code}', ...extra, url);
  const stats = async (pod: KubeObject, path: string, port: number) => (await exec(NS, pod.metadata.name!, 'istio-proxy', 'curl', '-s', `http://127.0.0.1:${port}${path}`)).stdout;

  // a client in the mesh (its own namespace, injected), one outside the mesh
  await api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo-client', labels: { 'istio-injection': 'enabled' } } } as any);
  await api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo-outside' } } as any);
  // the cluster's ingress on free host ports (tests run clusters side by side; users get :80)
  const ingressPorts = moveIngress(api, freePort, waitFor);
  const applied = await shoal('apply', '-f', `${sample}/`);
  t.equal(applied.code, 0, `shoal apply -f samples/bookinfo/ succeeds:\n${applied.stdout}${applied.stderr}`);
  for (const o of ['namespace/bookinfo', 'peerauthentication.security.istio.io/default', 'authorizationpolicy.security.istio.io/ratings-from-reviews',
    'networkpolicy.networking.k8s.io/default-deny', 'deployment.apps/reviews-v3', 'service/productpage', 'serviceaccount/bookinfo-reviews',
    'destinationrule.networking.istio.io/reviews', 'virtualservice.networking.istio.io/reviews', 'ingress.networking.k8s.io/productpage']) {
    t.match(applied.stdout, `${o} created`, `${o} created`);
  }
  const pod = (ns: string, name: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) =>
    api.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'c', image: 'shoal/pause', ...extra }] } } as any, { namespace: ns });
  await pod('bookinfo-client', 'client');
  await pod('bookinfo-outside', 'outsider');
  // labelled like reviews (so the NetworkPolicies let it call ratings) but with the default ServiceAccount;
  // never Ready, so the reviews Service does not send productpage's calls to it
  await pod(NS, 'impostor', { readinessProbe: { exec: { command: ['false'] }, periodSeconds: 30 } }, { app: 'reviews', version: 'impostor' });

  const apps = ['productpage', 'details', 'reviews', 'ratings'];
  const allUp = async () => {
    const list = (await api.list(R.pods, { namespace: NS })).items.filter((p) => p.metadata.name !== 'impostor');
    const byApp = (a: string) => list.filter((p) => p.metadata.labels?.app === a && ready(p));
    const client = await api.get(R.pods, 'client', { namespace: 'bookinfo-client' });
    const outsider = await api.get(R.pods, 'outsider', { namespace: 'bookinfo-outside' });
    const impostor = await api.get(R.pods, 'impostor', { namespace: NS });
    if (apps.some((a) => byApp(a).length !== (a === 'reviews' ? 3 : 1)) || !ready(client) || !ready(outsider) || !proxyReady(impostor)) return undefined;
    return { byApp, client, outsider, impostor, all: list };
  };
  const t0 = Date.now();
  let pods: NonNullable<Awaited<ReturnType<typeof allUp>>>;
  try {
    pods = await waitFor('the six Bookinfo pods and the test pods Ready', allUp, 150_000);
  } catch (e) {
    const list = await api.list(R.pods, { namespace: NS });
    t.fail(`${(e as Error).message}\n${JSON.stringify(list.items.map((p: any) => ({ name: p.metadata.name, phase: p.status?.phase, conditions: p.status?.conditions, init: p.status?.initContainerStatuses?.map((s: any) => [s.name, s.ready, s.restartCount, s.state, s.lastState]) })), null, 1)}`);
    const bad = list.items.find((p: any) => !ready(p) && p.metadata.name !== 'impostor');
    if (bad) {
      for (const prev of [[], ['--previous']]) {
        const logs = await shoal('logs', '-n', NS, bad.metadata.name!, '-c', 'istio-proxy', ...prev);
        t.comment(`${bad.metadata.name} istio-proxy log ${prev.join('')}:\n${logs.stdout.slice(-3000)}${logs.stderr}`);
      }
      t.comment((await shoal('describe', 'pod', '-n', NS, bad.metadata.name!)).stdout.slice(-3000));
    }
    return;
  }
  t.comment(`all Bookinfo pods Ready ${((Date.now() - t0) / 1000).toFixed(1)} s after apply`);
  const one = (a: string) => pods.byApp(a)[0]!;

  for (const p of pods.all) {
    t.same(p.spec.initContainers?.map((x: any) => x.name), ['istio-init', 'istio-proxy'], `${p.metadata.name}: sidecar injected`);
    t.equal(p.spec.serviceAccountName, `bookinfo-${p.metadata.labels!.app}`, `${p.metadata.name}: runs as its own ServiceAccount`);
  }
  const kget = await c.kubectl('get', 'pods', '-n', NS, '--no-headers');
  const rows = kget.stdout.trim().split('\n').filter((l) => !l.startsWith('impostor'));
  t.equal(rows.length, 6, `six Bookinfo pods:\n${kget.stdout}${kget.stderr}`);
  t.ok(rows.every((l) => /^\S+\s+2\/2\s+Running\s/.test(l)), `kubectl get pods: each 2/2 Running (app + native sidecar)\n${kget.stdout}`);

  // the product page from a pod in the mesh: client sidecar → HBONE mTLS → productpage sidecar → app, and
  // productpage → details, reviews → ratings the same way
  const first = await waitFor('the product page from the mesh client', async () => {
    const r = await curl('bookinfo-client', 'client', 'http://productpage.bookinfo:9080/productpage');
    return r.stdout.endsWith('\n200') && r.stdout.includes('Book Details') && r.stdout.includes('Book Reviews') ? r.stdout : undefined;
  }, 30_000).catch((e) => `FAILED ${(e as Error).message}`);
  t.match(first, /<h3>The Comedy of Errors<\/h3>/, 'the page has the product');
  t.match(first, /William Shakespeare/, 'and details');
  t.match(first, /Reviews served by:/, 'and reviews');

  // the VirtualService splits reviews 90/10 between v1 (no stars) and v2 (black stars); v3 gets nothing
  const seen: Record<string, number> = {};
  const problems: string[] = [];
  const N = 20;
  for (let i = 0; i < N; i++) {
    const r = await curl('bookinfo-client', 'client', 'http://productpage.bookinfo:9080/productpage', '-H', `x-request-id: bookinfo-e2e-${i}`);
    const v = /Reviews served by:<\/dt><dd><u>[^<]+<\/u> \((v[123])\)/.exec(r.stdout)?.[1];
    if (!v || !r.stdout.includes('Book Details')) {
      problems.push(r.stdout.slice(-300));
      continue;
    }
    seen[v] = (seen[v] ?? 0) + 1;
    const starColors = [...r.stdout.matchAll(/data-color="(\w+)"/g)].map((m) => m[1]);
    if (r.stdout.includes('Ratings service is currently unavailable')) problems.push(`${v}: ratings unavailable`);
    const want = v === 'v1' ? [] : v === 'v2' ? ['black', 'black'] : ['red', 'red'];
    if (JSON.stringify(starColors) !== JSON.stringify(want)) problems.push(`${v}: stars ${JSON.stringify(starColors)}, want ${JSON.stringify(want)}`);
  }
  t.same(problems, [], 'every page had details and reviews, with the right stars for the version');
  t.notOk(seen.v3, `no page from reviews v3 (the VirtualService routes none to it): ${JSON.stringify(seen)}`);
  t.ok((seen.v1 ?? 0) >= N * 0.8 && (seen.v2 ?? 0) >= 1, `reviews 90/10 between v1 and v2 over ${N} pages: ${JSON.stringify(seen)}`);

  // the trace headers went along: details, some reviews and ratings logged the ids the client sent
  const logsOf = async (p: KubeObject) => (await shoal('logs', '-n', NS, p.metadata.name!, '-c', p.metadata.labels!.app!)).stdout;
  t.match(await logsOf(one('details')), /x-request-id=bookinfo-e2e-\d+ traceparent=00-[0-9a-f]{32}-/, 'details got the x-request-id and the traceparent productpage started');
  t.match(await logsOf(one('ratings')), /"GET \/ratings\/0" 200 \d+ms x-request-id=bookinfo-e2e-\d+ traceparent=00-/, 'ratings got them through reviews');

  // the hops were HBONE mTLS with each caller's identity (the destination sidecars' Prometheus metrics)
  const clientStats = (await exec('bookinfo-client', 'client', 'istio-proxy', 'curl', '-s', 'http://127.0.0.1:15000/stats')).stdout;
  t.match(clientStats, /tunnel\.sessions_opened: [1-9]/, 'the client sidecar opened an HBONE mTLS session');
  const principal = (ns: string, sa: string) => `source_principal="spiffe://cluster.local/ns/${ns}/sa/${sa}"`;
  for (const [dst, ns, sa] of [['productpage', 'bookinfo-client', 'default'], ['details', NS, 'bookinfo-productpage'], ['ratings', NS, 'bookinfo-reviews']] as const) {
    const prom = await stats(one(dst), '/stats/prometheus', 15090);
    const lines = prom.split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"'));
    t.ok(lines.some((l) => l.includes(principal(ns, sa)) && l.includes('connection_security_policy="mutual_tls"') && l.includes('response_code="200"')), `${dst}'s sidecar served ${ns}/${sa}'s requests over mTLS:\n${lines.join('\n')}`);
  }
  let reviewsFromProductpage = 0;
  for (const p of pods.byApp('reviews')) if ((await stats(p, '/stats/prometheus', 15090)).includes(principal(NS, 'bookinfo-productpage'))) reviewsFromProductpage++;
  t.equal(reviewsFromProductpage, 2, 'the reviews sidecars of v1 and v2 (the VirtualService sends none to v3) served productpage over mTLS');

  // AuthorizationPolicy: the impostor passes the NetworkPolicy (labelled app=reviews) but not ratings' identity check
  const denials = async () => /shoal_proxy_authz_denied_total\{listener="inbound-http",reason="authz"\} (\d+)/.exec(await stats(one('ratings'), '/stats/prometheus', 15090))?.[1] ?? '0';
  const deniedBefore = await denials();
  const imp = await curl(NS, 'impostor', 'http://ratings.bookinfo:9080/ratings/0');
  t.match(imp.stdout, /^RBAC: access denied\n403$/, `a pod with another ServiceAccount gets Envoy's 403 from ratings (${JSON.stringify(imp.stdout.slice(-80))})`);
  const deniedAfter = await denials();
  t.ok(Number(deniedAfter) > Number(deniedBefore), `ratings' sidecar denied it by AuthorizationPolicy (denied ${deniedBefore} → ${deniedAfter})`);
  const impToDetails = await curl(NS, 'impostor', 'http://details.bookinfo:9080/details/0');
  t.notMatch(impToDetails.stdout, /\n200$/, 'and details, which no NetworkPolicy lets it reach, is dropped');

  // STRICT: plaintext from outside the mesh to productpage (the NetworkPolicy lets anyone in on 9080, so the
  // connection reaches productpage's sidecar, which refuses it: its inbound denial counter moves)
  const pp = one('productpage');
  const inboundDenied = async () => [...(await stats(pp, '/stats/prometheus', 15090)).matchAll(/shoal_proxy_authz_denied_total\{listener="inbound",reason="[^"]+"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const refusedBefore = await inboundDenied();
  const plain = await curl('bookinfo-outside', 'outsider', 'http://productpage.bookinfo:9080/productpage');
  t.notMatch(plain.stdout, /\n200$/, `plaintext from a non-mesh namespace is refused (${JSON.stringify(plain.stdout.slice(-80))})`);
  const refusedAfter = await inboundDenied();
  t.ok(refusedAfter > refusedBefore, `productpage's sidecar refused it (inbound denials ${refusedBefore} → ${refusedAfter}): the refusal is the mesh's, not the NetworkPolicy's`);

  // the Bookinfo Ingress through shoal-ingress (a mesh client: HBONE mTLS to productpage under STRICT)
  const { http } = await ingressPorts;
  const viaIngress = await waitFor('the product page through the ingress', async () => {
    const r = await fetch(`http://127.0.0.1:${http}/productpage`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const body = r ? await r.text() : '';
    return r?.status === 200 && body.includes('Book Details') ? body : undefined;
  }, 60_000).catch((e) => `FAILED ${(e as Error).message}`);
  t.match(viaIngress, /<h3>The Comedy of Errors<\/h3>/, 'the Ingress serves /productpage (Exact) from outside the cluster');
  const notRouted = await fetch(`http://127.0.0.1:${http}/nothing-here`, { signal: AbortSignal.timeout(5000) });
  t.equal(notRouted.status, 404, 'a path the Ingress does not route: 404');

  // the API JSON (upstream's /api/v1/products/0)
  const json = await curl('bookinfo-client', 'client', 'http://productpage.bookinfo:9080/api/v1/products/0');
  t.match(json.stdout, /^\{"id":0,"title":"The Comedy of Errors",/, '/api/v1/products/0');
});
