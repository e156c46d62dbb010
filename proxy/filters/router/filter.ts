// The terminal `router` handler: applies the route's rewrite (uri, uriRegexRewrite, authority), picks an
// endpoint of the chosen cluster with the cluster's balancer (endpoints selected by the subset's labels),
// and returns `forward` with the head to send and the response header operations. No route (the route
// filter let an unknown host through): forward to the original destination. A cluster with no endpoints:
// 503 `no healthy upstream`, as Envoy answers. The forward carries the exchange policy (../../resilience):
// the route's timeout and retries (Istio's default when the route sets none), the cluster's guard
// (circuit breakers, retry budget, outlier detection — endpoints it ejected are left out of the pick) and a
// re-pick for retries that avoids the endpoints already tried.
import { type HeaderOps } from '../../http1/headers.js';
import { Balancer, type LbEndpoint } from '../../balance/balancer.js';
import { rewritten } from '../../route/match.js';
import type { Cluster, RouteTable } from '../../route/types.js';
import type { MeshEndpoint } from '../../config/types.js';
import { ClusterGuard, DEFAULT_LIMITS } from '../../resilience/cluster.js';
import { DEFAULT_ROUTE_POLICY } from '../../resilience/policy.js';
import type { ExchangePolicy, Upstream } from '../../resilience/exchange.js';
import { respond, type Handler, type HttpContext } from '../chain.js';

/** An endpoint as the router sees it: an address, a port and its pod's labels. */
export interface RouterEndpoint extends LbEndpoint {
  labels: Readonly<Record<string, string>>;
  /** The mesh endpoint it stands for (identity, pod; for metric labels). */
  endpoint?: MeshEndpoint;
}

export interface RouterConfig {
  table: RouteTable;
  /** The ready endpoints of a cluster's service port (the router filters them by the subset's labels). */
  endpoints: (cluster: Cluster) => readonly RouterEndpoint[];
  /**
   * Balancers by cluster, kept by the caller across config changes so that active-request counts and
   * round-robin cursors survive an endpoint update (a balancer is replaced when its policy changes).
   */
  balancers?: Map<string, Balancer<RouterEndpoint>>;
  /** Guards by cluster, kept across config changes like the balancers (their limits follow the config). */
  guards?: Map<string, ClusterGuard>;
}

function merge(list: readonly HeaderOps[], setCookie?: string): HeaderOps {
  const set: (readonly [string, string])[] = [], add: (readonly [string, string])[] = [], remove: string[] = [];
  for (const o of list) { set.push(...o.set); add.push(...o.add); remove.push(...o.remove); }
  if (setCookie) add.push(['set-cookie', setCookie]);
  return { set, add, remove };
}

const selects = (labels: Readonly<Record<string, string>>, ep: RouterEndpoint) => {
  for (const k in labels) if (ep.labels[k] !== labels[k]) return false;
  return true;
};

/** Makes the terminal handler; balancers live as long as the handler (one config). */
export function makeRouter(cfg: RouterConfig): Handler {
  const balancers = cfg.balancers ?? new Map<string, Balancer<RouterEndpoint>>();
  const guards = cfg.guards ?? new Map<string, ClusterGuard>();
  return (ctx: HttpContext) => {
    const dest = ctx.destination;
    if (!dest) {
      if (ctx.route) return respond(500, 'route without destination');
      return { kind: 'forward', address: ctx.peer.destinationIp, port: ctx.peer.destinationPort, head: ctx.head, responseOps: merge(ctx.responseOps) };
    }
    const cluster = cfg.table.clusters.get(dest.cluster);
    if (!cluster) return respond(503, 'no healthy upstream');
    let b = balancers.get(cluster.name);
    if (!b || (b.policy !== cluster.lb && JSON.stringify(b.policy) !== JSON.stringify(cluster.lb))) balancers.set(cluster.name, (b = new Balancer<RouterEndpoint>(cluster.lb)));
    const all = cfg.endpoints(cluster);
    const eps = Object.keys(cluster.labels).length === 0 ? all : all.filter((e) => selects(cluster.labels, e));
    let g = guards.get(cluster.name);
    if (!g) guards.set(cluster.name, (g = new ClusterGuard()));
    g.limits = cluster.limits ?? DEFAULT_LIMITS;
    g.outlier = cluster.outlier ?? null;
    const input = { headers: ctx.view.headers, path: ctx.view.path, sourceIp: ctx.peer.sourceIp };
    const pick = b.pick(g.healthy(eps), input);
    if (!pick) return { ...respond(503, 'no healthy upstream'), flags: 'UH' };
    let head = ctx.head;
    if (ctx.route?.rewrite) {
      const rw = rewritten(ctx.route, ctx.match ?? null, ctx.view);
      const headers = rw.authority !== ctx.view.authority ? head.headers.map((v, i) => (i % 2 === 1 && head.headers[i - 1] === 'host' ? rw.authority : v)) : head.headers;
      head = { ...head, target: rw.path, host: rw.authority, headers };
    }
    const balancer = b, guard = g;
    const endpoint = pick.endpoint;
    const policy: ExchangePolicy = {
      route: ctx.route?.policy ?? DEFAULT_ROUTE_POLICY, guard,
      repick: (avoid) => {
        const healthy = guard.healthy(eps);
        const fresh = avoid.length ? healthy.filter((e) => !avoid.includes(`${e.address}:${e.port}`)) : healthy;
        const p = balancer.pick(fresh.length ? fresh : healthy, input);
        return p && { address: p.endpoint.address, port: p.endpoint.port, release: () => balancer.release(p.endpoint) };
      },
      ...(ctx.delayMs ? { delayMs: ctx.delayMs } : {}),
    };
    const mirrors = ctx.route?.policy?.mirrors;
    if (mirrors) {
      const targets: Upstream[] = [];
      for (const m of mirrors) {
        if (Math.random() * 100 >= m.percent) continue;
        const mc = cfg.table.clusters.get(m.cluster);
        const meps = mc ? cfg.endpoints(mc).filter((e) => selects(mc.labels, e)) : [];
        if (meps.length) { const e = meps[Math.floor(Math.random() * meps.length)]; targets.push({ address: e.address, port: e.port }); }
      }
      if (targets.length) policy.mirrors = targets;
    }
    return {
      kind: 'forward', address: endpoint.address, port: endpoint.port, head, responseOps: merge(ctx.responseOps, pick.setCookie), policy,
      onEnd: () => balancer.release(endpoint),
    };
  };
}

/** The endpoints of `cluster`: all of its service port's, or those its subset's labels select (as the router
 * selects them; for `/explain`, which must not touch the router's balancers). */
export function subsetEndpoints<E extends RouterEndpoint>(cluster: Cluster, all: readonly E[]): readonly E[] {
  return Object.keys(cluster.labels).length === 0 ? all : all.filter((e) => selects(cluster.labels, e));
}
