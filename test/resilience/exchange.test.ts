// proxy/http1 exchanges under an ExchangePolicy, on loopback sockets against node:http upstreams: a
// retried 503 answered by the next attempt (and its POST body replayed byte for byte), retries exhausted
// (URX), a body over the replay limit not retried, retries moving to another endpoint, the route timeout
// and the per-try timeout firing at their values, connect failure (UF), an upstream that answers garbage
// (502 UPE), closes before its head (503 UC) or in the middle of its body (UC, the client sees a cut
// response) while the next request is served, the circuit breaker overflowing (503 UO), a fault delay and
// connectionPool.tcp.connectTimeout.
import t, { type Test } from 'tap';
import { createServer as createHttpServer, request, Agent } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { serveHttp1, type Decision, type ExchangeEnd, type ExchangePolicy } from '../../proxy/http1/connection.js';
import { NO_OPS } from '../../proxy/http1/headers.js';
import { tcpDialer, UpstreamPool } from '../../proxy/http1/pool.js';
import { compileRoutePolicy } from '../../proxy/resilience/compile.js';
import { ClusterGuard, DEFAULT_LIMITS } from '../../proxy/resilience/cluster.js';

const listen = (s: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

/** An upstream whose behaviour is chosen by the path; `hits` counts requests per path. */
async function upstream(t: Test, name: string): Promise<{ port: number; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createHttpServer((q, s) => {
    const path = new URL(q.url ?? '/', 'http://x').pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const chunks: Buffer[] = [];
    q.on('data', (c: Buffer) => chunks.push(c));
    q.on('end', () => {
      const body = Buffer.concat(chunks);
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      if (path === '/fail-once' && n === 1) return void s.writeHead(503).end('first fails');
      if (path === '/always-503') return void s.writeHead(503).end('no');
      if (path === '/stall') return; // never answers
      if (path === '/slow-200') return void setTimeout(() => s.end('slow'), 300);
      if (path === '/garbage') return void s.socket!.end('SPDY/9 what\r\n\r\n');
      if (path === '/reset') return void s.socket!.destroy();
      if (path === '/midclose') {
        s.writeHead(200, { 'content-length': '100' });
        s.write('0123456789');
        return void setTimeout(() => s.socket!.destroy(), 20);
      }
      s.writeHead(200, { 'x-upstream': name }).end(JSON.stringify({ name, n, len: body.length, hash }));
    });
  });
  const port = await listen(server);
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { port, hits };
}

interface Proxy { port: number; ends: ExchangeEnd[] }

/** A proxy forwarding to `ports[0]` with `policy(path)`; re-picks walk the other ports. */
async function proxy(t: Test, ports: number[], policy: (path: string) => ExchangePolicy | undefined, pool = new UpstreamPool()): Promise<Proxy> {
  const ends: ExchangeEnd[] = [];
  let rr = 0;
  const server = createServer((sock) => serveHttp1(sock, (head): Decision => {
    const p = policy(head.target);
    const withRepick = p && { ...p, repick: (avoid: readonly string[]) => {
      const fresh = ports.filter((q) => !avoid.includes(`127.0.0.1:${q}`));
      const list = fresh.length ? fresh : ports;
      return { address: '127.0.0.1', port: list[rr++ % list.length] };
    } };
    return { kind: 'forward', address: '127.0.0.1', port: ports[0], head, responseOps: NO_OPS, ...(withRepick ? { policy: withRepick } : {}), onEnd: (e) => ends.push(e) };
  }, pool));
  const port = await listen(server);
  const socks = new Set<Socket>();
  server.on('connection', (s) => { socks.add(s); s.on('close', () => socks.delete(s)); });
  t.teardown(() => { pool.close(); for (const s of socks) s.destroy(); server.close(); });
  return { port, ends };
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
t.teardown(() => agent.destroy());

function call(port: number, path: string, body?: Buffer, method = body ? 'POST' : 'GET'): Promise<{ status: number; body: string; ms: number; error?: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const q = request({ host: '127.0.0.1', port, path, method, agent, headers: body ? { 'content-length': String(body.length) } : {} }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, ms: performance.now() - t0 }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body: b, ms: performance.now() - t0, error: e.message }));
    });
    q.on('error', (e) => resolve({ status: -1, body: '', ms: performance.now() - t0, error: e.message }));
    q.end(body);
  });
}

const route = (spec: unknown) => compileRoutePolicy(spec, 'spec.http[0]', []);
const lastEnd = async (p: Proxy) => { await new Promise((r) => setTimeout(r, 20)); return p.ends[p.ends.length - 1]; };

t.test('retries: a 503 retried (body replayed), exhausted (URX), a large body not retried, another endpoint', async (t) => {
  const a = await upstream(t, 'a'), b = await upstream(t, 'b');
  const retry3 = route({ retries: { attempts: 3, retryOn: '5xx', retryIgnorePreviousHosts: false } });
  const p = await proxy(t, [a.port], () => ({ route: retry3 }));
  const body = Buffer.from('x'.repeat(5000));
  const r = await call(p.port, '/fail-once', body);
  t.equal(r.status, 200, 'the retry answered');
  const j = JSON.parse(r.body);
  t.equal(j.len, 5000);
  t.equal(j.hash, createHash('sha256').update(body).digest('hex').slice(0, 16), 'the replayed body is intact');
  t.match(await lastEnd(p), { status: 200, attempts: 2, flags: '-' });
  const ex = await call(p.port, '/always-503');
  t.equal(ex.status, 503);
  t.equal(ex.body, 'no', "the upstream's last answer is passed on");
  t.match(await lastEnd(p), { attempts: 4, flags: 'URX' });
  t.equal(a.hits.get('/always-503'), 4, '1 + 3 attempts');
  const big = await call(p.port, '/always-503', Buffer.alloc(100 * 1024, 1));
  t.equal(big.status, 503);
  t.equal(a.hits.get('/always-503'), 5, 'a 100 KiB body is not replayable: one attempt');

  const p2 = await proxy(t, [a.port, b.port], () => ({ route: route({ retries: { attempts: 2, retryOn: '5xx' } }) }));
  const moved = await call(p2.port, '/reset');
  t.equal(moved.status, 503, 'both endpoints reset');
  t.match(await lastEnd(p2), { attempts: 3, flags: 'UC,URX' });
  t.equal((a.hits.get('/reset') ?? 0) + (b.hits.get('/reset') ?? 0), 3, 'three attempts');
  t.ok((b.hits.get('/reset') ?? 0) >= 1, 'ignorePreviousHosts: the first retry went to the other endpoint');
  const none = await proxy(t, [a.port], () => ({ route: route({ retries: { attempts: 0 } }) }));
  const before = a.hits.get('/always-503');
  t.equal((await call(none.port, '/always-503')).status, 503);
  t.equal(a.hits.get('/always-503'), before! + 1, 'attempts 0: no retry');
});

t.test('timeouts fire at their values (±50 ms); per-try timeouts are retried', async (t) => {
  const a = await upstream(t, 'a');
  const p = await proxy(t, [a.port], (path) => ({
    route: path.startsWith('/slow') ? route({ timeout: '2s' }) : path.startsWith('/stall?try') ? route({ timeout: '2s', retries: { attempts: 2, perTryTimeout: '200ms', retryOn: '5xx' } }) : route({ timeout: '300ms', retries: { attempts: 0 } }),
  }));
  // The least of three: the timer fires at its value; a loaded machine only adds.
  const r = [await call(p.port, '/stall'), await call(p.port, '/stall'), await call(p.port, '/stall')].sort((x, y) => x.ms - y.ms)[0];
  t.equal(r.status, 504);
  t.equal(r.body, 'upstream request timeout');
  t.ok(Math.abs(r.ms - 300) <= 50, `route timeout 300 ms fired after ${r.ms.toFixed(0)} ms`);
  t.match(await lastEnd(p), { flags: 'UT' });
  const tr = await call(p.port, '/stall?try');
  t.equal(tr.status, 504);
  t.ok(tr.ms >= 600 - 5 && tr.ms <= 600 + 75 + 50, `3 tries × 200 ms per-try timeout (+ two backoffs < 25 and < 50 ms): ${tr.ms.toFixed(0)} ms`);
  t.match(await lastEnd(p), { flags: 'UT', attempts: 3 });
  t.equal(a.hits.get('/stall'), 6, 'three stalled requests + three tries');
  const ok = await call(p.port, '/slow-200?fast');
  t.equal(ok.status, 200, 'a 300 ms answer under a 2 s timeout is served');
});

t.test('broken upstreams: connect failure, garbage, reset, close mid-body; the next request is served', async (t) => {
  const a = await upstream(t, 'a');
  const dead = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const port = (s.address() as AddressInfo).port; s.close(() => r(port)); }); });
  const none = route({ retries: { attempts: 0 } });
  const pd = await proxy(t, [dead], () => ({ route: route({}) }));
  const uf = await call(pd.port, '/');
  t.equal(uf.status, 503);
  t.match(uf.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
  t.match(await lastEnd(pd), { flags: 'UF,URX', attempts: 3 }, "Istio's default retries connect failures twice");
  const p = await proxy(t, [a.port], () => ({ route: none }));
  const g = await call(p.port, '/garbage');
  t.equal(g.status, 502);
  t.match(await lastEnd(p), { status: 502, flags: 'UPE' });
  const rs = await call(p.port, '/reset');
  t.equal(rs.status, 503);
  t.match(rs.body, /reset reason: connection termination/);
  t.match(await lastEnd(p), { flags: 'UC' });
  const mid = await call(p.port, '/midclose');
  t.equal(mid.status, 200, 'the head was already relayed');
  t.ok(mid.error || mid.body.length < 100, `the client sees a cut response (${mid.error ?? mid.body.length})`);
  t.match(await lastEnd(p), { flags: 'UC' });
  const next = await call(p.port, '/ok');
  t.equal(next.status, 200, 'and the proxy keeps serving');
});

t.test('circuit breaker: maxConnections 1, http1MaxPendingRequests 1, 10 concurrent → 503 UO', async (t) => {
  const a = await upstream(t, 'a');
  const guard = new ClusterGuard({ ...DEFAULT_LIMITS, maxConnections: 1, maxPending: 1 });
  const p = await proxy(t, [a.port], () => ({ route: route({ retries: { attempts: 0 } }), guard }));
  const rs = await Promise.all(Array.from({ length: 10 }, () => call(p.port, '/slow-200')));
  const by = (s: number) => rs.filter((r) => r.status === s).length;
  t.equal(by(200), 2, 'one in flight + one pending are served');
  t.equal(by(503), 8, 'the other eight overflow');
  t.ok(rs.filter((r) => r.status === 503).every((r) => /reset reason: overflow/.test(r.body)), "Envoy's overflow body");
  await new Promise((r) => setTimeout(r, 50));
  t.equal(p.ends.filter((e) => e.flags === 'UO').length, 8, 'flag UO');
  t.equal(guard.activeRequests(), 0, 'every slot given back');
  t.equal(guard.stats.overflow, 8);
});

t.test('fault delay before the first attempt (DI)', async (t) => {
  const a = await upstream(t, 'a');
  const p = await proxy(t, [a.port], () => ({ route: route({}), delayMs: 200 }));
  const r = await call(p.port, '/');
  t.equal(r.status, 200);
  t.ok(r.ms >= 195 && r.ms < 300, `delayed ${r.ms.toFixed(0)} ms`);
  t.match(await lastEnd(p), { flags: 'DI' });
});

t.test('connectTimeout: a dial that never completes is a connect failure at its value (UF)', async (t) => {
  const a = await upstream(t, 'a');
  // A blackholed SYN, simulated: the dialer never calls back for port 1.
  const pool = new UpstreamPool({ dial: (address, port, cb) => { if (port !== 1) tcpDialer(address, port, cb); } });
  const guard = new ClusterGuard({ ...DEFAULT_LIMITS, connectTimeoutMs: 200 });
  const p = await proxy(t, [1, a.port], () => ({ route: route({ retries: { attempts: 0 } }), guard }), pool);
  const r = await call(p.port, '/');
  t.equal(r.status, 503);
  t.match(r.body, /connection failure, transport failure reason: connect timeout after 200ms/);
  t.ok(Math.abs(r.ms - 200) <= 50, `after ${r.ms.toFixed(0)} ms`);
  t.match(await lastEnd(p), { flags: 'UF' });
  const p2 = await proxy(t, [1, a.port], () => ({ route: route({ retries: { attempts: 2, retryOn: 'connect-failure' } }), guard }), pool);
  const r2 = await call(p2.port, '/');
  t.equal(r2.status, 200, 'retried on the other endpoint');
  t.match(await lastEnd(p2), { attempts: 2, flags: '-' });
});
