// Mesh control end to end on loopback: a real API server, mesh control in-process, real grpc-js clients
// over TLS (trusting the mesh root). Subscribe + ACK, NACK recorded in /debug/syncz, pushes after API
// writes only to the proxies whose config changed, certificates for the token's identity and refusals
// for another, the token checked by TokenReview, and mesh control killed and restarted with clients
// resuming.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { TYPE_ENDPOINTS, TYPE_SERVICE, TYPE_WORKLOAD, loadMeshProto } from '../../proto/load.js';
import { buildCsr, newKey } from '../../proxy/identity/x509.js';
import { R, meshCredentials, startApi, startMesh, type MeshApi } from './fixture.js';
import { AdsClient } from './adsclient.js';
import { waitFor } from '../wait.js';
import type { MeshControl } from '../../control-plane/mesh/control.js';

const TYPES = [TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD];

function createCert(target: string, rootPem: string, token: string, csr: string, validityDuration = 3600): Promise<string[]> {
  const { IstioCertificateService } = loadMeshProto();
  const c = new IstioCertificateService(target, meshCredentials(rootPem, token), { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' });
  return new Promise((res, rej) => (c as any).CreateCertificate({ csr, validityDuration }, (e: grpc.ServiceError | null, r: any) => {
    c.close();
    return e ? rej(e) : res(r.certChain);
  }));
}

t.test('mesh control over gRPC', async (t) => {
  const api: MeshApi = await startApi('shoalt-meshctl-');
  const logs: string[] = [];
  let mc: MeshControl = await startMesh(api, {}, logs);
  const clients: AdsClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await mc.stop();
    await api.close();
  });
  await waitFor('mesh control ready', async () => mc.ready(), 20_000);
  const target = () => `127.0.0.1:${mc.grpcPort}`;
  const root = mc.ca.rootPem;

  // two namespaces, three pods
  const webToken = await api.tokenFor('shop', 'web');
  const dbToken = await api.tokenFor('shop', 'db');
  await api.pod('shop', 'web-1', { sa: 'web', labels: { app: 'web' }, ip: '10.244.0.11', sidecar: true });
  await api.pod('shop', 'db-1', { sa: 'db', labels: { app: 'db' }, ip: '10.244.0.12', sidecar: true });
  await api.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'shop' }, spec: { selector: { app: 'db' }, ports: [{ name: 'tcp', port: 5432, targetPort: 5432 }] } } as any, { namespace: 'shop' });
  const node = (pod: string, sa: string) => ({ id: `${pod}.shop`, podName: pod, namespace: 'shop', ip: '', serviceAccount: sa, labels: {} });
  const web = new AdsClient(target(), root, webToken, node('web-1', 'web'), TYPES).connect();
  const db = new AdsClient(target(), root, dbToken, node('db-1', 'db'), TYPES).connect();
  clients.push(web, db);

  await t.test('subscribe: every type answered, ACKs recorded in syncz', async (t) => {
    for (const c of [web, db]) await c.until(() => TYPES.every((ty) => c.of(ty).length > 0), 10_000, 'first responses');
    const wl = web.of(TYPE_WORKLOAD).at(-1)!.resources[0]!;
    t.equal(wl.kind, 'workload');
    t.equal(wl.workload!.identity, 'spiffe://cluster.local/ns/shop/sa/web');
    t.equal(wl.workload!.peerAuthentication.mode, 'PERMISSIVE', 'no policy: PERMISSIVE');
    t.ok(web.of(TYPE_SERVICE).at(-1)!.resources.some((r) => r.name === 'shop/db'), 'the db Service is pushed');
    const syncz = await waitFor('ACKs in syncz', async () => {
      const s = (await (await fetch(`${mc.debugUrl}/debug/syncz`)).json()) as any[];
      const e = s.find((x) => x.proxyId === 'web-1.shop');
      return e && TYPES.every((ty) => e.types[ty]?.acked && e.types[ty].acked === e.types[ty].sent) ? s : undefined;
    });
    t.equal(syncz.length, 2);
    t.ok(syncz[0].types[TYPE_WORKLOAD].lastPushMs > 0);
  });

  await t.test('an endpoint write reaches both proxies; a policy write only the selected one', async (t) => {
    const wBefore = web.received.length;
    const dBefore = db.received.length;
    await api.client.create(R.endpointslices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-abc', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4', ports: [{ name: 'tcp', port: 5432, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.0.12'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'db-1' } }],
    } as any, { namespace: 'shop' });
    const hasEp = (c: AdsClient) => c.of(TYPE_ENDPOINTS).at(-1)!.resources.find((r) => r.name === 'shop/db')?.endpoints?.endpoints.length === 1;
    await web.until(() => hasEp(web), 5000, 'web gets the endpoint');
    await db.until(() => hasEp(db), 5000, 'db gets the endpoint');
    const ep = web.of(TYPE_ENDPOINTS).at(-1)!.resources.find((r) => r.name === 'shop/db')!.endpoints!.endpoints[0]!;
    t.match(ep, { address: '10.244.0.12', podName: 'db-1', identity: 'spiffe://cluster.local/ns/shop/sa/db', mesh: true, ready: true });
    t.equal(web.received.slice(wBefore).filter((r) => r.response.typeUrl === TYPE_WORKLOAD).length, 0, 'no Workload push to web');

    const wW = web.of(TYPE_WORKLOAD).length;
    const dW = db.of(TYPE_WORKLOAD).length;
    await api.client.create(R.peerauthentications, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'db-strict', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'STRICT' } } } as any, { namespace: 'shop' });
    await db.until(() => db.of(TYPE_WORKLOAD).at(-1)!.resources[0]!.workload!.peerAuthentication.mode === 'STRICT', 5000, 'db STRICT');
    t.same(db.of(TYPE_WORKLOAD).at(-1)!.resources[0]!.workload!.peerAuthentication.sources, ['shop/db-strict']);
    await new Promise((r) => setTimeout(r, 400)); // past the debounce
    t.equal(web.of(TYPE_WORKLOAD).length, wW, 'web (not selected) got no Workload push');
    t.equal(db.of(TYPE_WORKLOAD).length, dW + 1, 'db got exactly one');
    t.ok(dBefore < db.received.length);
  });

  await t.test('NACK: recorded with its reason, the version stays the last good one', async (t) => {
    const good = web.acked.get(TYPE_WORKLOAD)!;
    web.nack = (r) => (r.typeUrl === TYPE_WORKLOAD ? 'authorization[0].rules[0]: cannot apply' : undefined);
    await api.client.create(R.authorizationpolicies, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', namespace: 'shop' }, spec: { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['shop'] } }] }] } } as any, { namespace: 'shop' });
    const e = await waitFor('NACK in syncz', async () => {
      const s = (await (await fetch(`${mc.debugUrl}/debug/syncz`)).json()) as any[];
      return s.find((x) => x.proxyId === 'web-1.shop')?.types[TYPE_WORKLOAD]?.nack ? s.find((x) => x.proxyId === 'web-1.shop') : undefined;
    }, 5000);
    t.equal(e.types[TYPE_WORKLOAD].nack.message, 'authorization[0].rules[0]: cannot apply');
    t.equal(e.types[TYPE_WORKLOAD].acked, good, 'acked is still the last good version');
    t.not(e.types[TYPE_WORKLOAD].sent, good);
    web.nack = () => undefined;
    // the next change is ACKed and clears the NACK
    await api.client.patch(R.authorizationpolicies, 'deny-all', { metadata: { labels: { x: '1' } }, spec: { rules: [{ from: [{ source: { notNamespaces: ['shop', 'ops'] } }] }] } }, { type: 'merge', namespace: 'shop' });
    await waitFor('ACK clears the NACK', async () => {
      const s = (await (await fetch(`${mc.debugUrl}/debug/syncz`)).json()) as any[];
      const x = s.find((y) => y.proxyId === 'web-1.shop')?.types[TYPE_WORKLOAD];
      return x && !x.nack && x.acked === x.sent;
    }, 5000);
    const dump: any = await (await fetch(`${mc.debugUrl}/debug/config_dump?proxyID=web-1.shop`)).json();
    t.equal(dump[TYPE_WORKLOAD][0].workload.authorization[0].name, 'deny-all');
  });

  await t.test('CA: the token identity gets a certificate, another identity is refused', async (t) => {
    const key = newKey('ec');
    const chain = await createCert(target(), root, webToken, buildCsr(key.privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/web'] }), 3600);
    t.equal(chain.length, 2, 'leaf + root');
    const leaf = new X509Certificate(chain[0]!);
    t.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
    t.ok(leaf.verify(new X509Certificate(root).publicKey), 'signed by the root');
    t.equal(chain[1]!.trim(), root.trim());
    const life = Date.parse(leaf.validTo) - Date.now();
    t.ok(life > 3500_000 && life <= 3600_000, `validity as asked (${life} ms)`);
    const long = new X509Certificate((await createCert(target(), root, webToken, buildCsr(key.privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/web'] }), 7 * 86400))[0]!);
    t.ok(Date.parse(long.validTo) - Date.now() <= 24 * 3600_000, 'capped at 24 h');

    const other = createCert(target(), root, webToken, buildCsr(key.privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/db'] }));
    await t.rejects(other, { code: grpc.status.PERMISSION_DENIED, details: /sa\/db.*may only have.*sa\/web/ });
    t.ok(logs.some((l) => l.startsWith('warn CSR refused') && l.includes('sa/db')), 'the refusal is logged');
    await t.rejects(createCert(target(), root, 'not-a-token', buildCsr(key.privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/web'] })), { code: grpc.status.UNAUTHENTICATED });
    await t.rejects(createCert(target(), root, webToken, 'garbage'), { code: grpc.status.INVALID_ARGUMENT });
    t.ok(mc.reviewer.reviews >= 2, 'tokens were checked through TokenReview');
    const metrics = await (await fetch(`${mc.debugUrl}/metrics`)).text();
    t.match(metrics, /^citadel_server_success_cert_issuance_count 2$/m);
    t.match(metrics, /^citadel_server_csr_sign_err_count 2$/m, 'other SA + garbage');
    t.match(metrics, /^citadel_server_authentication_failure_count 1$/m);
    t.match(metrics, /^pilot_xds 2$/m);
    t.match(metrics, /^pilot_total_xds_rejects\{type="type\.shoal\.io\/shoal\.mesh\.v1\.Workload"\} 1$/m);
  });

  await t.test('a stream whose node is not the token\'s identity is refused', async (t) => {
    const liar = new AdsClient(target(), root, webToken, node('db-1', 'db'), [TYPE_WORKLOAD]).connect();
    clients.push(liar);
    await waitFor('refusal', async () => liar.error, 5000);
    t.equal(liar.error!.code, grpc.status.PERMISSION_DENIED);
    t.match(liar.error!.details, /runs as ServiceAccount db, the token is for web/);
  });

  await t.test('istiod Service, Endpoints and the root cert ConfigMap in every namespace', async (t) => {
    const ep: any = await waitFor('istiod endpoints', () => api.client.get({ apiVersion: 'v1', plural: 'endpoints', namespaced: true }, 'istiod', { namespace: 'istio-system' }).catch(() => undefined));
    t.equal(ep.subsets[0].addresses[0].ip, '127.0.0.1');
    const cm: any = await waitFor('root cert in shop', () => api.client.get(R.configmaps, 'istio-ca-root-cert', { namespace: 'shop' }).catch(() => undefined));
    t.equal(cm.data['root-cert.pem'], root);
    await waitFor('root cert in default', () => api.client.get(R.configmaps, 'istio-ca-root-cert', { namespace: 'default' }).catch(() => undefined));
  });

  await t.test('killed and restarted: clients reconnect and resume; same root', async (t) => {
    const port = mc.grpcPort;
    await mc.stop();
    await waitFor('streams see the outage', async () => web.error && db.error, 5000);
    mc = await startMesh(api, { grpcPort: port }, logs);
    await waitFor('ready again', async () => mc.ready(), 20_000);
    t.equal(mc.ca.rootPem, root, 'the root persisted in the state dir');
    const versions = new Map(TYPES.map((ty) => [ty, web.acked.get(ty)]));
    for (const c of [web, db]) {
      c.error = undefined;
      c.received.length = 0;
      c.connect();
    }
    await web.until(() => TYPES.every((ty) => web.of(ty).length > 0), 10_000, 'resubscribed');
    for (const ty of TYPES) t.equal(web.of(ty).at(-1)!.versionInfo, versions.get(ty), `${ty}: same content, same version after restart`);
    await api.client.delete(R.peerauthentications, 'db-strict', { namespace: 'shop' });
    await db.until(() => db.of(TYPE_WORKLOAD).at(-1)?.resources[0]?.workload?.peerAuthentication.mode === 'PERMISSIVE', 5000, 'push after restart');
    t.pass('pushes resume');
  });
});
