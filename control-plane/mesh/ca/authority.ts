// The mesh CA: a root (its own, kept in $SHOAL_HOME/pki/mesh/, or Istio's plug-in `cacerts` Secret) that
// signs workload certificates from CSRs. A CSR must name exactly one URI SAN, the SPIFFE ID the caller's
// token proves; validity is what the request asks, capped by the maximum (24 h default, like istiod's
// DEFAULT_WORKLOAD_CERT_TTL / MAX_WORKLOAD_CERT_TTL), and never past the signing certificate's expiry.

import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, makeRoot, newKey, parseCsr, signerOf, type Signer } from '../../../proxy/identity/x509.js';

/** Istio's plug-in CA Secret data (decoded). */
export interface PluggedCa {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem'?: string;
}

/** Why a CSR was refused (the gRPC layer maps it to PERMISSION_DENIED or INVALID_ARGUMENT). */
export class CsrRefused extends Error {
  constructor(message: string, readonly code: 'denied' | 'invalid') {
    super(message);
    this.name = 'CsrRefused';
  }
}

/** A loaded CA. */
export class CertificateAuthority {
  private readonly signer: Signer;
  /** PEM of the root that proxies trust (ConfigMap istio-ca-root-cert) */
  readonly rootPem: string;
  /** the chain after the leaf: the signing cert and its parents, the root last */
  private readonly chain: string[];
  private readonly signerNotAfter: number;
  /** where the root came from, for logs */
  readonly source: string;

  constructor(o: { keyPem: string; certPem: string; rootPem: string; chainPems?: string[]; source: string }, readonly maxTtlSec = 24 * 3600, readonly defaultTtlSec = 24 * 3600) {
    this.signer = signerOf(o.keyPem, o.certPem);
    this.rootPem = o.rootPem;
    const chain = o.chainPems?.length ? o.chainPems : [o.certPem];
    if (chain[chain.length - 1]!.trim() !== o.rootPem.trim()) chain.push(o.rootPem);
    this.chain = chain;
    this.signerNotAfter = Date.parse(new X509Certificate(o.certPem).validTo);
    this.source = o.source;
  }

  /** The plug-in CA from `cacerts` (istio-system), Istio's keys. */
  static fromPlugged(d: PluggedCa, maxTtlSec?: number): CertificateAuthority {
    const missing = (['ca-cert.pem', 'ca-key.pem', 'root-cert.pem'] as const).filter((k) => !d[k]);
    if (missing.length) throw new Error(`Secret istio-system/cacerts: missing ${missing.join(', ')}`);
    const chainPems = d['cert-chain.pem'] ? splitPems(d['cert-chain.pem']) : [d['ca-cert.pem']];
    return new CertificateAuthority({ keyPem: d['ca-key.pem'], certPem: d['ca-cert.pem'], rootPem: d['root-cert.pem'], chainPems, source: 'Secret istio-system/cacerts' }, maxTtlSec);
  }

  /** The self-signed root in `dir` (root-key.pem, root-cert.pem), made on first use. */
  static selfSigned(dir: string, maxTtlSec?: number, keyType: 'rsa' | 'ec' = 'rsa'): CertificateAuthority {
    const keyPath = join(dir, 'root-key.pem');
    const certPath = join(dir, 'root-cert.pem');
    if (!existsSync(keyPath) || !existsSync(certPath)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const r = makeRoot(keyType);
      writeFileSync(keyPath, r.keyPem, { mode: 0o600 });
      writeFileSync(certPath, r.certPem, { mode: 0o644 });
    }
    const certPem = readFileSync(certPath, 'utf8');
    return new CertificateAuthority({ keyPem: readFileSync(keyPath, 'utf8'), certPem, rootPem: certPem, source: dir }, maxTtlSec);
  }

  /**
   * Signs `csrPem` for `identity` (a SPIFFE URI); `ttlSec` 0 means the default. Returns the chain, leaf
   * first and root last. Throws CsrRefused.
   */
  sign(csrPem: string, identity: string, ttlSec: number, nowMs = Date.now()): string[] {
    let csr;
    try {
      csr = parseCsr(csrPem);
    } catch (e) {
      throw new CsrRefused((e as Error).message, 'invalid');
    }
    const uris = csr.sans.uris;
    if (uris.length !== 1 || uris[0] !== identity || csr.sans.dns.length || csr.sans.ips.length)
      throw new CsrRefused(`csr asks for ${JSON.stringify([...uris, ...csr.sans.dns, ...csr.sans.ips])}, the caller may only have [${JSON.stringify(identity)}]`, 'denied');
    if (ttlSec < 0) throw new CsrRefused(`validity_duration: must not be negative, got ${ttlSec}`, 'invalid');
    const ttl = Math.min(ttlSec || this.defaultTtlSec, this.maxTtlSec);
    const notAfter = Math.min(nowMs + ttl * 1000, this.signerNotAfter);
    const leaf = buildCertificate({ spki: csr.spki, sans: { uris: [identity] }, notBefore: new Date(nowMs - 60_000), notAfter: new Date(notAfter) }, this.signer);
    return [leaf, ...this.chain];
  }

  /** A serving certificate for mesh control's own gRPC port (its key made here). */
  servingCert(dns: string[], ips: string[], nowMs = Date.now()): { keyPem: string; certPem: string; chainPem: string } {
    const k = newKey('ec');
    const certPem = buildCertificate({ spki: k.spki, subject: { cn: 'istiod' }, sans: { dns, ips }, notBefore: new Date(nowMs - 60_000), notAfter: new Date(Math.min(nowMs + 365 * 86400_000, this.signerNotAfter)) }, this.signer);
    return { keyPem: k.keyPem, certPem, chainPem: [certPem, ...this.chain.slice(0, -1)].join('') };
  }
}

function splitPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g)].map((m) => m[0].endsWith('\n') ? m[0] : `${m[0]}\n`);
}
