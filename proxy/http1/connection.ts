// One downstream HTTP/1.1 connection served by a proxy: heads are parsed on the raw socket, each request
// is handed to `dispatch` (the filter chain: it answers locally or names an upstream endpoint and the head
// to send), and the exchange is relayed with bodies streamed in both directions (never buffered whole),
// backpressure both ways, interim 1xx responses relayed, and upgrades (101) turned into a raw pipe.
// Pipelining is safe: requests are served one at a time in order; bytes of later requests wait in the
// buffer (the socket is paused past 64 KiB) until the current response has ended.
//
// A forward decision may carry an ExchangePolicy (../resilience): the route's timeout and retries, the
// cluster's circuit breakers, retry budget and outlier detector. Then an exchange is a series of attempts:
// the request body is kept (up to 64 KiB) so that it can be replayed, a retriable outcome (a status, a
// reset, a connect failure, a per-try timeout) before anything was sent downstream is retried after a
// jittered backoff on an endpoint the policy re-picks, and the end reports Envoy's response flags.
//
//   client ─data─► parse head ─► dispatch ─► respond locally ─────────────────────────────────────┐
//                                        └─► admit ─► attempt: pool.acquire ─► head + body ─► upstream
//                                               ▲        └─ retriable outcome ─► backoff ─┘        │
//   client ◄── response head (+ops) + body ◄────┴───────────────────────────────────────────────────┘
import type { Duplex } from 'node:stream';
import { BodyFramer, requestFraming, responseFraming } from './body.js';
import { applyHeaderOps, localResponse, serializeRequest, serializeResponse, type HeaderOps } from './headers.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './parse.js';
import type { Lease, UpstreamPool } from './pool.js';
import { backoffMs, flagString, grpcStatusOf, localFailure, retriable, shadowHost, type AttemptOutcome } from '../resilience/policy.js';
import type { ExchangeEnd, ExchangePolicy, Upstream } from '../resilience/exchange.js';

export type { ExchangeEnd, ExchangePolicy, Upstream } from '../resilience/exchange.js';

/** What the chain decided for one request. */
export type Decision =
  | { kind: 'respond'; status: number; headers: string[]; body: string | Buffer; flags?: string }
  | {
    kind: 'forward'; address: string; port: number; head: RequestHead; responseOps: HeaderOps; policy?: ExchangePolicy;
    onResponse?: (status: number) => void; onEnd?: (end: ExchangeEnd) => void;
  }
  | { kind: 'close'; reason: string };

type Forward = Extract<Decision, { kind: 'forward' }>;

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
/** Request bodies up to this size are kept for a retry; a longer body is not retried. */
export const REPLAY_LIMIT = 64 * 1024;
const TEXT = ['content-type', 'text/plain'];

/** A downstream or upstream byte stream: a socket, a TLS socket, an HTTP/2 (HBONE) stream. */
export type Conn = Duplex & { setNoDelay?(on: boolean): unknown; setTimeout?(ms: number, cb?: () => void): unknown; remoteAddress?: string; localPort?: number };

/** Serves HTTP/1.1 on `sock` until either side closes. */
export function serveHttp1(sock: Conn, dispatch: Dispatch, pool: UpstreamPool, opts: ConnectionOptions = {}): void {
  new Http1Connection(sock, dispatch, pool, opts);
}

/** Per-exchange state of a forwarded request (attempts, timers, replay buffer, flags). */
interface Exchange {
  d: Forward;
  policy: ExchangePolicy | undefined;
  cur: Upstream;
  /** Whether `cur.release` is still owed (the first upstream is released by the decision's onEnd). */
  curOwned: boolean;
  attempts: number;
  tried: string[];
  /** Request body bytes kept for a replay; null once past REPLAY_LIMIT. */
  replay: Buffer[] | null;
  replayBytes: number;
  flags: Set<string>;
  admitted: boolean;
  queued: (() => void) | null;
  retryToken: boolean;
  tGlobal: NodeJS.Timeout | null;
  tTry: NodeJS.Timeout | null;
  tWait: NodeJS.Timeout | null;
  tAttempt: number;
  /** Bumped per connection try: a late pool callback of an abandoned try is dropped. */
  serial: number;
  upstreamMs: number;
  bytesReceived: number;
  bytesSent: number;
  /** The first connection did not exist yet (request bytes still in `buf`). */
  connected: boolean;
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
  private ex: Exchange | null = null;
  private retried = false;
  private noReuse = false;
  private inNext = false;
  private readonly onUp = (c: Buffer) => this.upstreamData(c);
  private readonly onUpEnd = () => this.upstreamEnd();
  private readonly onUpErr = () => this.attemptFailed({ kind: 'reset' });

  constructor(private readonly sock: Conn, private readonly dispatch: Dispatch, private readonly pool: UpstreamPool, private readonly opts: ConnectionOptions) {
    this.info = opts.info ?? { remoteAddress: sock.remoteAddress ?? '', localPort: sock.localPort ?? 0 };
    sock.setNoDelay?.(true);
    sock.setTimeout?.(opts.idleMs ?? 300_000, () => { if (!this.busy) sock.destroy(); });
    sock.on('data', (c: Buffer) => this.data(c));
    sock.on('error', () => this.teardown());
    sock.on('close', () => this.teardown());
    sock.on('end', () => { if (!this.busy) sock.end(); });
  }

  /** Ends the exchange's bookkeeping once: timers, the cluster slot, endpoints, then the chain's onEnd. */
  private endDecision(): void {
    const d = this.decision;
    this.decision = null;
    const ex = this.ex;
    this.ex = null;
    if (d?.kind !== 'forward' || !ex) return;
    for (const t of [ex.tGlobal, ex.tTry, ex.tWait]) if (t) clearTimeout(t);
    const g = ex.policy?.guard;
    if (g) {
      if (ex.queued) g.release(ex.queued);
      else if (ex.admitted) g.release();
      if (ex.retryToken) g.retryDone();
    }
    if (ex.curOwned) ex.cur.release?.();
    if (!this.respDone && this.closed && !ex.flags.has('UT') && !ex.flags.has('UC') && !ex.flags.has('UPE')) ex.flags.add('DC');
    d.onEnd?.({
      status: this.respStatus, flags: flagString(ex.flags), attempts: ex.attempts, upstream: ex.attempts ? `${ex.cur.address}:${ex.cur.port}` : '',
      upstreamMs: ex.upstreamMs, bytesReceived: ex.bytesReceived, bytesSent: ex.bytesSent,
    });
  }

  private teardown(): void {
    this.closed = true;
    this.endDecision();
    if (this.lease) { this.lease.sock.destroy(); this.lease = null; }
  }

  private data(chunk: Buffer): void {
    if (this.reqFramer !== null && !this.reqDone) return this.body(chunk);
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy) this.next();
    else if (this.buf.length > PIPELINE_PAUSE) this.sock.pause();
  }

  /** Request body bytes: to the upstream (and the replay buffer), or discarded for a local response; the rest is the next request. */
  private body(chunk: Buffer): void {
    const f = this.reqFramer!;
    const n = f.feed(chunk, 0, chunk.length);
    if (n < 0) return this.fatal(400, f.error);
    if (n > 0) {
      const part = n === chunk.length ? chunk : chunk.subarray(0, n);
      const ex = this.ex;
      if (ex) ex.bytesReceived += n;
      if (ex && !this.respStarted) {
        if (ex.replay !== null) {
          ex.replayBytes += n;
          if (ex.replayBytes > REPLAY_LIMIT) ex.replay = null;
          else ex.replay.push(part);
        }
      }
      if (this.lease && !this.lease.sock.write(part)) {
        this.sock.pause();
        this.lease.sock.once('drain', () => this.sock.resume());
      }
    }
    if (n < chunk.length) this.buf = this.buf === null ? chunk.subarray(n) : Buffer.concat([this.buf, chunk.subarray(n)]);
    if (f.done) {
      this.reqDone = true;
      if (this.ex?.policy?.mirrors) this.mirror(this.ex);
      this.maybeFinish();
    }
  }

  /** Fire-and-forget copies of the complete request to the mirror endpoints (Host + `-shadow`). */
  private mirror(ex: Exchange): void {
    const targets = ex.policy?.mirrors;
    if (!targets || ex.replay === null) return;
    ex.policy!.mirrors = undefined;
    const h = ex.d.head;
    const host = shadowHost(h.host);
    const head = { ...h, host, headers: h.headers.map((v, i) => (i % 2 === 1 && h.headers[i - 1] === 'host' ? host : v)) };
    const bytes = [Buffer.from(serializeRequest(head), 'latin1'), ...ex.replay];
    for (const t of targets) {
      this.pool.acquire(t.address, t.port, (err, lease) => {
        if (err || !lease) return;
        const s = lease.sock;
        s.on('error', () => {});
        s.on('data', () => s.destroy()); // the answer is ignored; the connection is not reused
        s.setTimeout?.(10_000, () => s.destroy());
        for (const b of bytes) s.write(b);
      }, true);
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
    this.respStarted = false;
    this.head = head;
    this.buf = rest;
    this.sock.pause();
    const policy = d.policy;
    const ex: Exchange = this.ex = {
      d, policy, cur: { address: d.address, port: d.port }, curOwned: false, attempts: 0, tried: [], replay: policy?.route.retry || policy?.mirrors ? [] : null, replayBytes: 0,
      flags: new Set(), admitted: false, queued: null, retryToken: false, tGlobal: null, tTry: null, tWait: null, tAttempt: 0, serial: 0, upstreamMs: -1,
      bytesReceived: 0, bytesSent: 0, connected: false,
    };
    if (policy?.route.timeoutMs) ex.tGlobal = setTimeout(() => this.globalTimeout(ex), policy.route.timeoutMs);
    const go = (): void => {
      if (this.ex !== ex) return;
      ex.queued = null;
      ex.admitted = true;
      if (policy?.delayMs) {
        ex.flags.add('DI');
        ex.tWait = setTimeout(() => { ex.tWait = null; this.attempt(ex, false); }, policy.delayMs);
      } else this.attempt(ex, false);
    };
    const g = policy?.guard;
    if (!g) return go();
    const a = g.admit(go);
    if (a === 'now') return go();
    if (a === 'queued') return void (ex.queued = go);
    ex.flags.add('UO');
    this.answerLocal(503, UPSTREAM_RESET + 'overflow');
  }

  /** One attempt on `ex.cur`: a pooled or new connection, the head, the body so far. */
  private attempt(ex: Exchange, fresh: boolean): void {
    if (this.ex !== ex) return;
    if (!fresh) {
      ex.attempts++;
      ex.tried.push(`${ex.cur.address}:${ex.cur.port}`);
      ex.tAttempt = performance.now();
      const pt = ex.policy?.route.retry?.perTryTimeoutMs;
      if (pt) ex.tTry = setTimeout(() => { ex.tTry = null; this.attemptFailed({ kind: 'per-try-timeout' }); }, pt);
    }
    const d = ex.d;
    if (ex.connected && ex.replay === null && this.reqFramer?.framing.kind !== 'none') {
      // The body went past the replay limit while waiting to retry: nothing complete can be sent.
      ex.flags.add('UC');
      return this.answerLocal(503, UPSTREAM_RESET + 'connection termination');
    }
    const serial = ++ex.serial;
    let called = false, tConnect: NodeJS.Timeout | null = null;
    this.pool.acquire(ex.cur.address, ex.cur.port, (err, lease) => {
      called = true;
      if (tConnect) clearTimeout(tConnect);
      if (this.closed || this.ex !== ex || this.respDone || serial !== ex.serial) return void (lease && lease.sock.destroy());
      if (err || !lease) return this.attemptFailed({ kind: 'connect-failure' }, err?.message ?? 'unknown');
      this.lease = lease;
      this.rbuf = null;
      this.respFramer = null;
      this.noReuse = false;
      lease.sock.on('data', this.onUp).on('end', this.onUpEnd).on('error', this.onUpErr).on('close', this.onUpEnd);
      lease.sock.cork();
      lease.sock.write(serializeRequest(d.head));
      if (!ex.connected) {
        // First connection: the body so far is in `buf`; from now on it streams through body().
        ex.connected = true;
        const rest = this.buf;
        this.buf = null;
        this.reqFramer = new BodyFramer(requestFraming(d.head.contentLength, d.head.chunked));
        this.reqDone = this.reqFramer.done;
        if (this.reqDone) this.mirror(ex);
        if (rest !== null) {
          if (this.reqDone) this.buf = rest;
          else this.body(rest);
        }
      } else if (ex.replay !== null) {
        for (const b of ex.replay) lease.sock.write(b);
      }
      lease.sock.uncork();
      if (this.sock.isPaused() && (this.buf === null || this.buf.length < PIPELINE_PAUSE)) this.sock.resume();
    }, fresh);
    // connectionPool.tcp.connectTimeout: a dial still pending then is a connect failure (the late socket is dropped).
    const ct = ex.policy?.guard?.limits.connectTimeoutMs ?? 0;
    if (!called && ct > 0) {
      tConnect = setTimeout(() => {
        if (serial !== ex.serial || this.ex !== ex) return;
        ex.serial++;
        this.attemptFailed({ kind: 'connect-failure' }, `connect timeout after ${ct}ms`);
      }, ct);
    }
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
    const ex = this.ex!;
    const d = ex.d;
    while (this.rbuf !== null) {
      const r = parseResponseHead(this.rbuf, 0);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') return this.attemptFailed({ kind: 'protocol-error' });
      const rest: Buffer | null = r.end < this.rbuf.length ? this.rbuf.subarray(r.end) : null;
      this.rbuf = rest;
      const h = r.head;
      if (h.status >= 100 && h.status < 200 && h.status !== 101) {
        this.respStarted = true;
        this.sendDown(serializeResponse(h, h.headers, false));
        continue;
      }
      const outcome: AttemptOutcome = { kind: 'response', status: h.status, ...grpcStatusOf(h.headers) };
      ex.policy?.guard?.report(`${ex.cur.address}:${ex.cur.port}`, outcome);
      if (this.retryAfter(ex, outcome)) return;
      if (ex.tTry) { clearTimeout(ex.tTry); ex.tTry = null; }
      ex.upstreamMs = performance.now() - ex.tAttempt;
      this.respStarted = true;
      this.respStatus = h.status;
      d.onResponse?.(h.status);
      if (h.status === 101 && this.head!.upgrade !== '') return this.tunnel(h, rest);
      const framing = responseFraming(this.head!.method, h.status, h.contentLength, h.chunked);
      if (framing.kind === 'close' || !h.keepAlive) this.keepAlive = this.keepAlive && framing.kind !== 'close';
      this.sendDown(serializeResponse(h, applyHeaderOps(h.headers, d.responseOps), !this.keepAlive));
      this.respFramer = new BodyFramer(framing);
      this.noReuse = !h.keepAlive;
      this.rbuf = null;
      if (this.respFramer.done) this.responseEnded();
      else if (rest !== null) this.responseBody(rest, 0);
      return;
    }
  }

  private sendDown(b: Buffer | string): boolean {
    if (this.ex) this.ex.bytesSent += b.length;
    return this.sock.write(b);
  }

  private responseBody(chunk: Buffer, off: number): void {
    const f = this.respFramer!;
    const n = f.feed(chunk, off, chunk.length);
    if (n < 0) {
      this.ex?.flags.add('UPE');
      return this.destroyBoth();
    }
    if (n > 0 && !this.sendDown(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n))) {
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
      this.ex?.flags.add('UC');
      return this.destroyBoth();
    }
    if (!this.respDone) this.attemptFailed({ kind: 'reset' });
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
    this.respDone = true;
    this.sock.pipe(up).pipe(this.sock);
    up.on('error', () => this.sock.destroy());
    up.on('close', () => this.sock.destroy());
    this.sock.on('close', () => up.destroy());
    if (this.sock.isPaused()) this.sock.resume();
  }

  /** Whether the outcome is retried (then the retry is under way): policy, attempts left, replayable body, budget. */
  private retryAfter(ex: Exchange, o: AttemptOutcome): boolean {
    const r = ex.policy?.route.retry;
    if (!r || this.closed || this.respStarted || !retriable(r.on, o)) return false;
    if (ex.attempts > r.attempts) {
      ex.flags.add('URX');
      return false;
    }
    if (ex.replay === null && ex.connected && this.reqFramer?.framing.kind !== 'none') return false;
    const g = ex.policy!.guard;
    if (ex.retryToken) { g?.retryDone(); ex.retryToken = false; }
    if (g && !g.tryRetry()) return false;
    ex.retryToken = !!g;
    if (ex.tTry) { clearTimeout(ex.tTry); ex.tTry = null; }
    this.dropLease();
    this.rbuf = null;
    this.sock.pause();
    ex.tWait = setTimeout(() => {
      ex.tWait = null;
      if (this.ex !== ex) return;
      const next = ex.policy!.repick?.(r.ignorePreviousHosts ? ex.tried : []);
      if (next) {
        if (ex.curOwned) ex.cur.release?.();
        ex.cur = next;
        ex.curOwned = true;
      }
      this.attempt(ex, false);
    }, backoffMs(r, ex.attempts));
    return true;
  }

  /** An attempt ended without a usable response head: retry, or answer with Envoy's local reply. */
  private attemptFailed(o: Exclude<AttemptOutcome, { kind: 'response' }>, connectReason = ''): void {
    const ex = this.ex;
    if (this.respDone || this.closed || !ex) return;
    const lease = this.lease;
    this.dropLease();
    if (this.respStarted) {
      ex.flags.add(o.kind === 'per-try-timeout' ? 'UT' : o.kind === 'protocol-error' ? 'UPE' : 'UC');
      return this.destroyBoth();
    }
    // A pooled connection the upstream closed while we reused it: retry once on a new one, when nothing
    // of the request body can have been lost (not counted as an attempt, as Envoy's stale-connection retry).
    // The ingress also retries a safe method reset on a fresh connection (retrySafeOnReset: a rolling update).
    const safe = this.opts.retrySafeOnReset === true && (this.head?.method === 'GET' || this.head?.method === 'HEAD' || this.head?.method === 'OPTIONS');
    if (o.kind === 'reset' && (lease?.reused || (safe && lease !== null)) && !this.retried && (this.reqFramer?.framing.kind === 'none' || ex.replay !== null)) {
      this.retried = true;
      return this.attempt(ex, true);
    }
    ex.policy?.guard?.report(`${ex.cur.address}:${ex.cur.port}`, o);
    if (this.retryAfter(ex, o)) return;
    const f = localFailure(o, connectReason);
    ex.flags.add(f.flag);
    if (o.kind === 'per-try-timeout') this.answerLocal(504, 'upstream request timeout');
    else this.answerLocal(f.status, UPSTREAM_RESET + f.reason);
  }

  /** The route's timeout fired: 504 before the response started, a reset after. */
  private globalTimeout(ex: Exchange): void {
    ex.tGlobal = null;
    if (this.ex !== ex || this.respDone) return;
    ex.flags.add('UT');
    if (this.respStarted) return this.destroyBoth();
    this.dropLease();
    this.answerLocal(504, 'upstream request timeout');
  }

  /** A local answer in place of the upstream's (nothing was sent downstream yet). */
  private answerLocal(status: number, body: string): void {
    this.respStatus = status;
    this.respStarted = true;
    this.sendDown(localResponse(status, TEXT, body, !this.keepAlive));
    this.opts.onDone?.(status, 'forward');
    if (this.reqFramer === null) {
      // Never connected: the request's body (if any) is still in the buffer; skip it and go on.
      const rest = this.buf;
      this.buf = null;
      return this.begin(this.head, requestFraming(this.head!.contentLength, this.head!.chunked), rest);
    }
    // Connected: the rest of the body (lease gone) is discarded as it arrives.
    this.respDone = true;
    if (!this.reqDone && this.sock.isPaused()) this.sock.resume();
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
      const maxUses = this.ex?.policy?.guard?.limits.maxRequestsPerConnection ?? 0;
      if (this.noReuse || (maxUses > 0 && l.uses >= maxUses)) l.sock.destroy();
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
    this.dropLease();
    this.closed = true;
    this.endDecision();
    if (graceful) this.sock.end();
    else this.sock.destroy();
  }

  private close(): void {
    this.closed = true;
    this.dropLease();
    this.sock.end();
  }
}
