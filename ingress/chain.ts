// The ingress's request path, assembled from the proxy engine: the filter chain as data
// (route → redirect → header-modifier → mirror → backend-check) ending in the engine's router, the endpoints of a
// cluster from the mesh snapshot (Service port → endpoint port by name, else targetPort, as the sidecar's
// outbound does), the per-listener dispatch (X-Forwarded-For/-Proto, the view's scheme), and the upstream
// dialer: HBONE/mTLS to meshed pods, plain TCP otherwise, with one retry on another endpoint of the same
// Service when a connect fails (a pod that just went away during a rolling update).
import type { Snapshot } from '../proxy/config/store.js';
import type { MeshEndpoint } from '../proxy/config/types.js';
import { buildChain, respond, viewOf, type ChainEntry, type FilterDefinition, type Handler, type HttpContext, type PeerInfo } from '../proxy/filters/chain.js';
import { BUILTIN_FILTERS } from '../proxy/filters/registry.js';
import { makeRouter, type RouterEndpoint } from '../proxy/filters/router/filter.js';
import type { Dispatch } from '../proxy/http1/connection.js';
import type { Dialer } from '../proxy/http1/pool.js';
import { plainIp } from '../proxy/net/cidr.js';
import type { Cluster, RouteTable } from '../proxy/route/types.js';
import { mirrorFilter, type MirrorConfig } from './mirror.js';

/** The ingress's own filter: a Gateway API backendRef that could not be resolved answers 500 for its share. */
export const backendCheckFilter: FilterDefinition<Record<string, never>> = {
  name: 'backend-check',
  parse: (raw: any, path) => (Object.keys(raw ?? {}).length ? { errors: [`${path}: backend-check has no settings`] } : { config: {}, errors: [] }),
  make: () => (next) => (ctx) => (ctx.destination?.cluster.startsWith('invalid|') ? respond(500, 'invalid backend\n') : next(ctx)),
};

/** The ingress chain, in order (data: README lists it). */
export const INGRESS_CHAIN: readonly ChainEntry[] = ['route', 'redirect', 'header-modifier', 'mirror', 'backend-check'].map((name) => ({ name }));

const REGISTRY: ReadonlyMap<string, FilterDefinition<any>> = new Map([...BUILTIN_FILTERS, [backendCheckFilter.name, backendCheckFilter], [mirrorFilter.name, mirrorFilter]]);

/** Endpoints per cluster of one snapshot (computed once per cluster and snapshot). */
export class EndpointIndex {
  private readonly memo = new Map<string, RouterEndpoint[]>();
  /** `address:port` → the cluster's endpoints (for the retry on another endpoint). */
  private readonly peers = new Map<string, RouterEndpoint[]>();

  constructor(readonly snap: Snapshot) {}

  endpoints(cluster: Cluster): readonly RouterEndpoint[] {
    const have = this.memo.get(cluster.name);
    if (have) return have;
    const svc = this.snap.config.services.find((s) => s.hostname.toLowerCase() === cluster.host);
    const sp = svc?.ports.find((p) => p.port === cluster.port);
    const out: RouterEndpoint[] = [];
    if (svc && sp) {
      for (const ep of this.snap.endpoints.get(`${svc.namespace}/${svc.name}`) ?? []) {
        const named = sp.name ? ep.ports.find((p) => p.name === sp.name) : undefined;
        const port = named?.port ?? (ep.ports.length === 1 && !ep.ports[0].name ? ep.ports[0].port : sp.targetPort || sp.port);
        out.push({ address: ep.address, port, labels: ep.labels });
      }
    }
    this.memo.set(cluster.name, out);
    for (const e of out) this.peers.set(`${e.address}:${e.port}`, out);
    return out;
  }

  /** Another endpoint of the cluster `address:port` was picked from (undefined when there is none). */
  alternative(address: string, port: number): RouterEndpoint | undefined {
    const list = this.peers.get(`${address}:${port}`);
    const others = list?.filter((e) => !(e.address === address && e.port === port)) ?? [];
    return others.length ? others[Math.floor(Math.random() * others.length)] : undefined;
  }

  /** The mesh record of a pod address (identity, mesh). */
  pod(address: string): MeshEndpoint | undefined {
    return this.snap.pods.get(plainIp(address));
  }
}

/** A handler for `table` whose endpoints come from `index()` (the current snapshot's index); `mirror` = the RequestMirror settings. */
export function buildHandler(table: RouteTable, index: () => EndpointIndex, mirror: MirrorConfig = { mirrors: new Map(), send: () => undefined }): { handler?: Handler; errors: string[] } {
  const router = makeRouter({ table, endpoints: (c) => index().endpoints(c) });
  const config = (name: string): unknown => (name === 'route' ? { table } : name === 'mirror' ? mirror : undefined);
  return buildChain(INGRESS_CHAIN.map((e) => ({ name: e.name, ...(config(e.name) ? { config: config(e.name) } : {}) })), REGISTRY, router, 'ingress.filters');
}

/** The dispatch of one listener (`port` is the logical port the table is keyed by: 80 or 443). */
export function ingressDispatch(handler: () => Handler, port: number, scheme: 'http' | 'https'): Dispatch {
  return (head, info) => {
    const peer: PeerInfo = { principal: '', namespace: '', sourceIp: info.remoteAddress, destinationIp: '', destinationPort: port, sourceLabels: {} };
    let xff = info.remoteAddress;
    const h = head.headers;
    const headers: string[] = [];
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] === 'x-forwarded-for') xff = `${h[i + 1]}, ${info.remoteAddress}`;
      else if (h[i] !== 'x-forwarded-proto') headers.push(h[i], h[i + 1]);
    }
    headers.push('x-forwarded-for', xff, 'x-forwarded-proto', scheme);
    const fwd = { ...head, headers };
    const ctx: HttpContext = { head: fwd, view: viewOf(fwd, peer, port, scheme), peer, responseOps: [] };
    return handler()(ctx);
  };
}

/** How long an endpoint whose connection failed or was reset is avoided by new dials (when another exists). */
export const AVOID_MS = 2000;

/**
 * Dials `address:port` with `dial`; on a connect failure, once more to another endpoint of the same cluster.
 * An endpoint whose connect failed or whose connection was reset in the last AVOID_MS is skipped for
 * another one (passive outlier detection in miniature): the retry of a request reset by a server that is
 * shutting down must not go back to it while its listening socket is still closing.
 */
export function retryingDialer(dial: Dialer, index: () => EndpointIndex, onRetry?: (from: string, to: string, err: Error) => void, now = Date.now): Dialer {
  const failed = new Map<string, number>();
  const mark = (k: string) => { failed.set(k, now()); if (failed.size > 1024) failed.delete(failed.keys().next().value!); };
  const watched: Dialer = (address, port, cb) => dial(address, port, (err, sock) => {
    const k = `${address}:${port}`;
    if (err) { mark(k); return cb(err); }
    sock!.on('error', () => mark(k));
    cb(null, sock);
  });
  return (address, port, cb) => {
    const k = `${address}:${port}`;
    const t = failed.get(k);
    if (t !== undefined && now() - t < AVOID_MS) {
      const alt = index().alternative(address, port);
      if (alt && !(now() - (failed.get(`${alt.address}:${alt.port}`) ?? -Infinity) < AVOID_MS)) {
        onRetry?.(k, `${alt.address}:${alt.port}`, new Error(`failed ${now() - t} ms ago`));
        return watched(alt.address, alt.port, (err, sock) => (err ? watched(address, port, cb) : cb(null, sock)));
      }
    } else if (t !== undefined) failed.delete(k);
    watched(address, port, (err, sock) => {
      if (!err) return cb(null, sock);
      const alt = index().alternative(address, port);
      if (!alt) return cb(err);
      onRetry?.(k, `${alt.address}:${alt.port}`, err);
      watched(alt.address, alt.port, cb);
    });
  };
}
