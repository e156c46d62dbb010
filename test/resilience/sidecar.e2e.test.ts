// Resilience through two real sidecars (issue 15): pod A (client, captured) → A's sidecar → HBONE mTLS →
// B's sidecar → misbehaving apps in B (test/resilience/app.ts: ok v1 :9101 and v2 :9102, flaky 50% :9103,
// always 503 :9104). Routing objects travel in the static config as mesh control pushes them. Checked
// with statistical bounds, not exact counts:
//   - retries: a flaky backend (50% 500) with 3 retries ≈ 1 − 0.5⁴, without ≈ 50%; a service whose one
//     pod of two always fails: ≥ 99% with 3 retries (retryIgnorePreviousHosts), ≈ 50% without; the retry
//     budget keeps a pod that always fails under 3× its load;
//   - timeout and perTryTimeout fire at their values (±50 ms, plus the backoffs);
//   - outlier detection ejects the 503 pod after 5 errors, traffic moves, it returns after baseEjectionTime;
//   - maxConnections 1 + http1MaxPendingRequests 1, 10 concurrent clients → 503 with UO, also in metrics;
//   - fault abort and delay at their percentages;
//   - an upstream that answers garbage, closes mid-response or stalls → 502 / a cut response / 504 with
//     the flags (UPE at the server's sidecar, UC, UT) while the next request is served;
//   - mirror copies with Host -shadow; corsPolicy preflight and response headers;
//   - istio_request_bytes / istio_response_bytes, and the access log (JSON lines on the sidecar's stdout);
//   - a real Prometheus (Debian's `prometheus`, skipped when absent) scraping both sidecars with the
//     generated config answers istio_requests_total by source, destination and response code.
import t, { type Test } from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { sidecarScrapeConfig } from '../../proxy/telemetry/scrape-config.js';
import { meshNet, rootSkip, runInPod, startTestSidecar, until, type MeshNet, type Pod } from '../sidecar/fixture.js';
import type { MeshEndpoint, StaticConfigFile } from '../../proxy/config/types.js';

const K = 12;
const VIP = (i: number) => `10.215.${K}.${i}`;

async function probe(t: Test, pod: Pod, cmd: Record<string, unknown>): Promise<any> {
  const p = runInPod(t, pod, [process.execPath, 'dist/test/resilience/probe.js', JSON.stringify(cmd)]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`probe ${JSON.stringify(cmd)}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}

function ep(net: MeshNet, port: number, version: string): MeshEndpoint {
  return {
    address: net.b.ip, ports: [{ name: 'http', port }], podName: `server-${version}`, namespace: 'foo', serviceAccount: 'server',
    identity: 'spiffe://cluster.local/ns/foo/sa/server', mesh: true, labels: { app: 'server', version }, ready: true,
  };
}

const SERVICES = ['flaky', 'half', 'od', 'cb', 'to', 'fault', 'allbad', 'mirror', 'shadow', 'cors'] as const;
const svc = (name: string, i: number) => ({
  name, namespace: 'foo', hostname: `${name}.foo.svc.cluster.local`, vips: [VIP(10 + i)], ports: [{ name: 'http', port: 80, targetPort: 0, protocol: 'TCP', appProtocol: '' }],
});
const V = (n: string, http: unknown[]) => ({ kind: 'VirtualService', metadata: { name: n, namespace: 'foo', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { hosts: [n], http } });
const D = (n: string, trafficPolicy: unknown) => ({ kind: 'DestinationRule', metadata: { name: n, namespace: 'foo' }, spec: { host: n, trafficPolicy } });
const to = (host: string) => [{ destination: { host } }];
const NO_RETRY = { attempts: 0 };

const ROUTING = [
  V('flaky', [
    { name: 'retry', match: [{ uri: { prefix: '/retry' } }], retries: { attempts: 3, retryOn: '5xx' }, route: to('flaky') },
    { name: 'none', retries: NO_RETRY, route: to('flaky') },
  ]),
  V('half', [
    { name: 'retry', match: [{ uri: { prefix: '/retry' } }], retries: { attempts: 3, retryOn: 'gateway-error' }, route: to('half') },
    { name: 'none', retries: NO_RETRY, route: to('half') },
  ]),
  D('half', { loadBalancer: { simple: 'ROUND_ROBIN' } }),
  V('mirror', [{ mirror: { host: 'shadow' }, mirrorPercentage: { value: 100 }, route: to('mirror') }]),
  V('cors', [{ corsPolicy: { allowOrigins: [{ exact: 'https://app.example' }, { regex: 'https://.*\\.trusted\\.example' }], allowMethods: ['GET', 'PUT'], allowHeaders: ['x-custom'], exposeHeaders: ['x-app-version'], maxAge: '120s', allowCredentials: true }, route: to('cors') }]),
  V('allbad', [{ retries: { attempts: 3, retryOn: '5xx' }, route: to('allbad') }]),
  V('od', [{ retries: NO_RETRY, route: to('od') }]),
  D('od', { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 5, interval: '1s', baseEjectionTime: '4s', maxEjectionPercent: 100 } }),
  D('cb', { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } }),
  V('to', [
    { name: 'try', match: [{ uri: { prefix: '/stall/try' } }], timeout: '3s', retries: { attempts: 2, perTryTimeout: '250ms', retryOn: '5xx' }, route: to('to') },
    { name: 'timeout', timeout: '500ms', retries: NO_RETRY, route: to('to') },
  ]),
  V('fault', [
    { name: 'abort', match: [{ uri: { prefix: '/abort' } }], fault: { abort: { httpStatus: 418, percentage: { value: 30 } } }, route: to('fault') },
    { name: 'delay', match: [{ uri: { prefix: '/delay' } }], fault: { delay: { fixedDelay: '300ms', percentage: { value: 50 } } }, route: to('fault') },
    { name: 'grpc', match: [{ uri: { prefix: '/grpc' } }], fault: { abort: { grpcStatus: 'UNAVAILABLE' } }, route: to('fault') },
  ]),
];

function config(net: MeshNet, self: 'a' | 'b'): StaticConfigFile {
  const me = self === 'a' ? net.a : net.b;
  const sa = self === 'a' ? 'client' : 'server';
  const ok1 = ep(net, 9101, 'v1'), ok2 = ep(net, 9102, 'v2'), flaky = ep(net, 9103, 'flaky'), bad = ep(net, 9104, 'bad');
  const eps: Record<(typeof SERVICES)[number], MeshEndpoint[]> = { flaky: [flaky], half: [ok1, bad], od: [ok1, ok2, bad], cb: [ok1], to: [ok1], fault: [ok1], allbad: [bad], mirror: [ok1], shadow: [ok2], cors: [ok1] };
  return {
    services: SERVICES.map((n, i) => svc(n, i)),
    endpoints: SERVICES.map((n) => ({ service: `foo/${n}`, endpoints: eps[n] })),
    workload: {
      name: `${sa}-0`, namespace: 'foo', serviceAccount: sa, identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, ip: me.ip, labels: { app: sa },
      peerAuthentication: { mode: 'STRICT', portModes: {}, sources: [] }, authorization: [],
    },
    routing: ROUTING,
  };
}

const url = (name: (typeof SERVICES)[number], path: string) => `http://${VIP(10 + SERVICES.indexOf(name))}${path}`;
const ok = (r: any) => (r.statuses['200'] ?? 0);
const hasPrometheus = () => { try { execFileSync('prometheus', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } };
const freePort = () => new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
// The budget test's target is reached from pod B itself (127.0.0.1 is not captured).


t.test('resilience through two sidecars', { skip: rootSkip, timeout: 300_000 }, async (t) => {
  const net = await meshNet(t, 'scrs', K);
  for (const [port, v, mode] of [[9101, 'v1', 'ok'], [9102, 'v2', 'ok'], [9103, 'flaky', 'flaky'], [9104, 'bad', '503']] as const) {
    const app = runInPod(t, net.b, [process.execPath, 'dist/test/resilience/app.js', String(port), v, mode]);
    await until(`app ${v}`, () => app.out().includes('up'));
  }
  await startTestSidecar(t, net, net.b, { sa: 'server', config: config(net, 'b') });
  const client = await startTestSidecar(t, net, net.a, { sa: 'client', config: config(net, 'a'), env: { SHOAL_ACCESS_LOG_FILE: '/dev/stdout' } });

  await t.test('retries: 50% failures, with and without 3 retries', async (t) => {
    // Concurrency 3: the retry budget (20% of active requests, at least 3 retries at once) never binds.
    const n = 400;
    const none = await probe(t, net.a, { cmd: 'many', url: url('flaky', '/none'), n, concurrency: 3 });
    const withR = await probe(t, net.a, { cmd: 'many', url: url('flaky', '/retry'), n, concurrency: 3 });
    // Binomial bounds at ~4σ: p = 0.5 → σ = 0.025; p = 1 − 0.5⁴ = 0.9375 → σ = 0.012.
    t.ok(Math.abs(ok(none) / n - 0.5) <= 0.1, `no retries: ${ok(none)}/${n} succeed (≈ 50%) ${JSON.stringify(none.statuses)}`);
    t.ok(Math.abs(ok(withR) / n - 0.9375) <= 0.05, `3 retries on a random 50%: ${ok(withR)}/${n} (≈ 1 − 0.5⁴ = 93.75%) ${JSON.stringify(withR.statuses)}`);
    const halfNone = await probe(t, net.a, { cmd: 'many', url: url('half', '/none'), n: 200, concurrency: 3 });
    const halfR = await probe(t, net.a, { cmd: 'many', url: url('half', '/retry'), n: 400, concurrency: 3 });
    t.ok(Math.abs(ok(halfNone) / 200 - 0.5) <= 0.1, `one pod of two failing, no retries: ${ok(halfNone)}/200 ${JSON.stringify(halfNone.statuses)}`);
    t.ok(ok(halfR) / 400 >= 0.99, `with 3 retries to other hosts: ${ok(halfR)}/400 ≥ 99% ${JSON.stringify(halfR.statuses)}`);
  });

  await t.test('the retry budget: a failing upstream does not get 4× its load from 3 retries', async (t) => {
    const count = async () => JSON.parse((await probe(t, net.b, { cmd: 'get', url: 'http://127.0.0.1:9104/__count' })).body).n as number;
    const before = await count();
    const n = 120;
    const r = await probe(t, net.a, { cmd: 'many', url: url('allbad', '/'), n, concurrency: 16 });
    const hits = (await count()) - before;
    t.same(r.statuses, { 503: n });
    t.ok(hits >= n && hits < 3 * n, `${n} requests with up to 3 retries each made ${hits} attempts (${(hits / n).toFixed(2)}× the load; 4× without a budget)`);
  });

  await t.test('timeout and perTryTimeout fire at their values', async (t) => {
    await probe(t, net.a, { cmd: 'many', url: url('to', '/'), n: 4 }); // warm: HBONE connection to B up
    // The least of three: the timer fires at its value, a loaded machine (2 cores, other workers) only adds.
    const least = async (path: string) => {
      const rs = [await probe(t, net.a, { cmd: 'get', url: url('to', path) }), await probe(t, net.a, { cmd: 'get', url: url('to', path) }), await probe(t, net.a, { cmd: 'get', url: url('to', path) })];
      return { ...rs.sort((x, y) => x.ms - y.ms)[0], all: rs.map((x) => x.ms) };
    };
    const r = await least('/stall');
    t.equal(r.status, 504);
    t.equal(r.body, 'upstream request timeout');
    t.ok(r.ms >= 500 - 10 && r.ms <= 500 + 50, `timeout 500ms fired after ${r.ms} ms (of ${r.all.join(', ')})`);
    const tr = await least('/stall/try');
    t.equal(tr.status, 504);
    t.ok(tr.ms >= 750 - 10 && tr.ms <= 750 + 75 + 50, `3 tries × perTryTimeout 250ms (+ backoffs < 75 ms): ${tr.ms} ms (of ${tr.all.join(', ')})`);
  });

  await t.test('outlier detection: the 503 pod is ejected after 5 errors and comes back', async (t) => {
    const first = await probe(t, net.a, { cmd: 'many', url: url('od', '/'), n: 60, concurrency: 1 });
    t.equal(first.statuses['503'], 5, `exactly 5 errors reach the client before the ejection: ${JSON.stringify(first.versions)}`);
    const during = await probe(t, net.a, { cmd: 'many', url: url('od', '/'), n: 40, concurrency: 2 });
    t.same(during.statuses, { 200: 40 }, `ejected: traffic moved to v1 and v2 ${JSON.stringify(during.versions)}`);
    t.ok(during.versions.v1 >= 10 && during.versions.v2 >= 10, 'both healthy pods serve');
    await new Promise((r) => setTimeout(r, 4500));
    const after = await probe(t, net.a, { cmd: 'many', url: url('od', '/'), n: 12, concurrency: 1 });
    t.ok((after.statuses['503'] ?? 0) >= 1, `after baseEjectionTime (4 s) it gets traffic again: ${JSON.stringify(after.statuses)}`);
  });

  await t.test('circuit breaker: maxConnections 1, http1MaxPendingRequests 1, 10 concurrent clients', async (t) => {
    const r = await probe(t, net.a, { cmd: 'many', url: url('cb', '/slow?ms=600'), n: 10, concurrency: 10 });
    const over = r.statuses['503'] ?? 0;
    t.ok(over >= 6 && ok(r) >= 1 && over + ok(r) === 10, `503 overflow for most: ${JSON.stringify(r.statuses)}`);
    const m = await (await fetch(`http://${net.a.rootIp}:15090/stats/prometheus`)).text();
    const uo = m.split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('destination_service="cb.foo.svc.cluster.local"') && l.includes('response_flags="UO"'));
    t.equal(uo.reduce((s, l) => s + Number(l.split(' ').pop()), 0), over, `istio_requests_total counts them with response_flags="UO": ${uo[0]}`);
  });

  await t.test('fault injection at its percentages', async (t) => {
    const n = 300;
    const ab = await probe(t, net.a, { cmd: 'many', url: url('fault', '/abort'), n, concurrency: 8 });
    const share = (ab.statuses['418'] ?? 0) / n;
    t.ok(Math.abs(share - 0.3) <= 0.1, `abort 418 on ${share} of requests (30% ± 10%) ${JSON.stringify(ab.statuses)}`);
    const de = await probe(t, net.a, { cmd: 'many', url: url('fault', '/delay'), n: 60, concurrency: 10 });
    const delayed = de.ms.filter((x: number) => x >= 300).length / 60;
    t.same(de.statuses, { 200: 60 });
    t.ok(Math.abs(delayed - 0.5) <= 0.25, `delayed ≥ 300 ms: ${delayed} (50% ± 25%)`);
    const g = await probe(t, net.a, { cmd: 'get', url: url('fault', '/grpc') });
    t.equal(g.status, 200, 'gRPC abort: HTTP 200 with grpc-status');
    const m = await (await fetch(`http://${net.a.rootIp}:15090/stats/prometheus`)).text();
    t.match(m, /istio_requests_total\{[^}]*destination_service="fault\.foo\.svc\.cluster\.local"[^}]*response_code="418",response_flags="FI"/, 'FI in the metrics');
    t.match(m, /istio_requests_total\{[^}]*destination_service="fault\.foo\.svc\.cluster\.local"[^}]*response_code="200",response_flags="DI"/, 'DI in the metrics');
  });

  await t.test('garbage, close mid-response, stall: the right status and flag; the sidecar keeps serving', async (t) => {
    const g = await probe(t, net.a, { cmd: 'get', url: url('to', '/garbage') });
    t.equal(g.status, 502, 'garbage → 502');
    const mid = await probe(t, net.a, { cmd: 'get', url: url('to', '/midclose') });
    t.ok(mid.error !== '' || mid.body.length < 100, `mid-response close: the client sees a cut response (${mid.error || mid.body.length})`);
    const st = await probe(t, net.a, { cmd: 'get', url: url('to', '/stall') });
    t.equal(st.status, 504, 'stall → 504');
    const next = await probe(t, net.a, { cmd: 'many', url: url('to', '/'), n: 20, concurrency: 4 });
    t.same(next.statuses, { 200: 20 }, 'everyone else is served');
    const src = await (await fetch(`http://${net.a.rootIp}:15090/stats/prometheus`)).text();
    const dst = await (await fetch(`http://${net.b.rootIp}:15090/stats/prometheus`)).text();
    t.match(dst, /istio_requests_total\{reporter="destination"[^}]*response_code="502",response_flags="UPE"/, "the server's sidecar: 502 UPE");
    t.match(src, /istio_requests_total\{reporter="source"[^}]*destination_service="to\.foo\.svc\.cluster\.local"[^}]*response_code="200",response_flags="UC"/, 'the client sidecar: UC for the cut response');
    t.match(src, /istio_requests_total\{reporter="source"[^}]*destination_service="to\.foo\.svc\.cluster\.local"[^}]*response_code="504",response_flags="UT"/, 'UT for the timeouts');
    t.match(src, /istio_requests_total\{reporter="source"[^}]*destination_service="flaky\.foo\.svc\.cluster\.local"[^}]*response_code="500",response_flags="URX"/, 'URX for retries exhausted');
    t.match(src, /istio_response_bytes_count\{reporter="source"[^}]*destination_service="to\.foo\.svc\.cluster\.local"/, 'istio_response_bytes');
    t.match(src, /istio_request_bytes_bucket\{/, 'istio_request_bytes');
  });

  await t.test('mirror: the shadow receives a copy of every request, with -shadow in Host; the client sees the primary', async (t) => {
    const count = async () => JSON.parse((await probe(t, net.b, { cmd: 'get', url: 'http://127.0.0.1:9102/__count' })).body).hosts as Record<string, number>;
    const before = await count();
    const r = await probe(t, net.a, { cmd: 'many', url: url('mirror', '/m'), n: 30, concurrency: 3 });
    t.same(r.versions, { v1: 30 }, 'every answer from the primary (v1)');
    const shadowHost = `${VIP(10 + SERVICES.indexOf('mirror'))}-shadow`;
    await until('copies arrived', async () => ((await count())[shadowHost] ?? 0) - (before[shadowHost] ?? 0) >= 30, 5000);
    const after = await count();
    t.equal((after[shadowHost] ?? 0) - (before[shadowHost] ?? 0), 30, `30 copies with Host ${shadowHost} at v2`);
  });

  await t.test('corsPolicy: preflight answered, allow headers on responses, other origins untouched', async (t) => {
    const pre = await probe(t, net.a, { cmd: 'get', url: url('cors', '/x'), method: 'OPTIONS', headers: { origin: 'https://a.trusted.example', 'access-control-request-method': 'PUT' } });
    t.equal(pre.status, 200);
    t.match(pre.headers, { 'access-control-allow-origin': 'https://a.trusted.example', 'access-control-allow-methods': 'GET,PUT', 'access-control-allow-headers': 'x-custom', 'access-control-max-age': '120', 'access-control-allow-credentials': 'true' });
    t.equal(pre.body, '', 'answered by the sidecar (the app would answer JSON)');
    const get = await probe(t, net.a, { cmd: 'get', url: url('cors', '/x'), headers: { origin: 'https://app.example' } });
    t.equal(JSON.parse(get.body).version, 'v1');
    t.match(get.headers, { 'access-control-allow-origin': 'https://app.example', 'access-control-expose-headers': 'x-app-version' });
    const other = await probe(t, net.a, { cmd: 'get', url: url('cors', '/x'), method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
    t.notOk(other.headers['access-control-allow-origin'], 'another origin gets no CORS headers');
    t.match(other.body, /"version":"v1"/, 'and its preflight goes to the app');
  });

  await t.test('a real Prometheus scrapes both sidecars: istio_requests_total by source, destination and response code', { skip: hasPrometheus() ? false : 'prometheus not installed (Debian package `prometheus`)' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'scrs-prom-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), sidecarScrapeConfig([
      { pod: 'client-0', namespace: 'foo', address: net.a.rootIp }, { pod: 'server-0', namespace: 'foo', address: net.b.rootIp },
    ], 1));
    const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    t.teardown(() => new Promise<void>((r) => { if (prom.exitCode !== null) return r(); prom.once('exit', () => r()); prom.kill('SIGTERM'); setTimeout(() => prom.kill('SIGKILL'), 5000).unref(); }));
    const q = encodeURIComponent('sum by (source_workload, destination_service, response_code) (istio_requests_total{reporter="source"})');
    let result: any[] = [];
    await until('Prometheus has scraped the sidecars', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${q}`).then((x) => x.json()).catch(() => null) as any;
      result = r?.data?.result ?? [];
      return result.some((x) => x.metric.destination_service === 'cb.foo.svc.cluster.local' && x.metric.response_code === '503');
    }, 30_000);
    const cb = result.find((x) => x.metric.destination_service === 'cb.foo.svc.cluster.local' && x.metric.response_code === '503');
    t.equal(cb.metric.source_workload, 'client-0');
    t.ok(Number(cb.value[1]) >= 8, `the circuit breaker's 503s: ${cb.value[1]}`);
    t.ok(result.some((x) => x.metric.destination_service === 'flaky.foo.svc.cluster.local' && x.metric.response_code === '200'), 'and the successes');
    const up = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`).then((x) => x.json()) as any;
    t.same(up.data.result.map((x: any) => `${x.metric.pod}=${x.value[1]}`).sort(), ['client-0=1', 'server-0=1'], 'both targets up');
  });

  await t.test('access log: JSON lines with Envoy fields on the sidecar stdout', async (t) => {
    const lines = client.out().split('\n').filter((l) => l.startsWith('{"start_time"')).map((l) => JSON.parse(l));
    t.ok(lines.length > 1000, `${lines.length} lines`);
    const uo = lines.find((l) => l.response_flags === 'UO');
    t.match(uo, { method: 'GET', path: '/slow?ms=600', protocol: 'HTTP/1.1', response_code: 503, upstream_cluster: 'outbound|80||cb.foo.svc.cluster.local', reporter: 'source' }, 'an overflow');
    const retried = lines.find((l) => l.authority === VIP(11) && l.response_code === 200 && l.upstream_request_attempt_count === 2);
    t.ok(retried, 'a retried request says its attempts');
    t.match(retried, { route_name: 'retry', upstream_host: new RegExp(`^${net.b.ip.replace(/\./g, '\\.')}:910[14]$`) });
    t.ok(retried.upstream_service_time >= 0 && retried.duration >= retried.upstream_service_time, 'duration ≥ upstream_service_time');
    t.ok(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.request_id)), 'every request got an x-request-id');
    t.ok(lines.some((l) => l.response_flags === 'UT' && l.response_code === 504), 'UT');
    t.ok(lines.some((l) => l.response_flags === 'FI' && l.response_code === 418), 'FI');
  });
});
