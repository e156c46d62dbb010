// Upstream HTTP/2 sessions, one multiplexed client session per endpoint (address:port): every request to
// that endpoint is a stream on it, so a request costs a HEADERS frame, not a connection. The transport is a
// seam — a `Dialer` returns any Duplex (plain TCP in tests, the mesh tunnel's HBONE CONNECT stream in the
// sidecar); Node wraps a non-socket Duplex in its JSStreamSocket. A session is forgotten as soon as it
// fails, receives GOAWAY or closes, so the next request dials again; one without streams for `idleMs` is
// closed gracefully (GOAWAY). A session that has not received the peer's SETTINGS within `connectMs` is
// destroyed (the upstream is unreachable or not speaking HTTP/2).
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type ClientSessionRequestOptions, type OutgoingHttpHeaders, type Settings } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';

/** Opens the transport of a new session to an endpoint. Errors arrive on the stream (or are thrown). */
export type Http2Dialer = (address: string, port: number) => Duplex;

/** Plain TCP with TCP_NODELAY (small HEADERS frames must not wait for Nagle). */
export const tcpHttp2Dialer: Http2Dialer = (address, port) => tcpConnect({ host: address, port, noDelay: true });

/** Per-stream receive window (Node's default 64 KiB caps one stream's throughput; the HBONE pool uses 1 MiB too). */
export const H2_STREAM_WINDOW = 1 << 20;
/** Per-session receive window. */
export const H2_SESSION_WINDOW = 16 << 20;

export interface Http2PoolOptions {
  dial?: Http2Dialer;
  /** A session without streams for this long is closed (default 60 s, as the HBONE and HTTP/1 pools). */
  idleMs?: number;
  /** A session that has not received the peer's SETTINGS by then is destroyed (default 10 s, Envoy's connect_timeout). */
  connectMs?: number;
  /** Local SETTINGS (default: 1 MiB stream window). */
  settings?: Settings;
  /** Session receive window (default 16 MiB). */
  sessionWindow?: number;
}

/** One pooled session and what the exchanges need to know to explain a failure. */
export interface PooledSession {
  readonly key: string;
  readonly session: ClientHttp2Session;
  /** The peer's SETTINGS arrived: the endpoint was reached and speaks HTTP/2. */
  established: boolean;
  /** Why the session failed (set before its streams are torn down). */
  error: Error | null;
  /** Streams open on it. */
  streams: number;
  idle: NodeJS.Timeout | null;
}

/** Errors of `session.request` that mean "this session cannot take new streams" (use a new one). */
const SESSION_GONE = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS', 'ERR_STREAM_DESTROYED']);

export class Http2UpstreamPool {
  private readonly sessions = new Map<string, PooledSession>();
  private readonly all = new Set<PooledSession>();
  private readonly dial: Http2Dialer;
  private readonly idleMs: number;
  private readonly connectMs: number;
  private readonly settings: Settings;
  private readonly sessionWindow: number;
  /** Sessions opened and streams started since the pool was made (admin, tests, benchmark). */
  readonly counters = { sessions: 0, streams: 0, failures: 0 };

  constructor(o: Http2PoolOptions = {}) {
    this.dial = o.dial ?? tcpHttp2Dialer;
    this.idleMs = o.idleMs ?? 60_000;
    this.connectMs = o.connectMs ?? 10_000;
    this.settings = { initialWindowSize: H2_STREAM_WINDOW, ...o.settings };
    this.sessionWindow = o.sessionWindow ?? H2_SESSION_WINDOW;
  }

  /**
   * Starts a request stream to address:port on the endpoint's session (a new one when there is none or the
   * pooled one cannot take streams any more). Throws when the dialer throws or the headers are invalid.
   */
  request(address: string, port: number, headers: OutgoingHttpHeaders, options: ClientSessionRequestOptions): { stream: ClientHttp2Stream; pooled: PooledSession } {
    for (let attempt = 0; ; attempt++) {
      const pooled = this.session(address, port);
      let stream: ClientHttp2Stream;
      try {
        stream = pooled.session.request(headers, options);
      } catch (e) {
        if (attempt === 0 && SESSION_GONE.has((e as NodeJS.ErrnoException).code ?? '')) {
          this.forget(pooled);
          continue;
        }
        throw e;
      }
      this.counters.streams++;
      pooled.streams++;
      if (pooled.idle) { clearTimeout(pooled.idle); pooled.idle = null; }
      stream.once('close', () => this.streamClosed(pooled));
      return { stream, pooled };
    }
  }

  /** The live session to an endpoint (dialled now when there is none). */
  session(address: string, port: number): PooledSession {
    const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const have = this.sessions.get(key);
    if (have && !have.session.closed && !have.session.destroyed) return have;
    if (have) this.forget(have);
    const transport = this.dial(address, port);
    this.counters.sessions++;
    const session = h2connect(`http://${key}`, { settings: this.settings, createConnection: () => transport });
    const pooled: PooledSession = { key, session, established: false, error: null, streams: 0, idle: null };
    this.sessions.set(key, pooled);
    this.all.add(pooled);
    const timer = setTimeout(() => {
      if (!pooled.established) session.destroy(new Error(`no HTTP/2 settings from ${key} within ${this.connectMs} ms`));
    }, this.connectMs);
    timer.unref();
    session.once('remoteSettings', () => {
      pooled.established = true;
      clearTimeout(timer);
    });
    session.once('connect', () => { if (!session.destroyed && this.sessionWindow > 65535) session.setLocalWindowSize(this.sessionWindow); });
    session.on('error', (err) => {
      pooled.error ??= err;
      this.counters.failures++;
      this.forget(pooled);
    });
    // The transport's own error is the best reason to give (the session may only say "closed").
    transport.once('error', (err) => { pooled.error ??= err; });
    session.on('goaway', () => this.forget(pooled));
    session.once('close', () => {
      clearTimeout(timer);
      if (pooled.idle) clearTimeout(pooled.idle);
      this.forget(pooled);
      this.all.delete(pooled);
    });
    return pooled;
  }

  private streamClosed(pooled: PooledSession): void {
    if (--pooled.streams > 0 || pooled.session.closed || pooled.session.destroyed) return;
    pooled.idle = setTimeout(() => {
      pooled.idle = null;
      if (pooled.streams === 0) {
        this.forget(pooled);
        pooled.session.close();
      }
    }, this.idleMs);
    pooled.idle.unref();
  }

  /** No new streams go to this session (it failed, was refused or drained). */
  forget(pooled: PooledSession): void {
    if (this.sessions.get(pooled.key) === pooled) this.sessions.delete(pooled.key);
  }

  /** Live sessions to an endpoint (0 or 1; admin, tests). */
  sessionCount(address: string, port: number): number {
    const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const p = this.sessions.get(key);
    return p && !p.session.destroyed && !p.session.closed ? 1 : 0;
  }

  /** Sessions not yet closed, pooled or draining. */
  get openSessions(): number {
    return this.all.size;
  }

  /** Closes every session: gracefully (GOAWAY, streams finish), or at once with `destroy`. */
  close(destroy = false): void {
    for (const p of this.all) {
      this.forget(p);
      if (p.idle) clearTimeout(p.idle);
      if (destroy) p.session.destroy();
      else p.session.close();
    }
  }
}

/** RST_STREAM codes used by the exchange. */
export const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = constants;
