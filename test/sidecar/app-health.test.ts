// The sidecar's /app-health handler (proxy/admin/app-health.ts): ISTIO_KUBE_APP_PROBERS parsing (every
// bad key named), probe runs against real local servers (HTTP 2xx/3xx/5xx, headers, HTTPS with a
// self-signed certificate, timeouts, TCP up/down) and the :15020 server's answers (200/503/404).
import t from 'tap';
import { createServer as httpServer, get, type Server } from 'node:http';
import { createServer as httpsServer } from 'node:https';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { appHealthRoutes, parseAppProbers, runProbe, type AppProber } from '../../proxy/admin/app-health.js';
import { createAdminServers } from '../../proxy/admin/server.js';
import type { ProxyContext } from '../../proxy/context.js';
import { makeCa, makeLeaf } from './ca.js';
import { parseSidecarFlags } from '../../sidecar/flags.js';

function listen(s: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown }): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}
function close(s: { close: (cb: () => void) => unknown; closeAllConnections?: () => void }): Promise<void> {
  return new Promise((r) => { s.close(() => r()); s.closeAllConnections?.(); });
}

t.test('ISTIO_KUBE_APP_PROBERS parsing', async (t) => {
  const good = {
    '/app-health/web/readyz': { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] }, timeoutSeconds: 3 },
    '/app-health/web/livez': { tcpSocket: { port: 8080 }, timeoutSeconds: 1 },
    '/app-health/side-car2/startupz': { httpGet: { path: '/', port: 8443, scheme: 'HTTPS', host: '10.0.0.1' } },
  };
  const r = parseAppProbers(JSON.stringify(good));
  t.same(r.problems, []);
  t.same(r.probers['/app-health/web/readyz'], good['/app-health/web/readyz']);
  t.same(r.probers['/app-health/side-car2/startupz'], { httpGet: { path: '/', port: 8443, scheme: 'HTTPS', host: '10.0.0.1' }, timeoutSeconds: 1 }, 'timeoutSeconds defaults to 1 (kubelet)');
  t.ok(Object.isFrozen(r.probers), 'frozen');
  t.same(parseAppProbers(undefined), { probers: {}, problems: [] }, 'unset: no probers');
  t.same(parseAppProbers(''), { probers: {}, problems: [] }, 'empty: no probers');
  const rows: [string, string][] = [
    ['{', 'ISTIO_KUBE_APP_PROBERS: not JSON'],
    ['[]', 'ISTIO_KUBE_APP_PROBERS: must be a JSON object'],
    ['{"/app-health/web/ready": {"tcpSocket": {"port": 1}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/ready"]: the key must be'],
    ['{"/healthz/ready": {"tcpSocket": {"port": 1}}}', 'ISTIO_KUBE_APP_PROBERS["/healthz/ready"]: the key must be'],
    ['{"/app-health/web/readyz": {"httpGet": {"port": 0}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.port: must be a port'],
    ['{"/app-health/web/readyz": {"httpGet": {"port": "http"}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.port: must be a port'],
    ['{"/app-health/web/readyz": {"httpGet": {"port": 80, "scheme": "FTP"}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.scheme: must be HTTP or HTTPS'],
    ['{"/app-health/web/readyz": {"httpGet": {"port": 80, "path": "x"}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.path: must start with /'],
    ['{"/app-health/web/readyz": {"httpGet": {"port": 80, "httpHeaders": [{"name": "a b", "value": "1"}]}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.httpHeaders[0]: must be'],
    ['{"/app-health/web/livez": {"tcpSocket": {"port": 99999}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/livez"].tcpSocket.port: must be a port'],
    ['{"/app-health/web/livez": {"tcpSocket": {"port": 80}, "timeoutSeconds": 0}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/livez"].timeoutSeconds: must be'],
    ['{"/app-health/web/livez": {"tcpSocket": {"port": 80}, "httpGet": {"port": 80}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/livez"]: must have exactly one of httpGet, tcpSocket'],
    ['{"/app-health/web/livez": {}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/livez"]: must have exactly one of httpGet, tcpSocket'],
    ['{"/app-health/web/livez": {"tcpSocket": {"port": 80}, "exec": {}}}', 'ISTIO_KUBE_APP_PROBERS["/app-health/web/livez"].exec: unknown field'],
  ];
  for (const [text, want] of rows) {
    const p = parseAppProbers(text);
    t.ok(p.problems.some((x) => x.startsWith(want)), `${text} → ${want} (got ${JSON.stringify(p.problems)})`);
  }
  const two = parseAppProbers('{"/app-health/a/readyz": {"tcpSocket": {"port": 0}}, "/app-health/b/livez": {"httpGet": {"port": -1}}}');
  t.equal(two.problems.length, 2, 'every bad key reported, not just the first');

  // the sidecar's settings: a bad env is a startup problem (main.ts exits 64 listing it)
  const bad = parseSidecarFlags([], { POD_NAME: 'p', POD_NAMESPACE: 'n', ISTIO_KUBE_APP_PROBERS: '{"/app-health/web/readyz": {"httpGet": {"port": "x"}}}' });
  t.ok(bad.problems.some((x) => x.startsWith('ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.port')), 'settings report the bad key');
  const ok = parseSidecarFlags([], { POD_NAME: 'p', POD_NAMESPACE: 'n', ISTIO_KUBE_APP_PROBERS: JSON.stringify(good) });
  t.same(ok.problems, []);
  t.same(Object.keys(ok.settings!.appProbers).sort(), Object.keys(good).sort());
});

t.test('probe runs against real local servers', async (t) => {
  const seen: Record<string, string | undefined>[] = [];
  const app = httpServer((req, res) => {
    seen.push({ url: req.url, x: req.headers['x-probe'] as string | undefined, host: req.headers.host, ua: req.headers['user-agent'] });
    if (req.url === '/hang') return; // never answers
    const code = Number(req.url?.slice(1)) || 200;
    res.writeHead(code, code === 302 ? { location: 'http://elsewhere.invalid/' } : {});
    res.end('x');
  });
  const appPort = await listen(app);
  t.teardown(() => close(app));
  const ca = makeCa();
  const leaf = makeLeaf(ca, 'spiffe://cluster.local/ns/x/sa/y');
  const tlsApp = httpsServer({ key: leaf.keyPem, cert: leaf.certPem }, (_q, res) => { res.writeHead(204); res.end(); });
  const tlsPort = await listen(tlsApp);
  t.teardown(() => close(tlsApp));
  const tcp = netServer((s) => s.destroy());
  const tcpPort = await listen(tcp);
  t.teardown(() => close(tcp));
  const closed = netServer();
  const closedPort = await listen(closed);
  await close(closed); // a port nothing listens on

  const http = (path: string, extra: Partial<AppProber['httpGet']> = {}, timeoutSeconds = 2): AppProber =>
    ({ httpGet: { path, port: appPort, scheme: 'HTTP', ...extra }, timeoutSeconds });
  const rows: { name: string; p: AppProber; ok: boolean; reason: RegExp }[] = [
    { name: 'httpGet 200', p: http('/200'), ok: true, reason: /: 200$/ },
    { name: 'httpGet 204', p: http('/204'), ok: true, reason: /: 204$/ },
    { name: 'httpGet 302 (not followed, success as kubelet)', p: http('/302'), ok: true, reason: /: 302$/ },
    { name: 'httpGet 399', p: http('/399'), ok: true, reason: /: 399$/ },
    { name: 'httpGet 404', p: http('/404'), ok: false, reason: /: 404$/ },
    { name: 'httpGet 500', p: http('/500'), ok: false, reason: /: 500$/ },
    { name: 'httpGet 503', p: http('/503'), ok: false, reason: /: 503$/ },
    { name: 'httpGet hang → timeout', p: http('/hang', {}, 0.3), ok: false, reason: /^timeout after 0.3s$/ },
    { name: 'httpGet refused', p: { httpGet: { path: '/', port: closedPort, scheme: 'HTTP' }, timeoutSeconds: 1 }, ok: false, reason: /ECONNREFUSED/ },
    { name: 'httpGet plain HTTP to an HTTPS port', p: { httpGet: { path: '/', port: tlsPort, scheme: 'HTTP' }, timeoutSeconds: 1 }, ok: false, reason: /./ },
    { name: 'HTTPS, self-signed-chain certificate not verified', p: { httpGet: { path: '/', port: tlsPort, scheme: 'HTTPS' }, timeoutSeconds: 2 }, ok: true, reason: /^HTTPS GET 127\.0\.0\.1:\d+\/: 204$/ },
    { name: 'tcpSocket up', p: { tcpSocket: { port: tcpPort }, timeoutSeconds: 1 }, ok: true, reason: /connected/ },
    { name: 'tcpSocket down', p: { tcpSocket: { port: closedPort }, timeoutSeconds: 1 }, ok: false, reason: /ECONNREFUSED/ },
  ];
  for (const r of rows) {
    const start = Date.now();
    const got = await runProbe(r.p);
    t.equal(got.ok, r.ok, `${r.name}: ${got.reason}`);
    t.match(got.reason, r.reason, `${r.name}: reason`);
    t.ok(Date.now() - start < r.p.timeoutSeconds * 1000 + 500, `${r.name}: within timeoutSeconds`);
  }
  seen.length = 0;
  await runProbe(http('/200', { httpHeaders: [{ name: 'X-Probe', value: 'yes' }, { name: 'Host', value: 'web.example' }] }));
  t.same(seen[0], { url: '/200', x: 'yes', host: 'web.example', ua: 'kube-probe/1.32' }, 'httpHeaders sent (Host overridable), kubelet user agent');
  seen.length = 0;
  await runProbe(http('/200'));
  t.equal(seen[0].host, `127.0.0.1:${appPort}`, 'default Host is host:port as the kubelet sends');
});

t.test(':15020 answers: 200 / 503 with a reason / 404 unknown path', async (t) => {
  const app = httpServer((req, res) => { res.writeHead(req.url === '/ready' ? 200 : 500); res.end(); });
  const appPort = await listen(app);
  t.teardown(() => close(app));
  const { probers, problems } = parseAppProbers(JSON.stringify({
    '/app-health/web/readyz': { httpGet: { path: '/ready', port: appPort, scheme: 'HTTP' }, timeoutSeconds: 1 },
    '/app-health/web/livez': { httpGet: { path: '/broken', port: appPort, scheme: 'HTTP' }, timeoutSeconds: 1 },
    '/app-health/web/startupz': { tcpSocket: { port: appPort }, timeoutSeconds: 1 },
  }));
  t.same(problems, []);
  // only the merged server's route table is exercised; the other routes (which read ctx) are not called
  const { merged } = createAdminServers({} as ProxyContext, { source: {} as never, tunnel: {} as never, appMetrics: null, startedAt: new Date(), appProbers: probers });
  const port = await listen(merged as Server);
  t.teardown(() => close(merged));
  const fetch = (path: string): Promise<{ code: number; body: string }> => new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
  t.same(await fetch('/app-health/web/readyz'), { code: 200, body: `HTTP GET 127.0.0.1:${appPort}/ready: 200\n` });
  t.same(await fetch('/app-health/web/readyz?x=1'), { code: 200, body: `HTTP GET 127.0.0.1:${appPort}/ready: 200\n` }, 'query ignored');
  t.same(await fetch('/app-health/web/livez'), { code: 503, body: `HTTP GET 127.0.0.1:${appPort}/broken: 500\n` });
  t.same((await fetch('/app-health/web/startupz')).code, 200);
  t.same((await fetch('/app-health/other/readyz')).code, 404, 'unknown container');
  t.same((await fetch('/app-health/web/foo')).code, 404, 'unknown kind');
  t.same((await fetch('/app-health/web')).code, 404);
  // a proxy without probers still serves no /app-health
  t.same(Object.keys(appHealthRoutes({})), []);
  await close(app);
  const down = await fetch('/app-health/web/readyz');
  t.equal(down.code, 503, 'app gone → 503');
  t.match(down.body, /ECONNREFUSED/);
});
