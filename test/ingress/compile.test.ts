// The ingress route compilers (proxy/route/ingress.ts, gateway.ts) and the ingress config (ingress/config.ts):
// {objects, request} → {backend, status} rows: Kubernetes' Exact vs Prefix table (`/foo`, `/foo/`, `/foobar`),
// precedence, wildcard hosts (one label for Ingress, several for Gateway), defaultBackend, port by name,
// missing Service/port reported, ingress-nginx annotations (rewrite-target, ssl-redirect, canary weight and
// header), Gateway API hostnames, precedence, weights 70/30/0, invalid backend → 500, status reasons.
import t from 'tap';
import type { ServiceInfo } from '../../proxy/route/compile.js';
import { findRoute, findVirtualHost, redirectLocation, rewritten } from '../../proxy/route/match.js';
import { compileIngresses, prefixMatches, type IngressObject } from '../../proxy/route/ingress.js';
import { compileGateways, intersectHost, type GwObject } from '../../proxy/route/gateway.js';
import { buildConfig, isOurs } from '../../ingress/config.js';
import { compileIstioGateways, serverAdmits } from '../../proxy/route/istio-gateway.js';
import type { RequestView, RouteTable } from '../../proxy/route/types.js';

const svc = (name: string, ports: [string, number][] = [['http', 80]], ns = 'default'): ServiceInfo =>
  ({ name, namespace: ns, hostname: `${name}.${ns}.svc.cluster.local`, vips: ['10.96.0.9'], ports: ports.map(([n, port]) => ({ name: n, port })) });
const services = [svc('foo'), svc('bar'), svc('exact'), svc('root'), svc('named', [['web', 8080]]), svc('canary'), svc('dflt'), svc('v1'), svc('v2'), svc('v3')];
const be = (name: string, port: number | string = 80) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const ing = (name: string, spec: any, annotations: Record<string, string> = {}, ts = '2026-01-01T00:00:00Z'): IngressObject =>
  ({ metadata: { name, namespace: 'default', creationTimestamp: ts, annotations }, spec });
const view = (authority: string, path: string, port = 80, headers: string[] = [], method = 'GET'): RequestView =>
  ({ method, scheme: port === 443 ? 'https' : 'http', authority, path, headers, port, sourceLabels: {}, sourceNamespace: '', sourceIp: '1.2.3.4' });
const tableOf = (r: { ports: any; clusters: any }): RouteTable => ({ ports: r.ports, clusters: r.clusters });

/** Which service a request reaches ('' none; `redirect:…` / `status:…` for local answers). */
function target(table: RouteTable, v: RequestView): string {
  const vh = findVirtualHost(table, v.authority, v.port);
  if (!vh) return 'no-vhost';
  const f = findRoute(vh, v);
  if (!f) return '404';
  const a = f.route.action;
  if (a.kind === 'redirect') return `redirect:${a.redirect.code} ${redirectLocation(f.route, f.match, v)}`;
  if (a.kind === 'direct') return `status:${a.status}`;
  const d = a.pick();
  if (d.cluster.startsWith('invalid|')) return 'invalid';
  const name = d.host.split('.')[0];
  return table.clusters.has(d.cluster) ? name : `missing:${name}`;
}

t.test('Kubernetes Prefix is element-wise', async (t) => {
  const rows: [string, string, boolean][] = [
    ['/foo', '/foo', true], ['/foo', '/foo/', true], ['/foo', '/foo/bar', true], ['/foo', '/foobar', false],
    ['/foo/', '/foo', true], ['/foo/', '/foobar', false], ['', '/anything', true], ['/aaa/bbb', '/aaa/bbbxyz', false], ['/aaa/bbb', '/aaa/bbb/ccc', true],
  ];
  for (const [prefix, path, want] of rows) t.equal(prefixMatches(prefix.replace(/\/+$/, ''), path), want, `${prefix} vs ${path}`);
});

t.test('Ingress: Exact vs Prefix, precedence, hosts, defaultBackend', async (t) => {
  const r = compileIngresses({
    services,
    ingresses: [
      ing('main', {
        defaultBackend: be('dflt'),
        rules: [
          { host: 'a.example.com', http: { paths: [
            { path: '/foo', pathType: 'Prefix', backend: be('foo') },
            { path: '/foo', pathType: 'Exact', backend: be('exact') },
            { path: '/foo/bar', pathType: 'Prefix', backend: be('bar') },
            { path: '/', pathType: 'Prefix', backend: be('root') },
          ] } },
          { host: '*.wild.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } },
          { http: { paths: [{ path: '/any', pathType: 'ImplementationSpecific', backend: be('named', 'web') }] } },
        ],
      }),
    ],
  });
  t.same([...r.problems.values()].flat(), []);
  const table = tableOf(r);
  const rows: [string, string, string][] = [
    ['a.example.com', '/foo', 'exact'], // Exact beats Prefix at equal length
    ['a.example.com', '/foo/', 'foo'],
    ['a.example.com', '/foo/x?q=1', 'foo'],
    ['a.example.com', '/foobar', 'root'],
    ['a.example.com', '/foo/bar/baz', 'bar'], // longest prefix
    ['a.example.com:8080', '/foo/bar', 'bar'],
    ['A.Example.COM', '/x', 'root'],
    ['x.wild.com', '/', 'foo'],
    ['y.x.wild.com', '/', 'dflt'], // Kubernetes wildcard: one label only → default backend
    ['wild.com', '/', 'dflt'],
    ['other.com', '/any/thing', 'named'],
    ['other.com', '/nothing', 'dflt'],
  ];
  for (const [host, path, want] of rows) t.equal(target(table, view(host, path)), want, `${host}${path}`);
  // ImplementationSpecific as Prefix; port by name resolved to the Service port
  t.ok(table.clusters.has('outbound|8080||named.default.svc.cluster.local'));
  // both listener ports serve the same routes (no TLS → no redirect)
  t.equal(target(table, view('a.example.com', '/foo', 443)), 'exact');
});

t.test('Ingress: missing Service and port are reported with paths and route to no cluster (503)', async (t) => {
  const r = compileIngresses({ services, ingresses: [ing('bad', { rules: [{ host: 'b.com', http: { paths: [
    { path: '/a', pathType: 'Prefix', backend: be('nope') },
    { path: '/b', pathType: 'Prefix', backend: be('foo', 81) },
    { path: '/c', pathType: 'Prefix', backend: be('named', 'grpc') },
  ] } }] })] });
  t.same(r.problems.get('default/bad'), [
    'spec.rules[0].http.paths[0].backend.service.name: Service default/nope not found',
    'spec.rules[0].http.paths[1].backend.service.port.number: Service default/foo has no port 81',
    'spec.rules[0].http.paths[2].backend.service.port.name: Service default/named has no port named "grpc"',
  ]);
  const table = tableOf(r);
  t.equal(target(table, view('b.com', '/a')), 'missing:nope');
  t.equal(target(table, view('b.com', '/b')), 'missing:foo');
  t.equal(target(table, view('b.com', '/zzz')), '404');
});

t.test('ingress-nginx annotations: rewrite-target, ssl-redirect, canary', async (t) => {
  const r = compileIngresses({
    services, redirectPort: 443,
    ingresses: [
      ing('rw', { rules: [{ host: 'rw.com', http: { paths: [{ path: '/api(/|$)(.*)', pathType: 'ImplementationSpecific', backend: be('foo') }] } }] }, { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' }),
      ing('tls', { tls: [{ hosts: ['s.com'], secretName: 's' }], rules: [{ host: 's.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } }] }),
      ing('tls-off', { tls: [{ hosts: ['n.com'], secretName: 'n' }], rules: [{ host: 'n.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } }] }, { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }),
      ing('app', { rules: [{ host: 'c.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('v1') }] } }] }),
      ing('app-canary', { rules: [{ host: 'c.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('canary') }] } }] },
        { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '20', 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary' }, '2026-01-02T00:00:00Z'),
    ],
  });
  t.same([...r.problems.values()].flat(), []);
  const table = tableOf(r);
  const v = view('rw.com', '/api/users/7?x=1');
  const f = findRoute(findVirtualHost(table, v.authority, 80)!, v)!;
  t.same(rewritten(f.route, f.match, v).path, '/users/7?x=1');
  const v2 = view('rw.com', '/API');
  const f2 = findRoute(findVirtualHost(table, v2.authority, 80)!, v2)!;
  t.same(rewritten(f2.route, f2.match, v2).path, '/', 'case-insensitive, empty group');
  t.equal(target(table, view('s.com', '/x?y=1')), 'redirect:308 https://s.com/x?y=1');
  t.equal(target(table, view('s.com', '/x', 443)), 'foo');
  t.equal(target(table, view('n.com', '/x')), 'foo');
  t.same(r.tls.map((x) => [x.secret, x.hosts]), [['default/s', ['s.com']], ['default/n', ['n.com']]]);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 100; i++) { const k = target(table, view('c.com', '/')); counts[k] = (counts[k] ?? 0) + 1; }
  t.same(counts, { v1: 80, canary: 20 });
  t.equal(target(table, view('c.com', '/', 80, ['x-canary', 'always'])), 'canary');
  for (let i = 0; i < 10; i++) t.equal(target(table, view('c.com', '/', 80, ['x-canary', 'never'])), 'v1');
  const redirected = compileIngresses({ services, redirectPort: 18443, ingresses: [ing('tls', { tls: [{ secretName: 's' }], rules: [{ host: 's.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } }] })] });
  t.equal(target(tableOf(redirected), view('s.com:18080', '/p')), 'redirect:308 https://s.com:18443/p');
  const bad = compileIngresses({ services, ingresses: [ing('x', { rules: [{ host: 'c.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } }] }, { 'nginx.ingress.kubernetes.io/rewrite-target': '/', 'nginx.ingress.kubernetes.io/canary-weight': '5' }),
    ing('y', { rules: [{ host: 'c.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('foo') }] } }] }, { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '200' })] });
  t.same(bad.problems.get('default/y'), ['metadata.annotations.nginx.ingress.kubernetes.io/canary-weight: must be an integer between 0 and 100']);
});

t.test('IngressClass selection: named, legacy annotation, default class', async (t) => {
  const ours = { metadata: { name: 'shoal', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'shoal.io/ingress-controller' } };
  const nginx = { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
  const c = 'shoal.io/ingress-controller';
  t.equal(isOurs(ing('a', { ingressClassName: 'shoal' }), [ours, nginx], c), true);
  t.equal(isOurs(ing('a', { ingressClassName: 'nginx' }), [ours, nginx], c), false);
  t.equal(isOurs(ing('a', {}), [ours, nginx], c), true, 'no class: the default class');
  t.equal(isOurs(ing('a', {}, { 'kubernetes.io/ingress.class': 'nginx' }), [ours, nginx], c), false);
  t.equal(isOurs(ing('a', {}), [{ ...ours, metadata: { name: 'shoal' } }, nginx], c), false, 'no default class');
});

const gwObj = (kind: string, name: string, spec: any, ns = 'default', ts = '2026-01-01T00:00:00Z'): GwObject => ({ metadata: { name, namespace: ns, creationTimestamp: ts, generation: 1 }, spec, kind } as GwObject);
const gatewayInput = (routes: GwObject[], extra: Partial<Parameters<typeof compileGateways>[0]> = {}) => ({
  controllerName: 'shoal.io/gateway-controller',
  gatewayClasses: [{ metadata: { name: 'shoal' }, spec: { controllerName: 'shoal.io/gateway-controller' } } as GwObject, { metadata: { name: 'other' }, spec: { controllerName: 'x.io/y' } } as GwObject],
  gateways: [gwObj('Gateway', 'gw', { gatewayClassName: 'shoal', listeners: [
    { name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'https', protocol: 'HTTPS', port: 443, hostname: '*.example.com', tls: { certificateRefs: [{ name: 'cert' }] } },
    { name: 'odd', protocol: 'HTTP', port: 8081 },
  ] })],
  httpRoutes: routes, services, namespaces: new Map<string, Record<string, string>>([['default', {}], ['team', { team: 'a' }]]),
  httpPorts: [80], httpsPorts: [443], secretProblem: (_ns: string, n: string) => (n === 'cert' ? undefined : `Secret default/${n} not found`), address: '127.0.0.1',
  ...extra,
});

t.test('Gateway API: precedence, matches, weights 70/30/0, invalid backend share → 500, filters', async (t) => {
  const r = compileGateways(gatewayInput([
    gwObj('HTTPRoute', 'r1', { parentRefs: [{ name: 'gw', sectionName: 'http' }], hostnames: ['app.example.com'], rules: [
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'v1', port: 80, weight: 70 }, { name: 'v2', port: 80, weight: 30 }, { name: 'v3', port: 80, weight: 0 }] },
      { matches: [{ path: { type: 'Exact', value: '/foo' } }], backendRefs: [{ name: 'exact', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/foo' } }], backendRefs: [{ name: 'foo', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/foo' }, method: 'POST' }], backendRefs: [{ name: 'bar', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/foo' }, headers: [{ name: 'x-v', value: '2' }] }], backendRefs: [{ name: 'v2', port: 80 }] },
      { matches: [{ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }], backendRefs: [{ name: 'v3', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/half' } }], backendRefs: [{ name: 'v1', port: 80, weight: 1 }, { name: 'gone', port: 80, weight: 1 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/mirrored' } }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'v3', port: 80 }, percent: 50 } }], backendRefs: [{ name: 'v1', port: 80 }] },
    ] }),
  ]));
  const mv = view('app.example.com', '/mirrored/x');
  const mr = findRoute(findVirtualHost(tableOf(r), mv.authority, 80)!, mv)!.route;
  t.same(r.mirrors.get(mr), { cluster: 'outbound|80||v3.default.svc.cluster.local', host: 'v3.default.svc.cluster.local', port: 80, percent: 50 });
  t.ok(r.clusters.has('outbound|80||v3.default.svc.cluster.local'));
  t.equal(r.mirrors.size, 1);
  const table = tableOf(r);
  const v = (p: string, headers: string[] = [], method = 'GET') => view('app.example.com', p, 80, headers, method);
  t.equal(target(table, v('/foo')), 'exact');
  t.equal(target(table, v('/foo/')), 'foo');
  t.equal(target(table, v('/foobar')), 'v1', '/foobar is not under PathPrefix /foo');
  t.equal(target(table, v('/foo/x', [], 'POST')), 'bar', 'method beats headers');
  t.equal(target(table, v('/foo/x', ['x-v', '2'])), 'v2');
  t.equal(target(table, v('/re/12')), 'v3');
  t.not(target(table, v('/re/x')), 'v3', 'regex is a full match');
  t.equal(target(table, v('/old/a')), 'redirect:301 https://app.example.com/old/a');
  t.equal(target(table, view('other.com', '/')), 'no-vhost', 'route hostnames limit the listener');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 500; i++) { const k = target(table, v('/x')); counts[k] = (counts[k] ?? 0) + 1; }
  t.same(counts, { v1: 350, v2: 150 }, '70/30/0 exact over 500');
  const half: Record<string, number> = {};
  for (let i = 0; i < 10; i++) { const k = target(table, v('/half')); half[k] = (half[k] ?? 0) + 1; }
  t.same(half, { v1: 5, invalid: 5 });
  const st = r.routeStatus.get('default/r1')!.parents[0];
  t.same(st.conditions.map((c: any) => [c.type, c.status, c.reason]), [['Accepted', 'True', 'Accepted'], ['ResolvedRefs', 'False', 'BackendNotFound']]);
  t.match(st.conditions[1].message, /spec\.rules\[6\]\.backendRefs\[1\]: Service default\/gone not found/);
  const gs = r.gatewayStatus.get('default/gw');
  t.same(gs.listeners.map((l: any) => [l.name, l.attachedRoutes, l.conditions.find((c: any) => c.type === 'Accepted').reason]), [['http', 1, 'Accepted'], ['https', 0, 'Accepted'], ['odd', 0, 'PortUnavailable']]);
  t.same(r.classStatus.get('shoal')!.conditions[0].status, 'True');
  t.notOk(r.classStatus.has('other'));
  t.same(r.tls, [{ gateway: 'default/gw', listener: 'https', port: 443, hostname: '*.example.com', secret: 'default/cert' }]);
});

t.test('Gateway API: hostnames, allowedRoutes, parent reasons, TLS refs', async (t) => {
  t.equal(intersectHost('*.example.com', 'a.example.com'), 'a.example.com');
  t.equal(intersectHost('a.example.com', '*.example.com'), 'a.example.com');
  t.equal(intersectHost('*.example.com', 'example.com'), undefined);
  t.equal(intersectHost(undefined, 'x.com'), 'x.com');
  t.equal(intersectHost('a.com', 'b.com'), undefined);
  const r = compileGateways(gatewayInput([
    gwObj('HTTPRoute', 'wild', { parentRefs: [{ name: 'gw', sectionName: 'https' }], rules: [{ backendRefs: [{ name: 'foo', port: 80 }] }] }),
    gwObj('HTTPRoute', 'nohost', { parentRefs: [{ name: 'gw', sectionName: 'https' }], hostnames: ['a.other.com'], rules: [{ backendRefs: [{ name: 'foo', port: 80 }] }] }),
    gwObj('HTTPRoute', 'team', { parentRefs: [{ name: 'gw', namespace: 'default', sectionName: 'https' }], rules: [{ backendRefs: [{ name: 'foo', port: 80 }] }] }, 'team'),
    gwObj('HTTPRoute', 'missing', { parentRefs: [{ name: 'nope' }], rules: [{ backendRefs: [{ name: 'foo', port: 80, namespace: 'team' }] }] }),
  ], {
    gateways: [gwObj('Gateway', 'gw', { gatewayClassName: 'shoal', listeners: [
      { name: 'https', protocol: 'HTTPS', port: 443, hostname: '*.example.com', tls: { certificateRefs: [{ name: 'broken' }] } },
    ] })],
  }));
  const reason = (id: string) => r.routeStatus.get(id)!.parents[0].conditions.map((c: any) => c.reason);
  t.same(reason('default/wild'), ['Accepted', 'ResolvedRefs']);
  t.same(reason('default/nohost'), ['NoMatchingListenerHostname', 'ResolvedRefs']);
  t.same(reason('team/team'), ['NotAllowedByListeners', 'BackendNotFound'], 'foo is not in namespace team');
  t.same(reason('default/missing'), ['NoMatchingParent', 'RefNotPermitted']);
  const table = tableOf(r);
  t.equal(target(table, view('deep.a.example.com', '/', 443)), 'foo', 'Gateway wildcards span labels');
  const l = r.gatewayStatus.get('default/gw').listeners[0];
  t.same(l.conditions.find((c: any) => c.type === 'ResolvedRefs').reason, 'InvalidCertificateRef');
  t.same(r.tls, []);
});

t.test('config: Ingress and Gateway routes in one table', async (t) => {
  const ms = services.map((s) => ({ ...s, vips: [...s.vips], ports: s.ports.map((p) => ({ name: p.name ?? '', port: p.port, targetPort: p.port, protocol: 'TCP', appProtocol: '' })) }));
  const cfg = buildConfig({
    ingresses: [ing('i', { rules: [{ host: 'both.com', http: { paths: [{ path: '/ing', pathType: 'Prefix', backend: be('foo') }] } }] })],
    ingressClasses: [{ metadata: { name: 'shoal', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'shoal.io/ingress-controller' } }],
    ...gatewayInput([gwObj('HTTPRoute', 'g', { parentRefs: [{ name: 'gw', sectionName: 'http' }], hostnames: ['both.com'], rules: [{ backendRefs: [{ name: 'bar', port: 80 }] }] })]),
    referenceGrants: [], namespaces: new Map(), services: ms,
  }, { ingressController: 'shoal.io/ingress-controller', gatewayController: 'shoal.io/gateway-controller', redirectPort: 443, address: '127.0.0.1' });
  t.equal(target(cfg.table, view('both.com', '/ing/x')), 'foo');
  t.equal(target(cfg.table, view('both.com', '/other')), 'bar');
  t.same([...cfg.ingresses.keys()], ['default/i']);
});

t.test('Istio Gateway: selector, servers, bound VirtualServices with DestinationRule subsets', async (t) => {
  const o = (name: string, spec: any, ns = 'default', ts = '2026-01-01T00:00:00Z') => ({ metadata: { name, namespace: ns, creationTimestamp: ts }, spec });
  const reviews = { ...svc('reviews', [['http', 9080]]), ports: [{ name: 'http', port: 9080 }] };
  const r = compileIstioGateways({
    labels: { istio: 'ingressgateway', app: 'x' },
    services: [...services, reviews],
    gateways: [
      o('bookinfo-gateway', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }, { port: { number: 8443, name: 'x', protocol: 'HTTPS' }, hosts: ['*'] }] }),
      o('tls', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['default/*.shop.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }] }),
      o('elsewhere', { selector: { istio: 'eastwest' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] }),
    ],
    destinationRules: [o('reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] })],
    virtualServices: [
      o('bookinfo', { hosts: ['*'], gateways: ['bookinfo-gateway'], http: [
        { match: [{ uri: { prefix: '/reviews' } }], route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] },
        { match: [{ uri: { exact: '/productpage' } }], route: [{ destination: { host: 'foo', port: { number: 80 } } }] },
      ] }),
      o('shop', { hosts: ['www.shop.com'], gateways: ['default/tls'], http: [{ route: [{ destination: { host: 'bar' } }] }] }),
      o('other-ns', { hosts: ['api.shop.com'], gateways: ['default/tls'], http: [{ route: [{ destination: { host: 'bar' } }] }] }, 'team'),
      o('nogw', { hosts: ['x.com'], gateways: ['missing'], http: [{ route: [{ destination: { host: 'bar' } }] }] }),
      o('edge', { hosts: ['e.com'], gateways: ['elsewhere'], http: [{ route: [{ destination: { host: 'bar' } }] }] }),
    ],
  });
  const table = tableOf(r);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const v = view('anything.com', '/reviews/1');
    const f = findRoute(findVirtualHost(table, v.authority, 80)!, v)!;
    const d = (f.route.action as any).pick();
    counts[d.subset] = (counts[d.subset] ?? 0) + 1;
    t.ok(table.clusters.has(d.cluster), d.cluster);
  }
  t.same(counts, { v1: 80, v2: 20 });
  t.equal(target(table, view('anything.com', '/productpage')), 'foo');
  t.equal(target(table, view('anything.com', '/other')), '404');
  t.equal(target(table, view('www.shop.com', '/', 443)), 'bar');
  t.equal(target(table, view('api.shop.com', '/', 443)), 'no-vhost', 'the server admits only namespace default');
  t.equal(target(table, view('e.com', '/')), '404', 'e.com is not served by our Gateway: the * host (bookinfo) has no route for /');
  t.same(r.tls, [{ hosts: ['*.shop.com'], secret: 'default/shop-cert', gateway: 'default/tls' }]);
  t.same(r.problems.get('Gateway default/bookinfo-gateway'), ['spec.servers[1].port: the ingress serves HTTP on 80 and HTTPS on 443, not HTTPS 8443 (server ignored)']);
  t.same(r.problems.get('VirtualService team/other-ns'), ['spec.hosts: api.shop.com is not served by Gateway default/tls on port 443']);
  t.same(r.problems.get('VirtualService default/nogw'), ['spec.gateways: Gateway default/missing not found']);
  t.notOk(r.problems.has('VirtualService default/edge'), 'a Gateway of another workload is not ours to judge');
  t.equal(serverAdmits('./*', 'gw-ns', 'a.com', 'gw-ns'), 'a.com');
  t.equal(serverAdmits('./*', 'gw-ns', 'a.com', 'other'), undefined);
  t.equal(serverAdmits('*.a.com', 'x', '*.b.a.com', 'y'), '*.b.a.com');
});
