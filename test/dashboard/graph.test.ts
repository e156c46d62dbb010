// The metrics → graph aggregation (dashboard/metrics): Prometheus text as the sidecars' prom-client
// registry really writes it (ProxyMetrics), rps from two scrapes, success rate, p99 from the buckets,
// the mTLS state, the source/destination de-duplication, shares per service, the summary line.
import t from 'tap';
import { parseProm, seriesKey } from '../../dashboard/metrics/prom.js';
import { buildGraph, quantile, type TargetScrapes } from '../../dashboard/metrics/graph.js';
import { summaryLine } from '../../dashboard/metrics/summary.js';
import { ProxyMetrics, type RequestLabels } from '../../proxy/admin/metrics.js';

t.test('parseProm: labels, escapes, +Inf, comments, bad lines', async (t) => {
  const p = parseProm([
    '# HELP x a help',
    '# TYPE x counter',
    'x{a="1",b="q\\"uo\\\\te\\nnl"} 3',
    'y 4.5 1700000000000',
    'z_bucket{le="+Inf"} 7',
    'w{a="1"} +Inf',
    'broken{a=1} 2',
    'nov{a="1"}',
    '{a="1"} 3',
  ].join('\n'));
  t.same(p.samples, [
    { name: 'x', labels: { a: '1', b: 'q"uo\\te\nnl' }, value: 3, key: 'x{a="1",b="q\\"uo\\\\te\\nnl"}' },
    { name: 'y', labels: {}, value: 4.5, key: 'y' },
    { name: 'z_bucket', labels: { le: '+Inf' }, value: 7, key: 'z_bucket{le="+Inf"}' },
    { name: 'w', labels: { a: '1' }, value: Infinity, key: 'w{a="1"}' },
  ]);
  t.equal(p.bad, 3, 'three unreadable lines counted, not fatal');
  t.equal(seriesKey('x', { b: '2', a: '1' }), seriesKey('x', { a: '1', b: '2' }), 'series keys ignore label order');
  const cache = new Map();
  const only = parseProm('x{a="1"} 1\ny{a="1"} 2\n', { names: new Set(['x']), cache });
  t.same(only.samples.map((x) => x.name), ['x'], 'only the names asked for');
  t.same([...cache.keys()], ['x{a="1"}'], 'label sets cached by series text');
  cache.set('x{a="1"}', { a: 'from the cache' });
  t.same(parseProm('x{a="1"} 5', { cache }).samples[0]!.labels, { a: 'from the cache' }, 'a series seen before is not parsed again');
});

t.test('quantile: Prometheus histogram_quantile', async (t) => {
  const b = (pairs: [number, number][]) => new Map(pairs);
  t.equal(quantile(0.99, b([[1, 0], [5, 100], [Infinity, 100]])), 1 + 4 * 0.99, 'linear inside the bucket');
  t.equal(quantile(0.5, b([[10, 50], [100, 100], [Infinity, 100]])), 10, 'at an edge');
  t.equal(quantile(0.99, b([[10, 10], [Infinity, 100]])), 10, 'in +Inf: the highest finite bound');
  t.equal(quantile(0.99, b([[10, 0], [Infinity, 0]])), null, 'no observations');
  t.equal(quantile(0.99, b([[10, 3]])), null, 'no +Inf bucket');
});

const base = {
  source_workload_namespace: 'bookinfo', source_canonical_revision: 'v1', source_version: 'v1',
  destination_workload_namespace: 'bookinfo', request_protocol: 'http', response_flags: '-', grpc_response_status: '',
} as const;
function req(src: string, dst: string, dstVersion: string, reporter: 'source' | 'destination', code = 200, security: 'mutual_tls' | 'none' | 'unknown' = 'mutual_tls', flags = '-'): RequestLabels {
  const app = dst.replace(/-v\d$/, '');
  return {
    ...base, reporter, source_workload: src, source_principal: `spiffe://cluster.local/ns/bookinfo/sa/bookinfo-${src.replace(/-v\d$/, '')}`,
    source_canonical_service: src.replace(/-v\d$/, ''), source_app: src.replace(/-v\d$/, ''),
    destination_workload: dst, destination_principal: `spiffe://cluster.local/ns/bookinfo/sa/bookinfo-${app}`, destination_canonical_service: app,
    destination_canonical_revision: dstVersion, destination_app: app, destination_version: dstVersion,
    destination_service: `${app}.bookinfo.svc.cluster.local`, connection_security_policy: security, response_code: String(code), response_flags: flags,
  };
}

/** A sidecar's registry and its scrapes as text → samples, taken at `at`. */
class Sidecar {
  readonly m = new ProxyMetrics();
  async scrape(at: number) {
    return { at, samples: parseProm(await this.m.registry.metrics()).samples };
  }
}

t.test('two scrapes: rps, success rate, p99, mTLS, shares, the split, the line', async (t) => {
  const pp = new Sidecar(), r1 = new Sidecar(), r2 = new Sidecar(), r3 = new Sidecar();
  const send = (n: number, dst: Sidecar, name: string, v: string, code = 200, ms = 3) => {
    for (let i = 0; i < n; i++) {
      pp.m.request(req('productpage-v1', name, v, 'source', code, 'unknown'), ms);
      dst.m.request(req('productpage-v1', name, v, 'destination', code), ms);
    }
  };
  send(5, r1, 'reviews-v1', 'v1');
  const first = await Promise.all([pp, r1, r2, r3].map((s) => s.scrape(1_000)));
  const g1 = buildGraph(first.map((newer) => ({ newer })));
  t.equal(g1.edges.length, 1, 'one edge after one scrape');
  t.equal(g1.edges[0]!.rps, null, 'no rate before a second scrape');
  t.equal(g1.edges[0]!.total, 5, 'but the total is known, counted once (the destination view)');
  t.equal(summaryLine(g1, 'reviews.bookinfo'), 'reviews: measuring…');

  // 10 s later: 90 to v1 (9 of them 503), 10 to v2 (slow: 800 ms), and a caller-only failure to v2 (UF)
  send(81, r1, 'reviews-v1', 'v1', 200, 3);
  send(9, r1, 'reviews-v1', 'v1', 503, 3);
  send(10, r2, 'reviews-v2', 'v2', 200, 800);
  pp.m.request(req('productpage-v1', 'reviews-v2', 'v2', 'source', 503, 'unknown', 'UF'), 1);
  const second = await Promise.all([pp, r1, r2, r3].map((s) => s.scrape(11_000)));
  const targets: TargetScrapes[] = second.map((newer, i) => ({ newer, older: first[i]! }));
  const g = buildGraph(targets, [{ namespace: 'bookinfo', name: 'reviews-v3-abc-x', workload: 'reviews-v3', app: 'reviews', version: 'v3' }]);
  const e1 = g.edges.find((e) => e.target === 'bookinfo/reviews-v1')!;
  const e2 = g.edges.find((e) => e.target === 'bookinfo/reviews-v2')!;
  t.equal(g.windowSec, 10);
  t.equal(e1.rps, 9, '90 requests in 10 s, counted once though both sidecars report them');
  t.equal(e1.successRate, 0.9, '9 of 90 were 503');
  t.equal(e1.total, 95);
  t.equal(e1.mtls, 'mutual_tls', 'the destination saw mTLS');
  t.ok(e1.p99Ms! > 1 && e1.p99Ms! <= 5, `p99 of 3 ms requests lies in the 1–5 ms bucket: ${e1.p99Ms}`);
  t.equal(e2.rps, 1.1, "v2: 10 served plus 1 that only the caller saw (UF)");
  t.equal(e2.successRate, 0.9091, '10 of 11 succeeded');
  t.ok(e2.p99Ms! > 500 && e2.p99Ms! <= 1000, `p99 of 800 ms requests in the 500–1000 bucket: ${e2.p99Ms}`);
  t.same(e2.codes, { 200: 10, 503: 1 });
  t.equal(e1.share, 0.8911, 'share of productpage → reviews: 9 / (9 + 1.1)');
  t.same(g.nodes.map((n) => `${n.id} ${n.app} ${n.version} ${n.pods}`), [
    'bookinfo/productpage-v1 productpage v1 0', 'bookinfo/reviews-v1 reviews v1 0', 'bookinfo/reviews-v2 reviews v2 0', 'bookinfo/reviews-v3 reviews v3 1',
  ], 'a node per workload, with the listed pod of v3 though it has no traffic');
  const split = g.services.find((s) => s.service === 'reviews.bookinfo.svc.cluster.local')!;
  t.same(split.versions.map((v) => [v.version, v.share]), [['v1', 0.8911], ['v2', 0.1089], ['v3', 0]], 'the split, v3 at 0');
  t.equal(summaryLine(g, 'reviews.bookinfo'), 'reviews  v1 89% · v2 11% · v3 0%   success 90%   10.1 rps');

  // the weights move: all to v3 now; v1/v2 idle in the next window
  const third0 = second;
  send(20, r3, 'reviews-v3', 'v3');
  const third = await Promise.all([pp, r1, r2, r3].map((s) => s.scrape(13_000)));
  const g3 = buildGraph(third.map((newer, i) => ({ newer, older: third0[i]! })));
  t.equal(g3.edges.find((e) => e.target === 'bookinfo/reviews-v3')!.share, 1, 'v3 now carries all');
  t.equal(g3.edges.find((e) => e.target === 'bookinfo/reviews-v1')!.rps, 0, 'v1 idle');
  t.equal(summaryLine(g3, 'reviews'), 'reviews  v1 0% · v2 0% · v3 100%   success 100%   10.0 rps');

  // requests the caller could not deliver (no endpoint: destination unknown, 503 UH) show in the split while they happen
  const undeliverable = { ...req('productpage-v1', 'reviews-v1', 'v1', 'source', 503, 'unknown', 'UH'), destination_workload: 'unknown', destination_workload_namespace: 'unknown', destination_app: 'unknown', destination_version: 'unknown' };
  for (let i = 0; i < 10; i++) pp.m.request(undeliverable, 0);
  const fourth = await Promise.all([pp, r1, r2, r3].map((s) => s.scrape(15_000)));
  const g4 = buildGraph(fourth.map((newer, i) => ({ newer, older: third[i]! })));
  t.equal(g4.edges.find((e) => e.target === 'unknown')!.successRate, 0, 'an edge to the unknown node, all failed');
  t.equal(summaryLine(g4, 'reviews'), 'reviews  not delivered 100% · v1 0% · v2 0% · v3 0%   success 0%   5.0 rps');
  const fifth = await Promise.all([pp, r1, r2, r3].map((s) => s.scrape(17_000)));
  t.notOk(buildGraph(fifth.map((newer, i) => ({ newer, older: fourth[i]! }))).services[0]!.versions.some((v) => v.version === 'not delivered'), 'and leave the split once they stop');
});

t.test('mTLS states, callers outside the mesh, counter restarts, TCP', async (t) => {
  const s = new Sidecar();
  s.m.request(req('productpage-v1', 'details-v1', 'v1', 'destination', 200, 'none'), 1);
  const plain = { ...req('x', 'details-v1', 'v1', 'destination', 200, 'none'), source_workload: 'unknown', source_workload_namespace: 'unknown', source_app: 'unknown', source_version: 'unknown' };
  s.m.request(plain, 1);
  const a = await s.scrape(0);
  s.m.request(req('productpage-v1', 'details-v1', 'v1', 'destination', 200, 'mutual_tls'), 1);
  const b = await s.scrape(2_000);
  const g = buildGraph([{ newer: b, older: a }]);
  t.equal(g.edges.find((e) => e.source === 'bookinfo/productpage-v1')!.mtls, 'mutual_tls', 'in the window only mTLS requests');
  const g0 = buildGraph([{ newer: b }]);
  t.equal(g0.edges.find((e) => e.source === 'bookinfo/productpage-v1')!.mtls, 'mixed', 'over the lifetime: both');
  t.equal(g.edges.find((e) => e.source === 'unknown')!.mtls, 'none', 'plaintext caller');
  t.ok(g.nodes.some((n) => n.id === 'unknown' && n.workload === 'unknown'), 'callers outside the mesh are the unknown node');

  // a restarted sidecar: its counters start again from 0; the new value is the delta
  const old = new Sidecar();
  for (let i = 0; i < 3; i++) old.m.request(req('productpage-v1', 'details-v1', 'v1', 'destination'), 1);
  const restarted = new Sidecar();
  restarted.m.request(req('productpage-v1', 'details-v1', 'v1', 'destination'), 1);
  t.equal(buildGraph([{ newer: await restarted.scrape(4_000), older: await old.scrape(2_000) }]).edges[0]!.rps, 0.5, 'a counter that went down (3 → 1) restarted: 1 request in 2 s');

  // TCP between two known workloads is an edge (connections/s); the HBONE tunnel's own (unknown caller) is not
  const tcp = new Sidecar();
  const l = (src: string) => {
    const { response_code: _c, response_flags: _f, grpc_response_status: _g, request_protocol: _p, ...rest } = req(src, 'mysql-v1', 'v1', 'destination');
    return rest;
  };
  const before = await tcp.scrape(0);
  tcp.m.connection(l('reviews-v1'))(10, 10);
  tcp.m.connection({ ...l('x'), source_workload: 'unknown' })(1, 1);
  const g2 = buildGraph([{ newer: await tcp.scrape(1_000), older: before }]);
  t.same(g2.edges.map((e) => [e.protocol, e.source, e.target, e.rps, e.successRate]), [['tcp', 'bookinfo/reviews-v1', 'bookinfo/mysql-v1', 1, null]]);
});
