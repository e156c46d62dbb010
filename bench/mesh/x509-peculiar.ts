// The @peculiar/x509 candidate for the mesh's X.509 work (benchmark only): the same operations as
// proxy/identity/x509.ts (key, CSR with a SPIFFE URI SAN, parse + verify a CSR, sign leaves and roots,
// verify a leaf), on @peculiar/x509 v2 (ASN.1 in JS, signatures through WebCrypto). It was the planned
// replacement for the hand-written DER; bench/mesh/x509.js measured it 4-20x slower per operation and
// ~15 MB more RSS when loaded, so it stays here only to re-measure (bench/mesh/README.md).

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import type { Csr, Sans } from '../../proxy/identity/x509.js';

type CryptoKey = webcrypto.CryptoKey;
x509.cryptoProvider.set(webcrypto as never);
const subtle = webcrypto.subtle;

export type KeyType = 'ec' | 'rsa';

// the same result types as the production module, so the two stay interchangeable in bench/mesh/x509
export type { Csr, Sans } from '../../proxy/identity/x509.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

function algOf(key: KeyObject): typeof EC | typeof RSA {
  if (key.asymmetricKeyType === 'ec') return EC;
  if (key.asymmetricKeyType === 'rsa') return RSA;
  throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
}

// a KeyObject's WebCrypto twin, made once per key (Node 20 has no KeyObject.toCryptoKey)
const cryptoKeys = new WeakMap<KeyObject, Promise<CryptoKey>>();
function cryptoKey(key: KeyObject): Promise<CryptoKey> {
  let k = cryptoKeys.get(key);
  if (k === undefined) {
    const alg = algOf(key);
    k = key.type === 'private'
      ? subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign'])
      : subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), alg, true, ['verify']);
    cryptoKeys.set(key, k);
  }
  return k as Promise<CryptoKey>;
}

/** A new key pair (node:crypto, the fastest here): 'ec' is P-256, 'rsa' 2048 bits. */
export function newKey(type: KeyType): { privateKey: KeyObject; spki: Buffer; keyPem: string } {
  const { privateKey, publicKey } = type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function generalNames(sans: Partial<Sans>): x509.JsonGeneralNames {
  return [
    ...(sans.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(sans.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(sans.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
}

function readSans(ext: x509.SubjectAlternativeNameExtension | null, sans: Sans): Sans {
  for (const n of ext?.names.items ?? []) {
    if (n.type === 'url') sans.uris.push(n.value);
    else if (n.type === 'dns') sans.dns.push(n.value);
    else if (n.type === 'ip') sans.ips.push(n.value);
  }
  return sans;
}

/**
 * A PEM CSR for `key` (private) with these SANs (a string: one URI SAN) and an empty subject, as Istio's
 * agent sends; the SAN extension is critical (RFC 5280 4.2.1.6 for an empty subject).
 */
export async function buildCsr(key: KeyObject, sans: Partial<Sans> | string): Promise<string> {
  const names = generalNames(typeof sans === 'string' ? { uris: [sans] } : sans);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: await cryptoKey(key), publicKey: await cryptoKey(createPublicKey(key)) } as never,
    signingAlgorithm: algOf(key),
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names, true)] : [],
  });
  return csr.toString('pem');
}

/** Parses a PEM CSR and checks its self-signature; throws `csr: <reason>`. */
export async function parseCsr(csrPem: string): Promise<Csr> {
  if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csrPem)) throw new Error('csr: not a PEM CERTIFICATE REQUEST');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem.replace('NEW CERTIFICATE REQUEST', 'CERTIFICATE REQUEST').replace('NEW CERTIFICATE REQUEST', 'CERTIFICATE REQUEST'));
  } catch (e) {
    throw new Error(`csr: ${(e as Error).message}`);
  }
  let ok: boolean;
  try {
    ok = await csr.verify();
  } catch (e) {
    throw new Error(`csr: ${(e as Error).message}`);
  }
  if (!ok) throw new Error('csr: signature does not verify');
  const spki = Buffer.from(csr.publicKey.rawData);
  const sans = readSans(csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension) ?? null, { uris: [], dns: [], ips: [] });
  return { spki, publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }), sans };
}

/** The SANs of a PEM certificate (Node's X509Certificate gives them only as text). */
export function certSans(certPem: string): Sans {
  return readSans(new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension), { uris: [], dns: [], ips: [] });
}

/** A CA able to sign: its key and certificate (the leaves' issuer name and authority key id come from it). */
export interface Signer {
  key: KeyObject;
  certPem: string;
  cert: x509.X509Certificate;
}

/** A signer from PEM key + certificate; checks that they match. */
export function signerOf(keyPem: string, certPem: string): Signer {
  const key = createPrivateKey(keyPem);
  const node = new NodeX509(certPem);
  if (!node.checkPrivateKey(key)) throw new Error('CA key does not match the CA certificate');
  return { key, certPem: node.toString(), cert: new x509.X509Certificate(certPem) };
}

/** What goes into a certificate besides the issuer. */
export interface CertSpec {
  /** the subject's public key: SubjectPublicKeyInfo DER or a KeyObject */
  spki: Buffer | KeyObject;
  sans?: Partial<Sans>;
  notBefore: Date;
  notAfter: Date;
  /** subject O/CN; leaves of the mesh have an empty subject, as Istio's */
  subject?: { cn?: string; o?: string };
  ca?: boolean;
}

function subjectName(s: CertSpec['subject']): x509.Name {
  const json: x509.JsonName = [];
  if (s?.o) json.push({ O: [s.o] });
  if (s?.cn) json.push({ CN: [s.cn] });
  return new x509.Name(json);
}

/** Signs a certificate with `signer`'s key, or self-signed with `{key, selfSigned}`. */
export async function buildCertificate(spec: CertSpec, signer: Signer | { key: KeyObject; selfSigned: true }): Promise<string> {
  const spki = Buffer.isBuffer(spec.spki) ? spec.spki : spec.spki.export({ type: 'spki', format: 'der' });
  const publicKey = new x509.PublicKey(spki);
  const subject = subjectName(spec.subject);
  const names = generalNames(spec.sans ?? {});
  const exts: x509.Extension[] = spec.ca
    ? [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ]
    : [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
    ];
  if ('selfSigned' in signer) exts.push(await x509.AuthorityKeyIdentifierExtension.create(publicKey));
  else {
    const skid = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    exts.push(skid ? new x509.AuthorityKeyIdentifierExtension(skid.keyId) : await x509.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey));
  }
  // an empty subject requires the SAN extension to be critical (RFC 5280 4.2.1.6)
  if (names.length) exts.push(new x509.SubjectAlternativeNameExtension(names, !spec.subject?.cn && !spec.subject?.o));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject,
    issuer: 'selfSigned' in signer ? subject : signer.cert.subjectName,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey,
    signingKey: (await cryptoKey(signer.key)) as never,
    signingAlgorithm: algOf(signer.key),
    extensions: exts,
  });
  return cert.toString('pem') + '\n';
}

/** A self-signed root CA certificate (ten years), Istio's subject `O=cluster.local` unless `o` is given. */
export async function makeRoot(type: KeyType = 'rsa', nowMs = Date.now(), o = 'cluster.local'): Promise<{ keyPem: string; certPem: string; privateKey: KeyObject }> {
  const k = newKey(type);
  const certPem = await buildCertificate({
    spki: k.spki, ca: true, subject: { o },
    notBefore: new Date(nowMs - 60_000), notAfter: new Date(nowMs + 3650 * 24 * 3600_000),
  }, { key: k.privateKey, selfSigned: true });
  return { keyPem: k.keyPem, certPem, privateKey: k.privateKey };
}

/** Checks that `leafPem` is signed by `issuerPem` and valid at `atMs` (the chain checks of tests and tools). */
export async function verifyIssued(leafPem: string, issuerPem: string, atMs = Date.now()): Promise<boolean> {
  return new x509.X509Certificate(leafPem).verify({ publicKey: new x509.X509Certificate(issuerPem).publicKey, date: new Date(atMs) });
}
