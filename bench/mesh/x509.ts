// Cost of the mesh's X.509 work per operation, per implementation, same run: key generation (RSA 2048 vs
// EC P-256), a CSR (the sidecar's side), issuing a certificate from a CSR (mesh control's side: parse,
// verify, build, sign) and verifying a leaf against its issuer.
//   der.ts + crypto.sign: proxy/identity/x509.ts, the one module the CA and the sidecar use (DER written
//   by proxy/identity/der.ts, keys and signatures by node:crypto / OpenSSL).
//   @peculiar/x509 v2: the candidate in ./x509-peculiar.ts (ASN.1 in JS, signatures through WebCrypto).
//   node-forge: RSA only (what the sidecar's CSR used before).
// Usage: node dist/bench/mesh/x509.js [iterations]. Not a test.

import { X509Certificate, createPublicKey, webcrypto } from 'node:crypto';
import forge from 'node-forge';
import * as cur from '../../proxy/identity/x509.js';
import * as px from './x509-peculiar.js';

const N = Number(process.argv[2] ?? 50);
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/web';

async function time(label: string, n: number, fn: () => unknown): Promise<number> {
  await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  console.log(`${label.padEnd(62)} ${ms.toFixed(3).padStart(9)} ms`);
  return ms;
}

async function main(): Promise<void> {
  console.log(`X.509 costs, mean of ${N} (Node ${process.version})\n`);
  console.log('key generation');
  await time('node:crypto generateKeyPairSync RSA 2048', Math.max(5, N / 5), () => px.newKey('rsa'));
  await time('node:crypto generateKeyPairSync EC P-256', N, () => px.newKey('ec'));
  await time('WebCrypto generateKey RSA 2048', Math.max(5, N / 5), () => webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']));
  await time('WebCrypto generateKey EC P-256', N, () => webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
  await time('node-forge RSA 2048 (forge calls node:crypto when present)', 3, () => forge.pki.rsa.generateKeyPair({ bits: 2048, workers: -1, prng: undefined as any, algorithm: 'PRIMEINC' } as any));

  console.log('\nCSR (sidecar side: sign a request for its SPIFFE ID)');
  const rsaLeaf = px.newKey('rsa');
  const ecLeaf = px.newKey('ec');
  for (const [t, k] of [['RSA 2048', rsaLeaf], ['EC P-256', ecLeaf]] as const) {
    await time(`@peculiar/x509, ${t} key`, N, () => px.buildCsr(k.privateKey, SPIFFE));
    await time(`der.ts + crypto.sign, ${t} key`, N, () => cur.buildCsr(k.privateKey, { uris: [SPIFFE] }));
  }
  const fKey = forge.pki.privateKeyFromPem(rsaLeaf.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const fPub = forge.pki.publicKeyFromPem(createPublicKey(rsaLeaf.privateKey).export({ type: 'spki', format: 'pem' }).toString());
  const forgeCsr = () => {
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = fPub;
    csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: [{ type: 6, value: SPIFFE }] }] }]);
    csr.sign(fKey, forge.md.sha256.create());
    return forge.pki.certificationRequestToPem(csr);
  };
  await time('node-forge, RSA 2048 key (EC: unsupported)', N, forgeCsr);

  console.log('\nissue a certificate from a CSR (mesh control: parse + verify CSR, build, sign)');
  const csrs = { RSA: await px.buildCsr(rsaLeaf.privateKey, SPIFFE), EC: await px.buildCsr(ecLeaf.privateKey, SPIFFE) };
  const leaves: Record<string, { leaf: string; root: string }> = {};
  for (const caType of ['rsa', 'ec'] as const) {
    const root = await px.makeRoot(caType);
    const signer = px.signerOf(root.keyPem, root.certPem);
    for (const [leafType, csr] of Object.entries(csrs)) {
      await time(`@peculiar/x509: ${caType.toUpperCase()} CA, ${leafType} leaf`, N, async () => {
        const c = await px.parseCsr(csr);
        leaves[caType] = { root: root.certPem, leaf: await px.buildCertificate({ spki: c.spki, sans: c.sans, notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) }, signer) };
      });
      {
        const os = cur.signerOf(root.keyPem, root.certPem);
        await time(`der.ts + crypto.sign: ${caType.toUpperCase()} CA, ${leafType} leaf`, N, () => {
          const c = cur.parseCsr(csr);
          cur.buildCertificate({ spki: c.spki, sans: c.sans, notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) }, os);
        });
      }
    }
  }
  const fRoot = await px.makeRoot('rsa');
  const fCaKey = forge.pki.privateKeyFromPem(fRoot.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const fCaCert = forge.pki.certificateFromPem(fRoot.certPem);
  const fCsrPem = forgeCsr();
  await time('node-forge: RSA CA, RSA leaf (EC leaf: unsupported)', N, () => {
    const csr = forge.pki.certificationRequestFromPem(fCsrPem);
    if (!csr.verify()) throw new Error('csr');
    const cert = forge.pki.createCertificate();
    cert.publicKey = csr.publicKey!;
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + 86400_000);
    cert.setIssuer(fCaCert.subject.attributes);
    cert.setExtensions([{ name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: SPIFFE }] }]);
    cert.sign(fCaKey, forge.md.sha256.create());
    forge.pki.certificateToPem(cert);
  });

  console.log('\nverify a leaf against its issuer');
  for (const caType of ['rsa', 'ec'] as const) {
    const { leaf, root } = leaves[caType]!;
    await time(`@peculiar/x509 X509Certificate.verify, ${caType.toUpperCase()} CA`, N, async () => { if (!(await px.verifyIssued(leaf, root))) throw new Error('verify'); });
    await time(`node:crypto X509Certificate.verify, ${caType.toUpperCase()} CA`, N, () => { if (!new X509Certificate(leaf).verify(new X509Certificate(root).publicKey)) throw new Error('verify'); });
  }
}

void main();
