// The canary's analysis between two steps: how many requests its pods served, how many failed and the
// p99, from the sidecars' Istio metrics, and the decision. The numbers come from the dashboard's code
// (dashboard/metrics/graph.ts and dashboard/scrape/scraper.ts: which pods are scraped, the Prometheus text,
// edges per workload with codes and p99 from the histogram): one implementation of "what the mesh saw".
// Unlike the dashboard's rolling window, a step is measured between two snapshots, one taken when the
// weight was set and one when the interval is over, so each step is judged only on its own requests.

import type { KubeObject } from '../../../api/meta.js';
import { parseProm } from '../../../dashboard/metrics/prom.js';
import { buildGraph, GRAPH_METRICS, type Graph, type Scrape } from '../../../dashboard/metrics/graph.js';
import { targetOf } from '../../../dashboard/scrape/scraper.js';

/** One workload's requests over a step. */
export interface StepMetrics {
  requests: number;
  failed: number;
  /** failed / requests (0 with no requests) */
  errorRate: number;
  /** 99th percentile (ms) over the step; null with no requests */
  p99Ms: number | null;
}

/** The thresholds of a Canary, parsed. */
export interface Thresholds {
  maxErrorRate: number;
  maxP99Ms: number;
  minRequests: number;
}

/** What to do after a step's analysis. */
export type Verdict =
  | { action: 'wait'; reason: string }
  | { action: 'rollback'; reason: string }
  | { action: 'advance'; reason: string };

const isFailure = (code: string): boolean => code === '0' || code === '' || code.startsWith('5');

/** The requests into `namespace/workload` from the graph's edges: codes summed, the worst edge's p99. */
export function workloadMetrics(g: Graph, namespace: string, workload: string): StepMetrics {
  const id = `${namespace}/${workload}`;
  let requests = 0;
  let failed = 0;
  let p99: number | null = null;
  for (const e of g.edges) {
    if (e.protocol !== 'http' || e.target !== id) continue;
    let n = 0;
    for (const [code, k] of Object.entries(e.codes)) {
      n += k;
      if (isFailure(code)) failed += k;
    }
    requests += n;
    // the edges' histograms are not kept apart from the graph: the slowest caller's p99 is the canary's
    // (an upper bound of the merged p99)
    if (n > 0 && e.p99Ms !== null) p99 = Math.max(p99 ?? 0, e.p99Ms);
  }
  requests = Math.round(requests);
  failed = Math.round(failed);
  return { requests, failed, errorRate: requests ? failed / requests : 0, p99Ms: p99 };
}

/** The decision on one step's metrics (Flagger's: too few requests is no verdict; any threshold crossed rolls back). */
export function decide(m: StepMetrics, t: Thresholds): Verdict {
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
  if (m.requests > 0 && m.errorRate > t.maxErrorRate)
    return { action: 'rollback', reason: `error rate ${pct(m.errorRate)} (${m.failed}/${m.requests}) is above the maximum ${pct(t.maxErrorRate)}` };
  if (m.requests > 0 && m.p99Ms !== null && m.p99Ms > t.maxP99Ms)
    return { action: 'rollback', reason: `p99 ${Math.round(m.p99Ms)}ms is above the maximum ${t.maxP99Ms}ms` };
  if (m.requests < t.minRequests) return { action: 'wait', reason: `waiting for requests: the canary served ${m.requests} of the ${t.minRequests} needed to judge it` };
  return { action: 'advance', reason: `error rate ${pct(m.errorRate)} (${m.failed}/${m.requests}), p99 ${m.p99Ms === null ? '–' : `${Math.round(m.p99Ms)}ms`}` };
}

/** The step after `index` in `steps`, or 'promote' after the last one. */
export function nextStep(steps: readonly number[], index: number): { index: number; weight: number } | 'promote' {
  return index + 1 < steps.length ? { index: index + 1, weight: steps[index + 1]! } : 'promote';
}

// ---------------------------------------------------------------------------------------------
// Snapshots of the namespace's sidecars

/** One snapshot: each sidecar's parsed scrape, by pod. */
export type Snapshot = Map<string, Scrape>;

/** What snapshots read (fakes in tests). */
export interface SnapshotSources {
  pods(namespace: string): KubeObject[];
  fetchText(url: string, timeoutMs: number): Promise<string>;
  now(): number;
}

/** Scrape every sidecar of `namespace` (:`port`/stats/prometheus), each bounded by `timeoutMs`; failures are left out. */
export async function snapshot(src: SnapshotSources, namespace: string, port = 15090, timeoutMs = 1500): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const targets = src.pods(namespace).map(targetOf).filter((x) => !!x);
  await Promise.all(targets.map(async (t) => {
    try {
      const text = await src.fetchText(`http://${t.ip}:${port}/stats/prometheus`, timeoutMs);
      out.set(`${t.name}/${t.ip}`, { at: src.now(), samples: parseProm(text, { names: GRAPH_METRICS }).samples });
    } catch {
      /* a sidecar that does not answer is left out of this step */
    }
  }));
  return out;
}

/** The metrics of `workload` between two snapshots (pods in both; a pod new since `before` counts from 0). */
export function stepMetrics(before: Snapshot, after: Snapshot, namespace: string, workload: string): StepMetrics {
  const scrapes = [...after].map(([k, newer]) => ({ newer, older: before.get(k) ?? { at: newer.at - 1, samples: [] } }));
  return workloadMetrics(buildGraph(scrapes), namespace, workload);
}
