// Istio's workload labels on the sidecars' metrics (proxy/admin/peer-metadata.ts): the unit table of the
// baggage format and endpoint workload names, then a real two-sidecar connection in network namespaces
// (prefix `scw`) whose metrics on both ends name the peer's workload (the Deployment, not the pod),
// canonical service/revision, app/version, namespace and principal — over HBONE the client's metadata
// travels in the CONNECT request's `baggage`; in per-connection TLS mode only the certificate's principal
// and namespace are known and the workload is "unknown".
import t from 'tap';
import type { IncomingHttpHeaders } from 'node:http2';
import { meshNet, meshConfig, rootSkip, runInPod, startEchoApp, startTestSidecar, until, httpGet, type Pod } from './fixture.js';
import { baggageOf, endpointWorkload, localMeta, peerFromHeaders, sourceLabels, destinationLabels, NO_PEER } from '../../proxy/admin/peer-metadata.js';
import type { StaticConfigFile } from '../../proxy/config/types.js';

const K = 7;
const VIP = `10.215.${K}.10`;

t.test('peer metadata: baggage, workload names, labels', async (t) => {
  const w = {
    name: 'client-6d4cf56db6-x7k2p', namespace: 'foo', serviceAccount: 'client', identity: 'spiffe://cluster.local/ns/foo/sa/client', ip: '10.0.0.1',
    labels: { app: 'client', version: 'v1', 'service.istio.io/canonical-name': 'client-svc', 'service.istio.io/canonical-revision': 'r1' },
    peerAuthentication: { mode: 'STRICT', portModes: {}, sources: [] }, authorization: [],
  };
  const me = localMeta(w, 'client');
  t.same(me, { workload: 'client', namespace: 'foo', principal: w.identity, canonicalService: 'client-svc', canonicalRevision: 'r1', app: 'client', version: 'v1' });
  t.equal(localMeta(w, 'client'), me, 'memoized per workload resource');
  t.same(localMeta(w, undefined).workload, w.name, 'no ISTIO_META_WORKLOAD_NAME: the workload resource\'s name');
  t.same(localMeta({ ...w, labels: {} }, 'client'), { ...me, canonicalService: 'client', canonicalRevision: 'latest', app: '', version: '' }, 'canonical defaults: workload/latest (Istio)');
  const b = baggageOf(me, w.name);
  t.equal(b, 'k8s.namespace.name=foo,k8s.deployment.name=client,service.name=client-svc,service.version=r1,app.name=client,app.version=v1');
  t.equal(baggageOf(localMeta({ ...w, labels: { app: 'p' } }, 'bare'), 'bare'), 'k8s.namespace.name=foo,k8s.pod.name=bare,service.name=p,service.version=latest,app.name=p', 'a bare pod is k8s.pod.name');
  const h = (baggage?: string | string[]): IncomingHttpHeaders => (baggage === undefined ? {} : { baggage } as IncomingHttpHeaders);
  const rows: { name: string; headers: IncomingHttpHeaders; want: Partial<typeof me> }[] = [
    { name: 'own baggage round-trips (namespace and principal from the certificate)', headers: h(b), want: { workload: 'client', canonicalService: 'client-svc', canonicalRevision: 'r1', app: 'client', version: 'v1', namespace: 'certns', principal: 'spiffe://x' } },
    { name: 'no baggage', headers: h(), want: { workload: '', canonicalService: '', namespace: 'certns', principal: 'spiffe://x' } },
    { name: 'baggage cannot claim another namespace', headers: h('k8s.namespace.name=kube-system,k8s.statefulset.name=db'), want: { workload: 'db', namespace: 'certns' } },
    { name: 'percent-encoding, properties and spaces', headers: h(' service.name = a%20b ;p=1 , k8s.job.name=j'), want: { canonicalService: 'a b', workload: 'j' } },
    { name: 'malformed members skipped', headers: h('garbage,=x,service.name=%E0%A4%A,service.version=ok'), want: { canonicalService: '', canonicalRevision: 'ok' } },
    { name: 'several headers joined', headers: h(['service.name=s', 'k8s.deployment.name=d']), want: { canonicalService: 's', workload: 'd' } },
  ];
  for (const r of rows) t.match(peerFromHeaders(r.headers, 'spiffe://x', 'certns'), r.want, r.name);
  t.equal(endpointWorkload('server-5f7b9c8d4-abcde', { 'pod-template-hash': '5f7b9c8d4' }), 'server', 'Deployment pod → Deployment');
  t.equal(endpointWorkload('batch-x8k2z', { 'batch.kubernetes.io/job-name': 'batch' }), 'batch', 'Job pod → Job');
  t.equal(endpointWorkload('web-0', { app: 'web' }), 'web-0', 'otherwise the pod');
  t.equal(sourceLabels(NO_PEER).source_workload, 'unknown');
  t.same(Object.keys(destinationLabels(me)).sort(), ['destination_app', 'destination_canonical_revision', 'destination_canonical_service', 'destination_principal', 'destination_version', 'destination_workload', 'destination_workload_namespace']);
});

/** The label set of the first `istio_tcp_connections_opened_total` line with `reporter`. */
function opened(prom: string, reporter: string): Record<string, string> | undefined {
  const line = prom.split('\n').find((l) => l.startsWith(`istio_tcp_connections_opened_total{reporter="${reporter}"`));
  if (!line) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

async function echo(pod: Pod, host: string, port: number, msg: string): Promise<boolean> {
  const p = runInPod(t, pod, [process.execPath, 'dist/test/sidecar/probe.js', 'echo', host, String(port), msg]);
  return (await p.exited) === 0 && JSON.parse(p.out().trim().split('\n').pop()!).ok === true;
}

t.test('workload labels from a real two-sidecar connection', { skip: rootSkip, timeout: 120_000 }, async (t) => {
  const net = await meshNet(t, 'scw', K);
  const app = startEchoApp(t, net.b, 9000);
  await until('echo app', () => app.out().includes('up'));
  // as under a Deployment: pods named <deployment>-<pod-template-hash>-<suffix>, labels app/version
  const config = (self: 'a' | 'b'): StaticConfigFile => {
    const c = meshConfig(net, K, self);
    c.endpoints![0]!.endpoints[0] = { ...c.endpoints![0]!.endpoints[0]!, podName: 'server-7c9d8f6b5-q2w3e', labels: { app: 'server', version: 'v2', 'pod-template-hash': '7c9d8f6b5' } };
    const sa = self === 'a' ? 'client' : 'server';
    c.workload = { ...c.workload!, name: self === 'a' ? 'client-5d8b7c6f4-a1b2c' : 'server-7c9d8f6b5-q2w3e', labels: { app: sa, version: self === 'a' ? 'v1' : 'v2' } };
    return c;
  };
  const env = (self: 'a' | 'b') => (self === 'a'
    ? { POD_NAME: 'client-5d8b7c6f4-a1b2c', ISTIO_META_WORKLOAD_NAME: 'client' }
    : { POD_NAME: 'server-7c9d8f6b5-q2w3e', ISTIO_META_WORKLOAD_NAME: 'server' });
  await startTestSidecar(t, net, net.b, { sa: 'server', config: config('b'), env: env('b') });
  let client = await startTestSidecar(t, net, net.a, { sa: 'client', config: config('a'), env: env('a') });

  const client1 = {
    workload: 'client', workload_namespace: 'foo', principal: 'spiffe://cluster.local/ns/foo/sa/client',
    canonical_service: 'client', canonical_revision: 'v1', app: 'client', version: 'v1',
  };
  const server2 = {
    workload: 'server', workload_namespace: 'foo', principal: 'spiffe://cluster.local/ns/foo/sa/server',
    canonical_service: 'server', canonical_revision: 'v2', app: 'server', version: 'v2',
  };
  const prefixed = (p: string, o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}_${k}`, v]));

  await t.test('HBONE: the client\'s workload travels in the CONNECT baggage', async (t) => {
    t.ok(await echo(net.a, VIP, 80, 'hbone\n'), 'VIP → B through HBONE');
    const dst = opened((await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body, 'destination');
    t.match(dst, { ...prefixed('source', client1), ...prefixed('destination', server2), connection_security_policy: 'mutual_tls' },
      `server side (reporter=destination) names the client Deployment and itself: ${JSON.stringify(dst)}`);
    const src = opened((await httpGet(net.a.rootIp, 15090, '/stats/prometheus')).body, 'source');
    t.match(src, { ...prefixed('source', client1), ...prefixed('destination', server2) },
      `client side (reporter=source) names itself and the server Deployment: ${JSON.stringify(src)}`);
  });

  await t.test('per-connection TLS: principal from the certificate, workload unknown', async (t) => {
    await client.stop();
    client = await startTestSidecar(t, net, net.a, { sa: 'client', config: config('a'), env: env('a'), tunnel: 'tls', name: 'client-tls' });
    // a fresh server-side series: count lines before/after
    t.ok(await echo(net.a, VIP, 80, 'tls\n'), 'echo through per-connection mTLS');
    const prom = (await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body;
    const lines = prom.split('\n').filter((l) => l.startsWith('istio_tcp_connections_opened_total{reporter="destination"') && l.includes('source_workload="unknown"'));
    t.equal(lines.length, 1, `one destination series with an unknown source workload:\n${prom.split('\n').filter((l) => l.startsWith('istio_tcp_connections_opened_total')).join('\n')}`);
    const tls = Object.fromEntries([...(lines[0] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    t.match(tls, { source_principal: client1.principal, source_workload_namespace: 'foo', source_canonical_service: 'unknown', ...prefixed('destination', server2) });
  });
});
