// The tunnel client: HBONE (a pool of one HTTP/2 mTLS session per peer pod, each app connection a
// CONNECT stream) or one mTLS connection per app connection (SHOAL_TUNNEL=tls, ALPN istio-peer-exchange,
// terminated by the peer's inbound listener). Both check that the server's SPIFFE ID is the endpoint's
// expected identity. After a certificate renewal, new streams go to new sessions; old sessions close
// gracefully once their streams end (renewal drops no connection).
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { peerSpiffe } from '../identity/spiffe.js';
import type { ProxyContext } from '../context.js';
import { baggageOf, localMeta } from '../admin/peer-metadata.js';
import { HBONE_SESSION_WINDOW, HBONE_SETTINGS } from './server.js';

/** The HBONE port of every sidecar. */
export const HBONE_PORT = 15008;
/** ALPN of the per-connection mTLS mode (Istio's). */
export const MESH_ALPN = ['istio-peer-exchange', 'istio'];

/** How long a drained session stays open for streams already queued on it. */
const DRAIN_GRACE_MS = 1000;
/** A pooled session with no stream for this long is closed (peers come and go). */
const IDLE_CLOSE_MS = 60_000;

/** Which tunnel to use between sidecars. */
export type TunnelMode = 'hbone' | 'tls';

function identityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const id = peerSpiffe(cert);
    if (id instanceof Error) return id;
    return id === expected ? undefined : new Error(`peer identity ${id}, expected ${expected}`);
  };
}

interface PoolEntry { session: ClientHttp2Session; streams: number; idle: NodeJS.Timeout | null }

/** Opens tunnelled connections to mesh endpoints. */
export class TunnelClient {
  private readonly pool = new Map<string, PoolEntry>();
  /** Sessions and handshakes made (for /stats and the benchmark). */
  readonly counters = { sessions: 0, streams: 0, handshakeFailures: 0 };

  constructor(private readonly ctx: ProxyContext, readonly mode: TunnelMode, private readonly hbonePort = HBONE_PORT) {
    ctx.identity.on('rotated', () => this.drain());
  }

  /** A duplex to `address:port` of a mesh endpoint whose identity must be `identity`. Errors arrive on the stream. */
  open(address: string, port: number, identity: string, headers: Record<string, string> = {}): Duplex {
    if (this.mode === 'tls') return this.openTls(address, port, identity);
    const entry = this.session(address, identity);
    entry.streams++;
    if (entry.idle) { clearTimeout(entry.idle); entry.idle = null; }
    this.counters.streams++;
    const authority = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const baggage = baggageOf(localMeta(this.ctx.store.snapshot.config.workload, this.ctx.workloadName), this.ctx.podName);
    const stream = entry.session.request({ ':method': 'CONNECT', ':authority': authority, ...(baggage ? { baggage } : {}), ...headers }, { endStream: false });
    stream.once('response', (h) => {
      const status = Number(h[':status']);
      if (status !== 200) stream.destroy(new Error(`HBONE CONNECT ${authority}: status ${status}`));
    });
    stream.once('close', () => {
      if (--entry.streams > 0 || entry.session.closed) return;
      entry.idle = setTimeout(() => { if (entry.streams === 0) entry.session.close(); }, IDLE_CLOSE_MS);
      entry.idle.unref();
    });
    return stream;
  }

  private session(address: string, identity: string): PoolEntry {
    const key = `${address}|${identity}`;
    const have = this.pool.get(key);
    if (have && !have.session.closed && !have.session.destroyed) return have;
    const creds = this.ctx.identity.current;
    if (!creds) throw new Error('no workload certificate yet');
    this.counters.sessions++;
    const host = address.includes(':') ? `[${address}]` : address;
    const session = h2connect(`https://${host}:${this.hbonePort}`, {
      settings: HBONE_SETTINGS,
      // TCP_NODELAY set explicitly: tls.connect does not pass `noDelay` on, and Nagle + delayed ACKs
      // stall small HTTP/2 frames by 40-200 ms (measured: new-connection p90 168 ms at 20/s before this).
      createConnection: () => tlsConnect({
        host: address, port: this.hbonePort, secureContext: creds.client, ALPNProtocols: ['h2'],
        checkServerIdentity: identityCheck(identity),
      } as ConnectionOptions).setNoDelay(true),
    });
    const entry: PoolEntry = { session, streams: 0, idle: null };
    this.pool.set(key, entry);
    const forget = (): void => { if (this.pool.get(key) === entry) this.pool.delete(key); };
    session.on('connect', () => { if (!session.destroyed) session.setLocalWindowSize(HBONE_SESSION_WINDOW); });
    session.on('error', (err) => {
      this.counters.handshakeFailures++;
      this.ctx.log('warn', 'hbone: session to peer failed', { peer: address, identity, error: err.message });
      forget();
    });
    session.on('goaway', forget);
    session.on('close', forget);
    return entry;
  }

  private openTls(address: string, port: number, identity: string): TLSSocket {
    const creds = this.ctx.identity.current;
    if (!creds) throw new Error('no workload certificate yet');
    this.counters.sessions++;
    this.counters.streams++;
    return tlsConnect({
      host: address, port, secureContext: creds.client, ALPNProtocols: MESH_ALPN,
      checkServerIdentity: identityCheck(identity),
    } as ConnectionOptions).setNoDelay(true);
  }

  /**
   * New streams go to new sessions; the old ones close when their last stream ends. The close waits a
   * moment after the session is connected: closing at once makes nghttp2 refuse (REFUSED_STREAM) the
   * streams still queued on it (found by the renewal test: 2 of 5000 connections).
   */
  drain(): void {
    for (const [key, e] of this.pool) {
      this.pool.delete(key);
      const close = (): void => { setTimeout(() => e.session.close(), DRAIN_GRACE_MS).unref(); };
      if (e.session.connecting) e.session.once('connect', close);
      else close();
    }
  }

  /** Pool state for /clusters. */
  sessions(): { peer: string; streams: number; state: string }[] {
    return [...this.pool.entries()].map(([k, e]) => ({
      peer: k, streams: e.streams, state: e.session.destroyed ? 'destroyed' : e.session.connecting ? 'connecting' : 'open',
    }));
  }

  close(): void {
    for (const e of this.pool.values()) {
      if (e.idle) clearTimeout(e.idle);
      e.session.destroy();
    }
    this.pool.clear();
  }
}
