// `shoal explain request` and `shoal proxy-config routes` as child processes against the proxy's real admin
// handlers (proxy/admin/server.ts createAdminServers, in-process on loopback, no root needed) over live
// ConfigStores: the client's sidecar explains the outbound half, the destination's the inbound verdict.
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { createAdminServers } from '../../proxy/admin/server.js';
import type { ProxyContext } from '../../proxy/context.js';
import type { AdminDeps } from '../../proxy/admin/server.js';
import { clientConfig, serverConfig, storeOf, V1_IP, V2_IP, V3_IP } from '../proxy-l7/explain-fixture.js';
import { shoal } from './shoal-cli.js';



/** The admin server of a "sidecar" whose store holds `cfg` (only what the admin's config routes read). */
async function admin(t: { teardown(fn: () => unknown): void }, cfg: ReturnType<typeof clientConfig>): Promise<string> {
  const ctx = { store: storeOf(cfg) } as unknown as ProxyContext;
  const deps = { source: { status: () => ({ kind: 'file' }) }, tunnel: {}, appMetrics: null, startedAt: new Date() } as unknown as AdminDeps;
  const { admin: srv } = createAdminServers(ctx, deps);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

t.test('explain request and proxy-config routes through the admin handlers', async (t) => {
  const a = await admin(t, clientConfig());
  const b = await admin(t, serverConfig());

  const routes = await shoal(['proxy-config', 'routes', 'productpage-0', '-n', 'foo', '--admin-url', a]);
  t.equal(routes.code, 0, routes.err);
  const lines = routes.out.trim().split('\n');
  t.match(lines[0], /^NAME\s+VHOST NAME\s+DOMAINS\s+MATCH\s+VIRTUAL SERVICE$/);
  t.match(lines[1], /^9080\s+ratings\.foo\.svc\.cluster\.local:9080\s+ratings \+ 9 more\.\.\.\s+\/\*\s*$/);
  t.match(lines[2], /^9080\s+reviews\.foo\.svc\.cluster\.local:9080\s+reviews \+ 9 more\.\.\.\s+header end-user \{"exact":"jason"\}\s+reviews\.foo$/);
  t.match(lines[3], /uri \{"prefix":"\/api"\} \|\| uri \{"regex":"\/v\[0-9\]\+\/\.\*"\}\s+reviews\.foo$/);
  t.match(lines[4], /\/\*\s+reviews\.foo$/);
  const json = JSON.parse((await shoal(['proxy-config', 'routes', 'productpage-0', '--admin-url', a, '-o', 'json'])).out);
  t.ok(json.clusters.some((c: any) => c.name === 'outbound|9080|v2|reviews.foo.svc.cluster.local'));

  // The weighted route: a request without end-user, not /api.
  const ex = await shoal(['explain', 'request', 'productpage-0', 'http://reviews:9080/ratings/7', '-n', 'foo', '--admin-url', a, '--dest-admin-url', b]);
  t.equal(ex.code, 0, ex.err);
  t.match(ex.out, /^Request: +GET http:\/\/reviews:9080\/ratings\/7\n/);
  t.match(ex.out, /Source: +foo\/productpage-0 spiffe:\/\/cluster\.local\/ns\/foo\/sa\/productpage \(10\.244\.0\.5\)/);
  t.match(ex.out, /✘ \[0\] jason .*\n +match\[0\]: header end-user \{"exact":"jason"\} does not match \(request: absent\)\n/);
  t.match(ex.out, /✘ \[1\] api .*\n +match\[0\]: uri \{"prefix":"\/api"\} does not match \(request: "\/ratings\/7"\)\n +match\[1\]: uri \{"regex":"\/v\[0-9\]\+\/\.\*"\} does not match \(request: "\/ratings\/7"\)\n/);
  t.match(ex.out, /✔ \[2\] foo\/reviews:http\[2\]/);
  t.match(ex.out, /→ outbound\|9080\|v1\|reviews\.foo\.svc\.cluster\.local +weight 90 +ROUND_ROBIN +subset labels version=v1 +1 endpoint\n/);
  t.match(ex.out, new RegExp(`${V1_IP.replace(/\./g, '\\.')}:9080 +foo/reviews-v1-0 +HBONE`));
  t.match(ex.out, new RegExp(`outbound\\|9080\\|v3\\|reviews\\.foo\\.svc\\.cluster\\.local +weight 10 .*\\n +${V3_IP.replace(/\./g, '\\.')}:9080 +foo/reviews-v3-0 +PLAINTEXT`));
  t.match(ex.out, /Picked: +outbound\|9080\|v1\|reviews\.foo\.svc\.cluster\.local — weighted split/);
  // v1's endpoint is reviews-v1 at V1_IP; --dest-admin-url points at reviews-v2's admin here, so the verdict is v2's sidecar's view.
  t.match(ex.out, /Authorization: 10\.244\.0\.11:9080 \(foo\/reviews-v1-0\): ALLOW — allowed by foo\/productpage-get/);

  const jason = await shoal(['explain', 'request', 'productpage-0', 'http://reviews:9080/', '-H', 'end-user: jason', '-H', 'x-user: 42', '-X', 'post', '--admin-url', a, '--dest-admin-url', b, '-o', 'json']);
  const tr = JSON.parse(jason.out);
  t.equal(tr.pick.endpoint.address, `${V2_IP}:9080`);
  t.equal(tr.request.method, 'POST');
  t.match(tr.inbound[0].verdict, { allow: false, reason: 'no ALLOW policy matched', peerAuthentication: 'STRICT' });

  // All weight on v3, whose pod has no sidecar: plaintext, nothing enforced there.
  const c = await admin(t, clientConfig({ weights: [0, 100] }));
  const plain = await shoal(['explain', 'request', 'productpage-0', 'http://reviews:9080/', '--admin-url', c, '--dest-admin-url', b]);
  t.equal(plain.code, 0, plain.err);
  t.match(plain.out, /Picked: +outbound\|9080\|v3\|reviews\.foo\.svc\.cluster\.local — weighted split/);
  t.match(plain.out, /mTLS: +10\.244\.0\.13:9080 plaintext \(no sidecar\)\n/);
  t.match(plain.out, /Authorization: 10\.244\.0\.13:9080 \(foo\/reviews-v3-0\): ALLOW — no sidecar there \(plaintext\)/);

  const usage = await shoal(['explain', 'request', 'productpage-0']);
  t.equal(usage.code, 1);
  t.match(usage.err, /expected: shoal explain request POD URL/);
  const badH = await shoal(['explain', 'request', 'p', 'http://reviews/', '-H', 'nocolon', '--admin-url', a]);
  t.match(badH.err, /-H "nocolon": expected 'name: value'/);
  const badUrl = await shoal(['explain', 'request', 'p', 'ftp://reviews/', '--admin-url', a]);
  t.equal(badUrl.code, 1);
  t.match(badUrl.err, /HTTP 400: .*url: scheme \\?"ftp\\?": only http and https/s);
});
