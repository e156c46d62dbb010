// proxy/admin/explain.ts on a live ConfigStore snapshot: the route dump, and explain traces whose every
// step comes from the data path's functions — the virtual host, the first non-matching condition of each
// earlier route, the weighted pick (peeked, never advanced), the subset's endpoints, the consistent-hash
// endpoint, mTLS per endpoint and the inbound verdict of the HttpAuthorizer under the workload's mode.
import t from 'tap';
import { explainRequest, routesDump } from '../../proxy/admin/explain.js';
import { findRoute, findVirtualHost } from '../../proxy/route/match.js';
import { clientConfig, REVIEWS_VIP, serverConfig, storeOf, V1_IP, V2_IP, V3_IP } from './explain-fixture.js';

t.test('routes dump: per port, virtual hosts, routes in order, clusters with lb and subset endpoints, warnings', async (t) => {
  const snap = storeOf(clientConfig()).snapshot;
  const d: any = routesDump(snap);
  t.same(d.routes.map((p: any) => p.name), ['9080']);
  const vh = d.routes[0].virtualHosts.find((v: any) => v.name === 'reviews.foo.svc.cluster.local:9080');
  t.ok(vh.domains.includes('reviews') && vh.domains.includes(`${REVIEWS_VIP}:9080`), 'domains with names and VIPs');
  t.same(vh.routes.map((r: any) => r.name), ['jason', 'api', 'foo/reviews:http[2]']);
  t.same(vh.routes[0].match, ['header end-user {"exact":"jason"}']);
  t.same(vh.routes[1].match, ['uri {"prefix":"/api"}', 'uri {"regex":"/v[0-9]+/.*"}']);
  t.same(vh.routes[2].match, ['/*']);
  t.equal(vh.routes[0].origin, 'reviews.foo');
  t.same(vh.routes[2].action.destinations.map((x: any) => [x.cluster, x.weight]), [['outbound|9080|v1|reviews.foo.svc.cluster.local', 90], ['outbound|9080|v3|reviews.foo.svc.cluster.local', 10]]);
  t.equal(vh.routes[1].rewrite.uri, '/v1');
  const ratings = d.routes[0].virtualHosts.find((v: any) => v.name === 'ratings.foo.svc.cluster.local:9080');
  t.same(ratings.routes.map((r: any) => r.name), ['default'], 'no VirtualService: the default route');
  const v2 = d.clusters.find((c: any) => c.name === 'outbound|9080|v2|reviews.foo.svc.cluster.local');
  t.equal(v2.lb, 'CONSISTENT_HASH(header x-user, ring 1024)');
  t.same(v2.endpoints.map((e: any) => [e.address, e.mtls, e.identity]), [[`${V2_IP}:9080`, 'HBONE', 'spiffe://cluster.local/ns/foo/sa/reviews']]);
  const v3 = d.clusters.find((c: any) => c.name === 'outbound|9080|v3|reviews.foo.svc.cluster.local');
  t.same([v3.lb, v3.endpoints.map((e: any) => e.mtls)], ['ROUND_ROBIN', ['PLAINTEXT']]);
  const all = d.clusters.find((c: any) => c.name === 'outbound|9080||reviews.foo.svc.cluster.local');
  t.equal(all.endpoints.length, 3, 'the service cluster has every endpoint');
  t.same(d.routeWarnings, []);
});

t.test('explain: the header route, why no earlier one; consistent hash endpoint; mTLS', async (t) => {
  const snap = storeOf(clientConfig()).snapshot;
  const tr: any = explainRequest(snap, { url: 'http://reviews:9080/ratings', headers: [['End-User', 'jason'], ['x-user', 'u1']] });
  t.same(tr.listener, { name: 'virtualOutbound', address: '0.0.0.0:15001', destination: `${REVIEWS_VIP}:9080`, service: 'foo/reviews' });
  t.equal(tr.virtualHost.name, 'reviews.foo.svc.cluster.local:9080');
  t.same(tr.routes.map((r: any) => [r.name, r.matched]), [['jason', true]]);
  t.equal(tr.routes[0].match, 'match[0]: header end-user {"exact":"jason"}');
  t.equal(tr.pick.cluster, 'outbound|9080|v2|reviews.foo.svc.cluster.local');
  t.equal(tr.pick.endpoint.address, `${V2_IP}:9080`);
  t.match(tr.pick.lbNote, /consistent hash/);
  t.same(tr.mtls, [{ endpoint: `${V2_IP}:9080`, mode: 'HBONE (HTTP/2 CONNECT over mTLS)', expectedIdentity: 'spiffe://cluster.local/ns/foo/sa/reviews' }]);
  t.equal(tr.authorization.computable, false, "the destination's policies are not in the client's config");
  t.same(tr.source, { workload: 'foo/productpage-0', identity: 'spiffe://cluster.local/ns/foo/sa/productpage', ip: '10.244.0.5', labels: { app: 'productpage' } });
});

t.test('explain: earlier routes name their first failing condition; rewrite; by VIP too', async (t) => {
  const snap = storeOf(clientConfig()).snapshot;
  const tr: any = explainRequest(snap, { url: `http://${REVIEWS_VIP}:9080/v2/x?q=1`, headers: [['end-user', 'mary']] });
  t.equal(tr.virtualHost.name, 'reviews.foo.svc.cluster.local:9080');
  t.same(tr.routes.map((r: any) => [r.name, r.matched]), [['jason', false], ['api', true]]);
  t.same(tr.routes[0].why, ['match[0]: header end-user {"exact":"jason"} does not match (request: "mary")']);
  t.equal(tr.routes[1].match, 'match[1]: uri {"regex":"/v[0-9]+/.*"}');
  t.same(tr.rewrite, { path: '/v1?q=1', authority: `${REVIEWS_VIP}:9080` }, 'regex match: the whole path is replaced, the query kept');

  const miss: any = explainRequest(snap, { url: 'http://reviews.foo:9080/', method: 'post' });
  t.same(miss.routes.map((r: any) => r.matched), [false, false, true]);
  t.same(miss.routes[0].why, ['match[0]: header end-user {"exact":"jason"} does not match (request: absent)']);
  t.same(miss.routes[1].why, ['match[0]: uri {"prefix":"/api"} does not match (request: "/")', 'match[1]: uri {"regex":"/v[0-9]+/.*"} does not match (request: "/")']);
  t.equal(miss.request.method, 'POST');
});

t.test('explain: the weighted split is peeked, never advanced; it agrees with the live picks', async (t) => {
  const snap = storeOf(clientConfig()).snapshot;
  const vh = findVirtualHost(snap.routes, 'reviews', 9080)!;
  const view = { method: 'GET', scheme: 'http', authority: 'reviews', path: '/', headers: [], port: 9080, sourceLabels: {}, sourceNamespace: 'foo', sourceIp: '' };
  const live = findRoute(vh, view)!.route;
  if (live.action.kind !== 'route') throw new Error('route action expected');
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const a: any = explainRequest(snap, { url: 'http://reviews:9080/' });
    const b: any = explainRequest(snap, { url: 'http://reviews:9080/' });
    t.equal(a.pick.cluster, b.pick.cluster, 'explaining twice gives the same answer');
    const next = live.action.pick().cluster;
    t.equal(a.pick.cluster, next, `request ${i}: explain said what the data path then picked`);
    seen.push(next.split('|')[2]);
  }
  t.equal(seen.filter((s) => s === 'v3').length, 2, '10% of 20 to v3');
  const tr: any = explainRequest(snap, { url: 'http://reviews:9080/' });
  t.same(tr.destinations.map((d: any) => [d.subset, d.weight, d.endpoints.map((e: any) => e.address)]), [['v1', 90, [`${V1_IP}:9080`]], ['v3', 10, [`${V3_IP}:9080`]]]);
});

t.test('explain inbound: the workload mode and HttpAuthorizer verdict', async (t) => {
  const snap = storeOf(serverConfig()).snapshot;
  const ok: any = explainRequest(snap, { url: 'http://reviews:9080/ratings/1', direction: 'inbound', source: 'spiffe://cluster.local/ns/foo/sa/productpage', sourceIp: '10.244.0.5' });
  t.match(ok.inbound, { workload: 'foo/reviews-v2-0', port: 9080, peerAuthentication: 'STRICT', allow: true, reason: 'allowed by foo/productpage-get', policies: ['foo/productpage-get (ALLOW)'] });
  const post: any = explainRequest(snap, { url: 'http://reviews:9080/ratings/1', method: 'POST', direction: 'inbound', source: 'foo/productpage' });
  t.match(post.inbound, { allow: false, reason: 'no ALLOW policy matched' });
  const other: any = explainRequest(snap, { url: 'http://reviews:9080/ratings', direction: 'inbound', source: 'spiffe://cluster.local/ns/bar/sa/x' });
  t.equal(other.inbound.allow, false);
  const plain: any = explainRequest(snap, { url: 'http://reviews:9080/ratings', direction: 'inbound', source: '' });
  t.match(plain.inbound, { allow: false, peerAuthentication: 'STRICT', mtls: 'plaintext' });
  t.match(plain.inbound.reason, /STRICT on port 9080: plaintext is refused/);
  // Outbound from reviews-v2 to itself (jason → v2): the verdict is computable locally.
  const self: any = explainRequest(snap, { url: 'http://reviews:9080/ratings', headers: [['end-user', 'jason']] });
  t.match(self.authorization, { allow: false, reason: 'no ALLOW policy matched' }, "reviews' own identity is not productpage's");
});

t.test('explain: unknown host, 404, bad input', async (t) => {
  const snap = storeOf(clientConfig()).snapshot;
  const none: any = explainRequest(snap, { url: 'http://example.com/' });
  t.equal(none.virtualHost, null);
  t.match(none.result, /no virtual host for example\.com on port 80/);
  t.match(none.listener.destination, /passthrough/);
  t.match(explainRequest(snap, { url: 'ftp://x/' }), { error: 'url: scheme "ftp": only http and https' });
  t.match(explainRequest(snap, { url: 'http://[bad' }), { error: /^url: not a URL/ });
});

t.test('explain: redirect and direct response routes; an unknown subset is a 503 with the compile warning in the dump', async (t) => {
  const cfg = clientConfig();
  cfg.routing!.push({ kind: 'VirtualService', metadata: { name: 'ratings', namespace: 'foo', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {
    hosts: ['ratings'],
    http: [
      { match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new', redirectCode: 308 } },
      { match: [{ method: { exact: 'DELETE' } }], directResponse: { status: 405, body: { string: 'no' } } },
      { route: [{ destination: { host: 'ratings', subset: 'v9' } }] },
    ],
  } });
  const snap = storeOf(cfg).snapshot;
  t.match(explainRequest(snap, { url: 'http://ratings:9080/old?x=1' }), { result: 'redirect 308 to http://ratings:9080/new?x=1' });
  t.match(explainRequest(snap, { url: 'http://ratings:9080/a', method: 'DELETE' }), { result: 'direct response 405 (2 bytes)' });
  const unknown: any = explainRequest(snap, { url: 'http://ratings:9080/a' });
  t.match(unknown.destinations[0], { cluster: 'outbound|9080|v9|ratings.foo.svc.cluster.local', error: /cluster not defined/ });
  t.match(unknown.pick.result, /503 no healthy upstream/);
  const d: any = routesDump(snap);
  t.match(d.routeWarnings, [/VirtualService foo\/ratings: spec\.http\[2\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by a DestinationRule/]);
  const vh = d.routes[0].virtualHosts.find((v: any) => v.name === 'ratings.foo.svc.cluster.local:9080');
  t.same(vh.routes.map((r: any) => r.action.kind), ['redirect', 'direct', 'route']);
  t.same(vh.routes[0].match, ['uri {"exact":"/old"}']);
});

t.test('explain: a GAMMA HTTPRoute split is peeked the same way and named as an HTTPRoute', async (t) => {
  const cfg = clientConfig();
  cfg.routing!.push({ kind: 'HTTPRoute', metadata: { name: 'ratings-split', namespace: 'foo', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'ratings', port: 9080 }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'ratings', port: 9080, weight: 70 }, { name: 'reviews', port: 9080, weight: 30 }] }],
  } });
  const snap = storeOf(cfg).snapshot;
  const vh = findVirtualHost(snap.routes, 'ratings', 9080)!;
  const view = { method: 'GET', scheme: 'http', authority: 'ratings', path: '/v2/x', headers: [], port: 9080, sourceLabels: {}, sourceNamespace: 'foo', sourceIp: '' };
  const live = findRoute(vh, view)!.route;
  if (live.action.kind !== 'route') throw new Error('route action expected');
  const hosts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const tr: any = explainRequest(snap, { url: 'http://ratings:9080/v2/x' });
    const next = live.action.pick();
    t.equal(tr.pick.cluster, next.cluster, `request ${i}`);
    hosts.push(next.host);
  }
  t.equal(hosts.filter((h) => h.startsWith('reviews')).length, 3, '30% of 10');
  const miss: any = explainRequest(snap, { url: 'http://ratings:9080/v1' });
  t.match(miss.result, /no route of ratings\.foo\.svc\.cluster\.local:9080 matches: 404/);
  t.match(miss.routes[0].why[0], /does not match \(request: "\/v1"\)/);
  const d: any = routesDump(snap);
  const r = d.routes[0].virtualHosts.find((v: any) => v.name === 'ratings.foo.svc.cluster.local:9080').routes[0];
  t.equal(r.origin, 'ratings-split.foo (HTTPRoute)');
});
