// Real sidecar processes (test netns, UID 1337, static config, certificates from the test CA) answer
// /config_dump?resource=routes and /explain on their admin port :15000 from their live config, and the
// compiled `shoal` CLI (proxy-config routes, explain request) prints them: the client sidecar explains the
// outbound half, the destination's sidecar the inbound verdict. A config change (new weights) shows at once.
import t from 'tap';
import { meshNet, rootSkip, startTestSidecar, httpGet, until } from './fixture.js';
import { clientConfig, serverConfig, REVIEWS_VIP } from '../proxy-l7/explain-fixture.js';
import { shoal } from '../mesh-control/shoal-cli.js';

const K = 23;


t.test('sidecar admin: routes dump and explain from the live config', { skip: rootSkip }, async (t) => {
  const net = await meshNet(t, 'l7x', K, { capture: false });
  const a = await startTestSidecar(t, net, net.a, { sa: 'client', config: clientConfig({ ip: net.a.ip }), name: 'l7x-a' });
  await startTestSidecar(t, net, net.b, { sa: 'server', config: serverConfig(), name: 'l7x-b' });
  const adminA = `http://${net.a.rootIp}:15000`;
  const adminB = `http://${net.b.rootIp}:15000`;

  const dump = JSON.parse((await httpGet(net.a.rootIp, 15000, '/config_dump?resource=routes')).body);
  const vh = dump.routes.find((p: any) => p.name === '9080').virtualHosts.find((v: any) => v.name === 'reviews.foo.svc.cluster.local:9080');
  t.same(vh.routes.map((r: any) => r.name), ['jason', 'api', 'foo/reviews:http[2]']);
  t.same(vh.routes[2].action.destinations.map((d: any) => d.weight), [90, 10]);
  t.equal((await httpGet(net.a.rootIp, 15000, '/config_dump?resource=nope')).status, 400);

  const q = new URLSearchParams({ url: 'http://reviews:9080/ratings', method: 'GET' });
  q.append('header', 'end-user:jason');
  q.append('header', 'x-user:u1');
  const tr = JSON.parse((await httpGet(net.a.rootIp, 15000, `/explain?${q}`)).body);
  t.equal(tr.listener.destination, `${REVIEWS_VIP}:9080`);
  t.same(tr.routes.map((r: any) => [r.name, r.matched]), [['jason', true]]);
  t.equal(tr.pick.cluster, 'outbound|9080|v2|reviews.foo.svc.cluster.local');
  t.equal(tr.source.ip, net.a.ip, "the source is the sidecar's own workload");
  const inb = JSON.parse((await httpGet(net.b.rootIp, 15000, `/explain?${new URLSearchParams({ url: 'http://reviews:9080/ratings', direction: 'inbound', source: 'spiffe://cluster.local/ns/foo/sa/productpage' })}`)).body);
  t.match(inb.inbound, { allow: true, reason: 'allowed by foo/productpage-get', peerAuthentication: 'STRICT' });
  const bad = await httpGet(net.a.rootIp, 15000, '/explain?url=http://reviews/&header=nocolon');
  t.equal(bad.status, 400);
  t.match(bad.body, /header: "nocolon": expected name:value/);
  t.equal((await httpGet(net.a.rootIp, 15000, '/explain')).status, 400);

  // The CLI against the two sidecars.
  const routes = await shoal(['proxy-config', 'routes', 'productpage-0', '-n', 'foo', '--admin-url', adminA]);
  t.equal(routes.code, 0, routes.err);
  t.match(routes.out, /^NAME\s+VHOST NAME\s+DOMAINS\s+MATCH\s+VIRTUAL SERVICE\n/);
  t.match(routes.out, /9080\s+reviews\.foo\.svc\.cluster\.local:9080\s+reviews \+ \d+ more\.\.\.\s+header end-user \{"exact":"jason"\}\s+reviews\.foo\n/);
  t.match(routes.out, /9080\s+ratings\.foo\.svc\.cluster\.local:9080\s+ratings \+ \d+ more\.\.\.\s+\/\*\s*\n/);
  const ex = await shoal(['explain', 'request', 'productpage-0', 'http://reviews:9080/ratings', '-H', 'end-user: jason', '-n', 'foo', '--admin-url', adminA, '--dest-admin-url', adminB]);
  t.equal(ex.code, 0, ex.err);
  t.match(ex.out, /Listener: +0\.0\.0\.0:15001 \(virtualOutbound\) ← original destination 10\.96\.0\.20:9080 \(Service foo\/reviews\)/);
  t.match(ex.out, /✔ \[0\] jason/);
  t.match(ex.out, /→ outbound\|9080\|v2\|reviews\.foo\.svc\.cluster\.local +weight 100/);
  t.match(ex.out, /mTLS: +10\.244\.0\.12:9080 HBONE \(HTTP\/2 CONNECT over mTLS\), expects spiffe:\/\/cluster\.local\/ns\/foo\/sa\/reviews/);
  t.match(ex.out, /Authorization: 10\.244\.0\.12:9080 \(foo\/reviews-v2-0\): ALLOW — allowed by foo\/productpage-get \(workload foo\/reviews-v2-0, port 9080, PeerAuthentication STRICT/);
  const denied = await shoal(['explain', 'request', 'productpage-0', 'http://reviews:9080/admin', '-X', 'DELETE', '-H', 'end-user: jason', '--admin-url', adminA, '--dest-admin-url', adminB]);
  t.match(denied.out, /Authorization: .*DENY — no ALLOW policy matched/);

  // A weight change in the file reaches the live table.
  a.setConfig(clientConfig({ ip: net.a.ip, weights: [50, 50] }));
  await until('new weights in the routes dump', async () => {
    const d = JSON.parse((await httpGet(net.a.rootIp, 15000, '/config_dump?resource=routes')).body);
    const w = d.routes[0].virtualHosts.find((v: any) => v.name === 'reviews.foo.svc.cluster.local:9080').routes[2].action.destinations.map((x: any) => x.weight);
    return w[0] === 50 && w[1] === 50;
  }, 10_000);
  t.pass('weights 50/50 live');
});
