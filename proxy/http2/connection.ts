// One downstream HTTP/2 connection (h2c with prior knowledge, or h2 over TLS, or an HTTP/2 CONNECT stream
// of the mesh tunnel) served by the proxy: Node's HTTP/2 session runs on the Duplex (a server that never
// listens is handed the connection; a non-socket Duplex is wrapped in Node's JSStreamSocket), and each
// request stream is given to the same `dispatch` as HTTP/1 (the filter chain). A `forward` becomes a
// stream on the endpoint's pooled upstream session; bodies are relayed both ways (HTTP/2 flow control is the
// backpressure: a paused stream stops returning WINDOW_UPDATEs), trailers are relayed (gRPC's grpc-status),
// RST_STREAM travels both ways. Local answers to gRPC requests are gRPC trailers-only responses.
//
//   downstream ─► ServerHttp2Session ─stream─► requestFromH2 ─► dispatch ─► respond (HTTP or gRPC trailers-only)
//                                                                   └──► forward ─► pool.request(endpoint) ─► upstream stream
//   request:  HEADERS ─► HEADERS (head the chain returned) ; DATA ═relay═► DATA ; trailers ─► trailers ; RST ─► RST
//   response: HEADERS (+responseOps) ◄─ HEADERS ; DATA ◄═relay═ DATA ; trailers ◄─ trailers ; RST ◄─ RST
//             503 / grpc-status 14 "upstream connect error …" when the upstream fails before its response head
import { createServer, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { UPSTREAM_RESET, type Decision, type DownstreamInfo, type Dispatch } from '../http1/connection.js';
import { applyHeaderOps } from '../http1/headers.js';
import { flattenObject, grpcLocalReply, requestFromH2, responseHeaders, trailersOf, upstreamHeaders, type H2Request } from './headers.js';
import { H2_SESSION_WINDOW, H2_STREAM_WINDOW, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, type Http2UpstreamPool, type PooledSession } from './pool.js';

export interface Http2ServeOptions {
  /** What the chain sees of the downstream (default: the socket's remote address and local port). */
  info?: DownstreamInfo;
  /**
   * No frame either way for this long: a connection without streams gets GOAWAY, one with streams (stuck,
   * or a session nghttp2 already terminated) is closed (default 5 min, as HTTP/1's idle keep-alive).
   */
  idleMs?: number;
  /** Local SETTINGS (default: 1 MiB stream window, 1000 concurrent streams). */
  settings?: Settings;
  /** Connection receive window (default 16 MiB). */
  sessionWindow?: number;
  /** Called once per request stream: status sent (0 when reset before a response), decision kind. */
  onDone?: (status: number, kind: string) => void;
  /** Connection-level errors (the connection is closed; other connections are untouched). */
  onError?: (err: Error) => void;
}

/** A served downstream connection. */
export interface Http2Downstream {
  readonly session: ServerHttp2Session;
  /** Graceful shutdown: GOAWAY, no new streams, open ones finish; after `forceMs` (if given) the rest is reset. */
  close(forceMs?: number): void;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
}

const DEFAULT_SETTINGS: Settings = { initialWindowSize: H2_STREAM_WINDOW, maxConcurrentStreams: 1000 };
const HEADER_ERRORS = /^ERR_(HTTP2_INVALID_HEADER_VALUE|HTTP2_INVALID_CONNECTION_HEADERS|INVALID_CHAR|INVALID_HTTP_TOKEN|HTTP2_HEADER_SINGLE_VALUE|HTTP2_INVALID_PSEUDOHEADER)/;

/** Serves HTTP/2 on `downstream` until either side closes it. */
export function serveHttp2(downstream: Duplex, dispatch: Dispatch, pool: Http2UpstreamPool, opts: Http2ServeOptions = {}): Http2Downstream {
  const sock = downstream as Duplex & { remoteAddress?: string; localPort?: number; alpnProtocol?: string | false };
  const info: DownstreamInfo = opts.info ?? { remoteAddress: sock.remoteAddress ?? '', localPort: sock.localPort ?? 0 };
  // Node's server turns away a TLS socket whose ALPN is not h2 ("unknownProtocol"); the listener already
  // decided this is HTTP/2 (prior knowledge over TLS), so hand Node a plain Duplex in front of it.
  const transport = sock.alpnProtocol === false || sock.alpnProtocol === 'http/1.1' ? plainDuplex(downstream) : downstream;
  const server = createServer({ settings: { ...DEFAULT_SETTINGS, ...opts.settings } });
  let session: ServerHttp2Session | undefined;
  server.once('session', (s: ServerHttp2Session) => { session = s; });
  server.on('sessionError', (err: Error) => opts.onError?.(err));
  server.emit('connection', transport);
  if (!session) throw new Error('node:http2 did not start a session on the connection');
  const conn = new Conn(session, dispatch, pool, info, opts);
  const closed = new Promise<void>((resolve) => session!.once('close', () => resolve()));
  downstream.on('error', (err) => opts.onError?.(err));
  return { session, close: (forceMs?: number) => conn.close(forceMs), closed };
}

/** Per-connection state: the open exchanges and the idle timeout. */
class Conn {
  private active = 0;

  constructor(readonly session: ServerHttp2Session, readonly dispatch: Dispatch, readonly pool: Http2UpstreamPool, readonly info: DownstreamInfo, readonly opts: Http2ServeOptions) {
    const windowSize = opts.sessionWindow ?? H2_SESSION_WINDOW;
    // The session's socket is set up by now; the window update goes out with the first flush.
    if (windowSize > 65535) session.setLocalWindowSize(windowSize);
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw?: string[]) => this.stream(stream, headers, raw));
    // No frame either way for idleMs: without streams, GOAWAY; with streams, they are stuck (Envoy's
    // stream_idle_timeout is 5 min too) or the session is dead — after a connection error nghttp2 sends
    // GOAWAY and stops reading, and Node keeps the socket until the peer closes it. Either way it goes.
    const idleMs = opts.idleMs ?? 300_000;
    if (idleMs > 0) session.setTimeout(idleMs, () => (this.active === 0 ? this.close(5_000) : session.destroy()));
  }

  private stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    this.active++;
    stream.once('close', () => { this.active--; });
    new Exchange(this, stream).start(headers, raw);
  }

  /** GOAWAY; after `forceMs` (when > 0) whatever is still open is destroyed. */
  close(forceMs = 0): void {
    if (this.session.closed || this.session.destroyed) return;
    this.session.close();
    if (forceMs > 0) setTimeout(() => { if (!this.session.destroyed) this.session.destroy(); }, forceMs).unref();
  }
}

type Forward = Extract<Decision, { kind: 'forward' }>;

/** One request stream: dispatch, then a local answer or a relay to an upstream stream. */
class Exchange {
  private req: H2Request | null = null;
  private decision: Decision | null = null;
  private up: ClientHttp2Stream | null = null;
  private pooled: PooledSession | null = null;
  private upError: Error | null = null;
  private upEnded = false;
  /** Status sent downstream (0 until a response head went out). */
  private status = 0;
  private reqTrailers: OutgoingHttpHeaders | null = null;
  private respTrailers: OutgoingHttpHeaders | null = null;
  private bodyStarted = false;
  /** Detaches the request body relay (the upstream stream is gone). */
  private stopRequest: (() => void) | null = null;
  private retried = false;
  private done = false;

  constructor(private readonly conn: Conn, private readonly down: ServerHttp2Stream) {}

  start(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    const down = this.down;
    // Stream errors end in 'close', where the exchange is settled.
    down.on('error', () => {});
    down.once('close', () => this.downClosed());
    down.on('trailers', (t: IncomingHttpHeaders) => { this.reqTrailers = trailersOf(t); });
    const r = requestFromH2(headers, raw);
    if ('error' in r) return this.local(400, ['content-type', 'text/plain'], `${r.error}\n`);
    this.req = r;
    let d: Decision;
    try {
      d = this.conn.dispatch(r.head, this.conn.info);
    } catch (e) {
      // The chain never throws for a request's sake; if it does, this request fails alone.
      return this.local(500, ['content-type', 'text/plain'], `filter chain failed: ${(e as Error).message}\n`);
    }
    this.decision = d;
    if (d.kind === 'close') return this.reset(NGHTTP2_INTERNAL_ERROR);
    if (d.kind === 'respond') return this.local(d.status, d.headers, d.body);
    this.forward(d);
  }

  // ---------------------------------------------------------------------------------------------
  // Local answers.

  /** A local response; gRPC requests get trailers-only with the mapped grpc-status. */
  private local(status: number, headers: readonly string[], body: string | Buffer): void {
    const down = this.down;
    if (down.closed || down.destroyed || down.headersSent) return;
    this.status = status;
    try {
      if (this.req?.grpc) {
        down.respond(grpcLocalReply(status, body), { endStream: true });
      } else {
        const b = typeof body === 'string' ? Buffer.from(body) : body;
        const h = responseHeaders(status, headers);
        h['content-length'] = b.length;
        const noBody = b.length === 0 || this.req?.head.method === 'HEAD';
        down.respond(h, { endStream: noBody });
        if (!noBody) down.end(b);
      }
    } catch {
      return this.reset(NGHTTP2_INTERNAL_ERROR);
    }
    // The request body is not needed: discard what arrives and tell the client to stop (RST NO_ERROR after
    // the response, RFC 9113 8.1).
    if (!down.readableEnded) {
      down.resume();
      down.close(NGHTTP2_NO_ERROR);
    }
  }

  private reset(code: number): void {
    if (!this.down.closed && !this.down.destroyed) this.down.close(code);
  }

  // ---------------------------------------------------------------------------------------------
  // Relay.

  private forward(d: Forward): void {
    const down = this.down;
    const endStream = down.endAfterHeaders;
    let r: ReturnType<Http2UpstreamPool['request']>;
    try {
      r = this.conn.pool.request(d.address, d.port, upstreamHeaders(d.head, this.req!.scheme), endStream ? { endStream: true } : { endStream: false, waitForTrailers: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (HEADER_ERRORS.test(err.code ?? '')) return this.local(500, ['content-type', 'text/plain'], `invalid request header for the upstream: ${err.message}\n`);
      return this.upstreamFailed(`connection failure, transport failure reason: ${err.message}`);
    }
    const up = r.stream;
    this.up = up;
    this.pooled = r.pooled;
    this.upEnded = false;
    up.on('error', (err: Error) => { this.upError ??= err; });
    up.on('headers', (h: IncomingHttpHeaders) => this.informational(h));
    up.once('response', (h: IncomingHttpHeaders, flags: number) => this.response(d, h, flags));
    up.on('trailers', (t: IncomingHttpHeaders) => { this.respTrailers = trailersOf(t); });
    up.once('end', () => { this.upEnded = true; });
    up.once('close', () => this.upClosed(up, d));
    if (endStream) return;
    up.on('wantTrailers', () => {
      try {
        up.sendTrailers(this.reqTrailers ?? {});
      } catch {
        up.close(NGHTTP2_INTERNAL_ERROR);
      }
    });
    this.stopRequest = relay(down, up, () => { this.bodyStarted = true; });
  }

  /** 1xx from the upstream (not 101, which HTTP/2 does not have). */
  private informational(h: IncomingHttpHeaders): void {
    const s = Number(h[':status']);
    if (s < 100 || s >= 200 || this.down.headersSent || this.down.closed) return;
    try {
      this.down.additionalHeaders(responseHeaders(s, flattenObject(h)));
    } catch {
      // An informational response is advisory.
    }
  }

  private response(d: Forward, h: IncomingHttpHeaders, flags: number): void {
    const down = this.down;
    const up = this.up!;
    const status = Number(h[':status']);
    d.onResponse?.(status);
    if (down.closed || down.destroyed) return void up.close(NGHTTP2_CANCEL);
    const flat = flattenObject(h);
    const out = responseHeaders(status, applyHeaderOps(flat, d.responseOps));
    // END_STREAM on the response HEADERS: a trailers-only response (gRPC errors) stays one.
    const endStream = (flags & 0x1) !== 0;
    try {
      if (endStream) down.respond(out, { endStream: true });
      else down.respond(out, { waitForTrailers: true });
    } catch {
      up.close(NGHTTP2_CANCEL);
      return this.reset(NGHTTP2_INTERNAL_ERROR);
    }
    this.status = status;
    if (endStream) return void up.resume();
    down.on('wantTrailers', () => {
      try {
        down.sendTrailers(this.respTrailers ?? {});
      } catch {
        this.reset(NGHTTP2_INTERNAL_ERROR);
      }
    });
    relay(up, down);
  }

  private upClosed(up: ClientHttp2Stream, d: Forward): void {
    if (up !== this.up || this.done) return;
    const down = this.down;
    this.stopRequest?.();
    this.stopRequest = null;
    const code = up.rstCode ?? NGHTTP2_INTERNAL_ERROR;
    if (this.status !== 0) {
      // Response under way: a reset upstream is a reset downstream; a clean end was already relayed.
      if (code !== NGHTTP2_NO_ERROR || !this.upEnded) this.reset(code === NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : code);
      // The upstream answered before the request body ended: discard the rest. No RST_STREAM here — it
      // would overtake the response trailers still queued (Node fires 'finish' before 'wantTrailers').
      else if (!down.readableEnded) down.resume();
      return;
    }
    if (down.closed || down.destroyed) return;
    // No response head: a refused stream (REFUSED_STREAM, or past a GOAWAY's last stream id) was not
    // processed — retry once when nothing of the request body is lost. The pool gives the same session
    // if it still takes streams (it now knows the peer's limit and queues), else a new one.
    if (code === NGHTTP2_REFUSED_STREAM && !this.bodyStarted && !this.retried) {
      this.retried = true;
      this.up = null;
      return this.forward(d);
    }
    this.upstreamFailed(this.failureReason(code));
  }

  /** Envoy's reset reasons. */
  private failureReason(code: number): string {
    const p = this.pooled;
    if (p && !p.established) return `connection failure, transport failure reason: ${(p.error ?? this.upError ?? new Error('connection closed')).message}`;
    if (p && (p.error || p.session.destroyed)) return 'connection termination';
    if (code === NGHTTP2_REFUSED_STREAM) return 'remote refused stream reset';
    return 'remote reset';
  }

  private upstreamFailed(reason: string): void {
    this.conn.pool.counters.failures++;
    this.local(503, ['content-type', 'text/plain'], UPSTREAM_RESET + reason);
  }

  /** The downstream stream is gone: settle the exchange once, cancel the upstream if it still runs. */
  private downClosed(): void {
    if (this.done) return;
    this.done = true;
    const up = this.up;
    if (up && !up.closed && !up.destroyed) {
      const code = this.down.rstCode;
      up.close(code !== undefined && code !== NGHTTP2_NO_ERROR ? code : this.upEnded ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
    }
    const d = this.decision;
    // the exchange's end as proxy/resilience describes it (retries and byte counts are HTTP/1's for now)
    if (d?.kind === 'forward') d.onEnd?.({
      status: this.status, flags: this.status === 503 && !this.upEnded ? 'UF' : this.status ? '-' : 'DC', attempts: 1,
      upstream: `${d.address}:${d.port}`, upstreamMs: -1, bytesReceived: 0, bytesSent: 0,
    });
    this.conn.opts.onDone?.(this.status, d?.kind ?? 'bad-request');
  }
}

/**
 * Moves `src`'s data into `dst` with backpressure and ends `dst` with it: what `pipe` does for this case
 * with two listeners on the source instead of pipe's set on both sides (it runs twice per request).
 * Returns the detach function.
 */
function relay(src: Readable, dst: Writable, onFirst?: () => void): () => void {
  let first = onFirst;
  const onDrain = (): void => { src.resume(); };
  const onData = (c: Buffer): void => {
    if (first) { first(); first = undefined; }
    if (!dst.write(c)) {
      src.pause();
      dst.once('drain', onDrain);
    }
  };
  const onEnd = (): void => { dst.end(); };
  src.on('data', onData);
  src.once('end', onEnd);
  return () => {
    src.off('data', onData);
    src.off('end', onEnd);
    dst.off('drain', onDrain);
  };
}

/** A plain Duplex in front of another (Node's HTTP/2 server only looks at the outer one's ALPN). */
function plainDuplex(inner: Duplex): Duplex {
  const outer = new Duplex({
    read() { inner.resume(); },
    write(chunk, enc, cb) { inner.write(chunk, enc, cb); },
    final(cb) { inner.end(cb); },
    destroy(err, cb) { inner.destroy(err ?? undefined); cb(err); },
  });
  inner.on('data', (c: Buffer) => { if (!outer.push(c)) inner.pause(); });
  inner.on('end', () => outer.push(null));
  inner.on('error', (e) => outer.destroy(e));
  inner.on('close', () => outer.destroy());
  return outer;
}
