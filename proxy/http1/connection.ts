// One downstream HTTP/1.1 connection served by a proxy: heads are parsed on the raw socket, each request
// is handed to `dispatch` (the filter chain: it answers locally or names an upstream endpoint and the head
// to send), and the exchange is relayed with bodies streamed in both directions (never buffered whole),
// backpressure both ways, interim 1xx responses relayed, and upgrades (101) turned into a raw pipe.
// Pipelining is safe: requests are served one at a time in order; bytes of later requests wait in the
// buffer (the socket is paused past 64 KiB) until the current response has ended.
//
//   client ─data─► parse head ─► dispatch ─► respond locally ─────────────────────────┐
//                                        └─► pool.acquire ─► head + body ─► upstream ─┤ response head (+ops) + body
//   client ◄──────────────────────────────────────────────────────────────────────────┘   → next request
import type { Duplex } from 'node:stream';
import { BodyFramer, requestFraming, responseFraming } from './body.js';
import { applyHeaderOps, localResponse, serializeRequest, serializeResponse, type HeaderOps } from './headers.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './parse.js';
import type { Lease, UpstreamPool } from './pool.js';

/** What the chain decided for one request. */
export type Decision =
  | { kind: 'respond'; status: number; headers: string[]; body: string | Buffer }
  | { kind: 'forward'; address: string; port: number; head: RequestHead; responseOps: HeaderOps; onResponse?: (status: number) => void; onEnd?: () => void }
  | { kind: 'close'; reason: string };

/** Facts about the downstream connection the chain may use. */
export interface DownstreamInfo {
  remoteAddress: string;
  localPort: number;
}

/** Maps a parsed request to a decision (synchronous: routing needs only the head). */
export type Dispatch = (head: RequestHead, info: DownstreamInfo) => Decision;

export interface ConnectionOptions {
  /** Idle keep-alive connections close after this (Envoy's idle_timeout default is 1 h; 5 min here). */
  idleMs?: number;
  /** Who is downstream, when the duplex is not a socket (an HBONE stream, a TLS socket over a sniffed one). */
  info?: DownstreamInfo;
  /** Called once per request: status sent (0 when the connection failed mid-way), decision kind. */
  onDone?: (status: number, kind: string) => void;
  /**
   * Also retry once when a new (not pooled) upstream connection fails before the response head, for
   * GET/HEAD/OPTIONS without a body (the ingress: an upstream shutting down resets connections it has
   * just accepted; the retry's connect fails and the dialer moves to another endpoint).
   */
  retrySafeOnReset?: boolean;
}

/** Envoy's body for a 503 when the upstream could not be reached or reset before headers. */
export const UPSTREAM_RESET = 'upstream connect error or disconnect/reset before headers. reset reason: ';

const PIPELINE_PAUSE = 64 * 1024;
const TEXT = ['content-type', 'text/plain'];

/** A downstream or upstream byte stream: a socket, a TLS socket, an HTTP/2 (HBONE) stream. */
export type Conn = Duplex & { setNoDelay?(on: boolean): unknown; setTimeout?(ms: number, cb?: () => void): unknown; remoteAddress?: string; localPort?: number };

/** Serves HTTP/1.1 on `sock` until either side closes. */
export function serveHttp1(sock: Conn, dispatch: Dispatch, pool: UpstreamPool, opts: ConnectionOptions = {}): void {
  new Http1Connection(sock, dispatch, pool, opts);
}

class Http1Connection {
  private buf: Buffer | null = null;
  private busy = false;
  private closed = false;
  private keepAlive = true;
  private info: DownstreamInfo;
  // Current exchange.
  private head: RequestHead | null = null;
  private reqFramer: BodyFramer | null = null;
  private reqDone = true;
  private respDone = true;
  private lease: Lease | null = null;
  private rbuf: Buffer | null = null;
  private respFramer: BodyFramer | null = null;
  private respStarted = false;
  private respStatus = 0;
  private decision: Decision | null = null;
  private retried = false;
  private noReuse = false;
  private inNext = false;
  private readonly onUp = (c: Buffer) => this.upstreamData(c);
  private readonly onUpEnd = () => this.upstreamEnd();
  private readonly onUpErr = (e: Error) => this.upstreamFailed(e.message);

  constructor(private readonly sock: Conn, private readonly dispatch: Dispatch, private readonly pool: UpstreamPool, private readonly opts: ConnectionOptions) {
    this.info = opts.info ?? { remoteAddress: sock.remoteAddress ?? '', localPort: sock.localPort ?? 0 };
    sock.setNoDelay?.(true);
    sock.setTimeout?.(opts.idleMs ?? 300_000, () => { if (!this.busy) sock.destroy(); });
    sock.on('data', (c: Buffer) => this.data(c));
    sock.on('error', () => this.teardown());
    sock.on('close', () => this.teardown());
    sock.on('end', () => { if (!this.busy) sock.end(); });
  }

  /** Tells the chain a forwarded exchange is over (balancers count active requests). */
  private endDecision(): void {
    const d = this.decision;
    this.decision = null;
    if (d?.kind === 'forward') d.onEnd?.();
  }

  private teardown(): void {
    this.endDecision();
    this.closed = true;
    if (this.lease) { this.lease.sock.destroy(); this.lease = null; }
  }

  private data(chunk: Buffer): void {
    if (this.reqFramer !== null && !this.reqDone) return this.body(chunk);
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy) this.next();
    else if (this.buf.length > PIPELINE_PAUSE) this.sock.pause();
  }

  /** Request body bytes: to the upstream, or discarded for a local response; the rest is the next request. */
  private body(chunk: Buffer): void {
    const f = this.reqFramer!;
    const n = f.feed(chunk, 0, chunk.length);
    if (n < 0) return this.fatal(400, f.error);
    if (n > 0 && this.lease) {
      if (!this.lease.sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        this.sock.pause();
        this.lease.sock.once('drain', () => this.sock.resume());
      }
    }
    if (n < chunk.length) this.buf = this.buf === null ? chunk.subarray(n) : Buffer.concat([this.buf, chunk.subarray(n)]);
    if (f.done) {
      this.reqDone = true;
      this.maybeFinish();
    }
  }

  private next(): void {
    // Re-entered from an exchange that finished synchronously (local answers): the loop below goes on.
    if (this.inNext) return;
    this.inNext = true;
    try {
      this.nextLoop();
    } finally {
      this.inNext = false;
    }
  }

  private nextLoop(): void {
    while (!this.busy && !this.closed && this.buf !== null) {
      const r = parseRequestHead(this.buf, 0);
      if (r.kind === 'incomplete') {
        if (this.sock.isPaused()) this.sock.resume();
        return;
      }
      const rest = r.end < this.buf.length ? this.buf.subarray(r.end) : null;
      this.buf = null;
      if (r.kind === 'error') {
        this.sock.write(localResponse(r.status, TEXT, `${r.reason}\n`, r.fatal));
        this.opts.onDone?.(r.status, 'bad-request');
        if (r.fatal) return this.close();
        this.begin(null, requestFraming(r.skip, false), rest);
        continue;
      }
      this.start(r.head, rest);
    }
  }

  /** Starts an exchange whose request body follows in `rest` (a local answer was already written). */
  private begin(head: RequestHead | null, framing: ReturnType<typeof requestFraming>, rest: Buffer | null): void {
    this.busy = true;
    this.head = head;
    this.reqFramer = new BodyFramer(framing);
    this.reqDone = this.reqFramer.done;
    this.respDone = true;
    if (rest !== null && !this.reqDone) return this.body(rest); // body() finishes the exchange when the body ends
    if (rest !== null) this.buf = rest;
    this.maybeFinish();
  }

  private start(head: RequestHead, rest: Buffer | null): void {
    this.keepAlive = head.keepAlive;
    const d = this.dispatch(head, this.info);
    this.decision = d;
    if (d.kind === 'close') return this.close();
    if (d.kind === 'respond') {
      this.sock.write(localResponse(d.status, d.headers, d.body, !this.keepAlive));
      this.opts.onDone?.(d.status, 'respond');
      this.respStatus = d.status;
      return this.begin(head, requestFraming(head.contentLength, head.chunked), rest);
    }
    // Forward: hold the request's bytes until the upstream is connected.
    this.busy = true;
    this.reqDone = false;
    this.respDone = false;
    this.head = head;
    this.buf = rest;
    this.sock.pause();
    this.connect(d, false);
  }

  private connect(d: Extract<Decision, { kind: 'forward' }>, fresh: boolean): void {
    this.pool.acquire(d.address, d.port, (err, lease) => {
      if (this.closed) return void (lease && lease.sock.destroy());
      if (err || !lease) return this.upstreamFailed(`connection failure, transport failure reason: ${err?.message ?? 'unknown'}`);
      this.lease = lease;
      this.rbuf = null;
      this.respFramer = null;
      this.respStarted = false;
      this.noReuse = false;
      lease.sock.on('data', this.onUp).on('end', this.onUpEnd).on('error', this.onUpErr).on('close', this.onUpEnd);
      lease.sock.cork();
      lease.sock.write(serializeRequest(d.head));
      const rest = this.buf;
      this.buf = null;
      this.reqFramer = new BodyFramer(requestFraming(d.head.contentLength, d.head.chunked));
      this.reqDone = this.reqFramer.done;
      this.respDone = false;
      if (rest !== null) {
        if (this.reqDone) this.buf = rest;
        else this.body(rest);
      }
      lease.sock.uncork();
      if (this.sock.isPaused() && (this.buf === null || this.buf.length < PIPELINE_PAUSE)) this.sock.resume();
    }, fresh);
  }

  private upstreamData(chunk: Buffer): void {
    if (this.respFramer !== null) return this.responseBody(chunk, 0);
    // Head and the body bytes that came with it leave in one writev.
    this.sock.cork();
    try {
      this.responseHead(chunk);
    } finally {
      this.sock.uncork();
    }
  }

  private responseHead(chunk: Buffer): void {
    this.rbuf = this.rbuf === null ? chunk : Buffer.concat([this.rbuf, chunk]);
    const d = this.decision as Extract<Decision, { kind: 'forward' }>;
    while (this.rbuf !== null) {
      const r = parseResponseHead(this.rbuf, 0);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') return this.upstreamFailed(`protocol error: ${r.reason}`, false);
      const rest: Buffer | null = r.end < this.rbuf.length ? this.rbuf.subarray(r.end) : null;
      this.rbuf = rest;
      const h = r.head;
      this.respStarted = true;
      if (h.status >= 100 && h.status < 200 && h.status !== 101) {
        this.sock.write(serializeResponse(h, h.headers, false));
        continue;
      }
      this.respStatus = h.status;
      d.onResponse?.(h.status);
      if (h.status === 101 && this.head!.upgrade !== '') return this.tunnel(h, rest);
      const framing = responseFraming(this.head!.method, h.status, h.contentLength, h.chunked);
      if (framing.kind === 'close' || !h.keepAlive) this.keepAlive = this.keepAlive && framing.kind !== 'close';
      this.sock.write(serializeResponse(h, applyHeaderOps(h.headers, d.responseOps), !this.keepAlive));
      this.respFramer = new BodyFramer(framing);
      this.noReuse = !h.keepAlive;
      this.rbuf = null;
      if (this.respFramer.done) this.responseEnded();
      else if (rest !== null) this.responseBody(rest, 0);
      return;
    }
  }

  private responseBody(chunk: Buffer, off: number): void {
    const f = this.respFramer!;
    const n = f.feed(chunk, off, chunk.length);
    if (n < 0) return this.destroyBoth();
    if (n > 0 && !this.sock.write(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n))) {
      const up = this.lease!.sock;
      up.pause();
      this.sock.once('drain', () => up.resume());
    }
    if (f.done) {
      if (off + n < chunk.length) this.noReuse = true;
      this.responseEnded();
    }
  }

  private responseEnded(): void {
    this.respDone = true;
    this.opts.onDone?.(this.respStatus, 'forward');
    // The upstream answered before the request body ended: that connection cannot carry another exchange.
    if (!this.reqDone) this.dropLease();
    this.maybeFinish();
  }

  private upstreamEnd(): void {
    if (this.respFramer !== null && !this.respDone) {
      if (this.respFramer.eof()) {
        this.keepAlive = false;
        this.dropLease();
        return this.responseEnded();
      }
      return this.destroyBoth();
    }
    if (!this.respDone) this.upstreamFailed('connection termination');
  }

  /** Upgrade accepted: relay bytes both ways from now on. */
  private tunnel(h: ResponseHead, rest: Buffer | null): void {
    const up = this.lease!.sock;
    this.lease = null;
    up.off('data', this.onUp).off('end', this.onUpEnd).off('close', this.onUpEnd).off('error', this.onUpErr);
    this.sock.removeAllListeners('data');
    this.sock.write(serializeResponse(h, h.headers, false));
    if (rest !== null) this.sock.write(rest);
    if (this.buf !== null) up.write(this.buf);
    this.buf = null;
    this.opts.onDone?.(101, 'upgrade');
    this.sock.pipe(up).pipe(this.sock);
    up.on('error', () => this.sock.destroy());
    up.on('close', () => this.sock.destroy());
    this.sock.on('close', () => up.destroy());
    if (this.sock.isPaused()) this.sock.resume();
  }

  private upstreamFailed(reason: string, retryable = true): void {
    if (this.respDone || this.closed) return;
    const lease = this.lease;
    this.dropLease();
    if (this.respStarted) return this.destroyBoth();
    const d = this.decision as Extract<Decision, { kind: 'forward' }>;
    // A pooled connection the upstream closed while we reused it: retry once on a new one, when nothing
    // of the request body can have been lost.
    const safe = this.opts.retrySafeOnReset === true && (this.head?.method === 'GET' || this.head?.method === 'HEAD' || this.head?.method === 'OPTIONS');
    if (retryable && (lease?.reused || (safe && lease !== null)) && !this.retried && this.reqFramer?.framing.kind === 'none') {
      this.retried = true;
      return this.connect(d, true);
    }
    this.respStatus = 503;
    this.sock.write(localResponse(503, TEXT, UPSTREAM_RESET + reason, !this.keepAlive));
    this.opts.onDone?.(503, 'forward');
    if (this.reqFramer === null) {
      // Never connected: the request's body (if any) is still in the buffer; skip it and go on.
      const rest = this.buf;
      this.buf = null;
      return this.begin(this.head, requestFraming(this.head!.contentLength, this.head!.chunked), rest);
    }
    // Connected: the rest of the body (lease gone) is discarded as it arrives.
    this.respDone = true;
    this.maybeFinish();
  }

  private dropLease(): void {
    const l = this.lease;
    if (!l) return;
    l.sock.off('data', this.onUp).off('end', this.onUpEnd).off('close', this.onUpEnd).off('error', this.onUpErr);
    l.sock.on('error', () => {});
    l.sock.destroy();
    this.lease = null;
  }

  private maybeFinish(): void {
    if (!this.reqDone || !this.respDone || !this.busy) return;
    const l = this.lease;
    if (l) {
      l.sock.off('data', this.onUp).off('end', this.onUpEnd).off('close', this.onUpEnd).off('error', this.onUpErr);
      if (this.noReuse) l.sock.destroy();
      else this.pool.release(l);
      this.lease = null;
    }
    this.endDecision();
    this.busy = false;
    this.retried = false;
    this.reqFramer = null;
    this.respFramer = null;
    this.decision = null;
    this.head = null;
    if (!this.keepAlive) return this.close();
    if (this.buf !== null) this.next();
    else if (this.sock.isPaused()) this.sock.resume();
  }

  /** Framing lost on the request side: answer if nothing was sent yet, then close. */
  private fatal(status: number, reason: string): void {
    if (!this.respStarted && !(this.decision?.kind === 'respond')) this.sock.write(localResponse(status, TEXT, `${reason}\n`, true));
    this.destroyBoth(true);
  }

  private destroyBoth(graceful = false): void {
    this.endDecision();
    this.dropLease();
    this.closed = true;
    if (graceful) this.sock.end();
    else this.sock.destroy();
  }

  private close(): void {
    this.closed = true;
    this.dropLease();
    this.sock.end();
  }
}
