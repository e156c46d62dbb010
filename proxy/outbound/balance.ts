// Layer-4 endpoint choice on the engine's balancers (../balance/): a Service port's cluster in the route
// table (`outbound|port||host`) carries the DestinationRule's load-balancer policy (Istio's default
// LEAST_REQUEST, which at layer 4 counts open connections), and one Balancer per cluster lives across
// config snapshots so its counts survive endpoint updates. The connection releases its endpoint on close.
import { Balancer as EngineBalancer, type LbEndpoint } from '../balance/balancer.js';
import { DEFAULT_LB, type LbPolicy } from '../balance/policy.js';
import type { MeshEndpoint } from '../config/types.js';

/** What a balancer may look at for one pick. */
export interface PickContext {
  /** The cluster (`outbound|port||host`) or `ns/name:port`. */
  key: string;
  sourceIp: string;
  /** The cluster's policy (DestinationRule); Istio's default when absent. */
  lb?: LbPolicy;
}

/** Picks an endpoint (null when there is none); `release` when the connection ends. */
export interface Balancer {
  pick(endpoints: readonly MeshEndpoint[], ctx: PickContext): MeshEndpoint | null;
  release(key: string, endpoint: MeshEndpoint): void;
}

interface Wrapped extends LbEndpoint { ep: MeshEndpoint }

/** The engine's balancers, one per cluster key. */
export class ClusterBalancers implements Balancer {
  private readonly byKey = new Map<string, EngineBalancer<Wrapped>>();

  pick(endpoints: readonly MeshEndpoint[], ctx: PickContext): MeshEndpoint | null {
    const lb = ctx.lb ?? DEFAULT_LB;
    let b = this.byKey.get(ctx.key);
    if (!b || JSON.stringify(b.policy) !== JSON.stringify(lb)) this.byKey.set(ctx.key, (b = new EngineBalancer<Wrapped>(lb)));
    const p = b.pick(endpoints.map((ep) => ({ address: ep.address, port: ep.ports[0]?.port ?? 0, ep })), { headers: [], path: '/', sourceIp: ctx.sourceIp });
    return p ? p.endpoint.ep : null;
  }

  release(key: string, endpoint: MeshEndpoint): void {
    this.byKey.get(key)?.release({ address: endpoint.address, port: endpoint.ports[0]?.port ?? 0 });
  }
}
