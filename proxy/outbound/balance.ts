// Endpoint choice. A Balancer picks one of a Service port's ready endpoints per connection; round robin
// now, the layer-7 work (issue 14) adds LEAST_REQUEST, RANDOM and consistent hash behind this interface.
import type { MeshEndpoint } from '../config/types.js';

/** What a balancer may look at for one pick (layer 7 adds the request). */
export interface PickContext {
  /** `ns/name:port` of the Service port. */
  key: string;
  sourceIp: string;
}

/** Picks an endpoint; null when there is none. */
export interface Balancer {
  pick(endpoints: readonly MeshEndpoint[], ctx: PickContext): MeshEndpoint | null;
}

/** Round robin per Service port; the cursor survives endpoint changes (modulo the new length). */
export class RoundRobin implements Balancer {
  private readonly next = new Map<string, number>();
  pick(endpoints: readonly MeshEndpoint[], ctx: PickContext): MeshEndpoint | null {
    if (endpoints.length === 0) return null;
    const i = (this.next.get(ctx.key) ?? 0) % endpoints.length;
    this.next.set(ctx.key, i + 1);
    return endpoints[i];
  }
}
