// TLS of the ingress: one SecureContext per usable kubernetes.io/tls Secret, chosen per connection by SNI
// (exact host, then a one-label `*.` wildcard, as ingress-nginx selects), and a self-signed default
// certificate for every other name, for a missing or bad Secret (reported, never fatal) and for clients
// without SNI. Contexts are rebuilt only when a Secret's resourceVersion changes.
import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { buildCertificate, newKey } from '../proxy/identity/x509.js';

/** The Secret fields the ingress reads. */
export interface TlsSecret {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  type?: string;
  data?: Record<string, string>;
}

/** A self-signed certificate (EC P-256, one year), ingress-nginx's "fake certificate" equivalent. */
export function defaultCertificate(nowMs = Date.now()): { keyPem: string; certPem: string } {
  const k = newKey('ec');
  const certPem = buildCertificate({
    spki: k.spki, subject: { cn: 'Shoal Ingress Default Certificate', o: 'shoal' }, sans: { dns: ['ingress.local'] },
    notBefore: new Date(nowMs - 60_000), notAfter: new Date(nowMs + 365 * 24 * 3600_000),
  }, { key: k.privateKey, selfSigned: true });
  return { keyPem: k.keyPem, certPem };
}

/** Why a Secret cannot serve TLS, or its context. */
export function contextOf(s: TlsSecret | undefined, ref: string, nowMs = Date.now()): { ctx?: SecureContext; problem?: string } {
  if (!s) return { problem: `Secret ${ref} not found` };
  const crt = s.data?.['tls.crt'], key = s.data?.['tls.key'];
  if (!crt || !key) return { problem: `Secret ${ref}: data["tls.crt"] and data["tls.key"] are required` };
  const certPem = Buffer.from(crt, 'base64').toString('utf8');
  const keyPem = Buffer.from(key, 'base64').toString('utf8');
  try {
    const x = new X509Certificate(certPem);
    if (Date.parse(x.validTo) < nowMs) return { problem: `Secret ${ref}: data["tls.crt"]: certificate expired ${x.validTo}` };
    return { ctx: createSecureContext({ cert: certPem, key: keyPem }) };
  } catch (e) {
    return { problem: `Secret ${ref}: data["tls.crt"]/data["tls.key"]: ${(e as Error).message}` };
  }
}

/** SNI → context, rebuilt from the TLS entries of each configuration. */
export class CertStore {
  private readonly cache = new Map<string, { rv: string; ctx?: SecureContext; problem?: string }>();
  private byHost = new Map<string, SecureContext>();
  readonly fallback: SecureContext;

  constructor(def: { keyPem: string; certPem: string } = defaultCertificate()) {
    this.fallback = createSecureContext({ cert: def.certPem, key: def.keyPem });
  }

  /** The context of Secret `ns/name` (cached by resourceVersion), or why there is none. */
  secret(ref: string, get: (ref: string) => TlsSecret | undefined): { ctx?: SecureContext; problem?: string } {
    const s = get(ref);
    const rv = s?.metadata.resourceVersion ?? '';
    const c = this.cache.get(ref);
    if (c && c.rv === rv && s) return c;
    const r = contextOf(s, ref);
    if (s) this.cache.set(ref, { rv, ...r });
    return r;
  }

  /** Installs the host → context map (first entry per host wins: the oldest object). */
  install(entries: readonly { hosts: readonly string[]; ctx: SecureContext }[]): void {
    const m = new Map<string, SecureContext>();
    for (const e of entries) for (const h of e.hosts) if (!m.has(h.toLowerCase())) m.set(h.toLowerCase(), e.ctx);
    this.byHost = m;
  }

  /** The context for a server name: exact, then `*.` one label up, then the default certificate. */
  select(servername: string | undefined): SecureContext {
    if (!servername) return this.byHost.get('*') ?? this.fallback;
    const h = servername.toLowerCase();
    const exact = this.byHost.get(h);
    if (exact) return exact;
    const dot = h.indexOf('.');
    return (dot > 0 ? this.byHost.get(`*${h.slice(dot)}`) : undefined) ?? this.byHost.get('*') ?? this.fallback;
  }

  /** SNICallback for tls.createServer. */
  readonly sni = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => cb(null, this.select(servername));
}
