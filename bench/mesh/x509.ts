// Cost of the mesh CA's X.509 work, per library: key generation (RSA 2048 vs EC P-256), a CSR (the
// sidecar's side) and issuing a certificate from a CSR (mesh control's side: parse, verify, build, sign).
//   node-forge: RSA only (no EC keys, CSRs or certificates), signs in JavaScript.
//   node:crypto + der.ts: Node 20 cannot build certificates (X509Certificate only reads them), so the
//   TBSCertificate is DER-encoded by control-plane/mesh/ca/der.ts and signed with crypto.sign (OpenSSL).
// Usage: node dist/bench/mesh/x509.js [iterations]. Not a test.

import { createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { buildCertificate, buildCsr, makeRoot, newKey, parseCsr, signerOf } from '../../control-plane/mesh/ca/x509.js';

const N = Number(process.argv[2] ?? 50);
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/web';

function time(label: string, n: number, fn: () => void): number {
  fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  console.log(`${label.padEnd(58)} ${ms.toFixed(3).padStart(9)} ms`);
  return ms;
}

console.log(`X.509 costs, mean of ${N} (Node ${process.version})\n`);
console.log('key generation');
time('node:crypto RSA 2048', Math.max(5, N / 5), () => newKey('rsa'));
time('node:crypto EC P-256', N, () => newKey('ec'));
time('node-forge RSA 2048 (forge calls node:crypto when present)', 3, () => forge.pki.rsa.generateKeyPair({ bits: 2048, workers: -1, prng: undefined as any, algorithm: 'PRIMEINC' } as any));

console.log('\nCSR (sidecar side: sign a request for its SPIFFE ID)');
const rsaLeaf = newKey('rsa');
const ecLeaf = newKey('ec');
time('der.ts + crypto.sign, RSA 2048 key', N, () => buildCsr(rsaLeaf.privateKey, { uris: [SPIFFE] }));
time('der.ts + crypto.sign, EC P-256 key', N, () => buildCsr(ecLeaf.privateKey, { uris: [SPIFFE] }));
const fKey = forge.pki.privateKeyFromPem(rsaLeaf.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
const fPub = forge.pki.publicKeyFromPem(createPublicKey(rsaLeaf.privateKey).export({ type: 'spki', format: 'pem' }).toString());
const forgeCsr = () => {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = fPub;
  csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: [{ type: 6, value: SPIFFE }] }] }]);
  csr.sign(fKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
};
time('node-forge, RSA 2048 key', N, forgeCsr);

console.log('\nissue a certificate from a CSR (mesh control: parse + verify CSR, build, sign)');
const rsaCsr = buildCsr(rsaLeaf.privateKey, { uris: [SPIFFE] });
const ecCsr = buildCsr(ecLeaf.privateKey, { uris: [SPIFFE] });
for (const caType of ['rsa', 'ec'] as const) {
  const root = makeRoot(caType);
  const signer = signerOf(root.keyPem, root.certPem);
  for (const [leafType, csr] of [['RSA', rsaCsr], ['EC', ecCsr]] as const) {
    time(`der.ts + crypto.sign: ${caType.toUpperCase()} CA, ${leafType} leaf`, N, () => {
      const c = parseCsr(csr);
      buildCertificate({ spki: c.spki, sans: c.sans, notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) }, signer);
    });
  }
}
const fRoot = makeRoot('rsa');
const fCaKey = forge.pki.privateKeyFromPem(fRoot.keyPem.includes('BEGIN PRIVATE KEY') ? forge.pki.privateKeyToPem(forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(forge.util.decode64(fRoot.keyPem.replace(/-----[^-]+-----|\s/g, ''))))) : fRoot.keyPem);
const fCaCert = forge.pki.certificateFromPem(fRoot.certPem);
const fCsrPem = forgeCsr();
time('node-forge: RSA CA, RSA leaf (EC leaf: unsupported)', N, () => {
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
