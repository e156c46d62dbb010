// The proxy's HTTP endpoints, each on its port as Istio's sidecar has them:
//   :15000 admin   /config_dump (live config JSON; ?resource=routes: the route table), /clusters, /certs, /stats,
//                  /ready, /explain?url=&method=&header=name:value&source= (explain.ts: what a request would get)
//   :15021         /healthz/ready (200 only with a certificate and a complete first config)
//   :15090         /stats/prometheus (istio_tcp_* and the proxy's own)
//   :15020         /stats/prometheus merged with the app's metrics (ISTIO_PROMETHEUS_ANNOTATIONS), /healthz/ready,
//                  /app-health/<container>/<kind> (the app's rewritten probes, app-health.ts)
import { createServer, get as httpGet, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ConfigSource } from '../config/source.js';
import type { TunnelClient } from '../hbone/client.js';
import type { ProxyContext } from '../context.js';
import { appHealthRoutes, type AppProbers } from './app-health.js';
import { explainRequest, routesDump, type ClusterEndpoints } from './explain.js';

/** What the admin endpoints show besides the context. */
export interface AdminDeps {
  source: ConfigSource;
  tunnel: TunnelClient;
  /** Where the app's metrics are, for :15020 merging (null: none). */
  appMetrics: { port: number; path: string } | null;
  startedAt: Date;
  /** The app's probes served on :15020 /app-health/... (ISTIO_KUBE_APP_PROBERS; app-health.ts). */
  appProbers?: AppProbers;
  /** The data path's endpoints per cluster (proxy/outbound/http.ts clusterEndpoints), for /explain; default: explain.ts's. */
  clusterEndpoints?: ClusterEndpoints;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}
function text(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

/** Ready: a certificate and every config type applied once. */
export function readiness(ctx: ProxyContext): { ready: boolean; reason: string } {
  if (!ctx.identity.current) return { ready: false, reason: `no certificate yet${ctx.identity.lastError ? `: ${ctx.identity.lastError}` : ''}` };
  if (!ctx.store.complete) return { ready: false, reason: 'no complete configuration yet' };
  return { ready: true, reason: 'LIVE' };
}

function certInfo(ctx: ProxyContext): unknown {
  const c = ctx.identity.current;
  if (!c) return { certificates: [] };
  return {
    certificates: [{
      identity: c.identity, serial_number: c.serial, valid_from: c.notBefore.toISOString(), expiration_time: c.notAfter.toISOString(),
      days_until_expiration: Math.floor((c.notAfter.getTime() - Date.now()) / 86_400_000), chain_length: c.chainPem.length,
      cert_chain: c.chainPem,
    }],
    issued: ctx.identity.counters.issued, failures: ctx.identity.counters.failures, last_error: ctx.identity.lastError,
  };
}

function clusters(ctx: ProxyContext, deps: AdminDeps): unknown {
  const snap = ctx.store.snapshot;
  return {
    clusters: snap.config.services.flatMap((s) => s.ports.map((p) => ({
      name: `outbound|${p.port}||${s.hostname}`, service: `${s.namespace}/${s.name}`, vips: s.vips,
      endpoints: (snap.endpoints.get(`${s.namespace}/${s.name}`) ?? []).map((e) => ({
        address: e.address, port: (p.name ? e.ports.find((x) => x.name === p.name)?.port : undefined) ?? p.targetPort,
        pod: e.podName, identity: e.identity, mesh: e.mesh,
      })),
    }))),
    tunnel: { mode: deps.tunnel.mode, sessions: deps.tunnel.sessions() },
  };
}

function stats(ctx: ProxyContext, deps: AdminDeps): string {
  const lines = [
    `server.uptime_seconds: ${Math.round((Date.now() - deps.startedAt.getTime()) / 1000)}`,
    `server.fd_budget_limit: ${ctx.budget.limit}`,
    `server.fd_in_use: ${ctx.budget.inUse}`,
    `server.connections_refused: ${ctx.budget.counters.refused}`,
    `server.emfile: ${ctx.budget.counters.emfile}`,
    `tunnel.sessions_opened: ${deps.tunnel.counters.sessions}`,
    `tunnel.streams_opened: ${deps.tunnel.counters.streams}`,
    `tunnel.session_failures: ${deps.tunnel.counters.handshakeFailures}`,
    `identity.certificates_issued: ${ctx.identity.counters.issued}`,
    `identity.failures: ${ctx.identity.counters.failures}`,
    ...Object.entries(ctx.store.snapshot.config.versions).map(([t, v]) => `config.version.${t}: ${v}`),
  ];
  return lines.join('\n') + '\n';
}

function fetchApp(target: { port: number; path: string }): Promise<string> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port: target.port, path: target.path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => { req.destroy(); resolve(''); });
  });
}

function server(routes: Record<string, Handler>): Server {
  const s = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const h = routes[path];
    if (!h) return text(res, 404, 'not found\n');
    Promise.resolve(h(req, res)).catch((e) => text(res, 500, `${(e as Error).message}\n`));
  });
  s.on('error', () => { /* listen errors surface through listen() */ });
  return s;
}

/** The four HTTP servers, keyed by role (not yet listening). */
export function createAdminServers(ctx: ProxyContext, deps: AdminDeps): { admin: Server; health: Server; prom: Server; merged: Server } {
  const ready: Handler = (_q, res) => {
    const r = readiness(ctx);
    text(res, r.ready ? 200 : 503, r.ready ? 'LIVE\n' : `${r.reason}\n`);
  };
  const configDump = (res: ServerResponse): void => json(res, 200, {
    versions: ctx.store.snapshot.config.versions, source: deps.source.status(), workload: ctx.store.snapshot.config.workload,
    services: ctx.store.snapshot.config.services, endpoints: ctx.store.snapshot.config.endpoints,
    authorization: ctx.store.snapshot.authorizer.policyIds, certificates: certInfo(ctx),
    routing: ctx.store.snapshot.config.routing, routeWarnings: ctx.store.snapshot.routeWarnings,
  });
  const prom: Handler = async (_q, res) => text(res, 200, await ctx.metrics.registry.metrics(), ctx.metrics.registry.contentType);
  return {
    admin: server({
      '/config_dump': (q, res) => {
        const resource = new URL(q.url ?? '/', 'http://admin').searchParams.get('resource');
        if (resource === 'routes') return json(res, 200, routesDump(ctx.store.snapshot, deps.clusterEndpoints));
        if (resource) return text(res, 400, `resource: unknown ${JSON.stringify(resource)} (supported: routes)\n`);
        return configDump(res);
      },
      '/explain': (q, res) => {
        const p = new URL(q.url ?? '/', 'http://admin').searchParams;
        const url = p.get('url');
        if (!url) return text(res, 400, 'url: required (e.g. /explain?url=http://reviews:9080/ratings&header=end-user:jason)\n');
        const headers: [string, string][] = [];
        for (const h of p.getAll('header')) {
          const c = h.indexOf(':');
          if (c <= 0) return text(res, 400, `header: ${JSON.stringify(h)}: expected name:value\n`);
          headers.push([h.slice(0, c), h.slice(c + 1)]);
        }
        const direction = p.get('direction') ?? 'outbound';
        if (direction !== 'outbound' && direction !== 'inbound') return text(res, 400, `direction: ${JSON.stringify(direction)}: outbound or inbound\n`);
        const port = p.get('port');
        if (port !== null && !(Number(port) >= 1 && Number(port) <= 65535 && Number.isInteger(Number(port)))) return text(res, 400, `port: ${JSON.stringify(port)}: must be between 1 and 65535\n`);
        const out = explainRequest(ctx.store.snapshot, {
          ...(port !== null ? { port: Number(port) } : {}),
          url, method: p.get('method') ?? 'GET', headers, source: p.get('source') ?? '', sourceIp: p.get('source_ip') ?? '', direction,
        }, deps.clusterEndpoints);
        json(res, out.error ? 400 : 200, out);
      },
      '/clusters': (_q, res) => json(res, 200, clusters(ctx, deps)),
      '/certs': (_q, res) => json(res, 200, certInfo(ctx)),
      '/stats': (_q, res) => text(res, 200, stats(ctx, deps)),
      '/ready': ready,
    }),
    health: server({ '/healthz/ready': ready }),
    prom: server({ '/stats/prometheus': prom }),
    merged: server({
      ...appHealthRoutes(deps.appProbers ?? {}),
      '/healthz/ready': ready,
      '/stats/prometheus': async (_q, res) => {
        const own = await ctx.metrics.registry.metrics();
        const app = deps.appMetrics ? await fetchApp(deps.appMetrics) : '';
        text(res, 200, own + (app ? `\n${app}` : ''), ctx.metrics.registry.contentType);
      },
    }),
  };
}
