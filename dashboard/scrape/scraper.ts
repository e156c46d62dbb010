// Scrapes every pod with a sidecar, every few seconds: the pod list from the API (pods with an
// `istio-proxy` container and an IP, Running), then each sidecar's Prometheus endpoint
// (http://<pod IP>:15090/stats/prometheus) in parallel, each bounded by a timeout. Pods hang off the
// node's bridge, so the host reaches their IPs directly; node → pod traffic is never policed by the
// NetworkPolicy enforcer (node/policy/README.md) and the sidecar's capture rules leave 15090 alone.
// Keeps each sidecar's scrapes over the rate window, and after each round builds the graph
// (../metrics/graph.ts) from the newest and the oldest scrape in the window.

import type { KubeObject } from '../../api/meta.js';
import { endpointWorkload } from '../../proxy/admin/peer-metadata.js';
import { parseProm } from '../metrics/prom.js';
import { buildGraph, GRAPH_METRICS, type Graph, type PodInfo, type Scrape } from '../metrics/graph.js';

/** What the scraper needs from the world (fakes in tests). */
export interface ScrapeSources {
  /** every pod (all namespaces) */
  listPods(): Promise<KubeObject[]>;
  /** GET `url`'s body; rejects on a non-200, an error or the timeout */
  fetchText(url: string, timeoutMs: number): Promise<string>;
  now?: () => number;
}

/** Settings. */
export interface ScraperOptions {
  metricsPort: number;
  /** the rates are over at most this long (ms) */
  windowMs: number;
  timeoutMs: number;
}

/** A scraped sidecar. */
export interface Target extends PodInfo {
  ip: string;
  labels: Record<string, string>;
  /** last scrape error ('' when it worked) */
  error: string;
}

/** A pod the dashboard scrapes, if it is one (a sidecar, an IP, Running). */
export function targetOf(p: KubeObject): Omit<Target, 'error'> | undefined {
  const spec = p.spec ?? {};
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as { name: string }[];
  const ip = p.status?.podIP as string | undefined;
  if (!ip || p.status?.phase !== 'Running' || p.metadata.deletionTimestamp || !containers.some((c) => c.name === 'istio-proxy')) return undefined;
  const labels = p.metadata.labels ?? {};
  return {
    namespace: p.metadata.namespace ?? 'default', name: p.metadata.name!, ip, labels,
    workload: endpointWorkload(p.metadata.name!, labels), app: labels.app ?? labels['app.kubernetes.io/name'] ?? '', version: labels.version ?? labels['app.kubernetes.io/version'] ?? '',
  };
}

/** The scrape loop's state; `round()` runs one round (the caller schedules them). */
export class Scraper {
  private readonly history = new Map<string, Scrape[]>();
  /** per sidecar: label sets by series text (parsed once per series, not once per scrape) */
  private readonly labelCache = new Map<string, Map<string, Readonly<Record<string, string>>>>();
  private targetsNow: Target[] = [];
  private graphNow: Graph = { at: 0, windowSec: null, nodes: [], edges: [], services: [] };
  /** rounds done, and the last round's error (listing pods) */
  rounds = 0;
  lastError = '';

  constructor(private readonly src: ScrapeSources, private readonly o: ScraperOptions) {}

  /** The graph after the last round. */
  get graph(): Graph {
    return this.graphNow;
  }

  /** The sidecars of the last round. */
  get targets(): readonly Target[] {
    return this.targetsNow;
  }

  /** Lists the pods, scrapes each sidecar, rebuilds the graph. Never throws. */
  async round(): Promise<Graph> {
    const now = this.src.now ?? Date.now;
    let pods: KubeObject[];
    try {
      pods = await this.src.listPods();
      this.lastError = '';
    } catch (e) {
      this.lastError = `listing pods: ${(e as Error).message}`;
      return this.graphNow;
    }
    const found = pods.map(targetOf).filter((x): x is Omit<Target, 'error'> => !!x);
    const targets = await Promise.all(found.map(async (t): Promise<Target> => {
      const key = `${t.namespace}/${t.name}/${t.ip}`;
      try {
        const text = await this.src.fetchText(`http://${t.ip}:${this.o.metricsPort}/stats/prometheus`, this.o.timeoutMs);
        const at = now();
        let cache = this.labelCache.get(key);
        if (!cache || cache.size > 20_000) this.labelCache.set(key, (cache = new Map()));
        const h = [...(this.history.get(key) ?? []), { at, samples: parseProm(text, { names: GRAPH_METRICS, cache }).samples }];
        // keep the newest and what is still inside the window (at least one older scrape)
        while (h.length > 2 && at - h[1]!.at >= this.o.windowMs) h.shift();
        this.history.set(key, h);
        return { ...t, error: '' };
      } catch (e) {
        return { ...t, error: (e as Error).message };
      }
    }));
    const live = new Set(found.map((t) => `${t.namespace}/${t.name}/${t.ip}`));
    for (const k of this.history.keys()) if (!live.has(k)) this.history.delete(k);
    for (const k of this.labelCache.keys()) if (!live.has(k)) this.labelCache.delete(k);
    this.targetsNow = targets;
    const scrapes = [...this.history.values()].map((h) => ({ newer: h[h.length - 1]!, ...(h.length > 1 ? { older: h[0]! } : {}) }));
    this.graphNow = buildGraph(scrapes, targets);
    this.rounds++;
    return this.graphNow;
  }
}
