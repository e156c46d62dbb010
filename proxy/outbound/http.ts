// The outbound HTTP path: an app connection to a Service port that speaks HTTP/1.1 (declared or sniffed,
// ../net/protocol.ts) is served by proxy/http1 with the sidecar's outbound chain
//   route (virtual host by authority + port, first matching VirtualService/HTTPRoute rule, weighted pick)
//   → cors (preflight answered, allow headers) → fault (abort / delay on a percentage) → redirect → header-modifier → router (subset endpoints, the cluster's balancer)
// and each request goes to the endpoint the router chose over a keep-alive upstream connection: an HBONE
// stream to a mesh pod (../hbone/dialer.ts, tagged `x-shoal-app-protocol: http/1.1` so the peer's sidecar
// serves it as HTTP), plain TCP to others. Every request reads the live snapshot, so a weight change
// applies to keep-alive connections from their next request. Balancers live across snapshots (active
// request counts survive endpoint updates).
import type { Socket } from 'node:net';
import { buildChain, viewOf, type Handler, type HttpContext, type PeerInfo } from '../filters/chain.js';
import { BUILTIN_FILTERS } from '../filters/registry.js';
import { makeRouter, type RouterEndpoint } from '../filters/router/filter.js';
import type { Balancer } from '../balance/balancer.js';
import { serveHttp1, type Dispatch } from '../http1/connection.js';
import { UpstreamPool } from '../http1/pool.js';
import { serveHttp2 } from '../http2/connection.js';
import { Http2UpstreamPool, tcpHttp2Dialer, type Http2Dialer } from '../http2/pool.js';
import { APP_PROTOCOL_HEADER, meshDialer } from '../hbone/dialer.js';
import { plainIp } from '../net/cidr.js';
import type { TunnelClient } from '../hbone/client.js';
import type { Snapshot } from '../config/store.js';
import type { MeshService } from '../config/types.js';
import type { Cluster } from '../route/types.js';
import type { ProxyContext } from '../context.js';
import { destinationLabels, endpointMeta, localMeta, sourceLabels } from '../admin/peer-metadata.js';
import type { RequestLabels } from '../admin/metrics.js';
import type { Decision } from '../http1/connection.js';
import { targetPort } from './route.js';
import type { ClusterGuard } from '../resilience/cluster.js';
import { entryOf, headerValue, withRequestId } from '../telemetry/access-log.js';
import { endHop, startHop } from '../telemetry/tracing.js';
import { SpanKind, type Span } from '@opentelemetry/api';
import type { RequestHead } from '../http1/parse.js';


/** The sidecar's outbound chain, in order (the router is its terminal). */
export const OUTBOUND_CHAIN = ['route', 'cors', 'fault', 'redirect', 'header-modifier'] as const;

/** The ready endpoints of each cluster of a snapshot, by cluster name (computed once per snapshot and cluster). */
export function clusterEndpoints(snap: Snapshot): (cluster: Cluster) => readonly RouterEndpoint[] {
  const byHost = new Map<string, MeshService>(snap.config.services.map((s) => [s.hostname.toLowerCase(), s]));
  const cache = new Map<string, readonly RouterEndpoint[]>();
  return (cluster) => {
    const key = `${cluster.host}:${cluster.port}`;
    let eps = cache.get(key);
    if (eps) return eps;
    const svc = byHost.get(cluster.host);
    const sp = svc?.ports.find((p) => p.port === cluster.port);
    eps = !svc || !sp ? [] : (snap.endpoints.get(`${svc.namespace}/${svc.name}`) ?? []).map((ep) => ({ address: ep.address, port: targetPort(sp, ep), labels: ep.labels, endpoint: ep }));
    cache.set(key, eps);
    return eps;
  };
}

/**
 * An HTTP/2 dialer for the upstream pool: a mesh endpoint is reached by an HBONE stream tagged `h2` (the
 * peer's sidecar serves it with proxy/http2), anything else by TCP (h2c prior knowledge).
 */
export function meshHttp2Dialer(tunnel: TunnelClient, snapshot: () => Snapshot): Http2Dialer {
  return (address, port) => {
    const ep = snapshot().pods.get(plainIp(address));
    return ep?.mesh && ep.identity && tunnel.mode === 'hbone' ? tunnel.open(address, port, ep.identity, { [APP_PROTOCOL_HEADER]: 'h2' }) : tcpHttp2Dialer(address, port);
  };
}

/** Serves outbound HTTP/1.1 and HTTP/2 connections for one sidecar. */
export class OutboundHttp {
  readonly pool: UpstreamPool;
  readonly pool2: Http2UpstreamPool;
  private readonly balancers = new Map<string, Balancer<RouterEndpoint>>();
  /** Circuit breakers, retry budgets and outlier detectors by cluster, across snapshots. */
  readonly guards = new Map<string, ClusterGuard>();
  private readonly handlers = new WeakMap<Snapshot, Handler>();
  private readonly endpointFns = new WeakMap<Snapshot, (cluster: Cluster) => readonly RouterEndpoint[]>();

  constructor(private readonly ctx: ProxyContext, tunnel: TunnelClient) {
    this.pool = new UpstreamPool({ dial: meshDialer(tunnel, () => ctx.store.snapshot, { [APP_PROTOCOL_HEADER]: 'http/1.1' }) });
    this.pool2 = new Http2UpstreamPool({ dial: meshHttp2Dialer(tunnel, () => ctx.store.snapshot) });
  }

  /** The chain for a snapshot (built once per snapshot; config errors cannot happen: the snapshot was validated). */
  handlerFor(snap: Snapshot): Handler {
    let h = this.handlers.get(snap);
    if (h) return h;
    const endpoints = clusterEndpoints(snap);
    this.endpointFns.set(snap, endpoints);
    const router = makeRouter({ table: snap.routes, endpoints, balancers: this.balancers, guards: this.guards });
    const blackholeUnknown = snap.config.workload?.outboundTrafficPolicy === 'REGISTRY_ONLY';
    const entries = OUTBOUND_CHAIN.map((name) => (name === 'route' ? { name, config: { table: snap.routes, passthroughUnknown: true, blackholeUnknown } } : { name }));
    const built = buildChain(entries, BUILTIN_FILTERS, router, 'outbound');
    if (!built.handler) throw new Error(`outbound chain: ${built.errors.join('; ')}`);
    h = built.handler;
    this.handlers.set(snap, h);
    return h;
  }

  /** Serves `sock` (its first bytes already unshifted) whose original destination is `dstIp:dstPort`, as HTTP/1.1 or HTTP/2. */
  serve(sock: Socket, dstIp: string, dstPort: number, sourceIp: string, onClose: () => void, codec: 'http1' | 'h2' = 'http1'): void {
    const dispatch: Dispatch = (raw) => {
      let head = withRequestId(raw);
      let span: Span | undefined;
      if (this.ctx.tracing) ({ span, head } = startHop(this.ctx.tracing, head, SpanKind.CLIENT));
      const snap = this.ctx.store.snapshot;
      const w = snap.config.workload;
      const peer: PeerInfo = {
        principal: '', namespace: w?.namespace ?? '', sourceIp, destinationIp: dstIp, destinationPort: dstPort, sourceLabels: w?.labels ?? {},
      };
      const ctx: HttpContext = { head, view: viewOf(head, peer, dstPort), peer, responseOps: [] };
      return this.instrument(this.handlerFor(snap)(ctx), ctx, snap, `${dstIp}:${dstPort}`, head, sourceIp, span);
    };
    sock.once('close', onClose);
    if (codec === 'h2') serveHttp2(sock, dispatch, this.pool2, { info: { remoteAddress: sourceIp, localPort: dstPort } });
    else serveHttp1(sock, dispatch, this.pool);
  }

  /** Counts the request in istio_requests_total (reporter=source) when it ends. */
  private instrument(d: Decision, ctx: HttpContext, snap: Snapshot, original: string, head: RequestHead, remote: string, span?: Span): Decision {
    if (d.kind === 'close') return d;
    const t0 = performance.now();
    const w = snap.config.workload;
    const service = ctx.destination?.host ?? ctx.vhost?.name.replace(/:\d+$/, '') ?? original;
    const cluster = ctx.destination ? snap.routes.clusters.get(ctx.destination.cluster) : undefined;
    const base = (address: string, code: number, flags: string, port = 0): RequestLabels => {
      // the endpoint the router chose (its labels: version…), else the pod at that address
      const chosen = cluster && address ? this.endpointFns.get(snap)?.(cluster).find((e) => e.address === address && e.port === port)?.endpoint : undefined;
      const ep = chosen ?? (address ? snap.pods.get(address) : undefined);
      return {
        reporter: 'source', ...sourceLabels(localMeta(w, this.ctx.workloadName)), ...destinationLabels(endpointMeta(ep, ep?.mesh ? ep.identity : '')),
        destination_service: service, connection_security_policy: ep?.mesh ? 'mutual_tls' : 'unknown',
        request_protocol: 'http', response_code: String(code), response_flags: flags, grpc_response_status: '',
      };
    };
    if (d.kind === 'respond') {
      const flags = d.flags ?? (d.status === 404 && !ctx.route ? 'NR' : d.status === 503 && ctx.destination ? 'UH' : '-');
      this.ctx.metrics.request(base('', d.status, flags), 0, 0, 0);
      this.ctx.accessLog?.(entryOf(head, t0, 'source', remote, { status: d.status, flags, cluster: ctx.destination?.cluster, route: ctx.route?.name }));
      if (span) endHop(span, `${service}:${ctx.peer.destinationPort}/*`, { method: head.method, url: head.target, status: d.status, flags, cluster: ctx.destination?.cluster, requestId: headerValue(head.headers, 'x-request-id') });
      return d;
    }
    const { onEnd } = d;
    return {
      ...d,
      onEnd: (end) => {
        onEnd?.(end);
        const upstream = end.upstream ? end.upstream.slice(0, end.upstream.lastIndexOf(':')) : d.address;
        const upPort = end.upstream ? Number(end.upstream.slice(end.upstream.lastIndexOf(':') + 1)) : d.port;
        const flags = end.status ? end.flags : end.flags === '-' ? 'DC' : end.flags;
        this.ctx.metrics.request(base(upstream, end.status || 503, flags, upPort), performance.now() - t0, end.bytesReceived, end.bytesSent);
        this.ctx.accessLog?.(entryOf(head, t0, 'source', remote, { end, cluster: ctx.destination?.cluster ?? 'PassthroughCluster', route: ctx.route?.name }));
        if (span) endHop(span, `${service}:${ctx.peer.destinationPort}/*`, { method: head.method, url: head.target, status: end.status, flags: end.flags, cluster: ctx.destination?.cluster, requestId: headerValue(head.headers, 'x-request-id'), upstream: end.upstream });
      },
    };
  }

  close(): void {
    this.pool.close();
    this.pool2.close(true);
  }
}
