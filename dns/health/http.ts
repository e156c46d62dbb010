// The HTTP side: `/health` (liveness, CoreDNS' health plugin, :8080), `/ready` (readiness, :8181; 503 until
// the informers synced) and `/metrics` (Prometheus, CoreDNS serves it on :9153), on lib/serve. Any of
// them may share a port: one server per distinct address, serving the routes assigned to it.

import type { Registry } from 'prom-client';
import { checkRoute, metricsRoute, serve, splitHostPort, type Route, type Served } from '../../lib/serve/serve.js';

/** Where each endpoint listens ('' or undefined: off). */
export interface HttpConfig {
  health?: string;
  ready?: string;
  metrics?: string;
}

/** Start the HTTP endpoints; resolves with the bound addresses and a close function. */
export async function serveHttp(cfg: HttpConfig, ready: () => boolean, registry: Registry): Promise<{ addresses: Record<string, string>; close(): Promise<void> }> {
  const routes: Record<keyof HttpConfig, Route> = {
    health: checkRoute('/health', () => undefined, { okBody: 'OK' }),
    ready: checkRoute('/ready', () => (ready() ? undefined : 'informers not synced'), { okBody: 'OK' }),
    metrics: metricsRoute(registry),
  };
  const byAddr = new Map<string, (keyof HttpConfig)[]>();
  for (const [what, addr] of Object.entries(cfg) as [keyof HttpConfig, string | undefined][]) if (addr) byAddr.set(addr, [...(byAddr.get(addr) ?? []), what]);
  const servers: Served[] = [];
  const addresses: Record<string, string> = {};
  for (const [addr, whats] of byAddr) {
    const { host, port } = splitHostPort(addr);
    const s = await serve(host, port, whats.map((w) => routes[w]));
    for (const w of whats) addresses[w] = `${host}:${s.port}`;
    servers.push(s);
  }
  return {
    addresses,
    async close() {
      for (const s of servers) await s.close();
    },
  };
}
