// lib/serve: routes answered in-process (handle) and over a real loopback socket (serve).
import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { checkRoute, freePort, handle, metricsRoute, routeServer, serve, splitHostPort, type Route } from '../../lib/serve/serve.js';

t.test('handle', async (t) => {
  let problem: string | undefined = undefined;
  const registry = new Registry();
  new Counter({ name: 'libserve_test_total', help: 'test', registers: [registry] }).inc(3);
  const routes: Route[] = [
    checkRoute('/healthz', () => problem, { failPrefix: 'last sync failed: ' }),
    metricsRoute(registry),
    { path: '/boom', reply: () => { throw new Error('broken'); } },
  ];
  t.same(await handle(routes, '/healthz?verbose'), { status: 200, body: 'ok\n' });
  problem = 'nft exited 1';
  t.same(await handle(routes, '/healthz'), { status: 503, body: 'last sync failed: nft exited 1\n' });
  const m = await handle(routes, '/metrics');
  t.equal(m.status, 200);
  t.match(m.body, /^libserve_test_total 3$/m);
  t.same(await handle(routes, '/nope'), { status: 404, body: 'not found\n' });
  t.same(await handle(routes, '/boom'), { status: 500, body: 'broken\n' });
});

t.test('routes read the query; notFound answers unknown paths', async (t) => {
  const routes: Route[] = [{ path: '/dump', reply: (u) => ({ status: 200, body: `id=${u.searchParams.get('id')}`, type: 'application/json' }) }];
  t.same(await handle(routes, '/dump?id=a.b'), { status: 200, body: 'id=a.b', type: 'application/json' });
  t.same(await handle(routes, '/x', { notFound: (u) => ({ status: 404, body: `no ${u.pathname}` }) }), { status: 404, body: 'no /x' });
  const server = routeServer(routes);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/dump?id=z`);
  t.equal(res.headers.get('content-type'), 'application/json');
  t.equal(await res.text(), 'id=z');
});

t.test('serve on loopback', async (t) => {
  const s = await serve('127.0.0.1', 0, [checkRoute('/readyz', () => undefined, { okBody: 'ok' })]);
  t.teardown(() => s.close());
  t.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await fetch(`${s.url}/readyz`);
  t.equal(r.status, 200);
  t.equal(await r.text(), 'ok');
  t.equal(r.headers.get('content-type'), 'text/plain');
  t.equal((await fetch(`${s.url}/x`)).status, 404);
});

t.test('splitHostPort', async (t) => {
  t.same(splitHostPort('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  t.same(splitHostPort(':53'), { host: '0.0.0.0', port: 53 });
  t.same(splitHostPort('[::1]:9153'), { host: '::1', port: 9153 });
  t.throws(() => splitHostPort('nope'), /must be host:port/);
});

t.test('freePort', async (t) => {
  const p = await freePort();
  t.ok(p > 0 && p < 65536);
  const s = await serve('127.0.0.1', p, []);
  t.teardown(() => s.close());
  t.equal(s.port, p, 'the port can be bound');
});
