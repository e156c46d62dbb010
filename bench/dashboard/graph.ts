// The dashboard's cost per scrape round: N sidecars (ProxyMetrics, the sidecar's own registry) with
// CALLERS × 3 codes × 2 reporters request series each; a round parses every sidecar's text and builds the
// graph. Compares a cold parse of everything against the scraper's way (only the graph's metrics, label
// sets cached per series). Usage: node dist/bench/dashboard/graph.js [sidecars=7] [callers=8] [rounds=50]
import { ProxyMetrics } from '../../proxy/admin/metrics.js';
import { parseProm } from '../../dashboard/metrics/prom.js';
import { buildGraph, GRAPH_METRICS, type Scrape } from '../../dashboard/metrics/graph.js';

const [sidecars = 7, callers = 8, rounds = 50] = process.argv.slice(2).map(Number);
const regs = Array.from({ length: sidecars }, (_, s) => {
  const m = new ProxyMetrics();
  for (let c = 0; c < callers; c++) for (const code of ['200', '503', '403']) for (const reporter of ['source', 'destination'] as const) {
    m.request({
      reporter, source_workload: `w${c}`, source_workload_namespace: 'ns', source_principal: 'p', source_canonical_service: 'a', source_canonical_revision: 'v1', source_app: 'a', source_version: 'v1',
      destination_workload: `d${s}`, destination_workload_namespace: 'ns', destination_principal: 'p', destination_canonical_service: 'd', destination_canonical_revision: 'v1', destination_app: 'd', destination_version: 'v1',
      destination_service: 'd.ns.svc.cluster.local', connection_security_policy: 'mutual_tls', request_protocol: 'http', response_code: code, response_flags: '-', grpc_response_status: '',
    }, 3);
  }
  return m;
});
const texts = await Promise.all(regs.map((r) => r.registry.metrics()));

let t0 = performance.now();
let edges = 0;
for (let i = 0; i < rounds; i++) {
  const a = texts.map((t) => ({ at: 0, samples: parseProm(t).samples }));
  const b = texts.map((t) => ({ at: 2000, samples: parseProm(t).samples }));
  edges = buildGraph(a.map((older, k) => ({ older, newer: b[k]! }))).edges.length;
}
const cold = (performance.now() - t0) / rounds;

const caches = texts.map(() => new Map<string, Readonly<Record<string, string>>>());
const scrape = (at: number): Scrape[] => texts.map((t, k) => ({ at, samples: parseProm(t, { names: GRAPH_METRICS, cache: caches[k] }).samples }));
let prev = scrape(0);
t0 = performance.now();
for (let i = 0; i < rounds; i++) {
  const next = scrape(2000 * (i + 1));
  buildGraph(prev.map((older, k) => ({ older, newer: next[k]! })));
  prev = next;
}
const steady = (performance.now() - t0) / rounds;

console.log(`| sidecars | series each | text each | edges | everything parsed twice + graph | steady round (filter + cache) |`);
console.log(`|---|---|---|---|---|---|`);
console.log(`| ${sidecars} | ${callers * 6} | ${(texts[0]!.length / 1024).toFixed(0)} KB | ${edges} | ${cold.toFixed(1)} ms | ${steady.toFixed(1)} ms |`);
