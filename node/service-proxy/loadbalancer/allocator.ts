// A simple LoadBalancer IP allocator (MetalLB-like, one pool): a Service of type LoadBalancer without an
// ingress IP gets the lowest free address of `--load-balancer-cidr`, written to
// `status.loadBalancer.ingress`; the nftables backend then DNATs it like an external IP.

import { isNotFound, type KubeClient } from '../../../api/client/index.js';
import type { KubeObject } from '../../../api/meta.js';
import { hostsOf } from '../../../lib/net/ip.js';

/** The lowest free address, or undefined when the pool is used up (pure). */
export function pickFree(pool: string[], used: Set<string>): string | undefined {
  return pool.find((ip) => !used.has(ip));
}

/** Allocates from the pool for services that need it. */
export class LbAllocator {
  private readonly pool: string[];
  private list: () => KubeObject[] = () => [];
  private queue = new Set<KubeObject>();
  private busy = false;
  private stopped = false;

  constructor(private readonly client: KubeClient, cidr: string, private readonly log: (l: 'info' | 'warn' | 'error', m: string) => void) {
    this.pool = hostsOf(cidr);
  }

  /** Begins (after the informer synced), given the cache. */
  start(list: () => KubeObject[]): void {
    this.list = list;
    for (const s of list()) this.enqueue(s);
  }

  /** Looks at a Service later. */
  enqueue(s: KubeObject): void {
    if (s.spec?.type !== 'LoadBalancer' || s.status?.loadBalancer?.ingress?.length || s.metadata.deletionTimestamp) return;
    this.queue.add(s);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy || this.stopped || this.list().length === 0) return;
    this.busy = true;
    try {
      for (const s of this.queue) {
        this.queue.delete(s);
        const used = new Set<string>();
        for (const o of this.list()) for (const i of o.status?.loadBalancer?.ingress ?? []) if (i.ip) used.add(i.ip);
        const ip = pickFree(this.pool, used);
        if (!ip) {
          this.log('warn', `service ${s.metadata.namespace}/${s.metadata.name}: status.loadBalancer.ingress: load balancer pool exhausted`);
          continue;
        }
        const next = structuredClone(s);
        next.status = { ...next.status, loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
        await this.client.updateStatus({ apiVersion: 'v1', plural: 'services', namespaced: true }, next).catch((e) => {
          if (!isNotFound(e)) this.log('warn', `service ${s.metadata.namespace}/${s.metadata.name}: status.loadBalancer: ${(e as Error).message}`);
        });
        // the update's watch event brings the IP into the cache before the next allocation looks
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      this.busy = false;
    }
  }

  /** Stops allocating. */
  stop(): void {
    this.stopped = true;
    this.queue.clear();
  }
}
