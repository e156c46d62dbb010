// The ingress process (dist/ingress/main.js) on loopback high ports against a real API server and local
// upstream HTTP servers (the mesh config comes from a static file: Services and Endpoints → 127.0.0.1
// ports). Checks over the wire: an Ingress with two hosts and several paths (curl by Host and path),
// Exact vs Prefix edge cases, TLS with SNI (openssl s_client -servername) and the default certificate for a
// bad Secret (event), ssl-redirect, rewrite-target, a missing Service (503 + event), status.loadBalancer,
// a Gateway + HTTPRoute with weights 70/30/0 within ±5% over 500 requests, header modifier and redirect
// filters, Gateway API status conditions, and a rolling update (endpoint removed, then its server
// stopped; another server killed while still listed) with zero failed requests.
import t from 'tap';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { request as httpRequest, Agent } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../client/fixture.js';
import { freePort } from '../../lib/serve/serve.js';
import { waitFor } from '../wait.js';
import { distDir } from '../../node/images/builtin.js';
import { buildCertificate, newKey } from '../../proxy/identity/x509.js';

const run = promisify(execFile);
const PREFIX = 'shoalt-ingress-';

interface Upstream { name: string; server: Server; port: number; hits: number; lastHeaders: Record<string, any>; lastUrl: string }
async function upstream(name: string): Promise<Upstream> {
  const u: Upstream = { name, server: null as any, port: 0, hits: 0, lastHeaders: {}, lastUrl: '' };
  u.server = createServer((req, res) => {
    u.hits++;
    u.lastHeaders = req.headers;
    u.lastUrl = req.url ?? '';
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name }).end(`${name} ${req.url}\n`));
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', () => r()));
  u.port = (u.server.address() as any).port;
  return u;
}

function selfSigned(cn: string, dns: string[]): { cert: string; key: string } {
  const k = newKey('ec');
  const cert = buildCertificate({ spki: k.spki, subject: { cn }, sans: { dns }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) }, { key: k.privateKey, selfSigned: true });
  return { cert, key: k.keyPem };
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

t.test('ingress process on loopback', async (t) => {
  const home = mkdtempSync(join(tmpdir(), PREFIX));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const cluster = await startCluster(PREFIX);
  t.teardown(() => cluster.close());
  const c = cluster.client();
  const names = ['web', 'api', 'exact', 'dflt', 'v1', 'v2', 'v3', 'roll'];
  const ups = new Map<string, Upstream[]>();
  for (const n of names) ups.set(n, [await upstream(n)]);
  ups.get('roll')!.push(await upstream('roll'), await upstream('roll'));
  t.teardown(() => { for (const l of ups.values()) for (const u of l) { u.server.closeAllConnections(); u.server.close(); } });

  // The mesh config: one Service per name (port 80 "http"), endpoints at the upstreams' ports.
  const meshConfig = (without: Set<number> = new Set()) => ({
    services: names.map((n) => ({ name: n, namespace: 'default', hostname: `${n}.default.svc.cluster.local`, vips: ['10.96.0.50'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] })),
    endpoints: names.map((n) => ({ service: `default/${n}`, endpoints: ups.get(n)!.filter((u) => !without.has(u.port)).map((u) => ({ address: '127.0.0.1', ports: [{ name: 'http', port: u.port }], podName: `${n}-${u.port}`, namespace: 'default', mesh: false, ready: true })) })),
    workload: { name: 'shoal-ingress', namespace: 'kube-system', serviceAccount: 'shoal-ingress', identity: 'spiffe://cluster.local/ns/kube-system/sa/shoal-ingress', ip: '127.0.0.1' },
  });
  const cfgFile = join(home, 'mesh.json');
  writeFileSync(cfgFile, JSON.stringify(meshConfig()));

  // Objects in the API.
  const nsRef = { apiVersion: 'v1', plural: 'namespaces', namespaced: false };
  await c.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as any).catch(() => undefined);
  // The system manifest `shoal up` applies: ServiceAccount, IngressClass shoal (default), GatewayClass shoal, Deployment.
  const applied = await run(process.execPath, [join(distDir(), 'cli', 'main.js'), 'apply', '-f', join(distDir(), '..', 'control-plane', 'manifests', 'ingress.yaml'), '--kubeconfig', cluster.kubeconfigPath]);
  t.match(applied.stdout, /ingressclass.*shoal created/);
  t.match(applied.stdout, /deployment.*shoal-ingress created/);
  const certA = selfSigned('a.test', ['a.test']), certW = selfSigned('wild.test', ['*.w.test']);
  const secrets = { apiVersion: 'v1', plural: 'secrets', namespaced: true };
  for (const [name, crt, key] of [['a-tls', certA.cert, certA.key], ['w-tls', certW.cert, certW.key], ['bad-tls', 'not a certificate', 'nope']]) {
    await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: 'default' }, data: { 'tls.crt': b64(crt), 'tls.key': b64(key) } } as any);
  }
  const ingRef = { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true };
  const be = (name: string) => ({ service: { name, port: { number: 80 } } });
  const mkIng = (name: string, spec: any, annotations: Record<string, string> = {}) =>
    c.create(ingRef, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', annotations }, spec } as any);
  await mkIng('two-hosts', {
    defaultBackend: be('dflt'),
    tls: [{ hosts: ['a.test'], secretName: 'a-tls' }, { hosts: ['*.w.test'], secretName: 'w-tls' }],
    rules: [
      { host: 'a.test', http: { paths: [
        { path: '/', pathType: 'Prefix', backend: be('web') },
        { path: '/api', pathType: 'Prefix', backend: be('api') },
        { path: '/foo', pathType: 'Exact', backend: be('exact') },
      ] } },
      { host: 'b.test', http: { paths: [{ path: '/foo', pathType: 'Prefix', backend: be('api') }, { path: '/', pathType: 'Prefix', backend: be('web') }] } },
      { host: '*.w.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('v1') }] } },
      { host: 'roll.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('roll') }] } },
    ],
  }, { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' });
  await mkIng('secure', { tls: [{ hosts: ['s.test'], secretName: 'bad-tls' }], rules: [{ host: 's.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('web') }] } }] });
  await mkIng('rewrite', { rules: [{ host: 'r.test', http: { paths: [{ path: '/app(/|$)(.*)', pathType: 'ImplementationSpecific', backend: be('api') }] } }] }, { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' });
  await mkIng('missing', { rules: [{ host: 'm.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('nosuch') }] } }] });
  const gw = 'gateway.networking.k8s.io/v1';
  await c.create({ apiVersion: gw, plural: 'gateways', namespaced: true }, { apiVersion: gw, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'shoal', listeners: [
    { name: 'http', protocol: 'HTTP', port: 80, hostname: '*.gw.test' },
    { name: 'https', protocol: 'HTTPS', port: 443, hostname: 'secure.gw.test', tls: { certificateRefs: [{ name: 'gw-tls' }] } },
  ] } } as any);
  const certG = selfSigned('secure.gw.test', ['secure.gw.test']);
  await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'gw-tls', namespace: 'default' }, data: { 'tls.crt': b64(certG.cert), 'tls.key': b64(certG.key) } } as any);
  await c.create({ apiVersion: gw, plural: 'httproutes', namespaced: true }, { apiVersion: gw, kind: 'HTTPRoute', metadata: { name: 'secure', namespace: 'default' }, spec: {
    parentRefs: [{ name: 'gw', sectionName: 'https' }], rules: [{ backendRefs: [{ name: 'v2', port: 80 }] }] } } as any);
  await c.create({ apiVersion: gw, plural: 'httproutes', namespaced: true }, { apiVersion: gw, kind: 'HTTPRoute', metadata: { name: 'split', namespace: 'default' }, spec: {
    parentRefs: [{ name: 'gw' }], hostnames: ['app.gw.test'],
    rules: [
      { backendRefs: [{ name: 'v1', port: 80, weight: 70 }, { name: 'v2', port: 80, weight: 30 }, { name: 'v3', port: 80, weight: 0 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/hdr' } }], filters: [
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'prod' }], remove: ['x-drop'] } },
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'shoal' }] } },
      ], backendRefs: [{ name: 'v3', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'new.gw.test', statusCode: 301 } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/broken' } }], backendRefs: [{ name: 'ghost', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'exact', port: 80 } } }], backendRefs: [{ name: 'v1', port: 80 }] },
    ],
  } } as any);

  // Istio: a Gateway selecting the ingress (istio: ingressgateway) and a VirtualService bound to it.
  const istio = 'networking.istio.io/v1';
  await c.create({ apiVersion: istio, plural: 'gateways', namespaced: true }, { apiVersion: istio, kind: 'Gateway', metadata: { name: 'igw', namespace: 'default' },
    spec: { selector: { istio: 'ingressgateway' }, servers: [
      { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['istio.test'] },
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['istio.test'], tls: { mode: 'SIMPLE', credentialName: 'istio-tls' } },
    ] } } as any);
  const certI = selfSigned('istio.test', ['istio.test']);
  await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'istio-tls', namespace: 'default' }, data: { 'tls.crt': b64(certI.cert), 'tls.key': b64(certI.key) } } as any);
  await c.create({ apiVersion: istio, plural: 'virtualservices', namespaced: true }, { apiVersion: istio, kind: 'VirtualService', metadata: { name: 'ivs', namespace: 'default' },
    spec: { hosts: ['istio.test'], gateways: ['igw'], http: [
      { match: [{ uri: { prefix: '/v2/' } }], rewrite: { uri: '/' }, headers: { request: { set: { 'x-via': 'istio-gateway' } } }, route: [{ destination: { host: 'v2', port: { number: 80 } } }] },
      { route: [{ destination: { host: 'v1' } }] },
    ] } } as any);

  const [httpPort, httpsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, [join(distDir(), 'ingress', 'main.js'), '--kubeconfig', cluster.kubeconfigPath, '--config-file', cfgFile,
    '--bind', '127.0.0.1', '--http-port', String(httpPort), '--https-port', String(httpsPort), '--health-port', String(healthPort), '--publish-ip', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d) => { logs += d; });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await waitFor('ingress ready', async () => (await fetch(`http://127.0.0.1:${healthPort}/ready`).catch(() => null))?.status === 200, 20_000);

  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agent.destroy());
  const get = (host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, any> }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: httpPort, path, headers: { host, ...headers }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  const curl = async (host: string, path: string): Promise<string> => (await run('curl', ['-s', '-H', `Host: ${host}`, `http://127.0.0.1:${httpPort}${path}`])).stdout.split(' ')[0];

  await t.test('two hosts, several paths (curl by Host and path); Exact vs Prefix', async (t) => {
    const rows: [string, string, string][] = [
      ['a.test', '/', 'web'], ['a.test', '/api', 'api'], ['a.test', '/api/', 'api'], ['a.test', '/api/v1/x', 'api'], ['a.test', '/apix', 'web'],
      ['a.test', '/foo', 'exact'], ['a.test', '/foo/', 'web'], ['a.test', '/foobar', 'web'],
      ['b.test', '/foo', 'api'], ['b.test', '/foo/', 'api'], ['b.test', '/foobar', 'web'],
      ['x.w.test', '/', 'v1'], ['y.x.w.test', '/', 'dflt'], ['unknown.test', '/', 'dflt'],
    ];
    for (const [host, path, want] of rows) t.equal(await curl(host, path), want, `${host}${path}`);
    const r = await get('a.test', '/api/q?x=1', { 'x-forwarded-for': '9.9.9.9' });
    t.equal(ups.get('api')![0].lastHeaders['x-forwarded-for'], '9.9.9.9, 127.0.0.1');
    t.equal(ups.get('api')![0].lastHeaders['x-forwarded-proto'], 'http');
    t.equal(r.body, 'api /api/q?x=1\n');
  });

  await t.test('TLS: SNI picks the Secret, a bad Secret gets the default certificate and an event', async (t) => {
    const subject = async (name: string) => {
      const { stdout } = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${httpsPort} -servername ${name} </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
      return stdout.trim();
    };
    t.match(await subject('a.test'), /CN\s*=\s*a\.test/);
    t.match(await subject('x.w.test'), /CN\s*=\s*wild\.test/);
    t.match(await subject('s.test'), /Shoal Ingress Default Certificate/);
    t.match(await subject('nothing.test'), /Shoal Ingress Default Certificate/);
    t.match(await subject('secure.gw.test'), /CN\s*=\s*secure\.gw\.test/, 'a Gateway HTTPS listener certificate');
    const g = await run('curl', ['-sk', '--resolve', `secure.gw.test:${httpsPort}:127.0.0.1`, `https://secure.gw.test:${httpsPort}/s`]);
    t.equal(g.stdout, 'v2 /s\n', 'the HTTPS listener routes its HTTPRoute');
    const { stdout } = await run('curl', ['-sk', '--resolve', `a.test:${httpsPort}:127.0.0.1`, `https://a.test:${httpsPort}/api`]);
    t.equal(stdout, 'api /api\n');
    t.equal(ups.get('api')![0].lastHeaders['x-forwarded-proto'], 'https');
    const ev = await waitFor('bad secret event', async () => {
      const l: any = await c.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default' });
      return l.items.find((e: any) => e.involvedObject.name === 'secure' && e.reason === 'InvalidCertificate');
    }, 10_000);
    t.match(ev.message, /Secret default\/bad-tls/);
    // s.test has TLS and no ssl-redirect annotation → 308 to https on the https port
    const red = await get('s.test', '/p?q=1');
    t.equal(red.status, 308);
    t.equal(red.headers.location, `https://s.test:${httpsPort}/p?q=1`);
  });

  await t.test('rewrite-target, missing backend (503 + event), status.loadBalancer', async (t) => {
    const r = await get('r.test', '/app/users/1?z=2');
    t.equal(r.body, 'api /users/1?z=2\n');
    const m = await get('m.test', '/');
    t.equal(m.status, 503);
    const ev = await waitFor('missing service event', async () => {
      const l: any = await c.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default' });
      return l.items.find((e: any) => e.involvedObject.name === 'missing' && e.reason === 'BackendNotFound');
    }, 10_000);
    t.match(ev.message, /spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.name: Service default\/nosuch not found/);
    const ing: any = await waitFor('status', async () => {
      const o: any = await c.get(ingRef, 'two-hosts', { namespace: 'default' });
      return o.status?.loadBalancer?.ingress?.length ? o : undefined;
    }, 10_000);
    t.same(ing.status.loadBalancer.ingress, [{ ip: '127.0.0.1' }]);
    // Moved to another class: no longer served (default backend answers), its status cleared.
    const rw: any = await c.get(ingRef, 'rewrite', { namespace: 'default' });
    await waitFor('rewrite status', async () => ((await c.get(ingRef, 'rewrite', { namespace: 'default' })) as any).status?.loadBalancer?.ingress?.length, 10_000);
    const cur: any = await c.get(ingRef, 'rewrite', { namespace: 'default' });
    await c.update(ingRef, { ...cur, spec: { ...rw.spec, ingressClassName: 'nginx' } });
    await waitFor('status cleared', async () => !((await c.get(ingRef, 'rewrite', { namespace: 'default' })) as any).status?.loadBalancer?.ingress?.length, 10_000);
    t.equal((await get('r.test', '/app/x')).body, 'dflt /app/x\n', 'not ours any more');
  });

  await t.test('Gateway API: 70/30/0 within ±5% over 500, filters, status', async (t) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 500; i++) {
      const r = await get('app.gw.test', '/');
      const k = r.body.split(' ')[0];
      counts[k] = (counts[k] ?? 0) + 1;
    }
    t.ok(Math.abs((counts.v1 ?? 0) - 350) <= 25, `v1 ${counts.v1} of 500 (70% ± 5%)`);
    t.ok(Math.abs((counts.v2 ?? 0) - 150) <= 25, `v2 ${counts.v2} of 500 (30% ± 5%)`);
    t.equal(counts.v3 ?? 0, 0, 'weight 0 gets nothing');
    const h = await get('app.gw.test', '/hdr', { 'x-drop': '1', 'x-env': 'dev' });
    t.equal(h.body, 'v3 /hdr\n');
    t.equal(ups.get('v3')![0].lastHeaders['x-env'], 'prod');
    t.equal(ups.get('v3')![0].lastHeaders['x-drop'], undefined);
    t.equal(h.headers['x-served-by'], 'shoal');
    const red = await get('app.gw.test', '/old/page');
    t.equal(red.status, 301);
    t.equal(red.headers.location, 'http://new.gw.test/old/page');
    t.equal((await get('app.gw.test', '/broken')).status, 500, 'invalid backend → 500');
    const before = ups.get('exact')![0].hits;
    t.equal((await get('app.gw.test', '/mirror/m?q=1')).body, 'v1 /mirror/m?q=1\n', 'the response comes from the backend');
    await waitFor('mirrored copy', () => ups.get('exact')![0].hits > before, 5000);
    t.equal(ups.get('exact')![0].lastUrl, '/mirror/m?q=1');
    t.equal(ups.get('exact')![0].lastHeaders.host, 'app.gw.test-shadow');
    t.equal((await get('other.test.gw', '/')).status, 200, 'not a gateway host: the Ingress default backend');
    const route: any = await waitFor('route status', async () => {
      const o: any = await c.get({ apiVersion: gw, plural: 'httproutes', namespaced: true }, 'split', { namespace: 'default' });
      return o.status?.parents?.length ? o : undefined;
    }, 10_000);
    t.same(route.status.parents[0].conditions.map((x: any) => [x.type, x.status, x.reason]), [['Accepted', 'True', 'Accepted'], ['ResolvedRefs', 'False', 'BackendNotFound']]);
    const g: any = await c.get({ apiVersion: gw, plural: 'gateways', namespaced: true }, 'gw', { namespace: 'default' });
    t.same(g.status.conditions.map((x: any) => [x.type, x.status]), [['Accepted', 'True'], ['Programmed', 'True']]);
    t.same(g.status.listeners.map((l: any) => [l.name, l.attachedRoutes]), [['http', 1], ['https', 1]]);
    // Status is written only when it changes: no write loop through the controller's own watch.
    const rvs = async () => Promise.all([
      c.get({ apiVersion: gw, plural: 'gateways', namespaced: true }, 'gw', { namespace: 'default' }),
      c.get({ apiVersion: gw, plural: 'httproutes', namespaced: true }, 'split', { namespace: 'default' }),
      c.get({ apiVersion: gw, plural: 'gatewayclasses', namespaced: false }, 'shoal'),
      c.get(ingRef, 'two-hosts', { namespace: 'default' }),
    ]).then((l) => l.map((o: any) => o.metadata.resourceVersion).join(','));
    const rv1 = await rvs();
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(await rvs(), rv1, 'no status rewrites while nothing changes');
    // Detached from our Gateway: our parent status goes away.
    const sec: any = await c.get({ apiVersion: gw, plural: 'httproutes', namespaced: true }, 'secure', { namespace: 'default' });
    await c.update({ apiVersion: gw, plural: 'httproutes', namespaced: true }, { ...sec, spec: { ...sec.spec, parentRefs: [{ name: 'someone-elses' }] } });
    await waitFor('stale parent status removed', async () => {
      const o: any = await c.get({ apiVersion: gw, plural: 'httproutes', namespaced: true }, 'secure', { namespace: 'default' });
      return (o.status?.parents ?? []).every((p: any) => p.parentRef.name !== 'gw');
    }, 10_000);
    const gc: any = await c.get({ apiVersion: gw, plural: 'gatewayclasses', namespaced: false }, 'shoal');
    t.equal(gc.status.conditions.find((x: any) => x.type === 'Accepted').status, 'True');
  });

  await t.test('Istio Gateway + bound VirtualService', async (t) => {
    const r = await get('istio.test', '/v2/items?a=1');
    t.equal(r.body, 'v2 /items?a=1\n', 'prefix rewrite');
    t.equal(ups.get('v2')![0].lastHeaders['x-via'], 'istio-gateway');
    t.equal((await get('istio.test', '/other')).body, 'v1 /other\n');
    const { stdout } = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${httpsPort} -servername istio.test </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
    t.match(stdout, /CN\s*=\s*istio\.test/, 'credentialName certificate by SNI');
    const h = await run('curl', ['-sk', '--resolve', `istio.test:${httpsPort}:127.0.0.1`, `https://istio.test:${httpsPort}/v2/s`]);
    t.equal(h.stdout, 'v2 /s\n');
  });

  await t.test('rolling update: zero failed requests', async (t) => {
    const [r1, r2, r3] = ups.get('roll')!;
    let ok = 0, failed = 0;
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let phase = 'steady';
    let stop = false;
    const loop = async () => {
      while (!stop) {
        try {
          const r = await get('roll.test', '/');
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 200) ok++;
          else { failed++; failures.push(`${phase}: ${r.status} ${r.body}`); }
        } catch {
          failed++;
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await new Promise((r) => setTimeout(r, 500));
    // 1) the endpoints controller removes r1 (not ready), then its server goes away
    phase = 'r1 removed';
    writeFileSync(cfgFile, JSON.stringify(meshConfig(new Set([r1.port]))));
    await new Promise((r) => setTimeout(r, 1000));
    phase = 'r1 stopped';
    r1.server.closeAllConnections();
    r1.server.close();
    await new Promise((r) => setTimeout(r, 500));
    // 2) r2 shuts down while still listed (the endpoint update lags): it finishes what it has in flight,
    // closes its idle keep-alive connections and refuses new ones; those connects are retried on r3
    phase = 'r2 stopped';
    r2.server.close();
    r2.server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(loops);
    t.equal(failed, 0, `failed requests (statuses ${JSON.stringify(statuses)}): ${failures.slice(0, 3).join(' | ')}`);
    t.ok(ok > 100, `${ok} requests served`);
    t.ok(r3.hits > 0);
    t.match(logs, /retrying on another endpoint/);
  });

  await t.test('a busy port: not ready with the reason, retried, no crash loop', async (t) => {
    const health2 = await freePort();
    const second = spawn(process.execPath, [join(distDir(), 'ingress', 'main.js'), '--kubeconfig', cluster.kubeconfigPath, '--config-file', cfgFile,
      '--bind', '127.0.0.1', '--http-port', String(httpPort), '--https-port', String(await freePort()), '--health-port', String(health2)], { stdio: 'ignore' });
    t.teardown(() => { if (second.exitCode === null) second.kill('SIGKILL'); });
    const body = await waitFor('second ingress answers /ready', async () => {
      const r = await fetch(`http://127.0.0.1:${health2}/ready`).catch(() => null);
      return r ? `${r.status} ${await r.text()}` : undefined;
    }, 20_000);
    t.match(body, /^503 .*EADDRINUSE/);
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(second.exitCode, null, 'still running');
    second.kill('SIGTERM');
    await waitFor('second exited', () => second.exitCode !== null, 10_000);
  });

  child.kill('SIGTERM');
  await waitFor('ingress exited', () => child.exitCode !== null, 10_000);
  t.equal(child.exitCode, 0, 'clean exit on SIGTERM');
});
