// Layer 7 through two real sidecars (issue 14): pod A (client, captured) → A's sidecar → HBONE mTLS → B's
// sidecar → HTTP apps in B (v1 :9001, v2 :9002, slow :9003). Routing objects travel in the static config
// as mesh control pushes them (RouteConfig), and are compiled by the proxy itself:
// VirtualService 90/10 canary, a header match, prefix/regex order, rewrite, redirect; DestinationRule
// consistentHash cookie and LEAST_REQUEST vs ROUND_ROBIN; a GAMMA HTTPRoute 70/30; WebSocket; an HTTP
// AuthorizationPolicy (403 `RBAC: access denied` on a denied path); malformed HTTP → 400 while the sidecar
// keeps serving; protocol sniffing on an undeclared port; live weight change on a keep-alive client.
import t, { type Test } from 'tap';
import { meshNet, rootSkip, runInPod, startTestSidecar, until, type MeshNet, type Pod } from './fixture.js';
import { createServer } from 'node:http';
import type { AuthzPolicy, JwtRule, MeshEndpoint, MeshEndpoints, MeshService, StaticConfigFile } from '../../proxy/config/types.js';
import { serviceEntryEndpoints, serviceEntryServices } from '../../control-plane/mesh/model/registry.js';
import { spiffeId } from '../../control-plane/mesh/model/compile.js';
import { jwtRulesFor } from '../../control-plane/mesh/model/jwt.js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const K = 11;
const VIP = (i: number) => `10.215.${K}.${i}`;

async function probe(t: Test, pod: Pod, cmd: Record<string, unknown>): Promise<any> {
  const p = runInPod(t, pod, [process.execPath, 'dist/test/sidecar/http-probe.js', JSON.stringify(cmd)]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`http-probe ${JSON.stringify(cmd)}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}

function ep(net: MeshNet, port: number, labels: Record<string, string>, portName = 'http'): MeshEndpoint {
  return {
    address: net.b.ip, ports: [{ name: portName, port }], podName: `server-${labels.version ?? port}`, namespace: 'foo', serviceAccount: 'server',
    identity: 'spiffe://cluster.local/ns/foo/sa/server', mesh: true, labels: { app: 'server', ...labels }, ready: true,
  };
}

const svc = (name: string, vip: string, portName = 'http') => ({
  name, namespace: 'foo', hostname: `${name}.foo.svc.cluster.local`, vips: [vip], ports: [{ name: portName, port: 80, targetPort: 0, protocol: 'TCP', appProtocol: '' }],
});

const V = (n: string, spec: unknown, ts = '2026-01-01T00:00:00Z') => ({ kind: 'VirtualService', metadata: { name: n, namespace: 'foo', creationTimestamp: ts }, spec });
const D = (n: string, spec: unknown) => ({ kind: 'DestinationRule', metadata: { name: n, namespace: 'foo' }, spec });

/** The mesh as both sidecars see it; `routing` and B's `authorization` vary per subtest. */
function config(net: MeshNet, self: 'a' | 'b', routing: StaticConfigFile['routing'] = [], authorization: AuthzPolicy[] = [], jwtRules: JwtRule[] = []): StaticConfigFile {
  const me = self === 'a' ? net.a : net.b;
  const sa = self === 'a' ? 'client' : 'server';
  const v1 = ep(net, 9001, { version: 'v1' }), v2 = ep(net, 9002, { version: 'v2' }), slow = ep(net, 9003, { version: 'slow' });
  return {
    services: [svc('reviews', VIP(10)), svc('sticky', VIP(11)), svc('lr', VIP(12)), svc('gamma', VIP(13)), svc('gamma-v1', VIP(14)), svc('gamma-v2', VIP(15)), svc('auto', VIP(16), ''),
      svc('greeter', VIP(17), 'grpc'), svc('greeter-auto', VIP(18), ''), svc('greeter-v1', VIP(21), 'grpc'), svc('greeter-v2', VIP(22), 'grpc')],
    endpoints: [
      { service: 'foo/reviews', endpoints: [v1, v2] },
      { service: 'foo/sticky', endpoints: [v1, v2] },
      { service: 'foo/lr', endpoints: [v1, slow] },
      { service: 'foo/gamma', endpoints: [v1, v2] },
      { service: 'foo/gamma-v1', endpoints: [v1] },
      { service: 'foo/gamma-v2', endpoints: [v2] },
      { service: 'foo/auto', endpoints: [ep(net, 9001, { version: 'v1' }, ''), ep(net, 9002, { version: 'v2' }, '')] },
      { service: 'foo/greeter', endpoints: [ep(net, 9011, { version: 'v1' }, 'grpc'), ep(net, 9012, { version: 'v2' }, 'grpc')] },
      { service: 'foo/greeter-auto', endpoints: [ep(net, 9011, { version: 'v1' }, '')] },
      { service: 'foo/greeter-v1', endpoints: [ep(net, 9011, { version: 'v1' }, 'grpc')] },
      { service: 'foo/greeter-v2', endpoints: [ep(net, 9012, { version: 'v2' }, 'grpc')] },
    ],
    workload: {
      name: `${sa}-0`, namespace: 'foo', serviceAccount: sa, identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, ip: me.ip, labels: { app: sa },
      peerAuthentication: { mode: 'STRICT', portModes: {}, sources: [] }, authorization, jwtRules,
    },
    routing,
  };
}

const SUBSETS = D('reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });
const canary = (w1: number, w2: number) => V('reviews', {
  hosts: ['reviews'],
  http: [
    { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
    { name: 'v2-api', match: [{ uri: { prefix: '/api/v2' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
    { name: 'api', match: [{ uri: { regex: '/api/.*' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { name: 'old', match: [{ uri: { prefix: '/old' } }], rewrite: { uri: '/new' }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { name: 'moved', match: [{ uri: { exact: '/moved' } }], redirect: { uri: '/here', authority: 'elsewhere.example' } },
    { name: 'split', route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: w1 }, { destination: { host: 'reviews', subset: 'v2' }, weight: w2 }] },
  ],
});

t.test('layer 7 through two sidecars', { skip: rootSkip, timeout: 240_000 }, async (t) => {
  const net = await meshNet(t, 'scl7', K);
  for (const [port, v, delay] of [[9001, 'v1', 0], [9002, 'v2', 0], [9003, 'slow', 600]] as const) {
    const app = runInPod(t, net.b, [process.execPath, 'dist/test/sidecar/http-app.js', String(port), v, String(delay)]);
    await until(`app ${v}`, () => app.out().includes('up'));
  }
  for (const [port, v] of [[9011, 'v1'], [9012, 'v2']] as const) {
    const app = runInPod(t, net.b, [process.execPath, 'dist/test/sidecar/grpc-echo.js', 'serve', String(port), v]);
    await until(`grpc app ${v}`, () => app.out().includes('up'));
  }
  const routing = [SUBSETS, canary(90, 10)];
  const server = await startTestSidecar(t, net, net.b, { sa: 'server', config: config(net, 'b', routing) });
  const client = await startTestSidecar(t, net, net.a, { sa: 'client', config: config(net, 'a', routing) });
  const url = (path: string, vip = VIP(10)) => `http://${vip}${path}`;

  await t.test('VirtualService 90/10 over 1000 requests; header match; prefix before regex; rewrite; redirect', async (t) => {
    const r = await probe(t, net.a, { cmd: 'many', url: url('/'), n: 1000, concurrency: 8 });
    t.same(r.statuses, { 200: 1000 }, 'all 1000 answered');
    const share = (r.versions.v2 ?? 0) / 1000;
    t.ok(Math.abs(share - 0.10) <= 0.03, `v2 share ${share} within 10% ± 3% (${JSON.stringify(r.versions)})`);
    const jason = await probe(t, net.a, { cmd: 'many', url: url('/'), n: 50, headers: { 'end-user': 'jason' } });
    t.same(jason.versions, { v2: 50 }, 'end-user: jason → v2 only');
    const v2api = await probe(t, net.a, { cmd: 'get', url: url('/api/v2/items') });
    t.equal(JSON.parse(v2api.body).version, 'v2', 'the prefix rule (earlier) wins over the regex rule');
    const api = await probe(t, net.a, { cmd: 'get', url: url('/api/v1/items') });
    t.equal(JSON.parse(api.body).version, 'v1', 'the regex rule');
    const old = await probe(t, net.a, { cmd: 'get', url: url('/old/page?x=1') });
    t.equal(JSON.parse(old.body).url, '/new/page?x=1', 'rewrite: the app sees the new prefix, the rest kept');
    const moved = await probe(t, net.a, { cmd: 'get', url: url('/moved') });
    t.equal(moved.status, 301);
    t.equal(moved.headers.location, 'http://elsewhere.example/here', 'redirect Location');
  });

  await t.test('a weight change applies to a keep-alive client from its next request', async (t) => {
    client.setConfig(config(net, 'a', [SUBSETS, canary(0, 100)]));
    await until('new weights applied', async () => (await probe(t, net.a, { cmd: 'many', url: url('/'), n: 20 })).versions.v2 === 20, 10_000);
    client.setConfig(config(net, 'a', routing));
    await until('weights back', async () => ((await probe(t, net.a, { cmd: 'many', url: url('/'), n: 20 })).versions.v1 ?? 0) >= 17, 10_000);
    t.pass('0/100 then 90/10 again');
  });

  await t.test('consistentHash by cookie keeps a client on one endpoint', async (t) => {
    const dr = D('sticky', { host: 'sticky', trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '60s' } } } } });
    client.setConfig(config(net, 'a', [...routing, dr]));
    await until('sticky policy applied', async () => !!(await probe(t, net.a, { cmd: 'get', url: url('/', VIP(11)) })).headers['set-cookie'], 10_000);
    for (let i = 0; i < 3; i++) {
      const r = await probe(t, net.a, { cmd: 'many', url: url('/', VIP(11)), n: 30, concurrency: 1, cookies: true });
      t.match(r.setCookie, /^session=[0-9a-f]+; Max-Age=60; HttpOnly/, 'Set-Cookie generated');
      t.equal(Object.keys(r.versions).length, 1, `client ${i}: one endpoint for 30 requests with its cookie (${JSON.stringify(r.versions)})`);
    }
  });

  await t.test('LEAST_REQUEST prefers an idle endpoint over one with slow requests', async (t) => {
    const shares: Record<string, number> = {};
    for (const simple of ['LEAST_REQUEST', 'ROUND_ROBIN']) {
      client.setConfig(config(net, 'a', [...routing, D(`lr-${simple}`, { host: 'lr', trafficPolicy: { loadBalancer: { simple } } })]));
      await new Promise((r) => setTimeout(r, 1500));
      const r = await probe(t, net.a, { cmd: 'many', url: url('/', VIP(12)), n: 60, concurrency: 6 });
      t.same(r.statuses, { 200: 60 });
      shares[simple] = (r.versions.slow ?? 0) / 60;
    }
    t.ok(shares.LEAST_REQUEST < 0.25, `LEAST_REQUEST sends ${shares.LEAST_REQUEST} of requests to the slow pod`);
    t.ok(shares.ROUND_ROBIN > 0.4, `ROUND_ROBIN sends ${shares.ROUND_ROBIN} (the policy made the difference)`);
  });

  await t.test('GAMMA HTTPRoute with a Service parent splits 70/30 over 500 requests', async (t) => {
    const hr = { kind: 'HTTPRoute', metadata: { name: 'gamma', namespace: 'foo' }, spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'gamma', port: 80 }],
      rules: [{ backendRefs: [{ name: 'gamma-v1', port: 80, weight: 70 }, { name: 'gamma-v2', port: 80, weight: 30 }] }],
    } };
    client.setConfig(config(net, 'a', [...routing, hr]));
    await until('HTTPRoute applied', async () => ((await probe(t, net.a, { cmd: 'many', url: url('/', VIP(13)), n: 10 })).versions.v2 ?? 0) >= 2, 10_000);
    const r = await probe(t, net.a, { cmd: 'many', url: url('/', VIP(13)), n: 500, concurrency: 8 });
    const share = (r.versions.v2 ?? 0) / 500;
    t.ok(Math.abs(share - 0.30) <= 0.05, `v2 share ${share} within 30% ± 5% (${JSON.stringify(r.versions)})`);
  });

  await t.test('an undeclared port is sniffed as HTTP and routed', async (t) => {
    client.setConfig(config(net, 'a', [...routing, V('auto', { hosts: ['auto'], http: [{ route: [{ destination: { host: 'auto', subset: 'v2' } }] }] }),
      D('auto', { host: 'auto', subsets: [{ name: 'v2', labels: { version: 'v2' } }] })]));
    await until('auto route applied', async () => {
      const r = await probe(t, net.a, { cmd: 'many', url: url('/', VIP(16)), n: 10 });
      if (r.versions.v2 !== 10) throw new Error(JSON.stringify(r));
      return true;
    }, 10_000);
    t.pass('all requests to the unnamed port went to v2');
  });

  await t.test('gRPC unary and server streaming through both sidecars keep status and trailers; routing by header', async (t) => {
    const grpcCall = async (vip: string, calls: unknown[]) => {
      const p = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/grpc-echo.js', 'call', JSON.stringify({ target: `${vip}:80`, calls })]);
      const code = await p.exited;
      if (code !== 0) throw new Error(`grpc-echo call: exit ${code}: ${p.err()}`);
      return JSON.parse(p.out().trim().split('\n').pop()!);
    };
    const vs = V('greeter', { hosts: ['greeter'], http: [
      { match: [{ headers: { 'x-canary': { exact: 'yes' } } }], route: [{ destination: { host: 'greeter', subset: 'v2' } }] },
      { route: [{ destination: { host: 'greeter', subset: 'v1' } }] },
    ] });
    const dr = D('greeter', { host: 'greeter', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });
    client.setConfig(config(net, 'a', [...routing, vs, dr]));
    await until('greeter route applied', async () => (await grpcCall(VIP(17), [{ method: 'unary', metadata: { 'x-canary': 'yes' } }]))[0].reply?.version === 'v2', 10_000);
    const [unary, canaryCall, fail, list] = await grpcCall(VIP(17), [
      { method: 'unary' }, { method: 'unary', metadata: { 'x-canary': 'yes' } }, { method: 'fail' }, { method: 'list', n: 5 },
    ]);
    t.match(unary, { code: 0, reply: { version: 'v1', got: { hello: 'mesh' }, path: '/test.Echo/Unary' }, trailers: { 'x-version': 'v1', 'x-bin-bin': 'bin:0001fe' } }, 'unary: reply and trailers (text and binary) intact');
    t.equal(canaryCall.reply?.version, 'v2', 'x-canary: yes → v2 (VirtualService header match on a gRPC call)');
    t.match(fail, { code: 5, details: 'no such book: ü 100%', trailers: { 'x-version': 'v1' } }, 'an error status with its message and trailers');
    t.same(list.messages.map((m: any) => m.i), [0, 1, 2, 3, 4], 'server streaming: all messages in order');
    t.match(list, { code: 0, trailers: { 'x-version': 'v1' } }, 'then OK with trailers');
    const [auto] = await grpcCall(VIP(18), [{ method: 'unary' }]);
    t.match(auto, { code: 0, reply: { version: 'v1' } }, 'a port that declares nothing: the HTTP/2 preface is sniffed');

    // Gateway API GRPCRoute with a Service parent: by gRPC service and method
    const gr = { kind: 'GRPCRoute', metadata: { name: 'greeter', namespace: 'foo' }, spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'greeter-v1', port: 80 }],
      rules: [
        { matches: [{ method: { service: 'test.Echo', method: 'List' } }], backendRefs: [{ name: 'greeter-v2', port: 80 }] },
        { backendRefs: [{ name: 'greeter-v1', port: 80 }] },
      ],
    } };
    client.setConfig(config(net, 'a', [...routing, gr]));
    await until('GRPCRoute applied', async () => (await grpcCall(VIP(21), [{ method: 'list', n: 1 }]))[0].messages?.[0]?.version === 'v2', 10_000);
    const [viaList, viaUnary] = await grpcCall(VIP(21), [{ method: 'list', n: 2 }, { method: 'unary' }]);
    t.same(viaList.messages.map((m: any) => m.version), ['v2', 'v2'], 'GRPCRoute: test.Echo/List → greeter-v2');
    t.equal(viaUnary.reply.version, 'v1', 'other methods → greeter-v1');
  });

  await t.test('WebSocket echoes through both sidecars', async (t) => {
    const r = await probe(t, net.a, { cmd: 'ws', url: `ws://${VIP(10)}/ws`, messages: ['one', 'two', 'three'] });
    t.equal(r.error, '');
    t.equal(r.got.length, 3, `three echoes: ${JSON.stringify(r.got)}`);
    t.ok(r.got.every((m: string, i: number) => m.endsWith(`:${['one', 'two', 'three'][i]}`)), 'in order, from the app');
  });

  await t.test('malformed HTTP from the app gets 400; the sidecar keeps serving', async (t) => {
    const bad = await probe(t, net.a, { cmd: 'raw', host: VIP(10), port: 80, data: Buffer.from('GET / HTTP/1.1\r\nHost: reviews\r\nbad header line\r\n\r\n').toString('base64') });
    t.match(bad.reply, /^HTTP\/1\.1 400 /, `400: ${JSON.stringify(bad.reply.slice(0, 60))}`);
    const ok = await probe(t, net.a, { cmd: 'get', url: url('/api/v1/x') });
    t.equal(ok.status, 200, 'next request served');
  });

  await t.test('HTTP AuthorizationPolicy: 403 on a denied path, 200 on an allowed one', async (t) => {
    const allowPublic: AuthzPolicy = { name: 'public-only', namespace: 'foo', action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/public/*'], methods: ['GET'] } }] }] };
    server.setConfig(config(net, 'b', routing, [allowPublic]));
    await until('policy applied', async () => (await probe(t, net.a, { cmd: 'get', url: url('/api/v1/private') })).status === 403, 10_000);
    const denied = await probe(t, net.a, { cmd: 'get', url: url('/api/v1/private') });
    t.equal(denied.status, 403);
    t.equal(denied.body, 'RBAC: access denied');
    const allowed = await probe(t, net.a, { cmd: 'many', url: url('/public/x'), n: 20 });
    t.same(allowed.statuses, { 200: 20 }, 'the allowed path on the same kind of connection');
    const post = await probe(t, net.a, { cmd: 'get', url: url('/public/x'), method: 'POST' });
    t.equal(post.status, 403, 'method not allowed by the policy');
    const g = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/grpc-echo.js', 'call', JSON.stringify({ target: `${VIP(17)}:80`, calls: [{ method: 'unary' }] })]);
    await g.exited;
    t.match(JSON.parse(g.out().trim()), [{ code: 7 }], 'a denied gRPC call gets PERMISSION_DENIED');
    server.setConfig(config(net, 'b', routing));
  });

  await t.test('a ServiceEntry host is routed by a VirtualService; REGISTRY_ONLY refuses what is not in the registry', async (t) => {
    // the "external" servers: run by the test in the root namespace, on A's link (never off the machine)
    const seen: string[] = [];
    const ext = createServer((req, res) => { seen.push(`${req.headers.host} ${req.url} ${req.headers['x-via'] ?? ''}`); res.end(`external ${req.url}`); });
    const other = createServer((_req, res) => res.end('not in the registry'));
    await Promise.all([new Promise<void>((r) => ext.listen(19080, net.a.hostIp, r)), new Promise<void>((r) => other.listen(19081, net.a.hostIp, r))]);
    t.teardown(() => { ext.close(); other.close(); });
    const entry = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { namespace: 'foo', name: 'ext' }, spec: {
      hosts: ['ext.example.test'], addresses: [VIP(20)], location: 'MESH_EXTERNAL', resolution: 'STATIC',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 19080 }], endpoints: [{ address: net.a.hostIp }],
    } } as any;
    // what mesh control would push for it (the registry's own functions)
    const reg = { serviceEntries: () => [entry], workloadEntries: () => [], pods: () => [] };
    const withEntry = (c: StaticConfigFile, policy?: string): StaticConfigFile => ({
      ...c, services: [...c.services!, ...serviceEntryServices(reg).map((r) => r.service as MeshService)],
      endpoints: [...c.endpoints!, ...serviceEntryEndpoints(reg, spiffeId).map((r) => r.endpoints as MeshEndpoints)],
      workload: { ...c.workload!, ...(policy ? { outboundTrafficPolicy: policy } : {}) },
    });
    const vs = V('ext', { hosts: ['ext.example.test'], http: [{ match: [{ uri: { prefix: '/api' } }], rewrite: { uri: '/v1' }, headers: { request: { set: { 'x-via': 'ext-vs' } } }, route: [{ destination: { host: 'ext.example.test' } }] }] });
    client.setConfig(withEntry(config(net, 'a', [...routing, vs])));
    const r = await until('ServiceEntry routed', async () => {
      const g = await probe(t, net.a, { cmd: 'get', url: url('/api/x', VIP(20)), headers: { host: 'ext.example.test' } });
      return g.status === 200 ? g : undefined;
    }, 10_000);
    t.equal(r.body, 'external /v1/x', 'the VirtualService rewrote the path on the ServiceEntry host');
    t.match(seen.at(-1), /^ext\.example\.test \/v1\/x ext-vs$/, 'and set the header, plain HTTP to the external endpoint');
    const allowAny = await probe(t, net.a, { cmd: 'get', url: `http://${net.a.hostIp}:19081/` });
    t.equal(allowAny.body, 'not in the registry', 'ALLOW_ANY (default) passes an unknown destination through');
    client.setConfig(withEntry(config(net, 'a', [...routing, vs]), 'REGISTRY_ONLY'));
    await until('REGISTRY_ONLY applied', async () => (await probe(t, net.a, { cmd: 'get', url: `http://${net.a.hostIp}:19081/` })).status === -1, 10_000);
    t.pass('REGISTRY_ONLY: the unknown destination is refused (BlackHoleCluster)');
    const again = await probe(t, net.a, { cmd: 'get', url: url('/api/y', VIP(20)), headers: { host: 'ext.example.test' } });
    t.equal(again.body, 'external /v1/y', 'the ServiceEntry host is in the registry: still served');
    client.setConfig(config(net, 'a', routing));
  });

  await t.test('RequestAuthentication: a valid JWT gives the request principal; a bad one 401', async (t) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    const iss = 'https://idp.l7.test';
    // what mesh control pushes for this RequestAuthentication (its own selection function)
    const ra = { metadata: { namespace: 'foo', name: 'jwt', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { selector: { matchLabels: { app: 'server' } }, jwtRules: [{ issuer: iss, jwks }] } } as any;
    const rules = jwtRulesFor({ namespace: 'foo', labels: { app: 'server' } }, [ra], () => undefined, () => ({ jwks: '', error: '' }));
    const needJwt: AuthzPolicy = { name: 'need-jwt', namespace: 'foo', action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: [`${iss}/*`] } }] }] };
    server.setConfig(config(net, 'b', routing, [needJwt], rules));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: 'jason' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(iss).setExpirationTime(now + 600).sign(privateKey);
    await until('RequestAuthentication applied', async () => (await probe(t, net.a, { cmd: 'get', url: url('/api/v1/x') })).status === 403, 10_000);
    const ok = await probe(t, net.a, { cmd: 'get', url: url('/api/v1/x'), headers: { authorization: `Bearer ${token}` } });
    t.equal(ok.status, 200, 'a valid token: allowed by requestPrincipals');
    t.notOk(JSON.parse(ok.body).headers.authorization, 'the token is not forwarded to the app');
    const bad = await probe(t, net.a, { cmd: 'get', url: url('/api/v1/x'), headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    t.same([bad.status, bad.body], [401, 'Jwt verification fails'], 'a forged token: 401');
    server.setConfig(config(net, 'b', routing));
  });

  await t.test('request metrics: istio_requests_total on both sides', async (t) => {
    const src = await (await fetch(`http://${net.a.rootIp}:15090/stats/prometheus`)).text();
    const line = src.split('\n').find((l) => l.startsWith('istio_requests_total{reporter="source"') && l.includes('destination_service="reviews.foo.svc.cluster.local"') && l.includes('destination_version="v2"') && l.includes('response_code="200"'));
    t.ok(line, `source side, by FQDN and version:\n${src.split('\n').filter((l) => l.startsWith('istio_requests_total')).slice(0, 5).join('\n')}`);
    t.ok(Number(line?.split(' ').pop()) >= 100, `at least the canary's 100 v2 requests: ${line}`);
    const dst = await (await fetch(`http://${net.b.rootIp}:15090/stats/prometheus`)).text();
    t.match(dst, /istio_requests_total\{reporter="destination",[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/foo\/sa\/client"[^}]*destination_service="reviews\.foo\.svc\.cluster\.local"[^}]*response_code="403"/, 'destination side counts the 403s with the client identity and the Service FQDN from the Host header');
  });
});
