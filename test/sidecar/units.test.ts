// Pure parts of the proxy: config validation (NACK reasons with field paths), the store and the route an
// outbound connection takes, round robin, ClientHello sniffing, CSRs, backoff and sidecar flags.
import t from 'tap';
import { generateKeyPairSync, createPublicKey, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { createServer } from 'node:net';
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD, type MeshEndpoints, type MeshService, type Workload } from '../../proxy/config/types.js';
import { resolveOutbound } from '../../proxy/outbound/route.js';
import { ClusterBalancers } from '../../proxy/outbound/balance.js';
import { sniffClientHello, isMeshTls } from '../../proxy/inbound/sniff.js';
import { buildCertificate, buildCsr, parseCsr, signerOf } from '../../proxy/identity/x509.js';
import { peerSpiffe } from '../../proxy/identity/spiffe.js';
import { backoffDelay, unpack } from '../../proxy/discovery/client.js';
import { parseSidecarFlags, parseDurationSec } from '../../sidecar/flags.js';
import { cidrError } from '../../proxy/net/cidr.js';
import { FdBudget } from '../../proxy/net/limits.js';
import { parseAuthority } from '../../proxy/hbone/server.js';

const svc: MeshService = { name: 'web', namespace: 'foo', hostname: 'web.foo.svc.cluster.local', vips: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: '' }] };
const ep = (address: string, mesh: boolean, o: object = {}) => ({
  address, ports: [{ name: 'http', port: 8080 }], podName: `web-${address}`, namespace: 'foo', serviceAccount: 'web',
  identity: mesh ? 'spiffe://cluster.local/ns/foo/sa/web' : '', mesh, labels: {}, ready: true, ...o,
});
const eps: MeshEndpoints = { service: 'foo/web', endpoints: [ep('10.244.0.2', true), ep('10.244.0.3', false), ep('10.244.0.4', true, { ready: false })] };
const workload: Workload = {
  name: 'client', namespace: 'foo', serviceAccount: 'client', identity: 'spiffe://cluster.local/ns/foo/sa/client', ip: '10.244.0.9', labels: {},
  peerAuthentication: { mode: 'STRICT', portModes: { 9000: 'PERMISSIVE' }, sources: [] }, authorization: [],
};

t.test('validation errors name the field', async (t) => {
  const s = new ConfigStore();
  const rows: { type: string; res: unknown[]; want: RegExp }[] = [
    { type: TYPE_SERVICE, res: [{ ...svc, vips: ['10.96.0.300'] }], want: /resources\[0\]\.vips\[0\]: "10.96.0.300" is not an IP address/ },
    { type: TYPE_SERVICE, res: [{ ...svc, ports: [{ name: 'x', port: 70000 }] }], want: /resources\[0\]\.ports\[0\]\.port: must be between 1 and 65535/ },
    { type: TYPE_ENDPOINTS, res: [{ service: 'web', endpoints: [] }], want: /resources\[0\]\.service: must be namespace\/name/ },
    { type: TYPE_ENDPOINTS, res: [{ service: 'foo/web', endpoints: [{ ...ep('nope', true) }] }], want: /resources\[0\]\.endpoints\[0\]\.address/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, peerAuthentication: { mode: 'STRICTEST', portModes: {}, sources: [] } }], want: /resources\[0\]\.peerAuthentication\.mode: unsupported value "STRICTEST"/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, peerAuthentication: { mode: 'STRICT', portModes: { 80: 'LOOSE' }, sources: [] } }], want: /portModes\[80\]: unsupported value "LOOSE"/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, authorization: [{ name: 'p', namespace: 'foo', action: 'ALLOW', rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] }] }], want: /authorization\[0\]\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "10.0.0.0\/33": prefix length must be 0-32/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, authorization: [{ name: 'p', namespace: 'foo', action: 'ALLOW', rules: [{ from: [{ source: { notIpBlocks: ['not-a-cidr'] } }] }] }] }], want: /notIpBlocks\[0\]: "not-a-cidr": not an IP address or CIDR block/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, authorization: [{ name: 'p', namespace: 'foo', action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['http'] } }] }] }] }], want: /operation\.ports\[0\]: "http" is not a port number/ },
    { type: TYPE_WORKLOAD, res: [{ ...workload, authorization: [{ name: 'p', namespace: 'foo', action: 'CUSTOM' }] }], want: /action: CUSTOM .* not supported/ },
    { type: TYPE_WORKLOAD, res: [], want: /exactly one Workload/ },
    { type: 'type.example/Other', res: [], want: /unknown type/ },
  ];
  for (const r of rows) t.match(s.apply(r.type, 'v1', r.res).join('\n'), r.want, String(r.want));
  t.same(s.snapshot.config.versions, {}, 'nothing applied');
});

t.test('a rejected update keeps the last good config', async (t) => {
  const s = new ConfigStore();
  t.same(s.apply(TYPE_WORKLOAD, 'v1', [workload]), []);
  const before = s.snapshot;
  t.ok(s.apply(TYPE_WORKLOAD, 'v2', [{ ...workload, peerAuthentication: { mode: 'NOPE', portModes: {}, sources: [] } }]).length);
  t.equal(s.snapshot, before);
  t.equal(s.snapshot.config.versions[TYPE_WORKLOAD], 'v1');
  t.notOk(s.complete);
  s.apply(TYPE_SERVICE, 'a', [svc]);
  s.apply(TYPE_ENDPOINTS, 'b', [eps]);
  t.notOk(s.complete, 'routes not applied yet');
  s.apply(TYPE_ROUTES, 'c', []);
  t.ok(s.complete);
  t.equal(s.snapshot.peerMode(9000), 'PERMISSIVE', 'port-level mode');
  t.equal(s.snapshot.peerMode(80), 'STRICT', 'workload mode');
  const s2 = new ConfigStore();
  t.equal(s2.snapshot.peerMode(80), 'PERMISSIVE', 'no policy: Istio default PERMISSIVE');
});

t.test('outbound routes', async (t) => {
  const s = new ConfigStore();
  s.apply(TYPE_SERVICE, '1', [svc]);
  s.apply(TYPE_ENDPOINTS, '1', [eps, { service: 'foo/empty', endpoints: [] }]);
  s.apply(TYPE_SERVICE, '2', [svc, { ...svc, name: 'empty', vips: ['10.96.0.11'] }]);
  // the DestinationRule's policy picks the engine balancer (Istio's default would be LEAST_REQUEST)
  t.same(s.apply(TYPE_ROUTES, '3', [{ kind: 'DestinationRule', namespace: 'foo', name: 'web', creationTimestamp: '', resourceVersion: '1',
    specJson: JSON.stringify({ host: 'web', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }) }]), []);
  const rr = new ClusterBalancers();
  const a = resolveOutbound(s.snapshot, '10.96.0.10', 80, rr);
  const b = resolveOutbound(s.snapshot, '10.96.0.10', 80, rr);
  const c = resolveOutbound(s.snapshot, '10.96.0.10', 80, rr);
  t.match(a, { kind: 'mesh', address: '10.244.0.2', port: 8080, identity: 'spiffe://cluster.local/ns/foo/sa/web', service: 'foo/web' });
  t.match(b, { kind: 'plain', address: '10.244.0.3', port: 8080 }, 'round robin; not-ready endpoint skipped; non-mesh → plain');
  t.match(c, { kind: 'mesh', address: '10.244.0.2' });
  t.match(resolveOutbound(s.snapshot, '10.244.0.2', 8080, rr), { kind: 'mesh', address: '10.244.0.2', port: 8080 }, 'pod IP');
  t.match(resolveOutbound(s.snapshot, '::ffff:10.244.0.3', 9, rr), { kind: 'plain', address: '10.244.0.3', port: 9 });
  t.match(resolveOutbound(s.snapshot, '1.1.1.1', 443, rr), { kind: 'passthrough', address: '1.1.1.1', port: 443 });
  t.match(resolveOutbound(s.snapshot, '10.96.0.10', 81, rr), { kind: 'passthrough' }, 'unknown port of a VIP');
  t.match(resolveOutbound(s.snapshot, '10.96.0.11', 80, rr), { kind: 'no-endpoints', service: 'foo/empty' });

  // no policy: LEAST_REQUEST over open connections; a released endpoint is free again
  const lr = new ClusterBalancers();
  const eps2 = [ep('10.244.0.7', true), ep('10.244.0.8', true)];
  const key = 'outbound|80||web.foo.svc.cluster.local';
  const first = lr.pick(eps2, { key, sourceIp: '' })!;
  const second = lr.pick(eps2, { key, sourceIp: '' })!;
  t.not(second.address, first.address, 'LEAST_REQUEST: the endpoint without an open connection');
  lr.release(key, first);
  t.equal(lr.pick(eps2, { key, sourceIp: '' })!.address, first.address, 'after release the idle one again');
});

t.test('ClientHello sniffing', async (t) => {
  // A real ClientHello from Node's TLS client, captured by a plain TCP server.
  const capture = (alpn: string[]) => new Promise<Buffer>((resolve) => {
    const srv = createServer((sock) => sock.once('data', (d) => { resolve(d); sock.destroy(); srv.close(); })).listen(0, '127.0.0.1', () => {
      const c = tlsConnect({ host: '127.0.0.1', port: (srv.address() as { port: number }).port, ALPNProtocols: alpn, servername: 'web.foo' });
      c.on('error', () => {});
    });
  });
  const mesh = await capture(['istio-peer-exchange', 'istio']);
  const s = sniffClientHello(mesh);
  t.match(s, { kind: 'tls', alpn: ['istio-peer-exchange', 'istio'], sni: 'web.foo' });
  t.ok(isMeshTls(s));
  t.equal(sniffClientHello(mesh.subarray(0, 20)).kind, 'need-more', 'partial record');
  const app = sniffClientHello(await capture(['h2']));
  t.equal(app.kind, 'tls');
  t.notOk(isMeshTls(app), 'app TLS is not mesh mTLS');
  t.equal(sniffClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'plain');
  t.equal(sniffClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0])).kind, 'plain', 'not a ClientHello');
  t.equal(sniffClientHello(Buffer.from([0x16, 0x09])).kind, 'plain', 'garbage version');
});

t.test('CSR with the SPIFFE URI SAN, EC and RSA; certificates', async (t) => {
  for (const type of ['ec', 'rsa'] as const) {
    const { privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const csr = buildCsr(privateKey, 'spiffe://cluster.local/ns/foo/sa/web');
    t.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const r = parseCsr(csr);
    t.same(r.sans.uris, ['spiffe://cluster.local/ns/foo/sa/web'], `${type}: URI SAN`);
    t.ok(r.publicKey.equals(createPublicKey(privateKey)), `${type}: public key`);
    const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Date.now();
    const root = buildCertificate({ spki: ca.publicKey.export({ type: 'spki', format: 'der' }), subject: { o: 'test' }, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), ca: true }, { key: ca.privateKey, selfSigned: true });
    const leaf = buildCertificate({ spki: r.spki, sans: { uris: r.sans.uris }, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) }, signerOf(ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), root));
    const x = new X509Certificate(leaf);
    t.ok(x.verify(new X509Certificate(root).publicKey), `${type}: leaf verifies with the root`);
    t.ok(x.checkPrivateKey(privateKey));
    t.equal(peerSpiffe({ subjectaltname: x.subjectAltName } as never), 'spiffe://cluster.local/ns/foo/sa/web');
  }
  t.match(String(peerSpiffe({ subjectaltname: 'DNS:web' } as never)), /no SPIFFE URI SAN/);
});

t.test('backoff, authority, CIDR text, budget, resource unpacking', async (t) => {
  const ds = [0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, 500, 10_000, () => 1));
  t.same(ds, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000], 'doubling, capped at 10 s');
  t.equal(backoffDelay(0, 500, 10_000, () => 0), 250, 'jitter: at least half');
  t.same(parseAuthority('10.0.0.1:80'), { host: '10.0.0.1', port: 80 });
  t.same(parseAuthority('[fd00::1]:443'), { host: 'fd00::1', port: 443 });
  t.equal(parseAuthority('10.0.0.1'), null);
  t.equal(parseAuthority('10.0.0.1:99999'), null);
  t.equal(cidrError('10.0.0.0/8'), null);
  t.equal(cidrError('fd00::/8'), null);
  t.match(cidrError('10.0.0.0/8/1') ?? '', /prefix length/);
  const b = new FdBudget(100, 10);
  t.ok(b.take(88));
  t.notOk(b.take(4), 'past the budget');
  t.equal(b.counters.refused, 1);
  b.give(88);
  t.equal(b.inUse, 0);
  t.same(unpack({ name: 'foo/web', kind: 'service', service: svc as never }), svc);
});

t.test('sidecar flags', async (t) => {
  const env = { POD_NAME: 'web-1', POD_NAMESPACE: 'foo', INSTANCE_IP: '10.244.0.2', SERVICE_ACCOUNT: 'web', SHOAL_CERT_TTL: '30s' };
  const ok = parseSidecarFlags([], env);
  t.same(ok.problems, []);
  t.match(ok.settings, { podName: 'web-1', tunnel: 'hbone', certTtlSec: 30, keyType: 'ec', caAddr: 'istiod.istio-system.svc:15012', ports: { outbound: 15001, inbound: 15006, hbone: 15008 } });
  const bad = parseSidecarFlags(['--tunnel', 'udp', '--admin-port', '0', '--bogus', 'x'], { INSTANCE_IP: 'x', SHOAL_CERT_TTL: 'soon' });
  t.match(bad.problems.join('\n'), /unknown flag: --bogus/);
  t.match(bad.problems.join('\n'), /--admin-port: must be a port/);
  t.match(bad.problems.join('\n'), /POD_NAME: required/);
  t.match(bad.problems.join('\n'), /INSTANCE_IP: "x" is not an IP address/);
  t.match(bad.problems.join('\n'), /SHOAL_CERT_TTL: must be a duration/);
  t.ok(bad.problems.length >= 6, 'every problem listed');
  t.equal(parseDurationSec('1h30m'), 5400);
  t.equal(parseDurationSec('500ms'), 0.5);
  t.equal(parseDurationSec('1x'), undefined);
});
