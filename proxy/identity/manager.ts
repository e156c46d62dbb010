// The workload's identity: a key made here (it never leaves the process), a CSR with the SPIFFE URI SAN,
// a certificate from the mesh CA, renewed at half-life. Each renewal makes new TLS contexts; existing TLS
// connections keep the context they were made with, so renewal drops nothing. Listeners and the HBONE
// pool subscribe to 'rotated' to use the new contexts for new handshakes only.
import { EventEmitter } from 'node:events';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { buildCsr } from './x509.js';

/** Signs CSRs: the mesh CA over gRPC (ca-client.ts) or a test CA. Returns the chain, leaf first, root last. */
export interface CertificateSigner {
  sign(csrPem: string, ttlSeconds: number): Promise<string[]>;
}

/** The key algorithm of the workload key. */
export type KeyType = 'ec' | 'rsa';

/** The current credentials. */
export interface Credentials {
  keyPem: string;
  chainPem: string[];
  rootPem: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
  identity: string;
  server: SecureContext;
  client: SecureContext;
}

export interface IdentityOptions {
  identity: string;
  signer: CertificateSigner;
  /** Reads the mesh root certificate(s) (PEM) the peers must chain to; re-read at each renewal. */
  root: () => string;
  ttlSeconds: number;
  keyType?: KeyType;
  /** First retry delay after a failed CSR; doubles up to 30 s. */
  retryMs?: number;
  log?: (msg: string) => void;
}

/** Makes a key: EC P-256 (default: cheapest handshakes) or RSA 2048. */
export function generateKey(type: KeyType): KeyObject {
  return type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/** Holds and renews the workload certificate. Events: 'rotated' (Credentials), 'error' is never emitted. */
export class IdentityManager extends EventEmitter {
  private creds: Credentials | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Renewals done, failures seen (for /stats). */
  readonly counters = { issued: 0, failures: 0 };
  lastError = '';

  constructor(private readonly opts: IdentityOptions) { super(); }

  /** The current credentials, or null before the first certificate. */
  get current(): Credentials | null { return this.creds; }

  /** Gets the first certificate (retrying with backoff until it succeeds or stop()), then renews at half-life. */
  async start(): Promise<void> {
    let delay = this.opts.retryMs ?? 500;
    while (!this.stopped) {
      try {
        await this.renew();
        return;
      } catch (e) {
        this.counters.failures++;
        this.lastError = (e as Error).message;
        this.opts.log?.(`certificate request failed (retry in ${delay} ms): ${this.lastError}`);
        await new Promise((r) => { this.timer = setTimeout(r, delay); });
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /** One CSR → certificate round; schedules the next at half-life. */
  async renew(): Promise<Credentials> {
    const key = generateKey(this.opts.keyType ?? 'ec');
    const csr = buildCsr(key, this.opts.identity);
    const chain = await this.opts.signer.sign(csr, this.opts.ttlSeconds);
    if (!chain.length) throw new Error('CA returned an empty certificate chain');
    const leaf = new X509Certificate(chain[0]);
    if (!leaf.checkPrivateKey(key)) throw new Error('CA returned a certificate for another key');
    if (!(leaf.subjectAltName ?? '').includes(`URI:${this.opts.identity}`)) {
      throw new Error(`CA returned a certificate without URI SAN ${this.opts.identity} (has ${leaf.subjectAltName})`);
    }
    const rootPem = this.opts.root();
    const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    // The chain we present: leaf + intermediates (the root is the peers' trust anchor, not sent).
    const present = chain.length > 1 ? chain.slice(0, -1) : chain;
    const base: SecureContextOptions = { key: keyPem, cert: present.join('\n'), ca: rootPem, minVersion: 'TLSv1.2' };
    const creds: Credentials = {
      keyPem, chainPem: chain, rootPem,
      notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo), serial: leaf.serialNumber,
      identity: this.opts.identity,
      server: createSecureContext(base),
      client: createSecureContext(base),
    };
    this.creds = creds;
    this.counters.issued++;
    this.lastError = '';
    this.schedule(creds);
    this.emit('rotated', creds);
    return creds;
  }

  /** TLS options for servers that take options rather than a context (http2.createSecureServer). */
  tlsOptions(): SecureContextOptions {
    const c = this.creds;
    if (!c) throw new Error('no certificate yet');
    return { key: c.keyPem, cert: (c.chainPem.length > 1 ? c.chainPem.slice(0, -1) : c.chainPem).join('\n'), ca: c.rootPem };
  }

  private schedule(c: Credentials): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped) return;
    const life = c.notAfter.getTime() - c.notBefore.getTime();
    // Half-life from issue; X.509 times have 1 s resolution, and a CA may backdate notBefore.
    const at = c.notBefore.getTime() + life / 2;
    const wait = Math.max(1000, at - Date.now());
    this.timer = setTimeout(() => {
      this.renew().catch((e) => {
        this.counters.failures++;
        this.lastError = (e as Error).message;
        this.opts.log?.(`certificate renewal failed, keeping the current one: ${this.lastError}`);
        // retry soon, still before expiry
        this.timer = setTimeout(() => this.schedule(c), Math.min(5000, life / 10));
      });
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
