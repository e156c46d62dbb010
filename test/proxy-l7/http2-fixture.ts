// Shared pieces of the proxy/http2 tests (not a test file): a gRPC service defined by hand (JSON messages)
// served by @grpc/grpc-js, a proxy listener that sniffs the first bytes like the sidecar will
// (detectProtocol, unshift, serveHttp2), a dispatch made from the real filter chain (authz-http + a
// terminal that rewrites and forwards), a counting TCP dialer and a node:http2 request helper.
import type { Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { buildChain, respond, type Handler, type PeerInfo } from '../../proxy/filters/chain.js';
import { BUILTIN_FILTERS, dispatchFor } from '../../proxy/filters/registry.js';
import type { Dispatch } from '../../proxy/http1/connection.js';
import { compileHeaderOps } from '../../proxy/http1/headers.js';
import { serveHttp2, type Http2Downstream, type Http2ServeOptions } from '../../proxy/http2/connection.js';
import { detectProtocol, type DetectedProtocol } from '../../proxy/http2/detect.js';
import { Http2UpstreamPool, type Http2Dialer, type Http2PoolOptions } from '../../proxy/http2/pool.js';

// ---------------------------------------------------------------------------------------------
// The gRPC service.

const ser = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const de = (b: Buffer): any => JSON.parse(b.toString('utf8'));
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${name}`, requestStream, responseStream, originalName: name,
  requestSerialize: ser, requestDeserialize: de, responseSerialize: ser, responseDeserialize: de,
});

/** test.Echo: Unary, Fail (NOT_FOUND), List (server streaming), Sum (client streaming), Forever (until cancelled). */
export const ECHO = {
  unary: method('Unary', false, false),
  fail: method('Fail', false, false),
  list: method('List', false, true),
  sum: method('Sum', true, false),
  forever: method('Forever', false, true),
  denied: method('Denied', false, false),
  missing: method('Missing', false, false),
  old: method('Old', false, false),
  early: method('Early', true, false),
} satisfies grpc.ServiceDefinition;

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');
export type EchoClientT = InstanceType<typeof EchoClient> & Record<keyof typeof ECHO, any>;

export const FAIL_MESSAGE = 'no such thing: ü 100%';

export interface GrpcUpstream {
  port: number;
  server: grpc.Server;
  /** Resolves with the time a Forever call saw its cancellation. */
  cancelled: Promise<number>;
  /** Messages written by Forever calls. */
  foreverSent: () => number;
}

function md(pairs: Record<string, string | Buffer>): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(pairs)) m.set(k, v);
  return m;
}

/** A grpc-js server of test.Echo on 127.0.0.1. */
export async function grpcUpstream(t: Test, version = 'v1'): Promise<GrpcUpstream> {
  const server = new grpc.Server();
  let onCancel!: (at: number) => void;
  const cancelled = new Promise<number>((r) => { onCancel = r; });
  let sent = 0;
  server.addService(ECHO, {
    unary: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      call.sendMetadata(md({ 'x-initial': 'i' }));
      cb(null, {
        got: call.request, host: call.getHost(), path: call.getPath(), version,
        added: call.metadata.get('x-added').map(String), req: call.metadata.get('x-req').map(String),
      }, md({ 'x-trail': 't', 'x-blob-bin': Buffer.from([0, 1, 2, 255]) }));
    },
    fail: (_call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      cb({ code: grpc.status.NOT_FOUND, details: FAIL_MESSAGE, metadata: md({ 'x-why': 'gone' }) });
    },
    list: (call: grpc.ServerWritableStream<any, any>) => {
      for (let i = 0; i < call.request.n; i++) call.write({ i });
      call.end(md({ 'x-count': String(call.request.n) }));
    },
    sum: (call: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<any>) => {
      let sum = 0, count = 0;
      call.on('data', (m: any) => { sum += m.v; count++; });
      call.on('end', () => cb(null, { sum, count }));
    },
    forever: (call: grpc.ServerWritableStream<any, any>) => {
      const timer = setInterval(() => { sent++; call.write({ tick: sent }); }, 20);
      call.on('cancelled', () => { clearInterval(timer); onCancel(Date.now()); });
      call.on('close', () => clearInterval(timer));
    },
    // Answers (an error with trailers) at the first message while the client is still streaming.
    early: (call: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<any>) => {
      call.once('data', (m: any) => cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: `stop at ${m.v}`, metadata: md({ 'x-early': 'yes' }) }));
    },
    denied: (_c: any, cb: grpc.sendUnaryData<any>) => cb(null, { reached: true }),
    missing: (_c: any, cb: grpc.sendUnaryData<any>) => cb(null, { reached: true }),
    old: (_c: any, cb: grpc.sendUnaryData<any>) => cb(null, { reached: 'old' }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.teardown(() => server.forceShutdown());
  return { port, server, cancelled, foreverSent: () => sent };
}

export function echoClient(t: Test, port: number, authority?: string): EchoClientT {
  const c = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), authority ? { 'grpc.default_authority': authority } : {}) as EchoClientT;
  t.teardown(() => c.close());
  return c;
}

export const deadline = (ms = 5000): Date => new Date(Date.now() + ms);

// ---------------------------------------------------------------------------------------------
// The proxy.

/** What the test dispatch saw (the chain's callbacks must be called once per forwarded exchange). */
export interface DispatchLog { forwarded: number; responses: number[]; ended: number }

/**
 * The filter chain the tests put in front: authz-http denies `/test.Echo/Denied` (403 RBAC), the terminal
 * answers `/test.Echo/Missing` with 404, rewrites `/test.Echo/Old` to Unary at `rewritten.example`, adds
 * `x-added: 1` and forwards to `upstream()` with the response operation `x-proxy: h2`.
 */
export function testDispatch(upstream: () => { address: string; port: number }, log: DispatchLog): Dispatch {
  const terminal: Handler = (ctx) => {
    let head = ctx.head;
    if (head.target === '/test.Echo/Missing' || head.target === '/missing') return respond(404, 'no route to host');
    if (head.target === '/test.Echo/Old') head = { ...head, target: '/test.Echo/Unary', host: 'rewritten.example' };
    head = { ...head, headers: [...head.headers, 'x-added', '1'] };
    log.forwarded++;
    const { address, port } = upstream();
    return {
      kind: 'forward', address, port, head, responseOps: compileHeaderOps({ set: { 'x-proxy': 'h2' }, remove: ['x-secret'] }),
      onResponse: (s) => log.responses.push(s), onEnd: () => log.ended++,
    };
  };
  const deny = { name: 'deny', namespace: 'foo', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/test.Echo/Denied', '/denied'] } }] }] };
  const { handler, errors } = buildChain([{ name: 'authz-http', config: { policies: [deny] } }], BUILTIN_FILTERS, terminal);
  if (!handler) throw new Error(errors.join('; '));
  const peer = (): PeerInfo => ({ principal: '', namespace: '', sourceIp: '127.0.0.1', destinationIp: '127.0.0.1', destinationPort: 80, sourceLabels: {} });
  return dispatchFor(handler, peer, 80);
}

/** A TCP dialer that counts the connections it opens. */
export function countingDialer(): { dial: Http2Dialer; count: () => number } {
  let n = 0;
  return { dial: (address, port) => { n++; return connect({ host: address, port, noDelay: true }); }, count: () => n };
}

/** Reads until detectProtocol decides, puts the bytes back (unshift) and calls `then` — as the sidecar will. */
export function sniff(d: Duplex, then: (p: DetectedProtocol) => void): void {
  let buf = Buffer.alloc(0);
  const onData = (c: Buffer): void => {
    buf = Buffer.concat([buf, c]);
    const p = detectProtocol(buf);
    if (p === 'need-more') return;
    d.off('data', onData);
    d.pause();
    d.unshift(buf);
    then(p);
  };
  d.on('data', onData);
}

export interface ProxyHandle {
  port: number;
  pool: Http2UpstreamPool;
  downstreams: Http2Downstream[];
  server: Server;
}

/** A listener that sniffs like the sidecar (detectProtocol, unshift) and serves HTTP/2 with `dispatch`. */
export async function startProxy(t: Test, dispatch: Dispatch, poolOpts: Http2PoolOptions = {}, serveOpts: Http2ServeOptions = {}): Promise<ProxyHandle> {
  const pool = new Http2UpstreamPool(poolOpts);
  const downstreams: Http2Downstream[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sniff(sock, (p) => {
      if (p !== 'h2') return void sock.destroy();
      downstreams.push(serveHttp2(sock, dispatch, pool, serveOpts));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    pool.close(true);
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, pool, downstreams, server };
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP/2 client.

export interface H2Answer { status: number; headers: IncomingHttpHeaders; body: Buffer; trailers: IncomingHttpHeaders | null; rstCode: number | undefined }

export function h2client(t: Test, port: number): ClientHttp2Session {
  const s = h2connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  t.teardown(() => s.destroy());
  return s;
}

/** One request; the body (if any) is sent whole; resolves when the stream closes. */
export function h2request(s: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const r = s.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let status = 0, head: IncomingHttpHeaders = {}, trailers: IncomingHttpHeaders | null = null;
    r.on('response', (h) => { status = Number(h[':status']); head = h; });
    r.on('trailers', (h) => { trailers = h; });
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('error', () => {});
    r.on('close', () => resolve({ status, headers: head, body: Buffer.concat(chunks), trailers, rstCode: r.rstCode }));
    if (body !== undefined) r.end(body);
    setTimeout(() => { r.close(); reject(new Error(`timeout: ${JSON.stringify(headers)}`)); }, 10_000).unref();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
