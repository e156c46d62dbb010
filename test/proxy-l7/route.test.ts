// proxy/route: {VirtualService (+DestinationRule, HTTPRoute), request} → {route, subset, rewritten request},
// table-driven; the weighted split exact over 1000 picks; GAMMA 70/30; RE2-like regex; the compiler's
// errors with field paths (unknown subset, weights, bad regex, conflicting VirtualServices).
import t from 'tap';
import { compileRouteTable, resolveHost, type KObject, type ServiceInfo } from '../../proxy/route/compile.js';
import { findRoute, findVirtualHost, redirectLocation, rewritten } from '../../proxy/route/match.js';
import { compileRe2 } from '../../proxy/route/regex.js';
import type { RequestView, RouteTable } from '../../proxy/route/types.js';

const svc = (name: string, ns = 'default', ports = [9080], vip = '10.96.0.20'): ServiceInfo => ({ name, namespace: ns, hostname: `${name}.${ns}.svc.cluster.local`, vips: [vip], ports: ports.map((port) => ({ name: 'http', port })) });
const services = [svc('reviews'), svc('ratings', 'default', [9080], '10.96.0.21'), svc('reviews-v2', 'default', [9080], '10.96.0.22'), svc('web', 'default', [80, 8080], '10.96.0.23')];
const obj = (kind: string, name: string, spec: any, ts = '2026-01-01T00:00:00Z', ns = 'default'): KObject => ({ metadata: { name, namespace: ns, creationTimestamp: ts }, spec, kind } as KObject);
const dr = obj('DestinationRule', 'reviews', {
  host: 'reviews',
  trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
  subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'user', ttl: '60s' } } } } }, { name: 'v3', labels: { version: 'v3' } }],
});
const vs = obj('VirtualService', 'reviews', {
  hosts: ['reviews'],
  http: [
    { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
    { name: 'present', match: [{ headers: { 'x-canary': {} } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
    { name: 'without', match: [{ uri: { prefix: '/nocookie' }, withoutHeaders: { cookie: {} } }], directResponse: { status: 418, body: { string: 'no cookie' } } },
    { name: 'regex', match: [{ uri: { regex: '/api/v[0-9]+/.*' } }], rewrite: { uriRegexRewrite: { match: '^/api/v([0-9]+)/(.*)', rewrite: '/\\2?version=\\1' } }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { name: 'prefix-rewrite', match: [{ uri: { prefix: '/old', }, ignoreUriCase: true }], rewrite: { uri: '/new', authority: 'reviews.internal' }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { name: 'exact', match: [{ uri: { exact: '/exact' }, method: { exact: 'POST' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { name: 'query', match: [{ queryParams: { debug: { exact: '1' } } }, { queryParams: { trace: { exact: '' } } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
    { name: 'from-ns', match: [{ sourceNamespace: 'test', sourceLabels: { app: 'tester' } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
    { name: 'redirect', match: [{ uri: { prefix: '/moved' } }], redirect: { uri: '/here', authority: 'ratings', redirectCode: 308 } },
    { name: 'https', match: [{ uri: { prefix: '/secure' }, scheme: { exact: 'http' } }], redirect: { scheme: 'https', derivePort: 'FROM_PROTOCOL_DEFAULT' } },
    { name: 'split', headers: { request: { set: { 'x-split': 'yes' } }, response: { remove: ['server'] } },
      route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10, headers: { request: { add: { 'x-canary-hit': '1' } } } }] },
  ],
});

const view = (o: Partial<RequestView>): RequestView => ({
  method: 'GET', scheme: 'http', authority: 'reviews:9080', path: '/', headers: [], port: 9080, sourceLabels: {}, sourceNamespace: 'default', sourceIp: '10.244.0.5', ...o,
});

function table(extra: Partial<Parameters<typeof compileRouteTable>[0]> = {}): { table: RouteTable; errors: string[] } {
  return compileRouteTable({ services, virtualServices: [vs], destinationRules: [dr], ...extra });
}

t.test('host resolution and virtual host domains', async (t) => {
  t.equal(resolveHost('reviews', 'default'), 'reviews.default.svc.cluster.local');
  t.equal(resolveHost('reviews.prod', 'default'), 'reviews.prod', 'with a dot: taken as written (Istio)');
  t.equal(resolveHost('example.com', 'default'), 'example.com');
  const { table: tb, errors } = table();
  t.same(errors, []);
  for (const a of ['reviews', 'reviews:9080', 'reviews.default', 'reviews.default.svc.cluster.local:9080', '10.96.0.20:9080', 'REVIEWS:9080'])
    t.equal(findVirtualHost(tb, a, 9080)?.name, 'reviews.default.svc.cluster.local:9080', a);
  t.equal(findVirtualHost(tb, 'reviews', 80), undefined, 'wrong port');
  t.equal(findVirtualHost(tb, 'web:8080', 8080)?.name, 'web.default.svc.cluster.local:8080', 'a vhost per port');
  t.ok(Object.isFrozen(tb) && Object.isFrozen(findVirtualHost(tb, 'reviews', 9080)!.routes), 'frozen');
});

t.test('{VirtualService, request} → {route, subset, rewritten request}', async (t) => {
  const { table: tb } = table();
  const vh = findVirtualHost(tb, 'reviews:9080', 9080)!;
  const rows: { name: string; req: Partial<RequestView>; route?: string; subset?: string; path?: string; authority?: string }[] = [
    { name: 'header exact', req: { headers: ['end-user', 'jason'] }, route: 'jason', subset: 'v2' },
    { name: 'header other value falls through', req: { headers: ['end-user', 'bob'], path: '/exact', method: 'POST' }, route: 'exact', subset: 'v1' },
    { name: 'header presence {}', req: { headers: ['x-canary', ''] }, route: 'present', subset: 'v3' },
    { name: 'withoutHeaders', req: { path: '/nocookie' }, route: 'without' },
    { name: 'withoutHeaders present → next routes', req: { path: '/nocookie', headers: ['cookie', 'a=b'] }, route: 'split' },
    { name: 'regex is a full match', req: { path: '/api/v2/items?x=1' }, route: 'regex', subset: 'v1', path: '/items?version=2?x=1' },
    { name: 'regex not a partial match', req: { path: '/x/api/v2/items' }, route: 'split' },
    { name: 'prefix + ignoreUriCase + rewrite keeps the rest and the query', req: { path: '/OLD/page?q=1' }, route: 'prefix-rewrite', path: '/new/page?q=1', authority: 'reviews.internal' },
    { name: 'exact needs the method too', req: { path: '/exact' }, route: 'split' },
    { name: 'query param exact', req: { path: '/?debug=1' }, route: 'query', subset: 'v3' },
    { name: 'query param presence (exact "")', req: { path: '/?trace' }, route: 'query' },
    { name: 'query param other value', req: { path: '/?debug=2' }, route: 'split' },
    { name: 'sourceNamespace + sourceLabels', req: { sourceNamespace: 'test', sourceLabels: { app: 'tester', x: 'y' } }, route: 'from-ns' },
    { name: 'sourceLabels must all match', req: { sourceNamespace: 'test', sourceLabels: { app: 'other' } }, route: 'split' },
    { name: 'redirect', req: { path: '/moved/x' }, route: 'redirect' },
  ];
  for (const r of rows) {
    const req = view(r.req);
    const found = findRoute(vh, req);
    t.equal(found?.route.name, r.route, `${r.name}: route`);
    if (!found) continue;
    if (r.subset) t.equal(found.route.action.kind === 'route' && found.route.action.destinations[0].subset, r.subset, `${r.name}: subset`);
    if (r.path || r.authority) {
      const rw = rewritten(found.route, found.match, req);
      if (r.path) t.equal(rw.path, r.path, `${r.name}: path`);
      if (r.authority) t.equal(rw.authority, r.authority, `${r.name}: authority`);
    }
  }
  const moved = findRoute(vh, view({ path: '/moved/x?a=1' }))!;
  t.equal(redirectLocation(moved.route, moved.match, view({ path: '/moved/x?a=1' })), 'http://ratings/here?a=1', 'authority replaced (with its port unless port or derivePort is set), query kept');
  t.match(moved.route.action, { kind: 'redirect', redirect: { code: 308 } });
  const sec = findRoute(vh, view({ path: '/secure', authority: 'reviews:9080' }))!;
  t.equal(redirectLocation(sec.route, sec.match, view({ path: '/secure', authority: 'reviews:9080' })), 'https://reviews/secure', 'FROM_PROTOCOL_DEFAULT drops the port');
  const direct = findRoute(vh, view({ path: '/nocookie' }))!;
  t.match(direct.route.action, { kind: 'direct', status: 418 });
});

t.test('the 90/10 split is exact over 1000 picks (smooth weighted round robin), header ops per route and destination', async (t) => {
  const { table: tb } = table();
  const split = findVirtualHost(tb, 'reviews', 9080)!.routes.find((r) => r.name === 'split')!;
  if (split.action.kind !== 'route') throw new Error('not a route');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) { const d = split.action.pick(); counts[d.subset] = (counts[d.subset] ?? 0) + 1; }
  t.ok(Math.abs(counts.v2 - 100) <= 30, `v2 ${counts.v2}/1000 within ±3% of 10%`);
  t.equal(counts.v2, 100, 'exactly 100 with smooth WRR');
  const window: string[] = [];
  for (let i = 0; i < 10; i++) window.push(split.action.pick().subset);
  t.equal(window.filter((s) => s === 'v2').length, 1, 'spread: one v2 in every 10 picks');
  t.same(split.requestOps.set, [['x-split', 'yes']]);
  t.same(split.responseOps.remove, ['server']);
  t.same(split.action.destinations[1].requestOps.add, [['x-canary-hit', '1']]);
});

t.test('no VirtualService: one default route; clusters with the effective load balancer', async (t) => {
  const { table: tb } = table();
  const r = findVirtualHost(tb, 'ratings', 9080)!.routes;
  t.equal(r.length, 1);
  t.match(r[0].action, { kind: 'route', destinations: [{ cluster: 'outbound|9080||ratings.default.svc.cluster.local' }] });
  t.match(tb.clusters.get('outbound|9080||ratings.default.svc.cluster.local')!.lb, { kind: 'LEAST_REQUEST' }, "Istio's default");
  t.match(tb.clusters.get('outbound|9080|v1|reviews.default.svc.cluster.local'), { subset: 'v1', labels: { version: 'v1' }, lb: { kind: 'ROUND_ROBIN' } }, 'host-level policy');
  t.match(tb.clusters.get('outbound|9080|v2|reviews.default.svc.cluster.local')!.lb, { kind: 'CONSISTENT_HASH', source: { by: 'cookie', name: 'user', ttlSeconds: 60 }, table: 'ring', size: 1024 }, 'subset-level policy wins');
  const vh = findVirtualHost(tb, 'reviews', 9080)!;
  t.equal(findRoute(vh, view({ method: 'DELETE', path: '/exact' }))?.route.name, 'split', 'the last route has no match: catches the rest');
});

t.test('match port: blocks for another port are dropped for this port', async (t) => {
  const webVs = obj('VirtualService', 'web', { hosts: ['web'], http: [{ name: 'only-8080', match: [{ port: 8080 }], route: [{ destination: { host: 'web', port: { number: 8080 } } }] }] });
  const { table: tb } = compileRouteTable({ services, virtualServices: [webVs] });
  t.equal(findVirtualHost(tb, 'web', 8080)!.routes.length, 1);
  t.equal(findVirtualHost(tb, 'web', 80)!.routes.length, 0, 'VirtualService present, no route for :80 → 404');
});

t.test('GAMMA HTTPRoute with a Service parent: 70/30 weights, precedence, filters', async (t) => {
  const hr = obj('HTTPRoute', 'reviews-split', {
    parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
    rules: [
      { backendRefs: [{ name: 'reviews', port: 9080, weight: 70 }, { name: 'reviews-v2', port: 9080, weight: 30 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-gw', value: '1' }] } }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] },
      { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }] },
    ],
  });
  const { table: tb, errors } = compileRouteTable({ services, httpRoutes: [hr] });
  t.same(errors, []);
  const vh = findVirtualHost(tb, 'reviews', 9080)!;
  t.same(vh.routes.map((r) => r.source.replace(/^HTTPRoute default\/reviews-split /, '')), ['spec.rules[2].matches[0]', 'spec.rules[1].matches[0]', 'spec.rules[0].matches[0]'], 'exact, then the longer prefix, then "/"');
  const api = findRoute(vh, view({ path: '/api/x?y' }))!;
  t.equal(rewritten(api.route, api.match, view({ path: '/api/x?y' })).path, '/x?y', 'ReplacePrefixMatch "/"');
  t.equal(findRoute(vh, view({ path: '/apix' }))!.route.source.endsWith('rules[0].matches[0]'), true, 'PathPrefix is segment-wise');
  t.same(api.route.requestOps.set, [['x-gw', '1']]);
  const old = findRoute(vh, view({ path: '/old' }))!;
  t.match(old.route.action, { kind: 'redirect', redirect: { code: 302, uri: '/new' } });
  const split = findRoute(vh, view({ path: '/' }))!.route;
  if (split.action.kind !== 'route') throw new Error('not a route');
  let v2 = 0;
  for (let i = 0; i < 500; i++) if (split.action.pick().host.startsWith('reviews-v2')) v2++;
  t.ok(Math.abs(v2 / 500 - 0.3) <= 0.05, `reviews-v2 ${v2}/500 within ±5% of 30%`);
});

t.test('RE2-like regex: full match, RE2 syntax, what RE2 rejects', async (t) => {
  const ok = compileRe2('/a/(?P<id>[0-9]+)');
  t.ok(ok instanceof RegExp && ok.test('/a/12') && !ok.test('/a/12/b') && !ok.test('x/a/12'), 'anchored, (?P<name>) accepted');
  for (const [p, why] of [['(?=a)b', /lookahead/], ['(?<!a)b', /lookbehind/], ['(a)\\1', /backreferences/], ['a++', /possessive/], ['[a-', /invalid regex/]] as const)
    t.match(compileRe2(p), why, p);
  t.ok(compileRe2('a\\\\1') instanceof RegExp, 'an escaped backslash before a digit is a literal');
});

t.test('compile errors name the object and the field path; the rest still compiles', async (t) => {
  const bad = obj('VirtualService', 'bad', {
    hosts: ['ratings'],
    http: [
      { match: [{ uri: { regex: '(?=x)' } }], route: [{ destination: { host: 'reviews', subset: 'v9' } }] },
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 40 }] },
      { match: [{ uri: { exact: '/a', prefix: '/b' } }], route: [{ destination: { host: 'ratings' } }] },
      { rewrite: { uri: '/x', uriRegexRewrite: { match: '(', rewrite: '' } }, route: [{ destination: { host: 'ratings' } }] },
    ],
  }, '2026-01-02T00:00:00Z');
  const later = obj('VirtualService', 'later', { hosts: ['ratings.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'ratings' } }] }] }, '2026-01-03T00:00:00Z');
  const { errors, table: tb } = compileRouteTable({ services, virtualServices: [later, bad], destinationRules: [dr] });
  const want = [
    /VirtualService default\/bad: spec\.http\[0\]\.match\[0\]\.uri\.regex: invalid regex "\(\?=x\)": lookahead/,
    /VirtualService default\/bad: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by a DestinationRule for host reviews\.default\.svc\.cluster\.local/,
    /VirtualService default\/bad: spec\.http\[1\]\.route: total destination weight 90 != 100/,
    /VirtualService default\/bad: spec\.http\[2\]\.match\[0\]\.uri: exactly one of exact, prefix or regex must be set/,
    /VirtualService default\/bad: spec\.http\[3\]\.rewrite: uri and uriRegexRewrite may not both be set/,
    /VirtualService default\/bad: spec\.http\[3\]\.rewrite\.uriRegexRewrite\.match: invalid regex/,
    /VirtualService default\/later: spec\.hosts: ratings\.default\.svc\.cluster\.local is already routed by VirtualService default\/bad/,
  ];
  for (const w of want) t.ok(errors.some((e) => w.test(e)), `${w}`);
  t.equal(errors.length, want.length, errors.join('\n'));
  t.equal(findVirtualHost(tb, 'ratings', 9080)!.routes.length, 4, 'the older VirtualService wins');
});

t.test('GRPCRoute matches as the HTTP/2 paths they are', async (t) => {
  const { grpcMatchAsHttp } = await import('../../proxy/route/grpc.js');
  t.same(grpcMatchAsHttp({ method: { service: 'pkg.Svc', method: 'Get' } }), { path: { type: 'Exact', value: '/pkg.Svc/Get' } });
  t.same(grpcMatchAsHttp({ method: { service: 'pkg.Svc' } }), { path: { type: 'PathPrefix', value: '/pkg.Svc' } });
  t.same(grpcMatchAsHttp({ method: { method: 'Get.x' } }), { path: { type: 'RegularExpression', value: '/[^/]+/Get\\.x' } });
  t.same(grpcMatchAsHttp({ method: { type: 'RegularExpression', service: 'pkg\\..*' } }), { path: { type: 'RegularExpression', value: '/(pkg\\..*)/[^/]+' } });
  t.same(grpcMatchAsHttp({ headers: [{ name: 'x', value: 'y' }] }), { headers: [{ name: 'x', value: 'y' }] }, 'headers only');
});
