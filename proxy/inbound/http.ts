// The inbound HTTP path: a request stream for this pod's app — an HBONE CONNECT stream the client's
// sidecar tagged `x-shoal-app-protocol: http/1.1`, or a plaintext connection (PERMISSIVE) whose first
// bytes are an HTTP/1 request — is served by proxy/http1 with the inbound chain
//   jwt-authn (RequestAuthentication: a token present must verify, else 401)
//   → authz-http (AuthorizationPolicy with the HTTP fields and the JWT's principal/claims: 403 `RBAC: access denied`)
//   → forward to the app at the original destination over a keep-alive connection
// so a denied path gets 403 while the connection goes on serving the allowed ones. Requests are counted
// in istio_requests_total with reporter=destination.
import type { Duplex } from 'node:stream';
import { buildChain, viewOf, type Handler, type HttpContext, type PeerInfo } from '../filters/chain.js';
import { BUILTIN_FILTERS } from '../filters/registry.js';
import { serveHttp1, type Decision, type Dispatch } from '../http1/connection.js';
import { NO_OPS } from '../http1/headers.js';
import { UpstreamPool } from '../http1/pool.js';
import { serveHttp2 } from '../http2/connection.js';
import { Http2UpstreamPool } from '../http2/pool.js';
import type { Snapshot } from '../config/store.js';
import { findVirtualHost } from '../route/match.js';
import type { ProxyContext } from '../context.js';
import { destinationLabels, localMeta, sourceLabels, type PeerMeta } from '../admin/peer-metadata.js';
import { entryOf, headerValue, withRequestId } from '../telemetry/access-log.js';
import { endHop, startHop } from '../telemetry/tracing.js';
import { SpanKind, type Span } from '@opentelemetry/api';
import type { RequestHead } from '../http1/parse.js';

/** Who is on the other end of an inbound HTTP connection. */
export interface InboundPeer {
  /** Peer identity without `spiffe://` ('' for plaintext). */
  principal: string;
  namespace: string;
  sourceIp: string;
  meta: PeerMeta;
  security: 'mutual_tls' | 'none';
}

const terminal: Handler = (ctx) => ({
  kind: 'forward', address: ctx.peer.destinationIp, port: ctx.peer.destinationPort, head: ctx.head, responseOps: NO_OPS,
});

/**
 * The Service a request was addressed to, as Istio's destination_service: the FQDN of the virtual host its
 * Host header names (with the Host's port, else the target port), `unknown` when none does.
 */
export function serviceOf(snap: Snapshot, authority: string, targetPort: number): string {
  const m = /:(\d+)$/.exec(authority);
  const vh = findVirtualHost(snap.routes, authority, m ? Number(m[1]) : 80) ?? findVirtualHost(snap.routes, authority, targetPort);
  return vh ? vh.name.slice(0, vh.name.lastIndexOf(':')) : 'unknown';
}

/** Serves inbound HTTP/1.1 and HTTP/2 for one sidecar: keep-alive pools to the app (HTTP/1.1; HTTP/2 prior knowledge). */
export class InboundHttp {
  readonly pool = new UpstreamPool();
  readonly pool2 = new Http2UpstreamPool();
  private readonly handlers = new WeakMap<Snapshot, Handler>();

  constructor(private readonly ctx: ProxyContext) {}

  handlerFor(snap: Snapshot): Handler {
    let h = this.handlers.get(snap);
    if (h) return h;
    const log = this.ctx.log, metrics = this.ctx.metrics;
    const built = buildChain([{
      name: 'jwt-authn',
      config: {
        rules: snap.config.workload?.jwtRules ?? [],
        onDecision: (ok: boolean, reason: string) => {
          if (!ok) {
            metrics.denied.inc({ listener: 'inbound-http', reason: 'jwt' });
            log('info', 'inbound: request authentication failed', { reason });
          }
        },
      },
    }, {
      name: 'authz-http',
      config: {
        policies: snap.config.workload?.authorization ?? [],
        onDecision: (allow: boolean, reason: string, audit: string[]) => {
          if (audit.length) log('info', 'authz audit', { policies: audit });
          if (!allow) {
            metrics.denied.inc({ listener: 'inbound-http', reason: 'authz' });
            log('info', 'inbound: request denied', { reason });
          }
        },
      },
    }], BUILTIN_FILTERS, terminal, 'inbound');
    if (!built.handler) throw new Error(`inbound chain: ${built.errors.join('; ')}`);
    h = built.handler;
    this.handlers.set(snap, h);
    return h;
  }

  /** Serves `conn` (HTTP/1.1 or HTTP/2) whose requests go to the app at `dstIp:dstPort`. */
  serve(conn: Duplex, dstIp: string, dstPort: number, peer: InboundPeer, codec: 'http1' | 'h2' = 'http1'): void {
    const dispatch: Dispatch = (raw) => {
      let head = withRequestId(raw);
      let span: Span | undefined;
      if (this.ctx.tracing) ({ span, head } = startHop(this.ctx.tracing, head, SpanKind.SERVER));
      const snap = this.ctx.store.snapshot;
      const p: PeerInfo = {
        principal: peer.principal, namespace: peer.namespace, sourceIp: peer.sourceIp, destinationIp: dstIp, destinationPort: dstPort,
        sourceLabels: {},
      };
      const c: HttpContext = { head, view: viewOf(head, p, dstPort), peer: p, responseOps: [] };
      return this.instrument(this.handlerFor(snap)(c), snap, peer, head, `${dstIp}:${dstPort}`, dstPort, span);
    };
    const info = { remoteAddress: peer.sourceIp, localPort: dstPort };
    if (codec === 'h2') serveHttp2(conn, dispatch, this.pool2, { info });
    else serveHttp1(conn, dispatch, this.pool, { info });
  }

  private instrument(d: Decision, snap: Snapshot, peer: InboundPeer, head: RequestHead, cluster: string, port: number, span?: Span): Decision {
    if (d.kind === 'close') return d;
    const t0 = performance.now();
    const service = serviceOf(snap, head.host, port);
    const labels = (code: number, flags: string) => ({
      reporter: 'destination' as const, ...sourceLabels(peer.meta), ...destinationLabels(localMeta(snap.config.workload, this.ctx.workloadName)),
      destination_service: service, connection_security_policy: peer.security,
      request_protocol: 'http' as const, response_code: String(code), response_flags: flags, grpc_response_status: '',
    });
    if (d.kind === 'respond') {
      this.ctx.metrics.request(labels(d.status, '-'), 0, 0, 0);
      this.ctx.accessLog?.(entryOf(head, t0, 'destination', peer.sourceIp, { status: d.status, flags: d.flags ?? '-' }));
      if (span) endHop(span, `${head.host}/*`, { method: head.method, url: head.target, status: d.status, flags: d.flags ?? '-', cluster: `inbound|${cluster}`, requestId: headerValue(head.headers, 'x-request-id') });
      return d;
    }
    return {
      ...d,
      onEnd: (end) => {
        this.ctx.metrics.request(labels(end.status || 503, end.status ? end.flags : end.flags === '-' ? 'DC' : end.flags), performance.now() - t0, end.bytesReceived, end.bytesSent);
        this.ctx.accessLog?.(entryOf(head, t0, 'destination', peer.sourceIp, { end, cluster: `inbound|${cluster}` }));
        if (span) endHop(span, `${head.host}/*`, { method: head.method, url: head.target, status: end.status, flags: end.flags, cluster: `inbound|${cluster}`, requestId: headerValue(head.headers, 'x-request-id'), upstream: end.upstream });
      },
    };
  }

  close(): void {
    this.pool.close();
    this.pool2.close(true);
  }
}
