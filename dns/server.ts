// Wires the parts into one running DNS server: ZoneIndex ← informers, Resolver, AnswerCache, Forwarder,
// UDP+TCP listeners, HTTP health/ready/metrics. `main.ts` only parses flags and calls `startDnsServer`;
// tests call it in-process.

import type { KubeClient } from '../api/client/index.js';
import { ZoneIndex } from './zone/index.js';
import { watchZone } from './zone/watch.js';
import { Resolver } from './answer/resolve.js';
import { AnswerCache } from './serve/cache.js';
import { Handler } from './serve/handler.js';
import { listen } from './serve/listen.js';
import { Forwarder, type Upstream } from './forward/forward.js';
import { buildRegistry, Stats } from './health/metrics.js';
import { serveHttp, type HttpConfig } from './health/http.js';

/** Validated, frozen server settings (see config.ts for the flags). */
export interface DnsConfig {
  listenHost: string;
  listenPort: number;
  zone: string;
  ttl: number;
  podsInsecure: boolean;
  upstreams: Upstream[];
  forwardTimeoutMs: number;
  http: HttpConfig;
  cacheEntries: number;
}

/** A running server. */
export interface DnsServer {
  port: number;
  http: Record<string, string>;
  handler: Handler;
  synced(): boolean;
  waitForSync(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Start everything; the sockets answer SERVFAIL for zone names until the informers synced. */
export async function startDnsServer(cfg: DnsConfig, client: KubeClient, log: (msg: string) => void = () => undefined): Promise<DnsServer> {
  const index = new ZoneIndex([cfg.zone, 'in-addr.arpa', 'ip6.arpa']);
  const cache = new AnswerCache(cfg.cacheEntries);
  const forwarder = cfg.upstreams.length ? new Forwarder({ upstreams: cfg.upstreams, timeoutMs: cfg.forwardTimeoutMs, maxTtl: 3600, maxEntries: cfg.cacheEntries }) : undefined;
  const stats = new Stats();
  const zw = watchZone(client, cfg.zone, index, (names) => {
    cache.invalidate(names);
    forwarder?.invalidate([...names].filter((n) => n.endsWith('.arpa')));
  }, (e) => log(`dns: watch: ${(e as Error).message}`));
  const resolver = new Resolver({ zone: cfg.zone, ttl: cfg.ttl, podsInsecure: cfg.podsInsecure }, index, zw.synced);
  const handler = new Handler(resolver, cache, forwarder, stats);
  const sockets = await listen(handler, cfg.listenHost, cfg.listenPort);
  const registry = buildRegistry({ stats, cache, forwarder, server: `dns://${cfg.listenHost}:${sockets.port}`, zone: cfg.zone + '.', version: '1.11.1' });
  const http = await serveHttp(cfg.http, zw.synced, registry);
  return {
    port: sockets.port,
    http: http.addresses,
    handler,
    synced: zw.synced,
    waitForSync: zw.waitForSync,
    async close() {
      await zw.stop();
      await sockets.close();
      await http.close();
      forwarder?.close();
    },
  };
}
