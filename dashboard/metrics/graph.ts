// From the sidecars' Istio metrics to the service graph Kiali draws: nodes per workload (with its app and
// version labels), edges between workloads with requests per second, success rate, p99 latency and the
// mTLS state, and per destination service the split between its versions (the canary, as it moves).
//
// Rates come from two scrapes of each sidecar (the newer minus the older over the time between them), so
// the graph shows what happens now, not since the pods started. A request between two sidecars is counted
// twice (reporter="source" by the caller, reporter="destination" by the callee); an edge takes the
// destination's view, which carries the caller's mTLS identity, and adds the failures only the caller saw
// (response_flags set: the request never reached the callee). With no destination view (the callee is
// outside the mesh or was not scraped) the caller's view is the edge. Pure: no sockets, no clock.

import type { Sample } from './prom.js';

/** One scrape of one sidecar. */
export interface Scrape {
  /** when it was taken (ms since the epoch) */
  at: number;
  samples: readonly Sample[];
}

/** A sidecar's last two scrapes (`older` absent after the first). */
export interface TargetScrapes {
  newer: Scrape;
  older?: Scrape;
}

/** A pod with a sidecar, as the API lists it. */
export interface PodInfo {
  namespace: string;
  name: string;
  workload: string;
  app: string;
  version: string;
}

/** A node: one workload (Deployment, or the bare pod), or `unknown` (callers outside the mesh). */
export interface GraphNode {
  id: string;
  namespace: string;
  workload: string;
  app: string;
  version: string;
  /** pods of it with a sidecar that the dashboard scrapes */
  pods: number;
}

/** mTLS on an edge: every request, none, some, or not known (only the caller's view). */
export type MtlsState = 'mutual_tls' | 'none' | 'mixed' | 'unknown';

/** An edge: the requests from one workload to another. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** destination_service (FQDN) of its requests, sorted, 'unknown' left out unless alone */
  services: string[];
  protocol: 'http' | 'tcp';
  /** requests (tcp: connections) per second over the window; null before a second scrape */
  rps: number | null;
  /** share of 2xx-4xx responses over the window (5xx and proxy failures count as failed); null with no requests */
  successRate: number | null;
  /** 99th percentile duration (ms) from the histogram buckets over the window; null with no requests */
  p99Ms: number | null;
  mtls: MtlsState;
  /** share of the source's requests to the same service that this edge carries (the weight as it is) */
  share: number | null;
  /** requests counted since the sidecars started */
  total: number;
  /** responses over the window by code ('0' = none: connection failure) */
  codes: Record<string, number>;
}

/** How one destination service's requests split between its workloads (versions). */
export interface ServiceSplit {
  service: string;
  namespace: string;
  rps: number | null;
  successRate: number | null;
  versions: { workload: string; version: string; rps: number | null; share: number | null; successRate: number | null }[];
}

/** The whole graph. */
export interface Graph {
  /** time of the newest scrape (ms) */
  at: number;
  /** seconds the rates are over (the mean gap between the scrapes used) */
  windowSec: number | null;
  nodes: GraphNode[];
  edges: GraphEdge[];
  services: ServiceSplit[];
}

/** The metrics the graph reads (the scraper parses only these). */
export const GRAPH_METRICS: ReadonlySet<string> = new Set(['istio_requests_total', 'istio_request_duration_milliseconds_bucket', 'istio_tcp_connections_opened_total']);

// ---------------------------------------------------------------- per-series deltas

interface View {
  total: number;
  delta: number;
  dtSec: number;
  hasWindow: boolean;
  codes: Record<string, number>;
  failed: number;
  buckets: Map<number, number>;
  /** requests by connection_security_policy over the window, and since the start */
  mtls: Record<string, number>;
  mtlsTotal: Record<string, number>;
  services: Set<string>;
}

const newView = (): View => ({ total: 0, delta: 0, dtSec: 0, hasWindow: false, codes: {}, failed: 0, buckets: new Map(), mtls: {}, mtlsTotal: {}, services: new Set() });

interface Acc {
  source: { id: string; namespace: string; workload: string; app: string; version: string };
  target: { id: string; namespace: string; workload: string; app: string; version: string };
  protocol: 'http' | 'tcp';
  dst: View;
  src: View;
  /** caller-only failures (response_flags set) */
  srcOnly: View;
}

const known = (v: string | undefined): string => (v && v !== 'unknown' ? v : '');

function end(l: Readonly<Record<string, string>>, side: 'source' | 'destination') {
  const workload = known(l[`${side}_workload`]);
  const namespace = known(l[`${side}_workload_namespace`]);
  return {
    id: workload ? `${namespace}/${workload}` : 'unknown',
    namespace, workload: workload || 'unknown', app: known(l[`${side}_app`]) || known(l[`${side}_canonical_service`]), version: known(l[`${side}_version`]),
  };
}

/** The change of each series between two scrapes (null: no older scrape); a counter that went down restarted. */
function deltas(t: TargetScrapes, name: string): { s: Sample; delta: number | null; dtSec: number }[] {
  const before = new Map<string, number>();
  if (t.older) for (const s of t.older.samples) if (s.name === name) before.set(s.key, s.value);
  const dtSec = t.older ? Math.max(0.001, (t.newer.at - t.older.at) / 1000) : 0;
  return t.newer.samples.filter((s) => s.name === name).map((s) => {
    if (!t.older) return { s, delta: null, dtSec };
    const b = before.get(s.key) ?? 0;
    return { s, delta: s.value >= b ? s.value - b : s.value, dtSec };
  });
}

const isFailure = (code: string): boolean => code === '0' || code === '' || code.startsWith('5');

// ---------------------------------------------------------------- the graph

/** Prometheus' histogram_quantile over cumulative `buckets` (upper bound → count), linear within a bucket. */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  if (!les.length || les[les.length - 1] !== Infinity) return null;
  const total = buckets.get(Infinity)!;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const count = buckets.get(le)!;
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function addRequests(accs: Map<string, Acc>, t: TargetScrapes): void {
  for (const { s, delta, dtSec } of deltas(t, 'istio_requests_total')) {
    const a = accOf(accs, s.labels, 'http');
    const code = s.labels.response_code ?? '';
    const flags = s.labels.response_flags ?? '-';
    const views = s.labels.reporter === 'destination' ? [a.dst] : [a.src, ...(flags !== '-' && flags !== '' ? [a.srcOnly] : [])];
    const sec = s.labels.connection_security_policy ?? 'unknown';
    for (const v of views) {
      v.total += s.value;
      v.mtlsTotal[sec] = (v.mtlsTotal[sec] ?? 0) + s.value;
      if (s.labels.destination_service) v.services.add(s.labels.destination_service);
      if (delta === null) continue;
      v.hasWindow = true;
      v.dtSec = Math.max(v.dtSec, dtSec);
      v.delta += delta / dtSec;
      v.codes[code || '0'] = (v.codes[code || '0'] ?? 0) + delta;
      if (isFailure(code)) v.failed += delta;
      v.mtls[sec] = (v.mtls[sec] ?? 0) + delta;
    }
  }
  for (const { s, delta } of deltas(t, 'istio_request_duration_milliseconds_bucket')) {
    if (delta === null) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    const a = accOf(accs, s.labels, 'http');
    const flags = s.labels.response_flags ?? '-';
    const v = s.labels.reporter === 'destination' ? a.dst : flags !== '-' && flags !== '' ? a.srcOnly : a.src;
    v.buckets.set(le, (v.buckets.get(le) ?? 0) + delta);
    if (v === a.srcOnly) a.src.buckets.set(le, (a.src.buckets.get(le) ?? 0) + delta);
  }
}

function addTcp(accs: Map<string, Acc>, t: TargetScrapes): void {
  for (const { s, delta, dtSec } of deltas(t, 'istio_tcp_connections_opened_total')) {
    // the HBONE tunnel's own connections (caller unknown) would double every HTTP edge; only known pairs
    if (s.labels.request_protocol !== 'tcp' || !known(s.labels.source_workload) || !known(s.labels.destination_workload)) continue;
    const a = accOf(accs, s.labels, 'tcp');
    const v = s.labels.reporter === 'destination' ? a.dst : a.src;
    const sec = s.labels.connection_security_policy ?? 'unknown';
    v.total += s.value;
    v.mtlsTotal[sec] = (v.mtlsTotal[sec] ?? 0) + s.value;
    if (s.labels.destination_service) v.services.add(s.labels.destination_service);
    if (delta === null) continue;
    v.hasWindow = true;
    v.dtSec = Math.max(v.dtSec, dtSec);
    v.delta += delta / dtSec;
    v.mtls[sec] = (v.mtls[sec] ?? 0) + delta;
  }
}

function accOf(accs: Map<string, Acc>, l: Readonly<Record<string, string>>, protocol: 'http' | 'tcp'): Acc {
  const source = end(l, 'source');
  const target = end(l, 'destination');
  const key = `${protocol}|${source.id}>${target.id}`;
  let a = accs.get(key);
  if (!a) accs.set(key, (a = { source, target, protocol, dst: newView(), src: newView(), srcOnly: newView() }));
  // the most specific app/version seen wins (a caller-side series may lack them)
  if (!a.source.version && source.version) a.source = source;
  if (!a.target.version && target.version) a.target = target;
  return a;
}

/** The mTLS state over the window when it had requests, else since the start. */
function mtlsOf(v: View): MtlsState {
  const inWindow = Object.entries(v.mtls).filter(([, n]) => n > 0);
  const kinds = new Set((inWindow.length ? inWindow : Object.entries(v.mtlsTotal).filter(([, n]) => n > 0)).map(([k]) => k));
  if (!kinds.size) return 'unknown';
  if (kinds.size === 1) return kinds.has('mutual_tls') ? 'mutual_tls' : kinds.has('none') ? 'none' : 'unknown';
  return kinds.has('unknown') && kinds.size === 2 ? ([...kinds].find((k) => k !== 'unknown') as MtlsState) : 'mixed';
}

function merge(into: View, from: View): View {
  const out: View = { ...into, codes: { ...into.codes }, buckets: new Map(into.buckets), mtls: { ...into.mtls }, services: new Set(into.services) };
  out.total += from.total;
  out.delta += from.delta;
  out.failed += from.failed;
  out.hasWindow ||= from.hasWindow;
  for (const [c, n] of Object.entries(from.codes)) out.codes[c] = (out.codes[c] ?? 0) + n;
  for (const [le, n] of from.buckets) out.buckets.set(le, (out.buckets.get(le) ?? 0) + n);
  for (const s of from.services) out.services.add(s);
  return out; // mTLS stays the destination's: the caller does not know it
}

/** The graph from every sidecar's last two scrapes and the pods the API lists. */
export function buildGraph(targets: readonly TargetScrapes[], pods: readonly PodInfo[] = []): Graph {
  const accs = new Map<string, Acc>();
  for (const t of targets) {
    addRequests(accs, t);
    addTcp(accs, t);
  }
  const nodes = new Map<string, GraphNode>();
  const node = (n: Acc['source']): void => {
    const have = nodes.get(n.id);
    if (!have) nodes.set(n.id, { id: n.id, namespace: n.namespace, workload: n.workload, app: n.app, version: n.version, pods: 0 });
    else if (!have.version && n.version) Object.assign(have, { app: n.app, version: n.version });
  };
  for (const p of pods) {
    node({ id: `${p.namespace}/${p.workload}`, namespace: p.namespace, workload: p.workload, app: p.app, version: p.version });
    nodes.get(`${p.namespace}/${p.workload}`)!.pods++;
  }
  const httpPairs = new Set([...accs.values()].filter((a) => a.protocol === 'http').map((a) => `${a.source.id}>${a.target.id}`));
  const edges: GraphEdge[] = [];
  const gaps: number[] = [];
  for (const a of accs.values()) {
    if (a.protocol === 'tcp' && httpPairs.has(`${a.source.id}>${a.target.id}`)) continue;
    const hasDst = a.dst.total > 0;
    const v = hasDst ? merge(a.dst, a.srcOnly) : a.src;
    if (v.total === 0 && !v.hasWindow) continue;
    node(a.source);
    node(a.target);
    const count = Object.values(v.codes).reduce((x, y) => x + y, 0);
    if (v.hasWindow && v.dtSec) gaps.push(v.dtSec);
    const services = [...v.services].filter((s) => s !== 'unknown').sort();
    edges.push({
      id: `${a.protocol === 'tcp' ? 'tcp|' : ''}${a.source.id}>${a.target.id}`, source: a.source.id, target: a.target.id,
      services: services.length ? services : [...v.services].slice(0, 1),
      protocol: a.protocol,
      rps: v.hasWindow ? round(v.delta, 3) : null,
      successRate: a.protocol === 'http' && count > 0 ? round((count - v.failed) / count, 4) : null,
      p99Ms: a.protocol === 'http' ? roundOrNull(quantile(0.99, v.buckets), 2) : null,
      mtls: mtlsOf(hasDst ? a.dst : v),
      share: null, total: v.total, codes: v.codes,
    });
  }
  shares(edges, nodes);
  edges.sort((x, y) => x.id.localeCompare(y.id));
  const at = Math.max(0, ...targets.map((t) => t.newer.at));
  return {
    at, windowSec: gaps.length ? round(gaps.reduce((x, y) => x + y, 0) / gaps.length, 2) : null,
    nodes: [...nodes.values()].sort((x, y) => x.id.localeCompare(y.id)), edges, services: splits(edges, nodes),
  };
}

/** Each edge's share of its source's traffic to the same destination app (the weights as they are). */
function shares(edges: GraphEdge[], nodes: Map<string, GraphNode>): void {
  const group = (e: GraphEdge) => `${e.protocol}|${e.source}>${e.services[0] ?? nodes.get(e.target)?.app ?? e.target}`;
  const sums = new Map<string, number>();
  for (const e of edges) if (e.rps !== null) sums.set(group(e), (sums.get(group(e)) ?? 0) + e.rps);
  for (const e of edges) {
    const sum = sums.get(group(e));
    e.share = e.rps !== null && sum ? round(e.rps / sum, 4) : null;
  }
}

function splits(edges: GraphEdge[], nodes: Map<string, GraphNode>): ServiceSplit[] {
  const by = new Map<string, GraphEdge[]>();
  for (const e of edges) {
    if (e.protocol !== 'http') continue;
    for (const s of e.services.filter((x) => x !== 'unknown')) by.set(s, [...(by.get(s) ?? []), e]);
  }
  const out: ServiceSplit[] = [];
  for (const [service, es] of by) {
    if (!es.some((e) => e.target !== 'unknown' || e.rps)) continue;
    const perTarget = new Map<string, { rps: number | null; ok: number; n: number }>();
    for (const e of es) {
      // requests the callers could not deliver (no endpoint, connect failure) count only while they happen
      if (e.target === 'unknown' && !e.rps) continue;
      const p = perTarget.get(e.target) ?? { rps: null, ok: 0, n: 0 };
      if (e.rps !== null) p.rps = (p.rps ?? 0) + e.rps;
      const n = Object.values(e.codes).reduce((x, y) => x + y, 0);
      p.n += n;
      p.ok += e.successRate !== null ? e.successRate * n : 0;
      perTarget.set(e.target, p);
    }
    // every workload of the service's app, with or without traffic (a version at 0 % shows as 0 %)
    const known = es.find((e) => e.target !== 'unknown') ?? es[0]!;
    const app = nodes.get(known.target)?.app;
    const ns = nodes.get(known.target)?.namespace ?? '';
    if (app) for (const n of nodes.values()) if (n.app === app && n.namespace === ns && !perTarget.has(n.id)) perTarget.set(n.id, { rps: 0, ok: 0, n: 0 });
    const total = [...perTarget.values()].reduce((x, p) => x + (p.rps ?? 0), 0);
    const anyRate = [...perTarget.values()].some((p) => p.rps !== null);
    const n = [...perTarget.values()].reduce((x, p) => x + p.n, 0);
    const ok = [...perTarget.values()].reduce((x, p) => x + p.ok, 0);
    out.push({
      service, namespace: ns, rps: anyRate ? round(total, 3) : null, successRate: n ? round(ok / n, 4) : null,
      versions: [...perTarget.entries()].map(([id, p]) => ({
        workload: nodes.get(id)?.workload ?? id, version: id === 'unknown' ? 'not delivered' : nodes.get(id)?.version ?? '', rps: p.rps === null ? null : round(p.rps, 3),
        share: total > 0 && p.rps !== null ? round(p.rps / total, 4) : null, successRate: p.n ? round(p.ok / p.n, 4) : null,
      })).sort((x, y) => x.version.localeCompare(y.version) || x.workload.localeCompare(y.workload)),
    });
  }
  return out.sort((x, y) => x.service.localeCompare(y.service));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
const roundOrNull = (v: number | null, digits: number): number | null => (v === null ? null : round(v, digits));
