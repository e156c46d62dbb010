// The dashboard as a running component: an API client, the scrape loop (a round every
// --scrape-interval, never two at once) and the HTTP server. Used by main.ts (standalone) and by
// `shoal up`'s control-plane process (cli/up/group.ts).

import { request } from 'undici';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../api/client/index.js';
import type { Graph } from './metrics/graph.js';
import { Scraper, type ScrapeSources } from './scrape/scraper.js';
import { createDashboardServer, type DashboardState } from './server/server.js';
import type { DetailSources } from './server/details.js';
import type { DashboardConfig } from './flags.js';

/** The page's files: dashboard/ui in the source tree (dist/dashboard/run.js → ../../dashboard/ui). */
export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard', 'ui');

const REFS = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  virtualservices: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  destinationrules: { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true },
  peerauthentications: { apiVersion: 'security.istio.io/v1', plural: 'peerauthentications', namespaced: true },
  authorizationpolicies: { apiVersion: 'security.istio.io/v1', plural: 'authorizationpolicies', namespaced: true },
} as const;

/** GET a URL's body as text; rejects on a non-200 or after `timeoutMs`. */
export async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const r = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  const body = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${url}: HTTP ${r.statusCode}`);
  return body;
}

/** A running dashboard. */
export interface Dashboard {
  url: string;
  port: number;
  scraper: Scraper;
  stop(): Promise<void>;
}

/** Starts the loop and the server; `client` and `sources` are for tests. */
export async function runDashboard(c: DashboardConfig, o: { client?: KubeClient; sources?: ScrapeSources; details?: DetailSources; uiDir?: string } = {}): Promise<Dashboard> {
  const ownClient = !o.client && !(o.sources && o.details);
  const client = o.client ?? (ownClient ? KubeClient.fromKubeconfig(c.kubeconfig ? { path: c.kubeconfig } : {}) : (undefined as unknown as KubeClient));
  const sources: ScrapeSources = o.sources ?? {
    listPods: async () => (await client.list(REFS.pods)).items,
    fetchText,
  };
  const scraper = new Scraper(sources, { metricsPort: c.metricsPort, windowMs: c.windowMs, timeoutMs: c.scrapeTimeoutMs });
  const listeners = new Set<(g: Graph) => void>();
  const state: DashboardState = {
    graph: () => scraper.graph, targets: () => scraper.targets, rounds: () => scraper.rounds, lastError: () => scraper.lastError,
    scrapeIntervalMs: c.scrapeIntervalMs,
    onRound: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const details: DetailSources = o.details ?? {
    list: async (kind, namespace) => (await client.list(REFS[kind], namespace ? { namespace } : {})).items,
    certs: async (ip) => JSON.parse(await fetchText(`http://${ip}:${c.adminPort}/certs`, c.scrapeTimeoutMs)),
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    running = scraper.round().then((g) => {
      for (const fn of listeners) fn(g);
    }, () => undefined).finally(() => {
      if (!stopped) timer = setTimeout(loop, c.scrapeIntervalMs);
    });
  };
  loop();
  const server = createDashboardServer(state, details, o.uiDir ?? UI_DIR, c.rootNamespace);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', (e) => rej(new Error(`dashboard: listen ${c.bindAddress}:${c.port}: ${e.message}`)));
      server.listen(c.port, c.bindAddress, () => res());
    });
  } catch (e) {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    if (ownClient) await client.close();
    throw e;
  }
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${c.bindAddress === '0.0.0.0' ? '127.0.0.1' : c.bindAddress}:${port}/`, port, scraper,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await new Promise<void>((res) => server.close(() => res()));
      if (ownClient) await client.close();
    },
  };
}
