// The health, readiness and metrics endpoint every long-running process serves (controller manager and
// scheduler :10257/:10259, service proxy :10256, policy enforcer :9099, DNS :8080/:8181/:9153, the
// sidecar's :15020/:15021): a table of routes on plain node:http, since a handful of fixed GET paths need
// no framework. A route answers from a function; the helpers below build the usual ones (a check that
// is healthy while it returns undefined, a prom-client registry). Tests use `handle()` in-process.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { Registry } from 'prom-client';

/** What a route answers. */
export interface Reply {
  status: number;
  body: string;
  /** content-type (default text/plain) */
  type?: string;
}

/** A route: a path and its answer (from the request's URL, for routes that read the query). */
export interface Route {
  path: string;
  reply(url: URL): Reply | Promise<Reply>;
}

/** Options of `serve` and `routeServer`. */
export interface ServeOptions {
  /** the answer for an unknown path (default 404 `not found`) */
  notFound?: (url: URL) => Reply;
}

/** A listening endpoint. */
export interface Served {
  server: Server;
  port: number;
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/** The answer of `routes` for `url` (404 `not found` for unknown paths; the query goes to the route). */
export async function handle(routes: readonly Route[], url: string, o: ServeOptions = {}): Promise<Reply> {
  const u = new URL(url, 'http://x');
  const r = routes.find((x) => x.path === u.pathname);
  if (!r) return o.notFound?.(u) ?? { status: 404, body: 'not found\n' };
  try {
    return await r.reply(u);
  } catch (e) {
    return { status: 500, body: `${(e as Error).message}\n` };
  }
}

/** A node:http server answering `routes`, not yet listening (for callers that listen it themselves). */
export function routeServer(routes: readonly Route[], o: ServeOptions = {}): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(routes, req.url ?? '/', o).then((r) => res.writeHead(r.status, { 'content-type': r.type ?? 'text/plain' }).end(r.body));
  });
}

/** Serves `routes` on host:port (port 0 picks one). */
export async function serve(host: string, port: number, routes: readonly Route[], o: ServeOptions = {}): Promise<Served> {
  const server = routeServer(routes, o);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port: bound,
    url: `http://${shown}:${bound}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * A health or readiness route: 200 with `okBody` while `problem()` returns undefined, else 503 with
 * `failPrefix` and the problem.
 */
export function checkRoute(path: string, problem: () => string | undefined, o: { okBody?: string; failPrefix?: string } = {}): Route {
  return {
    path,
    reply: () => {
      const p = problem();
      return p === undefined ? { status: 200, body: o.okBody ?? 'ok\n' } : { status: 503, body: `${o.failPrefix ?? ''}${p}\n` };
    },
  };
}

/** `/metrics` from a prom-client registry. */
export function metricsRoute(registry: Registry, path = '/metrics'): Route {
  return { path, reply: async () => ({ status: 200, body: await registry.metrics(), type: registry.contentType }) };
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`${addr}: must be host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (side-by-side clusters and tests pick ports with it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
