// The mesh's one X.509 module, used by the sidecar (key + PKCS#10 CSR with its SPIFFE URI SAN), by mesh
// control's CA (control-plane/mesh/ca/authority.ts: read + verify a CSR, sign v3 leaves, the root, the
// serving certificate) and by the test CAs and benchmarks. Node's crypto makes keys and signatures; the
// TBSCertificate / CertificationRequestInfo is DER-encoded by ./der.ts, because Node 20 cannot build
// certificates. Chosen by measurement (bench/mesh/x509.js, bench/mesh/README.md): @peculiar/x509 was 4-20x
// slower per operation and ~15 MB more RSS once loaded, node-forge 10-60x slower and RSA only.
// The CSR's subject public key is copied as is; everything else (subject, SANs, usages) is the CA's choice.

import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { bitString, bool, children, explicit, int, nul, octets, oid, oidString, pem, readTlv, seq, set, time, tlv, unpem, utf8 } from './der.js';

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
};

const HASH_OF: Record<string, string> = {
  [OID.sha256WithRSA]: 'sha256', [OID.sha384WithRSA]: 'sha384', [OID.sha512WithRSA]: 'sha512',
  [OID.ecdsaSha256]: 'sha256', [OID.ecdsaSha384]: 'sha384',
};

/** Subject alternative names of a CSR or certificate. */
export interface Sans {
  uris: string[];
  dns: string[];
  ips: string[];
}

/** A parsed, signature-checked CSR. */
export interface Csr {
  /** SubjectPublicKeyInfo DER, copied into the certificate */
  spki: Buffer;
  publicKey: KeyObject;
  sans: Sans;
}

/** Parses a PEM CSR and checks its self-signature; throws with the reason. */
export function parseCsr(csrPem: string): Csr {
  const der = unpem(csrPem, 'CERTIFICATE REQUEST')[0] ?? unpem(csrPem, 'NEW CERTIFICATE REQUEST')[0];
  if (!der) throw new Error('csr: not a PEM CERTIFICATE REQUEST');
  let outer, info, spkiTlv, sigAlg, sig;
  try {
    outer = children(readTlv(der).content);
    [info, sigAlg, sig] = outer;
    const infoItems = children(info!.content);
    spkiTlv = infoItems[2]!;
    const attrs = infoItems[3];
    const publicKey = createPublicKey({ key: spkiTlv.raw, format: 'der', type: 'spki' });
    const algOid = oidString(children(sigAlg!.content)[0]!.content);
    const hash = HASH_OF[algOid];
    if (!hash) throw new Error(`unsupported signature algorithm ${algOid}`);
    if (!verify(hash, info!.raw, publicKey, sig!.content.subarray(1))) throw new Error('signature does not verify');
    const sans: Sans = { uris: [], dns: [], ips: [] };
    if (attrs && attrs.tag === 0xa0) {
      for (const attr of children(attrs.content)) {
        const [type, values] = children(attr.content);
        if (oidString(type!.content) !== OID.extensionRequest) continue;
        for (const exts of children(values!.content)) for (const ext of children(exts.content)) readSan(ext, sans);
      }
    }
    return { spki: Buffer.from(spkiTlv.raw), publicKey, sans };
  } catch (e) {
    throw new Error(`csr: ${(e as Error).message}`);
  }
}

function readSan(ext: { content: Buffer }, sans: Sans): void {
  const parts = children(ext.content);
  if (oidString(parts[0]!.content) !== OID.subjectAltName) return;
  const value = parts[parts.length - 1]!.content;
  for (const gn of children(readTlv(value).content)) {
    if (gn.tag === 0x86) sans.uris.push(gn.content.toString('utf8'));
    else if (gn.tag === 0x82) sans.dns.push(gn.content.toString('utf8'));
    else if (gn.tag === 0x87) sans.ips.push(gn.content.length === 4 ? [...gn.content].join('.') : gn.content.toString('hex'));
  }
}

/** The SANs of a PEM certificate (Node's X509Certificate gives them only as text). */
export function certSans(certPem: string): Sans {
  const sans: Sans = { uris: [], dns: [], ips: [] };
  const tbs = children(readTlv(children(readTlv(unpem(certPem, 'CERTIFICATE')[0]!).content)[0]!.raw).content);
  const exts = tbs.find((t) => t.tag === 0xa3);
  if (exts) for (const ext of children(readTlv(exts.content).content)) readSan(ext, sans);
  return sans;
}

/** A CA able to sign: its key and the DER of its certificate's subject (the leaves' issuer). */
export interface Signer {
  key: KeyObject;
  certPem: string;
  subjectDer: Buffer;
  /** subject key identifier of the CA certificate (authority key id of the leaves) */
  keyId: Buffer;
}

/** A signer from PEM key + certificate; checks that they match. */
export function signerOf(keyPem: string, certPem: string): Signer {
  const key = createPrivateKey(keyPem);
  const cert = new X509Certificate(certPem);
  if (!cert.checkPrivateKey(key)) throw new Error('CA key does not match the CA certificate');
  const tbs = children(readTlv(children(readTlv(unpem(certPem, 'CERTIFICATE')[0]!).content)[0]!.raw).content);
  const off = tbs[0]!.tag === 0xa0 ? 1 : 0; // explicit version
  const spki = tbs[off + 5]!.raw;
  return { key, certPem: cert.toString(), subjectDer: Buffer.from(tbs[off + 4]!.raw), keyId: keyIdOf(spki) };
}

function keyIdOf(spkiDer: Buffer): Buffer {
  const bits = children(readTlv(spkiDer).content)[1]!.content.subarray(1);
  return createHash('sha1').update(bits).digest();
}

function sigAlgOf(key: KeyObject): { alg: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') return { alg: seq(oid(OID.ecdsaSha256)), hash: 'sha256' };
  if (key.asymmetricKeyType === 'rsa') return { alg: seq(oid(OID.sha256WithRSA), nul()), hash: 'sha256' };
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** What goes into a certificate besides the key. */
export interface CertSpec {
  spki: Buffer;
  sans?: Partial<Sans>;
  notBefore: Date;
  notAfter: Date;
  /** subject CN/O; leaves of the mesh have an empty subject, as Istio's */
  subject?: { cn?: string; o?: string };
  ca?: boolean;
}

/** Signs a certificate; `signer` undefined makes it self-signed with `selfKey`. */
export function buildCertificate(spec: CertSpec, signer: Signer | { key: KeyObject; selfSigned: true }): string {
  const { alg, hash } = sigAlgOf(signer.key);
  const subject = seq(
    ...(spec.subject?.o ? [set(seq(oid(OID.organization), utf8(spec.subject.o)))] : []),
    ...(spec.subject?.cn ? [set(seq(oid(OID.commonName), utf8(spec.subject.cn)))] : []),
  );
  const ownKeyId = keyIdOf(spec.spki);
  const issuer = 'selfSigned' in signer ? subject : signer.subjectDer;
  const authKeyId = 'selfSigned' in signer ? ownKeyId : signer.keyId;
  const names = [
    ...(spec.sans?.uris ?? []).map((u) => tlv(0x86, Buffer.from(u))),
    ...(spec.sans?.dns ?? []).map((d) => tlv(0x82, Buffer.from(d))),
    ...(spec.sans?.ips ?? []).map((i) => tlv(0x87, ipBytes(i))),
  ];
  const exts = spec.ca
    ? [
      ext(OID.basicConstraints, true, seq(bool(true))),
      ext(OID.keyUsage, true, bitString(Buffer.from([0x86]), 1)), // digitalSignature, keyCertSign, cRLSign
      ext(OID.subjectKeyId, false, octets(ownKeyId)),
    ]
    : [
      ext(OID.keyUsage, true, bitString(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
      ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
      ext(OID.basicConstraints, true, seq()),
      ext(OID.authorityKeyId, false, seq(tlv(0x80, authKeyId))),
    ];
  // an empty subject requires the SAN extension to be critical (RFC 5280 4.2.1.6)
  if (names.length) exts.push(ext(OID.subjectAltName, !spec.subject?.cn && !spec.subject?.o, seq(...names)));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(explicit(0, int(2)), int(serial), alg, issuer, seq(time(spec.notBefore), time(spec.notAfter)), subject, spec.spki, explicit(3, seq(...exts)));
  const signature = sign(hash, tbs, signer.key);
  return pem('CERTIFICATE', seq(tbs, alg, bitString(signature)));
}

/** A new key pair: 'ec' is P-256, 'rsa' 2048 bits. */
export function newKey(type: 'ec' | 'rsa'): { privateKey: KeyObject; spki: Buffer; keyPem: string } {
  const { privateKey, publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A self-signed root CA certificate (ten years), Istio's subject `O=cluster.local`. */
export function makeRoot(type: 'ec' | 'rsa' = 'rsa', nowMs = Date.now()): { keyPem: string; certPem: string } {
  const k = newKey(type);
  const certPem = buildCertificate({
    spki: k.spki, ca: true, subject: { o: 'cluster.local' },
    notBefore: new Date(nowMs - 60_000), notAfter: new Date(nowMs + 3650 * 24 * 3600_000),
  }, { key: k.privateKey, selfSigned: true });
  return { keyPem: k.keyPem, certPem };
}

/** A PEM CSR for `key` with the given SANs (a string: one URI SAN) and an empty subject, as Istio's agent sends. */
export function buildCsr(key: KeyObject, sansIn: Partial<Sans> | string): string {
  const sans = typeof sansIn === 'string' ? { uris: [sansIn] } : sansIn;
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const { alg, hash } = sigAlgOf(key);
  const names = [...(sans.uris ?? []).map((u) => tlv(0x86, Buffer.from(u))), ...(sans.dns ?? []).map((d) => tlv(0x82, Buffer.from(d)))];
  const extReq = seq(oid(OID.extensionRequest), set(seq(ext(OID.subjectAltName, true, seq(...names)))));
  const info = seq(int(0), seq(), spki, tlv(0xa0, extReq));
  return pem('CERTIFICATE REQUEST', seq(info, alg, bitString(sign(hash, info, key))));
}
