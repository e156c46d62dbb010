// The dashboard's flags, HTTP API and `shoal up`'s live line, in-process on loopback with fake sources
// (pods from a list, metrics from the sidecars' own registry code): /api/graph, /api/summary, /api/workload
// with errors naming the parameter, the SSE stream pushing a graph per round, 404s, a scrape failure kept
// per sidecar; the live line rewritten in place on a TTY and printed only on change otherwise.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { parseDashboardFlags } from '../../dashboard/flags.js';
import { runDashboard } from '../../dashboard/run.js';
import { startLiveLine } from '../../dashboard/live.js';
import { targetOf } from '../../dashboard/scrape/scraper.js';
import { ProxyMetrics, type RequestLabels } from '../../proxy/admin/metrics.js';
import { waitFor } from '../wait.js';

t.test('flags: defaults, and every problem named', async (t) => {
  const ok = parseDashboardFlags([]);
  t.same(ok.config, { port: 20001, metricsPort: 15090, adminPort: 15000, scrapeIntervalMs: 2000, windowMs: 10_000, scrapeTimeoutMs: 1500, bindAddress: '127.0.0.1', rootNamespace: 'istio-system' });
  const bad = parseDashboardFlags(['--port', '70000', '--scrape-interval', 'soon', '--window', '1s', '--bind-address', 'here', '--bogus=x', 'extra']);
  t.same(bad.problems, [
    'unknown flag: --bogus', 'unexpected argument: "extra"',
    '--port: must be an integer between 0 and 65535, got "70000"',
    '--scrape-interval: must be a duration like 500ms, 2s or 1m, got "soon"',
    '--bind-address: must be an IPv4 address, got "here"',
  ]);
  t.same(parseDashboardFlags(['--window', '1s']).problems, ['--window, --scrape-interval: the window must be at least one scrape interval']);
});

t.test('which pods are scraped', async (t) => {
  const p = (over: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-7c9-abcde', namespace: 'a', labels: { app: 'web', version: 'v2', 'pod-template-hash': '7c9' } }, spec: { initContainers: [{ name: 'istio-proxy' }], containers: [{ name: 'web' }] }, status: { phase: 'Running', podIP: '10.244.0.9' }, ...over });
  t.match(targetOf(p({}) as any), { namespace: 'a', name: 'web-7c9-abcde', workload: 'web', app: 'web', version: 'v2', ip: '10.244.0.9' }, 'the workload from the pod-template-hash');
  t.equal(targetOf(p({ spec: { containers: [{ name: 'web' }] } }) as any), undefined, 'no sidecar');
  t.equal(targetOf(p({ status: { phase: 'Pending' } }) as any), undefined, 'not running');
  t.equal(targetOf(p({ status: { phase: 'Running' } }) as any), undefined, 'no IP');
});

function req(dst: string, reporter: 'source' | 'destination', code = 200): RequestLabels {
  const v = dst.split('-')[1]!;
  return {
    reporter, source_workload: 'front', source_workload_namespace: 'a', source_principal: 'spiffe://cluster.local/ns/a/sa/front', source_canonical_service: 'front', source_canonical_revision: 'latest', source_app: 'front', source_version: 'unknown',
    destination_workload: dst, destination_workload_namespace: 'a', destination_principal: 'spiffe://cluster.local/ns/a/sa/web', destination_canonical_service: 'web', destination_canonical_revision: v,
    destination_app: 'web', destination_version: v, destination_service: 'web.a.svc.cluster.local', connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
    request_protocol: 'http', response_code: String(code), response_flags: '-', grpc_response_status: '',
  };
}

t.test('the HTTP API and the live line', async (t) => {
  const front = new ProxyMetrics(), v1 = new ProxyMetrics(), v2 = new ProxyMetrics();
  const regs: Record<string, ProxyMetrics> = { '10.0.0.1': front, '10.0.0.2': v1, '10.0.0.3': v2 };
  const pod = (name: string, ip: string, labels: Record<string, string>) => ({ metadata: { name, namespace: 'a', labels }, spec: { containers: [{ name: 'app' }, { name: 'istio-proxy' }] }, status: { phase: 'Running', podIP: ip } });
  const pods = [pod('front-1', '10.0.0.1', { app: 'front' }), pod('web-v1-h-1', '10.0.0.2', { app: 'web', version: 'v1', 'pod-template-hash': 'h' }), pod('web-v2-h-2', '10.0.0.3', { app: 'web', version: 'v2', 'pod-template-hash': 'h' }), pod('gone-1', '10.0.0.4', { app: 'gone' })];
  const { config } = parseDashboardFlags(['--port', '0', '--scrape-interval', '100ms', '--window', '1s']);
  const d = await runDashboard(config!, {
    sources: { listPods: async () => pods as any, fetchText: async (u) => { const r = regs[new URL(u).hostname]; if (!r) throw new Error('connect ECONNREFUSED'); return r.registry.metrics(); } },
    details: { list: async () => [], certs: async () => ({ certificates: [] }) },
  });
  t.teardown(() => d.stop());
  const get = async (p: string) => {
    const r = await fetch(new URL(p, d.url));
    return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
  };
  const sends = setInterval(() => {
    for (let i = 0; i < 3; i++) for (const [dst, reg] of [['web-v1', v1], ['web-v2', v2]] as const) {
      front.request(req(dst, 'source'), 2);
      reg.request(req(dst, 'destination', dst === 'web-v2' && i === 0 ? 503 : 200), 2);
    }
  }, 50);
  t.teardown(() => clearInterval(sends));

  const page = await get('/');
  t.equal(page.status, 200);
  t.match(page.type, /text\/html/);
  t.match(page.body, /<script src="\/app.js"><\/script>/);
  t.match((await get('/app.js')).body, /new EventSource\('\/api\/events'\)/);

  const g = await waitFor('rates in /api/graph', async () => {
    const j = JSON.parse((await get('/api/graph')).body);
    return j.edges.length === 2 && j.edges.every((e: any) => e.rps > 0) ? j : undefined;
  }, 10_000);
  t.same(g.edges.map((e: any) => `${e.source}>${e.target} ${e.mtls}`), ['a/front>a/web-v1 mutual_tls', 'a/front>a/web-v2 mutual_tls']);
  t.ok(Math.abs(g.edges[1].successRate - 2 / 3) < 0.05, `web-v2 answers one in three with 503: ${g.edges[1].successRate}`);
  t.same(g.targets.find((x: any) => x.pod === 'gone-1'), { namespace: 'a', pod: 'gone-1', workload: 'gone-1', ip: '10.0.0.4', error: 'connect ECONNREFUSED' }, "a sidecar that does not answer is listed with its error; the others still count");

  const sum = JSON.parse((await get('/api/summary?service=web.a')).body);
  t.match(sum.line, /^web {2}v1 5\d% · v2 [45]\d% {3}success [89]\d% {3}[\d.]+ rps$/, `the summary line: ${sum.line}`);
  t.equal(sum.split.service, 'web.a.svc.cluster.local');
  t.same(JSON.parse((await get('/api/summary')).body), { error: 'service: Required value (a Service name, name.namespace or FQDN)' });
  t.same([(await get('/api/workload?namespace=a')).status, JSON.parse((await get('/api/workload?namespace=a')).body)], [400, { error: 'workload: Required value' }]);
  t.same(JSON.parse((await get('/api/workload?namespace=a&workload=nope')).body), { error: 'workload a/nope: no pod with a sidecar' });
  t.equal((await get('/nope')).status, 404);
  t.equal((await get('/ready')).status, 200);

  // the event stream: a graph now, then one per round
  const ac = new AbortController();
  const r = await fetch(new URL('/api/events', d.url), { signal: ac.signal });
  t.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body!.getReader();
  let text = '';
  while ((text.match(/event: graph/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  t.ok(text.split('\n').filter((l) => l.startsWith('data: ')).every((l) => Array.isArray(JSON.parse(l.slice(6)).edges)), 'three graph events, each a JSON graph');

  // shoal up's live line: on a TTY rewritten in place, otherwise a line when it changes
  const tty = new PassThrough();
  let ttyOut = '';
  tty.on('data', (c) => (ttyOut += c));
  const stopTty = startLiveLine({ dashboardUrl: d.url, service: 'web.a', out: tty, tty: true, everyMs: 100 });
  const CLEAR = '\r\u001b[2K';
  await waitFor('three rewrites', () => ttyOut.split(CLEAR).length > 3, 5000);
  stopTty();
  stopTty();
  t.ok(ttyOut.startsWith(CLEAR), 'each refresh goes back to the start of the line and clears it');
  t.match(ttyOut.split(CLEAR)[1], /^ {2}live {9}web {2}v1 \d+% · v2 \d+%/, 'rewritten in place');
  t.ok(ttyOut.endsWith('\n') && !ttyOut.endsWith('\n\n'), 'the line is ended once on stop');
  const pipe = new PassThrough();
  let pipeOut = '';
  pipe.on('data', (c) => (pipeOut += c));
  // a taken port: the start fails naming the address, and nothing keeps running
  const taken = parseDashboardFlags(['--port', String(d.port), '--scrape-interval', '100ms', '--window', '1s']).config!;
  let rounds = 0;
  await t.rejects(runDashboard(taken, { sources: { listPods: async () => (rounds++, []), fetchText: async () => '' }, details: { list: async () => [], certs: async () => ({}) } }),
    new RegExp(`^dashboard: listen 127\\.0\\.0\\.1:${d.port}: .*EADDRINUSE`));
  const after = rounds;
  await new Promise((res) => setTimeout(res, 300));
  t.equal(rounds, after, 'its scrape loop stopped with it');
  const stopPipe = startLiveLine({ dashboardUrl: 'http://127.0.0.1:9/', service: 'web.a', out: pipe, tty: false, everyMs: 50 });
  await new Promise((res) => setTimeout(res, 400));
  stopPipe();
  t.equal(pipeOut.split('\n').filter(Boolean).length, 1, `unchanged lines are not repeated: ${pipeOut}`);
  t.match(pipeOut, /live {9}dashboard unreachable \(/, 'and an unreachable dashboard says so');
});
