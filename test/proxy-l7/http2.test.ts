// proxy/http2 on loopback: @grpc/grpc-js on both ends through serveHttp2 + Http2UpstreamPool behind the
// real filter chain (authz-http, a rewriting terminal) — unary, a NOT_FOUND status with its message and
// trailers intact, server and client streaming, metadata both ways, the chain's rewrite and header
// operations, cancellation reaching the upstream; local answers as gRPC statuses (403 → 7, 404 → 12,
// upstream down → 14); plain HTTP/2 with node:http2 (GET, 32 MB up and down with bounded buffering,
// resets both ways); many concurrent streams on one upstream session; GOAWAY, idle close and a dead
// session are followed by a fresh dial; a broken downstream connection leaves the others alone.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { createServer as createH2Server, constants, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { connect, createServer, type AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { UPSTREAM_RESET } from '../../proxy/http1/connection.js';
import { buildChain, type PeerInfo } from '../../proxy/filters/chain.js';
import { BUILTIN_FILTERS, DEFAULT_ORDER, dispatchFor } from '../../proxy/filters/registry.js';
import { makeRouter, type RouterEndpoint } from '../../proxy/filters/router/filter.js';
import { compileRouteTable, type KObject } from '../../proxy/route/compile.js';
import {
  countingDialer, deadline, echoClient, FAIL_MESSAGE, grpcUpstream, h2client, h2request, sleep, startProxy, testDispatch, type DispatchLog,
} from './http2-fixture.js';

// A full GC on demand (the memory check needs what is referenced, not what is garbage).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const newLog = (): DispatchLog => ({ forwarded: 0, responses: [], ended: 0 });

function unary(c: any, name: string, req: unknown, meta = new grpc.Metadata()): Promise<{ err: grpc.ServiceError | null; res: any; initial: grpc.Metadata | null; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    let initial: grpc.Metadata | null = null;
    let out: { err: grpc.ServiceError | null; res: any } | null = null;
    let status: grpc.StatusObject | null = null;
    const done = () => { if (out && status) resolve({ ...out, initial, status }); };
    const call = c[name](req, meta, { deadline: deadline() }, (err: grpc.ServiceError | null, res: any) => { out = { err, res }; done(); });
    call.on('metadata', (m: grpc.Metadata) => { initial = m; });
    call.on('status', (s: grpc.StatusObject) => { status = s; done(); });
  });
}

t.test('gRPC through the proxy: unary, errors, streaming, metadata, chain rewrite and header ops', async (t) => {
  const up = await grpcUpstream(t);
  const log = newLog();
  const dialer = countingDialer();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log), { dial: dialer.dial });
  const c = echoClient(t, proxy.port);

  const ok = await unary(c, 'unary', { hello: 'world' }, (() => { const m = new grpc.Metadata(); m.set('x-req', 'a'); return m; })());
  t.equal(ok.err, null);
  t.same(ok.res.got, { hello: 'world' });
  t.equal(ok.res.path, '/test.Echo/Unary');
  t.same(ok.res.req, ['a'], 'request metadata reaches the upstream');
  t.same(ok.res.added, ['1'], 'the header the chain added reaches the upstream');
  t.equal(ok.res.host, `127.0.0.1:${proxy.port}`, ':authority as the client sent it');
  t.same(ok.initial!.get('x-initial'), ['i'], 'response metadata relayed');
  t.same(ok.initial!.get('x-proxy'), ['h2'], 'response header operation applied');
  t.equal(ok.status.code, grpc.status.OK);
  t.same(ok.status.metadata.get('x-trail'), ['t'], 'trailing metadata relayed');
  t.same(ok.status.metadata.get('x-blob-bin'), [Buffer.from([0, 1, 2, 255])], 'binary trailing metadata intact');

  const rw = await unary(c, 'old', { x: 1 });
  t.equal(rw.err, null);
  t.equal(rw.res.path, '/test.Echo/Unary', ':path rewritten by the chain');
  t.equal(rw.res.host, 'rewritten.example', ':authority rewritten by the chain');

  const nf = await unary(c, 'fail', {});
  t.equal(nf.err?.code, grpc.status.NOT_FOUND);
  t.equal(nf.err?.details, FAIL_MESSAGE, 'the status message (non-ASCII, %) arrives intact');
  t.same(nf.status.metadata.get('x-why'), ['gone'], 'error trailers relayed');

  const list = c.list({ n: 7 }, { deadline: deadline() });
  const got: number[] = [];
  list.on('data', (m: any) => got.push(m.i));
  const st = await new Promise<grpc.StatusObject>((r) => list.on('status', r));
  t.same(got, [0, 1, 2, 3, 4, 5, 6], 'server streaming: every message in order');
  t.equal(st.code, grpc.status.OK);
  t.same(st.metadata.get('x-count'), ['7']);

  const sum = await new Promise<any>((resolve, reject) => {
    const call = c.sum({ deadline: deadline() }, (err: Error | null, res: any) => (err ? reject(err) : resolve(res)));
    for (let i = 1; i <= 10; i++) call.write({ v: i });
    call.end();
  });
  t.same(sum, { sum: 55, count: 10 }, 'client streaming');

  // The upstream answers while the client still streams: status, message and trailers arrive intact.
  const early = await new Promise<grpc.StatusObject>((resolve) => {
    const call = c.early({ deadline: deadline() }, () => {});
    call.on('status', resolve);
    call.on('error', () => {});
    let v = 0;
    const tick = setInterval(() => { if (v < 40) call.write({ v: v++ }); else { clearInterval(tick); call.end(); } }, 5);
    call.on('status', () => clearInterval(tick));
  });
  t.equal(early.code, grpc.status.RESOURCE_EXHAUSTED);
  t.equal(early.details, 'stop at 0');
  t.same(early.metadata.get('x-early'), ['yes'], 'trailers of an early answer intact');

  t.equal(dialer.count(), 1, 'one upstream connection for every call');
  t.equal(proxy.pool.counters.sessions, 1);
  await sleep(50);
  t.equal(log.forwarded, 6);
  t.equal(log.ended, 6, 'onEnd once per forwarded exchange');
  t.same(log.responses, [200, 200, 200, 200, 200, 200], 'onResponse with the upstream status');
});

t.test('gRPC: a cancelled call resets the upstream stream', async (t) => {
  const up = await grpcUpstream(t);
  const log = newLog();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log));
  const c = echoClient(t, proxy.port);
  const call = c.forever({}, { deadline: deadline() });
  let n = 0;
  await new Promise<void>((r) => call.on('data', () => { if (++n === 3) r(); }));
  const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
  call.on('error', () => {});
  const t0 = Date.now();
  call.cancel();
  t.equal((await status).code, grpc.status.CANCELLED);
  const at = await Promise.race([up.cancelled, sleep(3000).then(() => -1)]);
  t.not(at, -1, 'the upstream saw the cancellation');
  t.ok(at - t0 < 1000, `within ${at - t0} ms`);
  const sent = up.foreverSent();
  await sleep(150);
  t.equal(up.foreverSent(), sent, 'the upstream stopped writing');
  t.equal(log.ended, 1);
});

t.test('gRPC local answers: 403 → PERMISSION_DENIED, 404 → UNIMPLEMENTED, upstream down → UNAVAILABLE', async (t) => {
  const up = await grpcUpstream(t);
  const log = newLog();
  let target = { address: '127.0.0.1', port: up.port };
  const proxy = await startProxy(t, testDispatch(() => target, log));
  const c = echoClient(t, proxy.port);
  const denied = await unary(c, 'denied', {});
  t.equal(denied.err?.code, grpc.status.PERMISSION_DENIED);
  t.equal(denied.err?.details, 'RBAC: access denied');
  const missing = await unary(c, 'missing', {});
  t.equal(missing.err?.code, grpc.status.UNIMPLEMENTED);
  t.equal(missing.err?.details, 'no route to host');
  t.equal(log.forwarded, 0, 'neither reached the upstream');

  // A port nothing listens on: the session fails, the call gets UNAVAILABLE with Envoy's reason.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const closedPort = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  target = { address: '127.0.0.1', port: closedPort };
  const down = await unary(c, 'unary', {});
  t.equal(down.err?.code, grpc.status.UNAVAILABLE);
  t.match(down.err?.details, new RegExp(`^${UPSTREAM_RESET.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}connection failure, transport failure reason: connect ECONNREFUSED`));
  t.equal(proxy.pool.sessionCount('127.0.0.1', closedPort), 0, 'the failed session is forgotten');
  target = { address: '127.0.0.1', port: up.port };
  const again = await unary(c, 'unary', { back: true });
  t.equal(again.err, null, 'the next call dials again and works');
  t.same(again.res.got, { back: true });
});

// ---------------------------------------------------------------------------------------------
// Plain HTTP/2.

interface H2Up { port: number; server: Http2Server; sessions: ServerHttp2Session[]; log: string[] }

async function h2upstream(t: Test, handler: (s: ServerHttp2Stream, h: Record<string, any>, up: H2Up) => void): Promise<H2Up> {
  const server = createH2Server();
  const up: H2Up = { port: 0, server, sessions: [], log: [] };
  server.on('session', (s) => { up.sessions.push(s); s.on('error', () => {}); });
  server.on('stream', (s, h) => { s.on('error', () => {}); handler(s, h, up); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  up.port = (server.address() as AddressInfo).port;
  t.teardown(() => { for (const s of up.sessions) s.destroy(); server.close(); });
  return up;
}

const SIZE = 32 << 20;
const CHUNK = 64 << 10;
// Eight chunks reused: allocations of the test itself do not hide what the proxy buffers.
const CHUNKS = Array.from({ length: 8 }, (_, i) => { const b = Buffer.alloc(CHUNK, 0x41 + i); b.writeUInt32BE(i * 7919, 0); return b; });
const pattern = (i: number): Buffer => CHUNKS[i % 8];

t.test('plain HTTP/2: GET with header ops, 32 MB up and down with bounded buffering, resets both ways', async (t) => {
  const stalled: Record<string, number> = {};
  const up = await h2upstream(t, (s, h) => {
    const path = h[':path'];
    if (path === '/hello') {
      s.respond({ ':status': 200, 'content-type': 'text/plain', 'x-secret': 'no', 'set-cookie': ['a=1', 'b=2'] });
      return void s.end(`hello ${h[':method']} ${h[':authority']} added=${h['x-added']}`);
    }
    if (path === '/upload') {
      // Read nothing for 700 ms: the client must stall on flow control, not fill the proxy's memory.
      s.pause();
      const hash = createHash('sha256');
      let n = 0;
      setTimeout(() => {
        s.on('data', (c: Buffer) => { hash.update(c); n += c.length; });
        s.on('end', () => { s.respond({ ':status': 200 }); s.end(`${n} ${hash.digest('hex')}`); });
        s.resume();
      }, 700);
      return;
    }
    if (path === '/download') {
      s.respond({ ':status': 200 });
      let i = 0, written = 0;
      const pump = (): void => {
        while (i < SIZE / CHUNK) {
          const ok = s.write(pattern(i++));
          written += CHUNK;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
      };
      setTimeout(() => { stalled.download = written; }, 700);
      return pump();
    }
    if (path === '/reset-after-headers') {
      s.respond({ ':status': 200 });
      s.write('partial');
      // destroy() resets (INTERNAL_ERROR) without ending the stream first, as close(code) would.
      return void setTimeout(() => s.destroy(new Error('upstream gives up')), 50);
    }
    if (path === '/echo-trailers') {
      let n = 0;
      s.on('data', (c: Buffer) => { n += c.length; });
      s.on('trailers', (tr) => {
        s.respond({ ':status': 200 }, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'x-got': String(tr['x-req-trailer']), 'x-bytes': String(n) }));
        s.end();
      });
      return;
    }
    if (path === '/slow') {
      s.respond({ ':status': 200 });
      s.write('x');
      s.on('close', () => { up.log.push(`slow closed rst=${s.rstCode}`); });
      return;
    }
    s.respond({ ':status': 404 });
    s.end();
  });
  const log = newLog();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log));
  const c = h2client(t, proxy.port);

  const hello = await h2request(c, { ':path': '/hello' });
  t.equal(hello.status, 200);
  t.equal(hello.body.toString(), `hello GET 127.0.0.1:${proxy.port} added=1`);
  t.equal(hello.headers['x-proxy'], 'h2');
  t.equal(hello.headers['x-secret'], undefined, 'response header removed by the ops');
  t.same(hello.headers['set-cookie'], ['a=1', 'b=2'], 'repeated fields kept');

  const denied = await h2request(c, { ':path': '/denied' });
  t.equal(denied.status, 403);
  t.equal(denied.body.toString(), 'RBAC: access denied', 'non-gRPC local answers stay HTTP');

  // A large upload to a denied path: 403 at once, the client is told to stop (RST_STREAM NO_ERROR).
  const dr = c.request({ ':method': 'POST', ':path': '/denied' });
  let dPushed = 0, dStatus = 0, stopped = false;
  dr.on('response', (h) => { dStatus = Number(h[':status']); });
  dr.on('error', () => {});
  let dBody = '';
  dr.on('data', (d: Buffer) => { dBody += d; });
  const dClosed = new Promise<void>((r) => dr.on('close', () => { stopped = true; r(); }));
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!stopped && dPushed < SIZE) {
        dPushed += CHUNK;
        if (!dr.write(pattern(dPushed / CHUNK))) return void dr.once('drain', pump);
      }
      resolve();
    };
    pump();
    void dClosed.then(resolve);
  });
  await dClosed;
  t.equal(dStatus, 403);
  t.equal(dBody, 'RBAC: access denied', 'the whole local answer arrives before the reset');
  t.equal(dr.rstCode, constants.NGHTTP2_NO_ERROR, 'the upload is stopped with RST_STREAM NO_ERROR');
  t.ok(dPushed < 8 << 20, `the client stopped after ${(dPushed / 1048576).toFixed(1)} MB of 32`);

  // Upload: count what the client could push while the upstream read nothing.
  const hash = createHash('sha256');
  const r = c.request({ ':method': 'POST', ':path': '/upload' });
  let pushed = 0, i = 0, stalledUp = -1, retained = -1;
  const base = (gc(), process.memoryUsage().arrayBuffers);
  // While stalled, what is still referenced after a full GC is what the three parties hold.
  setTimeout(() => { stalledUp = pushed; gc(); retained = process.memoryUsage().arrayBuffers - base; }, 600);
  const res = new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    r.on('data', (d: Buffer) => chunks.push(d));
    r.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 10);
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (i < SIZE / CHUNK) {
        const b = pattern(i++);
        hash.update(b);
        pushed += b.length;
        if (!r.write(b)) return void r.once('drain', pump);
      }
      r.end();
      resolve();
    };
    pump();
  });
  const body = await res;
  clearInterval(sampler);
  t.equal(body, `${SIZE} ${hash.digest('hex')}`, '32 MB arrive intact');
  t.ok(stalledUp > 0 && stalledUp < 8 << 20, `the client stalled after ${(stalledUp / 1048576).toFixed(1)} MB while the upstream read nothing`);
  const mb = (n: number) => (n / 1048576).toFixed(1);
  t.comment(`upload: ${mb(stalledUp)} MB pushed before the stall; buffers held while stalled ${mb(retained)} MB; rss peak +${mb(rssPeak - rss0)} MB over 32 MB (client, proxy and upstream in this process)`);
  t.ok(retained < 8 << 20, `buffers held while stalled: ${mb(retained)} MB`);

  // Download: the client reads nothing for 700 ms; the upstream must stall.
  const dl = c.request({ ':path': '/download' });
  dl.pause();
  const dhash = createHash('sha256');
  let dn = 0;
  await sleep(900);
  dl.on('data', (d: Buffer) => { dhash.update(d); dn += d.length; });
  dl.resume();
  await new Promise<void>((r) => dl.on('end', () => r()));
  const want = createHash('sha256');
  for (let k = 0; k < SIZE / CHUNK; k++) want.update(pattern(k));
  t.equal(dn, SIZE);
  t.equal(dhash.digest('hex'), want.digest('hex'), '32 MB down intact');
  t.ok(stalled.download > 0 && stalled.download < 8 << 20, `the upstream stalled after ${(stalled.download / 1048576).toFixed(1)} MB while the client read nothing`);

  // Upstream reset after the response head: the client's stream is reset with the same code.
  const rs = await h2request(c, { ':path': '/reset-after-headers' });
  t.equal(rs.status, 200);
  t.equal(rs.body.toString(), 'partial', 'the bytes before the reset arrive');
  t.equal(rs.rstCode, constants.NGHTTP2_INTERNAL_ERROR, 'RST_STREAM relayed downstream with its code');

  // Request trailers travel upstream; response trailers come back.
  const rt = c.request({ ':method': 'POST', ':path': '/echo-trailers' }, { waitForTrailers: true });
  rt.on('wantTrailers', () => rt.sendTrailers({ 'x-req-trailer': 'v1' }));
  const rtTrailers = new Promise<Record<string, unknown>>((r) => rt.on('trailers', (h) => r(h)));
  rt.resume();
  rt.end('12345');
  t.match(await rtTrailers, { 'x-got': 'v1', 'x-bytes': '5' }, 'request trailers relayed upstream, response trailers back');

  // Client reset: the upstream stream is reset.
  const slow = c.request({ ':path': '/slow' });
  slow.on('error', () => {});
  await new Promise<void>((r) => slow.once('data', () => r()));
  slow.close(constants.NGHTTP2_CANCEL);
  for (let k = 0; k < 50 && up.log.length === 0; k++) await sleep(20);
  t.same(up.log, [`slow closed rst=${constants.NGHTTP2_CANCEL}`], 'RST_STREAM CANCEL relayed upstream');

  // The client's connection goes away mid-response: the upstream stream is cancelled.
  const c2 = h2client(t, proxy.port);
  const slow2 = c2.request({ ':path': '/slow' });
  slow2.on('error', () => {});
  await new Promise<void>((r) => slow2.once('data', () => r()));
  c2.destroy();
  for (let k = 0; k < 50 && up.log.length < 2; k++) await sleep(20);
  t.same(up.log[1], `slow closed rst=${constants.NGHTTP2_CANCEL}`, 'a closed downstream connection cancels its upstream streams');
  await sleep(50);
  t.equal(log.ended, log.forwarded, 'every forwarded exchange ended once');
});

t.test('many concurrent streams share one upstream session; GOAWAY, idle close and failure redial', async (t) => {
  let goawayNext = false;
  const up = await h2upstream(t, (s, h, u) => {
    const session = s.session!;
    setTimeout(() => {
      s.respond({ ':status': 200 });
      s.end(`${h[':path']} on session ${u.sessions.indexOf(session as ServerHttp2Session)}`);
      if (goawayNext && h[':path'] === '/last') { goawayNext = false; session.close(); }
    }, 30);
  });
  const log = newLog();
  const dialer = countingDialer();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log), { dial: dialer.dial, idleMs: 300 });
  const clients = [h2client(t, proxy.port), h2client(t, proxy.port), h2client(t, proxy.port), h2client(t, proxy.port)];
  const N = 400;
  const results = await Promise.all(Array.from({ length: N }, (_, k) => h2request(clients[k % 4], { ':path': `/r${k}` })));
  t.equal(results.filter((r) => r.status === 200).length, N, `${N} concurrent requests answered`);
  t.ok(results.every((r, k) => r.body.toString() === `/r${k} on session 0`), 'each answer is its own request\'s');
  t.equal(dialer.count(), 1, 'one upstream connection');
  t.equal(up.sessions.length, 1, 'the upstream saw one session');
  t.equal(proxy.downstreams.length, 4, 'four downstream connections');

  // GOAWAY from the upstream: the session is forgotten, the next request dials again.
  goawayNext = true;
  t.equal((await h2request(clients[0], { ':path': '/last' })).status, 200);
  for (let k = 0; k < 100 && proxy.pool.sessionCount('127.0.0.1', up.port) > 0; k++) await sleep(20);
  t.equal(proxy.pool.sessionCount('127.0.0.1', up.port), 0, 'the GOAWAY\'d session is forgotten');
  const after = await h2request(clients[1], { ':path': '/after-goaway' });
  t.equal(`${after.status} ${after.body}`, '200 /after-goaway on session 1', 'a new session after GOAWAY');
  t.equal(dialer.count(), 2);

  // Idle: no streams for idleMs → the upstream session is closed.
  await sleep(600);
  t.equal(proxy.pool.openSessions, 0, 'idle upstream sessions closed');
  t.ok(up.sessions.every((s) => s.closed || s.destroyed), 'the upstream saw them close');
  const idle = await h2request(clients[2], { ':path': '/after-idle' });
  t.equal(idle.body.toString(), '/after-idle on session 2');

  // A session that dies (upstream destroys it): the next request dials again.
  up.sessions[2].destroy();
  await sleep(50);
  const redial = await h2request(clients[3], { ':path': '/after-kill' });
  t.equal(redial.body.toString(), '/after-kill on session 3');
  t.equal(dialer.count(), 4);
});

t.test('upstream down for plain HTTP/2: 503 with Envoy\'s text; a broken downstream connection closes alone', async (t) => {
  const up = await h2upstream(t, (s) => { setTimeout(() => { s.respond({ ':status': 200 }); s.end('ok'); }, 200); });
  const log = newLog();
  let port = 1; // nothing listens on port 1 of loopback (privileged, unused)
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port }), log), {}, { idleMs: 600 });
  const a = h2client(t, proxy.port);
  const r = await h2request(a, { ':path': '/x' });
  t.equal(r.status, 503);
  t.match(r.body.toString(), /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure, transport failure reason: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  t.equal(r.headers['content-type'], 'text/plain');

  port = up.port;
  const b = h2client(t, proxy.port);
  const slow = h2request(b, { ':path': '/slow' });
  await sleep(50);
  // Connection C: a SETTINGS frame of 3 bytes is a connection error: GOAWAY(FRAME_SIZE_ERROR), and the
  // connection is closed (nghttp2 stops reading; the idle timeout ends what the peer does not close).
  const raw = connect(proxy.port, '127.0.0.1');
  raw.on('error', () => {});
  let got = Buffer.alloc(0);
  raw.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); });
  raw.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 3, 4, 0, 0, 0, 0, 0, 1, 2, 3])]));
  const t0 = Date.now();
  const closed = await new Promise<boolean>((resolve) => { raw.on('close', () => resolve(true)); setTimeout(() => resolve(false), 3000); });
  t.ok(closed, `the broken connection is closed (after ${Date.now() - t0} ms)`);
  const goaway = got.indexOf(Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0]));
  t.ok(goaway >= 0, 'it got a GOAWAY');
  t.equal(goaway >= 0 ? got.readUInt32BE(goaway + 13) : -1, constants.NGHTTP2_FRAME_SIZE_ERROR, 'with FRAME_SIZE_ERROR');
  const s = await slow;
  t.equal(s.status, 200, 'a stream on another connection finished');
  t.equal(s.body.toString(), 'ok');
});

t.test('streams the upstream refuses (over its concurrency limit before its SETTINGS arrived) are retried', async (t) => {
  const server = createH2Server({ settings: { maxConcurrentStreams: 1 } });
  let seen = 0;
  server.on('session', (s) => s.on('error', () => {}));
  server.on('stream', (s, h) => {
    seen++;
    s.on('error', () => {});
    setTimeout(() => { s.respond({ ':status': 200 }); s.end(String(h[':path'])); }, 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const log = newLog();
  const dialer = countingDialer();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port }), log), { dial: dialer.dial });
  const c = h2client(t, proxy.port);
  // Four requests at once on a fresh upstream session: nghttp2 at the upstream refuses all but one.
  const rs = await Promise.all([0, 1, 2, 3].map((k) => h2request(c, { ':path': `/p${k}` })));
  t.same(rs.map((r) => r.status), [200, 200, 200, 200], 'every request answered');
  t.same(rs.map((r) => r.body.toString()), ['/p0', '/p1', '/p2', '/p3']);
  t.equal(seen, 4);
  t.equal(dialer.count(), 1, 'retried on the same session');
  t.ok(proxy.pool.counters.streams > 4, `the refused ones were sent again (${proxy.pool.counters.streams} upstream streams for 4 requests)`);
  await new Promise<void>((r) => setTimeout(r, 20));
  t.equal(log.ended, 4);
});

t.test('an upstream that accepts TCP but never speaks HTTP/2: 503 after connectMs, the session is dropped', async (t) => {
  const silent = createServer((sock) => { sock.on('error', () => {}); t.teardown(() => sock.destroy()); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => silent.close());
  const port = (silent.address() as AddressInfo).port;
  const log = newLog();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port }), log), { connectMs: 300 });
  const c = h2client(t, proxy.port);
  const t0 = Date.now();
  const r = await h2request(c, { ':path': '/x' });
  const took = Date.now() - t0;
  t.equal(r.status, 503);
  t.equal(r.body.toString(), `${UPSTREAM_RESET}connection failure, transport failure reason: no HTTP/2 settings from 127.0.0.1:${port} within 300 ms`);
  t.ok(took >= 280 && took < 3000, `answered after ${took} ms`);
  t.equal(proxy.pool.sessionCount('127.0.0.1', port), 0);
  t.equal(proxy.pool.openSessions, 0, 'the silent session is gone');
});

t.test('graceful close of a downstream connection: GOAWAY, the stream in flight finishes, the connection ends', async (t) => {
  const up = await h2upstream(t, (s) => { setTimeout(() => { s.respond({ ':status': 200 }); s.end('done'); }, 200); });
  const log = newLog();
  const proxy = await startProxy(t, testDispatch(() => ({ address: '127.0.0.1', port: up.port }), log));
  const c = h2client(t, proxy.port);
  const goaway = new Promise<number>((r) => c.once('goaway', (code) => r(code)));
  const inFlight = h2request(c, { ':path': '/in-flight' });
  for (let k = 0; k < 50 && proxy.downstreams.length === 0; k++) await sleep(10);
  await sleep(50);
  proxy.downstreams[0].close();
  t.equal(await goaway, constants.NGHTTP2_NO_ERROR, 'the client got GOAWAY(NO_ERROR)');
  const r = await inFlight;
  t.equal(`${r.status} ${r.body}`, '200 done', 'the stream in flight finished');
  await proxy.downstreams[0].closed;
  t.ok(proxy.downstreams[0].session.destroyed, 'the connection is closed once its streams are done');
});

t.test('gRPC through the sidecar\'s whole chain: a VirtualService header match picks the v2 subset, unknown hosts get UNIMPLEMENTED', async (t) => {
  const v1 = await grpcUpstream(t, 'v1'), v2 = await grpcUpstream(t, 'v2');
  const obj = (name: string, spec: any): KObject => ({ metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' }, spec });
  const { table, errors } = compileRouteTable({
    services: [{ name: 'echo', namespace: 'default', hostname: 'echo.default.svc.cluster.local', vips: ['10.96.0.30'], ports: [{ name: 'grpc', port: 9090 }] }],
    destinationRules: [obj('echo', { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
      trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } })],
    virtualServices: [obj('echo', { hosts: ['echo'], http: [
      { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'echo', subset: 'v2' } }], headers: { response: { set: { 'x-route': 'jason' } } } },
      { route: [{ destination: { host: 'echo', subset: 'v1' } }] },
    ] })],
  });
  t.same(errors, []);
  const endpoints: RouterEndpoint[] = [{ address: '127.0.0.1', port: v1.port, labels: { version: 'v1' } }, { address: '127.0.0.1', port: v2.port, labels: { version: 'v2' } }];
  const chain = buildChain(DEFAULT_ORDER.map((name) => ({ name, config: name === 'route' ? { table } : {} })), BUILTIN_FILTERS, makeRouter({ table, endpoints: () => endpoints }));
  t.same(chain.errors, []);
  const peer = (): PeerInfo => ({ principal: '', namespace: 'default', sourceIp: '127.0.0.1', destinationIp: '10.96.0.30', destinationPort: 9090, sourceLabels: {} });
  const proxy = await startProxy(t, dispatchFor(chain.handler!, peer, 9090));
  const c = echoClient(t, proxy.port, 'echo:9090');
  const plain = await unary(c, 'unary', { who: 'anyone' });
  t.equal(plain.res?.version, 'v1', 'no header: v1');
  t.equal(plain.res?.host, 'echo:9090');
  const jason = await unary(c, 'unary', { who: 'jason' }, (() => { const m = new grpc.Metadata(); m.set('end-user', 'jason'); return m; })());
  t.equal(jason.res?.version, 'v2', 'end-user: jason → v2');
  t.same(jason.initial?.get('x-route'), ['jason'], 'the route\'s response header operation');
  t.equal(jason.status.code, grpc.status.OK);
  const list = c.list({ n: 3 }, (() => { const m = new grpc.Metadata(); m.set('end-user', 'jason'); return m; })(), { deadline: deadline() });
  const got: unknown[] = [];
  list.on('data', (m: unknown) => got.push(m));
  t.equal((await new Promise<grpc.StatusObject>((r) => list.on('status', r))).code, grpc.status.OK);
  t.equal(got.length, 3, 'server streaming through the routed chain');
  const other = echoClient(t, proxy.port, 'nope:9090');
  const nf = await unary(other, 'unary', {});
  t.equal(nf.err?.code, grpc.status.UNIMPLEMENTED, 'no virtual host: 404 → UNIMPLEMENTED');
});
