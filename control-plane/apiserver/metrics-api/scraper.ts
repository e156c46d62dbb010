// The metrics-server inside the API server: every resolution period (15 s by default, as metrics-server's
// --metric-resolution) it scrapes each Node's agent at `/metrics/resource` and keeps, per container and
// per node, the last two samples; the CPU rate is their difference over their time apart (the window),
// so a reading exists only from the second scrape on. A sample whose cumulative CPU went down or whose
// start time changed (a restart) replaces the pair. Containers and nodes missing from a scrape are forgotten.

import type { Clock } from '../../../lib/time/clock.js';

/** One cumulative sample. */
export interface Point {
  /** sample time, ms since epoch */
  ts: number;
  cpuSeconds?: number;
  memoryBytes?: number;
  startTime?: number;
}

/** What one agent scrape gives: per container (`ns/pod/container`) and the node. */
export interface Scrape {
  containers: Map<string, Point>;
  node?: Point;
}

/** A usage reading: cpu in cores, memory in bytes, over `windowMs` ending at `ts`. */
export interface Usage {
  ts: number;
  windowMs: number;
  cpuCores: number;
  memoryBytes: number;
}

/** Prometheus text of /metrics/resource → a Scrape (only the families metrics-server reads). */
export function parseResourceMetrics(text: string): Scrape {
  const out: Scrape = { containers: new Map() };
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)(?:\s+(\d+))?\s*$/;
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const m = line.exec(l);
    if (!m) continue;
    const [, name, labelText, valueText, tsText] = m;
    const labels: Record<string, string> = {};
    for (const lm of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_x, c) => (c === 'n' ? '\n' : c));
    const value = Number(valueText);
    const ts = tsText ? Number(tsText) : Date.now();
    if (!Number.isFinite(value)) continue;
    if (name!.startsWith('container_')) {
      const key = `${labels.namespace}/${labels.pod}/${labels.container}`;
      const p = out.containers.get(key) ?? { ts };
      if (name === 'container_cpu_usage_seconds_total') { p.cpuSeconds = value; p.ts = ts; }
      else if (name === 'container_memory_working_set_bytes') p.memoryBytes = value;
      else if (name === 'container_start_time_seconds') p.startTime = value;
      out.containers.set(key, p);
    } else if (name === 'node_cpu_usage_seconds_total') out.node = { ...(out.node ?? {}), ts, cpuSeconds: value };
    else if (name === 'node_memory_working_set_bytes') out.node = { ts, ...(out.node ?? {}), memoryBytes: value };
  }
  return out;
}

interface Pair {
  prev?: Point;
  cur: Point;
}

function advance(old: Pair | undefined, p: Point): Pair {
  if (!old || p.cpuSeconds === undefined || old.cur.cpuSeconds === undefined) return { cur: p };
  if (p.ts <= old.cur.ts) return old;
  if (p.cpuSeconds < old.cur.cpuSeconds || (p.startTime !== undefined && old.cur.startTime !== undefined && p.startTime !== old.cur.startTime)) return { cur: p };
  return { prev: old.cur, cur: p };
}

function rate(pair: Pair | undefined): Usage | undefined {
  if (!pair?.prev || pair.cur.cpuSeconds === undefined || pair.prev.cpuSeconds === undefined) return undefined;
  const windowMs = pair.cur.ts - pair.prev.ts;
  if (windowMs <= 0) return undefined;
  return { ts: pair.cur.ts, windowMs, cpuCores: ((pair.cur.cpuSeconds - pair.prev.cpuSeconds) * 1000) / windowMs, memoryBytes: pair.cur.memoryBytes ?? 0 };
}

/** The scraper's seams: the nodes to scrape (name → agent base URL) and how to fetch a text. */
export interface ScraperDeps {
  targets(): Promise<{ node: string; url: string }[]>;
  fetchText(url: string): Promise<string>;
  clock: Clock;
  resolutionMs: number;
  log?: (msg: string) => void;
}

/** Keeps the last two samples per container and node; computes usage on demand. */
export class MetricsScraper {
  private readonly containers = new Map<string, Pair>();
  private readonly nodes = new Map<string, Pair>();
  private timer: unknown;
  private stopped = false;

  constructor(private readonly d: ScraperDeps) {}

  /** Scrape now and then every resolution period until stop(). */
  start(): void {
    const tick = async () => {
      await this.scrapeOnce().catch((e) => this.d.log?.(`metrics scrape: ${(e as Error).message}`));
      if (!this.stopped) this.timer = this.d.clock.setTimeout(() => void tick(), this.d.resolutionMs);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.d.clock.clearTimeout(this.timer);
  }

  /** One scrape of every node; a node that fails keeps nothing (its readings go stale, as metrics-server). */
  async scrapeOnce(): Promise<void> {
    const targets = await this.d.targets();
    const seenC = new Set<string>();
    const seenN = new Set<string>();
    await Promise.all(targets.map(async (t) => {
      let s: Scrape;
      try {
        s = parseResourceMetrics(await this.d.fetchText(`${t.url}/metrics/resource`));
      } catch (e) {
        this.d.log?.(`metrics scrape of node ${t.node}: ${(e as Error).message}`);
        return;
      }
      for (const [k, p] of s.containers) {
        seenC.add(k);
        this.containers.set(k, advance(this.containers.get(k), p));
      }
      if (s.node) {
        seenN.add(t.node);
        this.nodes.set(t.node, advance(this.nodes.get(t.node), s.node));
      }
    }));
    for (const k of this.containers.keys()) if (!seenC.has(k)) this.containers.delete(k);
    for (const k of this.nodes.keys()) if (!seenN.has(k)) this.nodes.delete(k);
  }

  /** Usage of each named container of a pod; undefined unless every one has a reading (metrics-server's rule). */
  pod(namespace: string, name: string, containers: string[]): { name: string; usage: Usage }[] | undefined {
    if (!containers.length) return undefined;
    const out: { name: string; usage: Usage }[] = [];
    for (const c of containers) {
      const u = rate(this.containers.get(`${namespace}/${name}/${c}`));
      if (!u) return undefined;
      out.push({ name: c, usage: u });
    }
    return out;
  }

  /** Usage of a node. */
  node(name: string): Usage | undefined {
    return rate(this.nodes.get(name));
  }
}
