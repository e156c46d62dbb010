// A small X.509 writer: PKCS#10 CSRs with a SPIFFE URI SAN for any Node KeyObject (EC P-256 or RSA),
// and certificates signed by a CA KeyObject (for the tests' CA and the benchmark). node-forge encodes
// the ASN.1; Node's crypto makes the keys and signatures, because node-forge signs only with RSA keys.
import { createPublicKey, sign, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const der = (o: forge.asn1.Asn1): string => asn1.toDer(o).getBytes();
const seq = (v: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, v);
const set = (v: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SET, true, v);
const oid = (o: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
const octets = (b: string): forge.asn1.Asn1 => asn1.create(U, T.OCTETSTRING, false, b);
const bool = (v: boolean): forge.asn1.Asn1 => asn1.create(U, T.BOOLEAN, false, v ? '\xff' : '\x00');
const int = (bytes: string): forge.asn1.Asn1 => asn1.create(U, T.INTEGER, false, bytes);
const bits = (b: Buffer): forge.asn1.Asn1 => asn1.create(U, T.BITSTRING, false, '\x00' + b.toString('binary'));

function spki(pub: KeyObject): forge.asn1.Asn1 {
  return asn1.fromDer(forge.util.createBuffer(pub.export({ type: 'spki', format: 'der' }).toString('binary')));
}
function sigAlg(key: KeyObject): forge.asn1.Asn1 {
  return key.asymmetricKeyType === 'ec'
    ? seq([oid('1.2.840.10045.4.3.2')]) // ecdsa-with-SHA256
    : seq([oid('1.2.840.113549.1.1.11'), asn1.create(U, T.NULL, false, '')]); // sha256WithRSAEncryption
}
function signed(tbs: forge.asn1.Asn1, key: KeyObject): string {
  const tbsDer = Buffer.from(der(tbs), 'binary');
  const sig = sign('sha256', tbsDer, key);
  return der(seq([tbs, sigAlg(key), bits(sig)]));
}
function pem(label: string, derBytes: string): string {
  const b64 = Buffer.from(derBytes, 'binary').toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
function sanUri(uri: string): forge.asn1.Asn1 {
  return seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, uri)]);
}
function ext(id: string, critical: boolean, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return seq(critical ? [oid(id), bool(true), octets(der(value))] : [oid(id), octets(der(value))]);
}
function name(o: string | undefined): forge.asn1.Asn1 {
  return seq(o ? [set([seq([oid('2.5.4.10'), asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(o))])])] : []);
}

/** A PEM CSR for `key` (private) with the URI SAN `uri` and an empty subject, as Istio's agent sends. */
export function buildCsr(key: KeyObject, uri: string): string {
  const pub = createPublicKey(key);
  const extReq = seq([oid('1.2.840.113549.1.9.14'), set([seq([ext('2.5.29.17', true, sanUri(uri))])])]);
  const info = seq([
    int('\x00'), name(undefined), spki(pub),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [extReq]),
  ]);
  return pem('CERTIFICATE REQUEST', signed(info, key));
}

/** What to put in a certificate. */
export interface CertTemplate {
  /** Public key of the subject. */
  publicKey: KeyObject;
  /** SPIFFE URI SAN (leaf) — omitted for a CA. */
  uri?: string;
  /** DNS and IP SANs (a serving certificate, e.g. a test CA's gRPC server). */
  dnsNames?: string[];
  ips?: string[];
  /** Organization of the subject (a CA needs a non-empty subject). */
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  isCa?: boolean;
}

/** A PEM certificate for `t`, signed by `issuerKey` with issuer name `issuerOrg` (self-signed when it is t's). */
export function signCertificate(t: CertTemplate, issuerKey: KeyObject, issuerOrg: string): string {
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const exts = t.isCa
    ? [ext('2.5.29.19', true, seq([bool(true)])), ext('2.5.29.15', true, asn1.create(U, T.BITSTRING, false, '\x01\x06'))]
    : [
      ext('2.5.29.19', true, seq([])),
      ext('2.5.29.15', true, asn1.create(U, T.BITSTRING, false, '\x05\xa0')), // digitalSignature, keyEncipherment
      ext('2.5.29.37', false, seq([oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')])),
      ...(t.uri || t.dnsNames?.length || t.ips?.length ? [ext('2.5.29.17', !t.organization, seq([
        ...(t.uri ? [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, t.uri)] : []),
        ...(t.dnsNames ?? []).map((d) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, d)),
        ...(t.ips ?? []).map((ip) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, Buffer.from(ip.split('.').map(Number)).toString('binary'))),
      ]))] : []),
    ];
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [int('\x02')]),
    int(serial.toString('binary')),
    sigAlg(issuerKey),
    name(issuerOrg),
    seq([asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(t.notBefore)), asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(t.notAfter))]),
    name(t.organization),
    spki(t.publicKey),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(exts)]),
  ]);
  return pem('CERTIFICATE', signed(tbs, issuerKey));
}

/** The public key and URI SAN of a PEM CSR (for a CA). Throws when the CSR cannot be read. */
export function readCsr(csrPem: string): { publicKey: KeyObject; uris: string[] } {
  const b64 = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const root = asn1.fromDer(forge.util.createBuffer(Buffer.from(b64, 'base64').toString('binary')));
  const info = (root.value as forge.asn1.Asn1[])[0];
  const parts = info.value as forge.asn1.Asn1[];
  const publicKey = createPublicKey({ key: Buffer.from(der(parts[2]), 'binary'), format: 'der', type: 'spki' });
  const uris: string[] = [];
  const walk = (n: forge.asn1.Asn1): void => {
    if (n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 6 && !n.constructed) uris.push(n.value as string);
    else if (n.type === T.OCTETSTRING && typeof n.value === 'string') {
      try { walk(asn1.fromDer(forge.util.createBuffer(n.value))); } catch { /* not DER inside */ }
    } else if (Array.isArray(n.value)) n.value.forEach(walk);
  };
  if (parts[3]) walk(parts[3]);
  return { publicKey, uris };
}
