// Prometheus metrics under CoreDNS' names, so existing dashboards and alerts work unchanged. The hot path
// only bumps plain numbers (`Stats`); prom-client reads them at scrape time through `collect()`, which keeps
// label lookups and histogram work out of the per-query path.

import { Counter, Gauge, Registry } from 'prom-client';
import type { AnswerCache } from '../serve/cache.js';
import type { Forwarder } from '../forward/forward.js';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

/** Plain counters bumped per query. */
export class Stats {
  /** by `${proto}|${type}` */
  readonly requests = new Map<string, number>();
  /** by rcode number */
  readonly responses = new Map<number, number>();
  cacheHits = 0;
  cacheMisses = 0;
  dropped = 0;

  /** Count one request. */
  request(tcp: boolean, qtype: number): void {
    const k = (tcp ? 'tcp|' : 'udp|') + (TYPE_NAMES[qtype] ?? 'other');
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  /** Count one response by RCODE. */
  response(rcode: number): void {
    this.responses.set(rcode, (this.responses.get(rcode) ?? 0) + 1);
  }
}

/** A registry exposing `coredns_*` metrics for these stats. */
export function buildRegistry(o: { stats: Stats; cache: AnswerCache; forwarder?: Forwarder; server: string; zone: string; version: string }): Registry {
  const reg = new Registry();
  const { stats, server, zone } = o;
  new Counter({
    name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.', labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers: [reg],
    collect() {
      this.reset();
      for (const [k, v] of stats.requests) {
        const [proto, type] = k.split('|');
        this.inc({ server, zone: '.', view: '', proto, family: '1', type }, v);
      }
    },
  });
  new Counter({
    name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers: [reg],
    collect() {
      this.reset();
      for (const [k, v] of stats.responses) this.inc({ server, zone: '.', view: '', rcode: RCODE_NAMES[k] ?? String(k), plugin: 'kubernetes' }, v);
    },
  });
  new Counter({
    name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type', 'zones', 'view'], registers: [reg],
    collect() {
      this.reset();
      this.inc({ server, type: 'success', zones: zone, view: '' }, stats.cacheHits + (o.forwarder?.stats.hits ?? 0));
    },
  });
  new Counter({
    name: 'coredns_cache_misses_total', help: 'The count of cache misses.', labelNames: ['server', 'zones', 'view'], registers: [reg],
    collect() {
      this.reset();
      this.inc({ server, zones: zone, view: '' }, stats.cacheMisses);
    },
  });
  new Gauge({
    name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'], registers: [reg],
    collect() {
      this.set({ server, type: 'success', zones: zone, view: '' }, o.cache.size());
    },
  });
  new Counter({
    name: 'coredns_forward_requests_total', help: 'Counter of requests made per upstream.', labelNames: ['to'], registers: [reg],
    collect() {
      this.reset();
      for (const [to, v] of o.forwarder?.stats.requests ?? []) this.inc({ to }, v);
    },
  });
  new Counter({
    name: 'coredns_forward_healthcheck_broken_total', help: 'Counter of the number of complete failures of the upstreams.', registers: [reg],
    collect() {
      this.reset();
      this.inc(o.forwarder?.stats.failures ?? 0);
    },
  });
  new Gauge({ name: 'coredns_build_info', help: 'A metric with a constant 1 value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers: [reg] }).set({ version: o.version, revision: 'shoal', goversion: process.version }, 1);
  return reg;
}
