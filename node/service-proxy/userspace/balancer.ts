// Round robin over ready endpoints with ClientIP session affinity (kube-proxy userspace mode's
// LoadBalancerRR), pure apart from the clock seam: one instance per service port.

import { usableEndpoints, type Endpoint, type ServicePort } from '../model/servicemap.js';

/** Picks endpoints in turn; a client with affinity keeps its endpoint until `affinitySeconds` idle. */
export class RoundRobin {
  private eps: Endpoint[] = [];
  private next = 0;
  private affinitySeconds?: number;
  private readonly sticky = new Map<string, { ep: Endpoint; last: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a new endpoint list; keeps the turn position and affinities to endpoints that remain. */
  update(sp: ServicePort, localNode?: string): void {
    const eps = usableEndpoints(sp.endpoints, sp.internalLocal ? localNode : undefined);
    const same = eps.length === this.eps.length && eps.every((e, i) => e.ip === this.eps[i].ip && e.port === this.eps[i].port);
    if (!same) {
      this.eps = eps;
      this.next = this.eps.length ? this.next % this.eps.length : 0;
      const alive = new Set(eps.map((e) => `${e.ip}:${e.port}`));
      for (const [c, s] of this.sticky) if (!alive.has(`${s.ep.ip}:${s.ep.port}`)) this.sticky.delete(c);
    }
    this.affinitySeconds = sp.affinitySeconds;
    if (this.affinitySeconds === undefined) this.sticky.clear();
  }

  /** How many endpoints there are to pick from. */
  get size(): number {
    return this.eps.length;
  }

  /** The endpoint for a new connection from `client`; `skip` excludes endpoints that just failed. */
  pick(client: string, skip: Set<string> = new Set()): Endpoint | undefined {
    if (!this.eps.length) return undefined;
    const t = this.now();
    if (this.affinitySeconds !== undefined) {
      const s = this.sticky.get(client);
      if (s && t - s.last < this.affinitySeconds * 1000 && !skip.has(`${s.ep.ip}:${s.ep.port}`)) {
        s.last = t;
        return s.ep;
      }
    }
    for (let i = 0; i < this.eps.length; i++) {
      const ep = this.eps[this.next];
      this.next = (this.next + 1) % this.eps.length;
      if (skip.has(`${ep.ip}:${ep.port}`)) continue;
      if (this.affinitySeconds !== undefined) this.sticky.set(client, { ep, last: t });
      return ep;
    }
    return undefined;
  }
}
