// The HTTP side: `/health` (liveness, CoreDNS' health plugin, :8080), `/ready` (readiness, :8181; 503 until
// the informers synced) and `/metrics` (Prometheus, CoreDNS serves it on :9153). Plain node:http: three
// fixed routes do not need a framework. Any of them may share a port.

import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Where each endpoint listens ('' or undefined: off). */
export interface HttpConfig {
  health?: string;
  ready?: string;
  metrics?: string;
}

/** Start the HTTP endpoints; resolves with the bound addresses and a close function. */
export async function serveHttp(cfg: HttpConfig, ready: () => boolean, registry: Registry): Promise<{ addresses: Record<string, string>; close(): Promise<void> }> {
  const byAddr = new Map<string, Set<string>>();
  for (const [what, addr] of Object.entries(cfg)) if (addr) byAddr.set(addr, (byAddr.get(addr) ?? new Set()).add(what));
  const servers: Server[] = [];
  const addresses: Record<string, string> = {};
  for (const [addr, whats] of byAddr) {
    const s = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/health' && whats.has('health')) return void res.end('OK');
      if (path === '/ready' && whats.has('ready')) {
        res.statusCode = ready() ? 200 : 503;
        return void res.end(ready() ? 'OK' : 'informers not synced');
      }
      if (path === '/metrics' && whats.has('metrics')) {
        registry.metrics().then((m) => {
          res.setHeader('content-type', registry.contentType);
          res.end(m);
        }, (e: Error) => {
          res.statusCode = 500;
          res.end(e.message);
        });
        return;
      }
      res.statusCode = 404;
      res.end('not found');
    });
    const { host, port } = splitHostPort(addr);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => resolve());
    });
    const a = s.address() as { port: number };
    for (const w of whats) addresses[w] = `${host}:${a.port}`;
    servers.push(s);
  }
  return {
    addresses,
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`${addr}: must be host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}
