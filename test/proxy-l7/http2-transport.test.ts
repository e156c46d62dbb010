// proxy/http2 on the transports the sidecar has: the downstream is an HTTP/2 CONNECT stream (what the
// inbound HBONE server hands over) or a TLS socket (with ALPN h2, and without ALPN — prior knowledge over
// TLS); the upstream session runs inside a CONNECT stream of an outer HTTP/2 session (what the outbound
// side's mesh tunnel dials), with grpc-js on both ends; a refused CONNECT is a connection failure.
// Node wraps these non-socket Duplexes in its JSStreamSocket; these tests are the measurement that it works.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { DownstreamInfo } from '../../proxy/http1/connection.js';
import { serveHttp2 } from '../../proxy/http2/connection.js';
import { Http2UpstreamPool } from '../../proxy/http2/pool.js';
import { makeCa, makeLeaf } from '../sidecar/ca.js';
import { deadline, echoClient, FAIL_MESSAGE, grpcUpstream, sniff, startProxy, testDispatch, type DispatchLog } from './http2-fixture.js';

const newLog = (): DispatchLog => ({ forwarded: 0, responses: [], ended: 0 });

/** gRPC length-prefixed message framing (uncompressed), JSON payloads as the test service uses. */
function frame(o: unknown): Buffer {
  const p = Buffer.from(JSON.stringify(o));
  const h = Buffer.alloc(5);
  h.writeUInt32BE(p.length, 1);
  return Buffer.concat([h, p]);
}
function unframe(b: Buffer): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i + 5 <= b.length;) {
    const n = b.readUInt32BE(i + 1);
    out.push(JSON.parse(b.subarray(i + 5, i + 5 + n).toString()));
    i += 5 + n;
  }
  return out;
}

interface GrpcAnswer { status: number; headers: IncomingHttpHeaders; messages: unknown[]; trailers: IncomingHttpHeaders }

/** A gRPC call made by hand with node:http2 (so it can ride any transport). */
function rawGrpc(s: ClientHttp2Session, method: string, msg: unknown): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const r = s.request({ ':method': 'POST', ':path': `/test.Echo/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status = 0, headers: IncomingHttpHeaders = {}, trailers: IncomingHttpHeaders = {};
    r.on('response', (h) => { status = Number(h[':status']); headers = h; });
    r.on('trailers', (h) => { trailers = h; });
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('error', reject);
    r.on('close', () => resolve({ status, headers, messages: unframe(Buffer.concat(chunks)), trailers }));
    r.end(frame(msg));
  });
}

/** An outer HTTP/2 server (the HBONE side) calling `onConnect` for each CONNECT stream. */
async function tunnelServer(t: Test, onConnect: (s: ServerHttp2Stream, authority: string) => void): Promise<{ port: number; connects: () => number }> {
  const server = createH2Server();
  let n = 0;
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('error', () => {}); s.on('close', () => sessions.delete(s)); });
  server.on('stream', (s, h) => {
    s.on('error', () => {});
    if (h[':method'] !== 'CONNECT') { s.respond({ ':status': 405 }); return void s.end(); }
    n++;
    onConnect(s, String(h[':authority']));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { for (const s of sessions) s.destroy(); server.close(); });
  return { port: (server.address() as AddressInfo).port, connects: () => n };
}

function outerClient(t: Test, port: number): ClientHttp2Session {
  const c = h2connect(`http://127.0.0.1:${port}`);
  c.on('error', () => {});
  t.teardown(() => c.destroy());
  return c;
}

/** A CONNECT stream that fails (destroyed with the reason) unless the tunnel answers 200, as the HBONE client does. */
function connectStream(c: ClientHttp2Session, authority: string): Duplex {
  const s = c.request({ ':method': 'CONNECT', ':authority': authority }, { endStream: false });
  s.once('response', (h) => {
    const status = Number(h[':status']);
    if (status !== 200) s.destroy(new Error(`CONNECT ${authority}: status ${status}`));
  });
  return s;
}

t.test('downstream is an HTTP/2 CONNECT stream (the inbound HBONE case)', async (t) => {
  const up = await grpcUpstream(t);
  const log = newLog();
  const pool = new Http2UpstreamPool();
  t.teardown(() => pool.close(true));
  const seen: DownstreamInfo[] = [];
  const sniffed: string[] = [];
  const base = testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log);
  const tunnel = await tunnelServer(t, (s) => {
    s.respond({ ':status': 200 });
    // As the inbound side will: sniff the stream's first bytes, put them back, serve.
    sniff(s, (p) => {
      sniffed.push(p);
      serveHttp2(s, (head, info) => { seen.push(info); return base(head, info); }, pool, { info: { remoteAddress: '10.244.0.5', localPort: 9080 } });
    });
  });
  const outer = outerClient(t, tunnel.port);
  const inner = h2connect('http://reviews:9080', { createConnection: () => connectStream(outer, '127.0.0.1:9080') });
  inner.on('error', () => {});
  t.teardown(() => inner.destroy());

  const ok = await rawGrpc(inner, 'Unary', { over: 'connect' });
  t.equal(ok.status, 200);
  t.equal(ok.trailers['grpc-status'], '0');
  t.same((ok.messages[0] as any).got, { over: 'connect' });
  t.equal((ok.messages[0] as any).host, 'reviews:9080', ':authority of the inner request');
  t.equal(ok.headers['x-proxy'], 'h2');
  const nf = await rawGrpc(inner, 'Fail', {});
  // grpc-js answers an error before any message trailers-only: the status is in the response head.
  t.equal(nf.headers['grpc-status'], String(grpc.status.NOT_FOUND));
  t.equal(decodeURIComponent(String(nf.headers['grpc-message'])), FAIL_MESSAGE, 'percent-encoded message intact');
  t.equal(nf.headers['x-proxy'], 'h2', 'response ops on a trailers-only response');
  const list = await rawGrpc(inner, 'List', { n: 4 });
  t.same(list.messages, [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
  t.equal(list.trailers['x-count'], '4');
  const denied = await rawGrpc(inner, 'Denied', {});
  t.equal(denied.status, 200);
  t.same(denied.messages, []);
  t.equal(denied.headers['grpc-status'], String(grpc.status.PERMISSION_DENIED), 'trailers-only: grpc-status in the response head');
  t.equal(denied.headers['grpc-message'], 'RBAC: access denied');
  t.equal(tunnel.connects(), 1, 'every call rode one CONNECT stream');
  t.same(seen[0], { remoteAddress: '10.244.0.5', localPort: 9080 }, 'the chain sees the info the listener passed');
  t.same(sniffed, ['h2'], 'the CONNECT stream was sniffed, and the unshifted preface served');
});

t.test('upstream session inside a CONNECT stream (the outbound mesh tunnel case), grpc-js both ends', async (t) => {
  const up = await grpcUpstream(t);
  // The tunnel's far end: CONNECT host:port → TCP to the app (as the HBONE server does), 503 for port 1.
  const tunnel = await tunnelServer(t, (s, authority) => {
    const port = Number(authority.split(':')[1]);
    if (port === 1) { s.respond({ ':status': 503 }); return void s.end(); }
    const app = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    app.on('error', () => s.destroy());
    app.on('connect', () => { s.respond({ ':status': 200 }); s.pipe(app).pipe(s); });
    s.on('close', () => app.destroy());
  });
  const outer = outerClient(t, tunnel.port);
  let dials = 0;
  let target = up.port;
  const log = newLog();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: target }), log), {
    dial: (address, port) => { dials++; return connectStream(outer, `${address}:${port}`); },
  });
  const c = echoClient(t, proxy.port);
  const call = (name: string, req: unknown) => new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) => c[name](req, { deadline: deadline() }, (err: any, res: any) => resolve({ err, res })));

  const results = await Promise.all([1, 2, 3, 4, 5].map((k) => call('unary', { k })));
  t.ok(results.every((r, k) => r.err === null && r.res.got.k === k + 1), 'five concurrent unary calls');
  const nf = await call('fail', {});
  t.equal(nf.err?.code, grpc.status.NOT_FOUND);
  t.equal(nf.err?.details, FAIL_MESSAGE);
  const stream = c.list({ n: 5 }, { deadline: deadline() });
  const got: number[] = [];
  stream.on('data', (m: any) => got.push(m.i));
  const st = await new Promise<grpc.StatusObject>((r) => stream.on('status', r));
  t.same(got, [0, 1, 2, 3, 4]);
  t.equal(st.code, grpc.status.OK);
  t.equal(dials, 1, 'one tunnel stream carried the upstream session');
  t.equal(tunnel.connects(), 1);

  // The tunnel refuses (503 to CONNECT): a connection failure, the call gets UNAVAILABLE.
  target = 1;
  const refused = await call('unary', {});
  t.equal(refused.err?.code, grpc.status.UNAVAILABLE);
  t.match(refused.err?.details, /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure, transport failure reason: .*CONNECT 127\.0\.0\.1:1: status 503/);
});

t.test('downstream is TLS: with ALPN h2, and without ALPN (prior knowledge over TLS)', async (t) => {
  const up = await grpcUpstream(t);
  const log = newLog();
  const pool = new Http2UpstreamPool();
  t.teardown(() => pool.close(true));
  const ca = makeCa();
  const leaf = makeLeaf(ca, 'spiffe://cluster.local/ns/default/sa/reviews');
  const dispatch = testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log);
  const alpnSeen: (string | false | null)[] = [];
  const mk = async (alpn: boolean) => {
    const server = createTlsServer({ key: leaf.keyPem, cert: leaf.certPem, ...(alpn ? { ALPNProtocols: ['h2'] } : {}) }, (sock) => {
      alpnSeen.push(sock.alpnProtocol);
      sock.on('error', () => {});
      serveHttp2(sock, dispatch, pool);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => server.close());
    return (server.address() as AddressInfo).port;
  };
  for (const alpn of [true, false]) {
    const port = await mk(alpn);
    const s = h2connect(`http://127.0.0.1:${port}`, {
      createConnection: () => tlsConnect({ host: '127.0.0.1', port, ca: ca.certPem, checkServerIdentity: () => undefined, ...(alpn ? { ALPNProtocols: ['h2'] } : {}) }),
    });
    s.on('error', () => {});
    t.teardown(() => s.destroy());
    const r = await rawGrpc(s, 'Unary', { alpn });
    t.equal(r.trailers['grpc-status'], '0', `ALPN ${alpn ? 'h2' : 'none'}: OK`);
    t.same((r.messages[0] as any).got, { alpn });
  }
  t.same(alpnSeen, ['h2', false]);
});
