// proxy/filters: the chain built from a list that is data (errors with paths), the HTTP authorization table
// (methods, paths with Istio's prefix/suffix/presence, hosts, `when` on headers and source principal; 403
// `RBAC: access denied`), and a whole chain behind the HTTP/1 connection on loopback: a header match routes
// `end-user: jason` to v2 only, redirect, direct response, header operations both ways, the hash cookie,
// 404 for no route, denial while the connection keeps serving.
import t, { type Test } from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { buildChain, respond, viewOf, type HttpContext, type PeerInfo } from '../../proxy/filters/chain.js';
import { BUILTIN_FILTERS, DEFAULT_ORDER, dispatchFor } from '../../proxy/filters/registry.js';
import { HttpAuthorizer, type HttpAttributes } from '../../proxy/filters/authz-http/evaluate.js';
import { makeRouter, type RouterEndpoint } from '../../proxy/filters/router/filter.js';
import { compileRouteTable, type KObject } from '../../proxy/route/compile.js';
import { serveHttp1 } from '../../proxy/http1/connection.js';
import { UpstreamPool } from '../../proxy/http1/pool.js';
import type { AuthzPolicy } from '../../proxy/config/types.js';

const SLEEP = 'cluster.local/ns/foo/sa/sleep';
const attrs = (o: Partial<HttpAttributes> = {}): HttpAttributes => ({
  principal: SLEEP, namespace: 'foo', sourceIp: '10.244.0.5', remoteIp: '10.244.0.5', destinationIp: '10.244.0.9', destinationPort: 9080,
  method: 'GET', host: 'reviews:9080', path: '/', headers: [], ...o,
});
const pol = (name: string, action: string, rules: any[]): AuthzPolicy => ({ name, namespace: 'foo', action, rules });

t.test('chain from data: unknown filters and bad configs are reported with paths, nothing is built', async (t) => {
  const terminal = () => respond(200, 'end');
  const r = buildChain([{ name: 'route', config: {} }, { name: 'rate-limit' }, { name: 'header-modifier', config: { request: { set: { 'bad name': 'x' } }, oops: 1 } },
    { name: 'redirect', config: { x: 1 } }, { name: 'authz-http', config: { policies: [{ name: 'p', namespace: 'foo', action: 'CUSTOM', rules: [] }] } }], BUILTIN_FILTERS, terminal);
  t.equal(r.handler, undefined);
  t.match(r.errors, [
    /^filters\[0\]\.config\.table: a compiled RouteTable is required$/,
    /^filters\[1\]\.name: unknown filter "rate-limit"; known: jwt-authn, authz-http, route, cors, fault, redirect, header-modifier$/,
    /^filters\[2\]\.config\.request\.set\.bad name: invalid header name$/,
    /^filters\[3\]\.config: unknown field "x"/,
    /^filters\[4\]\.config\.policies\[0\]\.action: unsupported action "CUSTOM"/,
  ]);
  const order: string[] = [];
  const tag = (name: string) => ({ name, parse: () => ({ config: {}, errors: [] }), make: () => (next: any) => (ctx: HttpContext) => { order.push(name); return next(ctx); } });
  const reg = new Map([['a', tag('a')], ['b', tag('b')]]);
  const ok = buildChain([{ name: 'b' }, { name: 'a' }, { name: 'b' }], reg, terminal);
  const out = ok.handler!({} as HttpContext);
  t.same(order, ['b', 'a', 'b'], 'the list order is the call order');
  t.match(out, { kind: 'respond', status: 200 }, 'the step says what happened');
});

t.test('HTTP authorization: Istio order and HTTP fields', async (t) => {
  const rows: { name: string; policies: AuthzPolicy[]; req: Partial<HttpAttributes>; allow: boolean }[] = [
    { name: 'method allowed', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { methods: ['GET', 'HEAD'] } }] }])], req: {}, allow: true },
    { name: 'method not allowed', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { methods: ['GET'] } }] }])], req: { method: 'POST' }, allow: false },
    { name: 'path prefix', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { paths: ['/api/*'] } }] }])], req: { path: '/api/v1?x' }, allow: true },
    { name: 'path prefix other', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { paths: ['/api/*'] } }] }])], req: { path: '/admin' }, allow: false },
    { name: 'path suffix', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { paths: ['*.html'] } }] }])], req: { path: '/x/index.html' }, allow: true },
    { name: 'path presence', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { paths: ['*'] } }] }])], req: { path: '/anything' }, allow: true },
    { name: 'path exact ignores query', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { paths: ['/health'] } }] }])], req: { path: '/health?full=1' }, allow: true },
    { name: 'notPaths', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { notPaths: ['/admin*'] } }] }])], req: { path: '/admin/x' }, allow: false },
    { name: 'hosts, case-insensitive, port ignored', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { hosts: ['Reviews'] } }] }])], req: { host: 'reviews:9080' }, allow: true },
    { name: 'hosts suffix', policies: [pol('a', 'ALLOW', [{ to: [{ operation: { hosts: ['*.example.com'] } }] }])], req: { host: 'a.example.com' }, allow: true },
    { name: 'when header', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'request.headers[End-User]', values: ['jason'] }] }])], req: { headers: ['end-user', 'jason'] }, allow: true },
    { name: 'when header absent', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'request.headers[end-user]', values: ['*'] }] }])], req: {}, allow: false },
    { name: 'when notValues', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'request.headers[x-env]', notValues: ['prod'] }] }])], req: { headers: ['x-env', 'prod'] }, allow: false },
    { name: 'when source.principal', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'source.principal', values: [`spiffe://${SLEEP}`] }] }])], req: {}, allow: true },
    { name: 'when source.principal other', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'source.principal', values: ['cluster.local/ns/bar/*'] }] }])], req: {}, allow: false },
    { name: 'when request.auth (no JWT here) never holds', policies: [pol('a', 'ALLOW', [{ when: [{ key: 'request.auth.claims[iss]', values: ['*'] }] }])], req: {}, allow: false },
    { name: 'from principal + to path', policies: [pol('a', 'ALLOW', [{ from: [{ source: { principals: [SLEEP] } }], to: [{ operation: { paths: ['/ok'] } }] }])], req: { path: '/ok' }, allow: true },
    { name: 'requestPrincipals never match', policies: [pol('a', 'ALLOW', [{ from: [{ source: { requestPrincipals: ['*'] } }] }])], req: {}, allow: false },
    { name: 'DENY beats ALLOW', policies: [pol('a', 'ALLOW', [{}]), pol('d', 'DENY', [{ to: [{ operation: { methods: ['DELETE'] } }] }])], req: { method: 'DELETE' }, allow: false },
    { name: 'DENY other method', policies: [pol('d', 'DENY', [{ to: [{ operation: { methods: ['DELETE'] } }] }])], req: {}, allow: true },
    { name: 'ALLOW without rules allows nothing', policies: [pol('a', 'ALLOW', [])], req: {}, allow: false },
  ];
  for (const r of rows) t.equal(new HttpAuthorizer(r.policies).evaluate(attrs(r.req)).allow, r.allow, r.name);
  const d = new HttpAuthorizer([pol('d', 'DENY', [{}]), pol('au', 'AUDIT', [{}])]).evaluate(attrs());
  t.same(d, { allow: false, reason: 'denied by DENY policy foo/d', audit: ['foo/au'] });
});

// ---------------------------------------------------------------------------------------------
// A whole chain on loopback.

async function listen(s: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

async function pod(t: Test, version: string): Promise<number> {
  const s = createHttpServer((q, r) => {
    r.setHeader('server', 'app');
    r.setHeader('x-version', version);
    r.end(`${version} ${q.method} ${q.url} host=${q.headers.host} x-split=${q.headers['x-split'] ?? ''} x-v2=${q.headers['x-v2'] ?? ''}`);
  });
  const port = await listen(s);
  t.teardown(() => { s.closeAllConnections(); s.close(); });
  return port;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let text = '';
    s.write(`${method} ${path} HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    s.on('data', (c) => (text += c));
    s.on('end', () => {
      const i = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, i), body: text.slice(i + 4) });
    });
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`timeout: ${text}`)); });
  });
}

t.test('a sidecar-like chain on loopback: routing, canary header, redirect, direct response, header ops, cookie, authz', async (t) => {
  const v1 = await pod(t, 'v1'), v2 = await pod(t, 'v2');
  const obj = (name: string, spec: any): KObject => ({ metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' }, spec });
  const { table, errors } = compileRouteTable({
    services: [{ name: 'reviews', namespace: 'default', hostname: 'reviews.default.svc.cluster.local', vips: ['10.96.0.20'], ports: [{ name: 'http', port: 9080 }] }],
    destinationRules: [obj('reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '30s' } } } } }] })],
    virtualServices: [obj('reviews', { hosts: ['reviews'], http: [
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' }, headers: { request: { set: { 'x-v2': 'yes' } } } }] },
      { name: 'moved', match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new' } },
      { name: 'teapot', match: [{ uri: { exact: '/tea' } }], directResponse: { status: 418, body: { string: 'short and stout' } } },
      { name: 'rest', match: [{ uri: { prefix: '/' } }], headers: { request: { set: { 'x-split': '1' } }, response: { set: { 'x-route': 'rest' }, remove: ['server'] } },
        route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ] })],
  });
  t.same(errors, []);
  const endpoints: RouterEndpoint[] = [{ address: '127.0.0.1', port: v1, labels: { version: 'v1' } }, { address: '127.0.0.1', port: v2, labels: { version: 'v2' } }];
  const router = makeRouter({ table, endpoints: () => endpoints });
  const order = DEFAULT_ORDER.map((name) => ({ name, config: name === 'route' ? { table } : name === 'authz-http' ? { policies: [pol('deny-admin', 'DENY', [{ to: [{ operation: { paths: ['/admin*'] } }] }])] } : {} }));
  const { handler, errors: chainErrors } = buildChain(order, BUILTIN_FILTERS, router);
  t.same(chainErrors, []);
  const peer = (): PeerInfo => ({ principal: SLEEP, namespace: 'foo', sourceIp: '127.0.0.1', destinationIp: '10.96.0.20', destinationPort: 9080, sourceLabels: { app: 'sleep' } });
  const pool = new UpstreamPool();
  const server = createServer((s) => serveHttp1(s, dispatchFor(handler!, peer, 9080), pool));
  const port = await listen(server);
  t.teardown(() => { pool.close(); server.close(); });

  const jason = await get(port, '/ratings', { 'end-user': 'jason' });
  t.equal(jason.status, 200);
  t.match(jason.body, /^v2 GET \/ratings host=reviews:9080 x-split= x-v2=yes$/, 'end-user: jason → v2, destination header set');
  t.match(jason.head, /set-cookie: session=[0-9a-f]{16}; Max-Age=30; HttpOnly/i, 'the hash cookie is generated for the v2 subset');
  const cookie = /set-cookie: (session=[0-9a-f]+)/i.exec(jason.head)![1];
  const again = await get(port, '/ratings', { 'end-user': 'jason', cookie });
  t.notMatch(again.head, /set-cookie/i, 'no new cookie when it is sent back');
  for (let i = 0; i < 5; i++) {
    const other = await get(port, '/ratings', { 'end-user': 'bob' });
    t.match(other.body, /^v1 .* x-split=1 x-v2=$/, 'others → v1 with the route header');
    t.match(other.head, /x-route: rest/);
    t.notMatch(other.head, /\r\nserver:/i, 'response header removed');
  }
  const moved = await get(port, '/old/page?q=1');
  t.equal(moved.status, 301);
  t.match(moved.head, /location: http:\/\/reviews:9080\/new\?q=1/);
  const tea = await get(port, '/tea');
  t.equal(tea.status, 418);
  t.equal(tea.body, 'short and stout');
  const denied = await get(port, '/admin/users');
  t.equal(denied.status, 403);
  t.equal(denied.body, 'RBAC: access denied');
  const unknown = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.write('GET / HTTP/1.1\r\nHost: nowhere\r\n\r\nGET /tea HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n');
    s.on('data', (c) => (text += c));
    s.on('end', () => resolve(text));
  });
  t.match(unknown, /^HTTP\/1.1 404 Not Found[\s\S]*HTTP\/1.1 418/, 'unknown host: 404, the connection goes on');
  t.equal(viewOf({ method: 'GET', target: '/x', minor: 1, headers: [], host: 'h', contentLength: -1, chunked: false, keepAlive: true, upgrade: '', expectContinue: false }, peer(), 9080).sourceNamespace, 'foo');
});
