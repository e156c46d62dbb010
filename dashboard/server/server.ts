// The dashboard's HTTP server: the single page (ui/index.html, app.js, style.css, read from the source
// tree: no build step), the JSON API the page uses, and a Server-Sent Events stream that pushes the graph
// after every scrape round (the page also polls /api/graph when EventSource is not there).
//
//   GET /                      the page
//   GET /api/graph             the graph (../metrics/graph.ts) with the scraper's state
//   GET /api/summary?service=  one service's split as a line of text and as JSON (`shoal up`'s live line)
//   GET /api/workload?namespace=&workload=   the details panel (details.ts)
//   GET /api/events            text/event-stream: `event: graph` after each round
//   GET /healthz, /ready       200 (ready once the first round is done)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../metrics/graph.js';
import { findSplit, summaryLine } from '../metrics/summary.js';
import type { Target } from '../scrape/scraper.js';
import { workloadDetails, type DetailSources } from './details.js';

/** What the server shows (the scrape loop behind it). */
export interface DashboardState {
  graph(): Graph;
  targets(): readonly Target[];
  rounds(): number;
  lastError(): string;
  scrapeIntervalMs: number;
  /** calls `fn` after every round; returns the unsubscribe */
  onRound(fn: (g: Graph) => void): () => void;
}

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const FILES: Record<string, string> = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' };

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/** The graph as the API returns it: the graph, plus how the scraping goes. */
export function graphDocument(s: DashboardState): unknown {
  return {
    ...s.graph(), rounds: s.rounds(), scrapeIntervalMs: s.scrapeIntervalMs, error: s.lastError(),
    targets: s.targets().map((t) => ({ namespace: t.namespace, pod: t.name, workload: t.workload, ip: t.ip, error: t.error })),
  };
}

/** The server (not yet listening). `uiDir` holds index.html, app.js and style.css. */
export function createDashboardServer(state: DashboardState, details: DetailSources, uiDir: string, rootNamespace = 'istio-system'): Server {
  const streams = new Set<ServerResponse>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, JSON.stringify({ error: 'only GET' }));
    const file = FILES[url.pathname];
    if (file) return send(res, 200, readFileSync(join(uiDir, file), 'utf8'), TYPES[file.split('.').pop()!]);
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, 'ok\n', 'text/plain');
      case '/ready':
        return state.rounds() > 0 ? send(res, 200, 'ok\n', 'text/plain') : send(res, 503, 'no scrape round yet\n', 'text/plain');
      case '/api/graph':
        return send(res, 200, JSON.stringify(graphDocument(state)));
      case '/api/summary': {
        const service = url.searchParams.get('service');
        if (!service) return send(res, 400, JSON.stringify({ error: 'service: Required value (a Service name, name.namespace or FQDN)' }));
        const g = state.rounds() ? state.graph() : undefined;
        return send(res, 200, JSON.stringify({ line: summaryLine(g, service), split: g ? findSplit(g, service) ?? null : null }));
      }
      case '/api/workload': {
        const namespace = url.searchParams.get('namespace');
        const workload = url.searchParams.get('workload');
        const missing = [!namespace && 'namespace', !workload && 'workload'].filter(Boolean);
        if (missing.length) return send(res, 400, JSON.stringify({ error: missing.map((m) => `${m}: Required value`).join('; ') }));
        const d = await workloadDetails(details, state.targets(), namespace!, workload!, rootNamespace);
        return d ? send(res, 200, JSON.stringify(d)) : send(res, 404, JSON.stringify({ error: `workload ${namespace}/${workload}: no pod with a sidecar` }));
      }
      case '/api/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`retry: 2000\nevent: graph\ndata: ${JSON.stringify(graphDocument(state))}\n\n`);
        streams.add(res);
        const off = state.onRound(() => res.write(`event: graph\ndata: ${JSON.stringify(graphDocument(state))}\n\n`));
        req.on('close', () => {
          off();
          streams.delete(res);
        });
        return;
      }
      default:
        return send(res, 404, JSON.stringify({ error: `${url.pathname}: not found` }));
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ error: (e as Error).message }));
      else res.end();
    });
  });
  // SSE streams never end by themselves: close them with the server
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const r of streams) r.end();
    streams.clear();
    server.closeIdleConnections?.();
    return close(cb);
  }) as typeof server.close;
  return server;
}
