// The mesh CA: the signing policy (exactly the caller's SPIFFE ID, validity capped), a plugged-in CA from
// Istio's `cacerts` Secret (intermediate + root, chain leaf → intermediate → root, checked by openssl),
// and mesh control choosing `cacerts` over its own root when the Secret exists.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../control-plane/mesh/ca/authority.js';
import { buildCertificate, buildCsr, certSans, makeRoot, newKey, signerOf } from '../../proxy/identity/x509.js';
import { R, meshCredentials, startApi, startMesh } from './fixture.js';
import { loadMeshProto } from '../../proto/load.js';
import { waitFor } from '../wait.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/web';

/** Flips one byte of the CSR's signature. */
function tamper(csrPem: string): string {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] = der[der.length - 5]! ^ 0xff;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function plugged() {
  const root = makeRoot('rsa');
  const ik = newKey('ec');
  const inter = buildCertificate({ spki: ik.spki, ca: true, subject: { o: 'cluster.local', cn: 'Intermediate CA' }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 2 * 3600_000) }, signerOf(root.keyPem, root.certPem));
  return { root, inter, interKey: ik.keyPem };
}

t.test('signing policy', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-meshca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = CertificateAuthority.selfSigned(join(dir, 'mesh'), 3600);
  t.equal(CertificateAuthority.selfSigned(join(dir, 'mesh')).rootPem, ca.rootPem, 'the root is made once and reused');
  const key = newKey('ec').privateKey;
  const rows: { name: string; csr: string; ttl: number; want: RegExp | 'ok' }[] = [
    { name: 'the identity', csr: buildCsr(key, { uris: [ID] }), ttl: 600, want: 'ok' },
    { name: 'another SA', csr: buildCsr(key, { uris: ['spiffe://cluster.local/ns/shop/sa/db'] }), ttl: 600, want: /may only have/ },
    { name: 'two URIs', csr: buildCsr(key, { uris: [ID, 'spiffe://cluster.local/ns/shop/sa/db'] }), ttl: 600, want: /may only have/ },
    { name: 'a DNS name too', csr: buildCsr(key, { uris: [ID], dns: ['web.shop.svc'] }), ttl: 600, want: /may only have/ },
    { name: 'no SAN', csr: buildCsr(key, {}), ttl: 600, want: /may only have/ },
    { name: 'negative validity', csr: buildCsr(key, { uris: [ID] }), ttl: -1, want: /validity_duration/ },
    { name: 'tampered CSR (signature)', csr: tamper(buildCsr(key, { uris: [ID] })), ttl: 600, want: /csr: signature does not verify/ },
    { name: 'not a CSR', csr: 'hello', ttl: 600, want: /csr: not a PEM CERTIFICATE REQUEST/ },
  ];
  for (const r of rows) {
    if (r.want === 'ok') t.equal(new X509Certificate(ca.sign(r.csr, ID, r.ttl)[0]!).subjectAltName, `URI:${ID}`, r.name);
    else t.throws(() => ca.sign(r.csr, ID, r.ttl), r.want, r.name);
  }
  t.throws(() => ca.sign(rows[1]!.csr, ID, 60), { name: 'CsrRefused', code: 'denied' });
  const capped = new X509Certificate(ca.sign(rows[0]!.csr, ID, 86400)[0]!);
  t.ok(Date.parse(capped.validTo) - Date.now() <= 3600_000, 'capped at the maximum');
  const dflt = new X509Certificate(ca.sign(rows[0]!.csr, ID, 0)[0]!);
  t.ok(Date.parse(dflt.validTo) - Date.now() > 3500_000, '0 means the default (= max here)');
});

t.test('plugged-in CA: chain leaf → intermediate → root, validity within the intermediate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-meshca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = plugged();
  t.throws(() => CertificateAuthority.fromPlugged({ 'ca-cert.pem': p.inter, 'root-cert.pem': p.root.certPem } as any), /missing ca-key\.pem/);
  t.throws(() => CertificateAuthority.fromPlugged({ 'ca-cert.pem': p.inter, 'ca-key.pem': p.root.keyPem, 'root-cert.pem': p.root.certPem }), /does not match/);
  const ca = CertificateAuthority.fromPlugged({ 'ca-cert.pem': p.inter, 'ca-key.pem': p.interKey, 'root-cert.pem': p.root.certPem, 'cert-chain.pem': p.inter + p.root.certPem });
  const chain = ca.sign(buildCsr(newKey('rsa').privateKey, { uris: [ID] }), ID, 86400);
  t.equal(chain.length, 3);
  t.same(certSans(chain[0]!).uris, [ID]);
  const leaf = new X509Certificate(chain[0]!);
  t.ok(Date.parse(leaf.validTo) <= Date.parse(new X509Certificate(p.inter).validTo), 'not past the intermediate');
  writeFileSync(join(dir, 'root.pem'), chain[2]!);
  writeFileSync(join(dir, 'inter.pem'), chain[1]!);
  writeFileSync(join(dir, 'leaf.pem'), chain[0]!);
  const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'inter.pem'), '-purpose', 'sslserver', join(dir, 'leaf.pem')], { encoding: 'utf8' });
  t.match(out, /leaf\.pem: OK/);
  const serving = ca.servingCert(['istiod.istio-system.svc'], ['127.0.0.1']);
  t.same(certSans(serving.certPem), { uris: [], dns: ['istiod.istio-system.svc'], ips: ['127.0.0.1'] });
});

t.test('mesh control uses Secret istio-system/cacerts when it exists', async (t) => {
  const api = await startApi('shoalt-meshcacerts-');
  t.teardown(() => api.close());
  const p = plugged();
  await api.tokenFor('istio-system', 'default');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await api.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, data: { 'ca-cert.pem': b64(p.inter), 'ca-key.pem': b64(p.interKey), 'root-cert.pem': b64(p.root.certPem), 'cert-chain.pem': b64(p.inter + p.root.certPem) } } as any, { namespace: 'istio-system' });
  const mc = await startMesh(api);
  t.teardown(() => mc.stop());
  t.equal(mc.ca.rootPem, p.root.certPem);
  t.equal(mc.ca.source, 'Secret istio-system/cacerts');
  const cm: any = await waitFor('root cert published', () => api.client.get(R.configmaps, 'istio-ca-root-cert', { namespace: 'default' }).catch(() => undefined));
  t.equal(cm.data['root-cert.pem'], p.root.certPem, 'the plugged root is what pods trust');
});

t.test('a cacerts Secret created or deleted later takes effect without a restart', async (t) => {
  const api = await startApi('shoalt-meshcareload-');
  t.teardown(() => api.close());
  const mc = await startMesh(api);
  t.teardown(() => mc.stop());
  await waitFor('ready', async () => mc.ready(), 20_000);
  const own = mc.ca.rootPem;
  const token = await api.tokenFor('shop', 'web');
  const p = plugged();
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  await api.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, data: { 'ca-cert.pem': b64(p.inter), 'ca-key.pem': b64(p.interKey), 'root-cert.pem': b64(p.root.certPem) } } as any, { namespace: 'istio-system' });
  await waitFor('root cert ConfigMap updated', async () => ((await api.client.get(R.configmaps, 'istio-ca-root-cert', { namespace: 'shop' })) as any).data['root-cert.pem'] === p.root.certPem, 10_000);
  const chain = await waitFor('a certificate from the new CA over the new serving certificate', () => createCert(`127.0.0.1:${mc.grpcPort}`, p.root.certPem, token, buildCsr(newKey('ec').privateKey, { uris: [ID] })).catch(() => undefined), 10_000);
  t.equal(chain.length, 3, 'leaf, intermediate, root');
  t.equal(chain[2], p.root.certPem);
  await api.client.delete(R.secrets, 'cacerts', { namespace: 'istio-system' });
  await waitFor('back to the own root', async () => mc.ca.rootPem === own, 10_000);
  const back = await waitFor('a certificate from the own root', () => createCert(`127.0.0.1:${mc.grpcPort}`, own, token, buildCsr(newKey('ec').privateKey, { uris: [ID] })).catch(() => undefined), 10_000);
  t.equal(back.length, 2);
});

function createCert(target: string, rootPem: string, token: string, csr: string): Promise<string[]> {
  const { IstioCertificateService } = loadMeshProto();
  const c = new IstioCertificateService(target, meshCredentials(rootPem, token), { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' });
  return new Promise((res, rej) => (c as any).CreateCertificate({ csr, validityDuration: 600 }, (e: Error | null, r: any) => {
    c.close();
    return e ? rej(e) : res(r.certChain);
  }));
}

t.test('issued leaves work for mutual TLS in node:tls (EC and RSA keys, SPIFFE identity checked)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-meshca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = CertificateAuthority.selfSigned(join(dir, 'mesh'));
  const issue = (type: 'ec' | 'rsa', id: string) => {
    const k = newKey(type);
    const chain = ca.sign(buildCsr(k.privateKey, { uris: [id] }), id, 600);
    return { key: k.keyPem, cert: chain.slice(0, -1).join('') };
  };
  const server = issue('ec', 'spiffe://cluster.local/ns/shop/sa/db');
  const client = issue('rsa', ID);
  let peer = '';
  const srv = createServer({ ...server, ca: ca.rootPem, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
    peer = s.getPeerX509Certificate()?.subjectAltName ?? '';
    s.end('ok');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const got = await new Promise<string>((res, rej) => {
    const c = connect({ host: '127.0.0.1', port, ...client, ca: ca.rootPem, checkServerIdentity: (_h, cert) => (cert.subjectaltname === 'URI:spiffe://cluster.local/ns/shop/sa/db' ? undefined : new Error(`unexpected ${cert.subjectaltname}`)) }, () => undefined);
    let data = '';
    c.on('data', (d) => (data += d));
    c.on('end', () => res(data));
    c.on('error', rej);
  });
  t.equal(got, 'ok');
  t.equal(peer, `URI:${ID}`, 'the server sees the client identity');
});
