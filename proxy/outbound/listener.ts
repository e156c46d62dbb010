// The outbound listener (:15001). The capture rules redirect the app's outbound TCP here; the original
// destination (SO_ORIGINAL_DST) is resolved by route.ts, and the connection is relayed through the tunnel
// (mesh endpoint), plain TCP (endpoint without a sidecar) or to the original destination (passthrough).
// Each connection holds two descriptors (app side + upstream); at the open-files budget a new connection
// is accepted and closed at once, and EMFILE on accept or connect costs only that connection.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { getOriginalDst } from '../native/index.js';
import { plainIp } from '../net/cidr.js';
import { isFdExhausted } from '../net/limits.js';
import { relay } from '../net/relay.js';
import type { TunnelClient } from '../hbone/client.js';
import type { ProxyContext } from '../context.js';
import { destinationLabels, endpointMeta, localMeta, sourceLabels } from '../admin/peer-metadata.js';
import { detect, portProtocol } from '../net/protocol.js';
import { ClusterBalancers, type Balancer } from './balance.js';
import { OutboundHttp } from './http.js';
import { resolveOutbound } from './route.js';

/** Options of the outbound listener. */
export interface OutboundOptions {
  tunnel: TunnelClient;
  balancer?: Balancer;
  /** Own listener port, to refuse connections made straight to it (a loop). */
  port: number;
  /** How long to wait for a client's first bytes on a Service port that declares no protocol (then TCP). */
  sniffTimeoutMs?: number;
  /** The HTTP path (made here when absent). */
  http?: OutboundHttp;
}

/** Default protocol-detection wait on undeclared ports. */
export const OUTBOUND_SNIFF_MS = 1000;

/** Creates the outbound server (not yet listening). */
export function createOutboundServer(ctx: ProxyContext, opts: OutboundOptions): Server {
  const balancer = opts.balancer ?? new ClusterBalancers();
  const http = opts.http ?? new OutboundHttp(ctx, opts.tunnel);
  const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (sock) => onConnection(ctx, opts, balancer, http, sock));
  server.on('close', () => http.close());
  server.on('error', (err) => {
    if (isFdExhausted(err)) {
      ctx.budget.counters.emfile++;
      ctx.metrics.refused.inc({ listener: 'outbound' });
      return;
    }
    ctx.log('error', 'outbound: server error', { error: err.message });
  });
  return server;
}

function onConnection(ctx: ProxyContext, opts: OutboundOptions, balancer: Balancer, http: OutboundHttp, sock: Socket): void {
  sock.on('error', () => { /* handled by the relay or below */ });
  if (!ctx.budget.take(2)) {
    ctx.metrics.refused.inc({ listener: 'outbound' });
    sock.destroy();
    return;
  }
  const dst = getOriginalDst(sock);
  const src = plainIp(sock.remoteAddress);
  if (!dst || (dst.port === opts.port && (dst.address === plainIp(sock.localAddress) || dst.address.startsWith('127.')))) {
    ctx.budget.give(2);
    sock.destroy();
    return;
  }
  // A Service port that declares HTTP (http, http2, grpc) or nothing: the client's first bytes choose the
  // codec (HTTP/1.1 request line, HTTP/2 preface); a port that declares nothing and gets neither is TCP.
  const vip = ctx.store.snapshot.vips.get(`${plainIp(dst.address)}:${dst.port}`);
  const proto = vip ? portProtocol(vip.port) : 'tcp';
  if (proto === 'tcp') return relayTcp(ctx, opts, balancer, sock, dst, src);
  let buf: Buffer = Buffer.alloc(0);
  let settled = false;
  const settle = (kind: 'http1' | 'h2' | 'tcp'): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    sock.off('data', onData).off('end', onEnd);
    sock.pause();
    if (buf.length) sock.unshift(buf);
    if (kind === 'tcp') return relayTcp(ctx, opts, balancer, sock, dst, src);
    http.serve(sock, plainIp(dst.address), dst.port, src, () => ctx.budget.give(2), kind);
    // HTTP/1 reads with 'data' listeners; node:http2 takes the socket over and reads it itself
    if (kind === 'http1') sock.resume();
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const d = detect(buf);
    // a port declared HTTP that gets garbage is still HTTP/1 (the parser answers 400)
    if (d !== 'need-more') settle(d === 'tcp' && proto !== 'auto' ? (proto === 'http2' ? 'h2' : 'http1') : d);
  };
  const onEnd = (): void => settle('tcp');
  const timer = setTimeout(() => settle(proto === 'auto' ? 'tcp' : proto === 'http2' ? 'h2' : 'http1'), opts.sniffTimeoutMs ?? OUTBOUND_SNIFF_MS);
  sock.on('data', onData).on('end', onEnd);
}

/** Layer 4: the connection is relayed to an endpoint (tunnel or plain) or to its original destination. */
function relayTcp(ctx: ProxyContext, opts: OutboundOptions, balancer: Balancer, sock: Socket, dst: { address: string; port: number }, src: string): void {
  const snap = ctx.store.snapshot;
  const route = resolveOutbound(snap, dst.address, dst.port, balancer, src);
  if (route.kind === 'passthrough' && snap.config.workload?.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    // Sidecar outboundTrafficPolicy REGISTRY_ONLY: Envoy's BlackHoleCluster
    ctx.budget.give(2);
    ctx.metrics.denied.inc({ listener: 'outbound', reason: 'registry-only' });
    ctx.log('info', 'outbound: destination not in the registry (REGISTRY_ONLY)', { dst: `${dst.address}:${dst.port}` });
    sock.destroy();
    return;
  }
  if (route.kind === 'no-endpoints') {
    ctx.budget.give(2);
    ctx.log('info', 'outbound: no ready endpoints', { service: route.service, dst: `${dst.address}:${dst.port}` });
    sock.resetAndDestroy();
    return;
  }
  let up: Duplex;
  let security: 'mutual_tls' | 'none' = 'none';
  try {
    if (route.kind === 'mesh') {
      up = opts.tunnel.open(route.address, route.port, route.identity);
      security = 'mutual_tls';
    } else {
      up = netConnect({ host: route.address, port: route.port, allowHalfOpen: true, noDelay: true });
    }
  } catch (e) {
    ctx.budget.give(2);
    ctx.log('warn', 'outbound: cannot open upstream', { error: (e as Error).message });
    sock.destroy();
    return;
  }
  const w = snap.config.workload;
  const ep = route.kind === 'passthrough' ? null : route.endpoint;
  const done = ctx.metrics.connection({
    reporter: 'source', ...sourceLabels(localMeta(w, ctx.workloadName)), ...destinationLabels(endpointMeta(ep, route.kind === 'mesh' ? route.identity : '')),
    destination_service: route.kind === 'passthrough' || !route.service ? `${route.address}:${route.port}` : route.service,
    connection_security_policy: security,
  });
  ctx.metrics.active.inc({ listener: 'outbound' });
  up.on('error', (err) => {
    if (isFdExhausted(err)) {
      ctx.budget.counters.emfile++;
      ctx.metrics.refused.inc({ listener: 'outbound' });
    }
  });
  relay(sock, up, (err) => {
    ctx.budget.give(2);
    if (route.kind !== 'passthrough' && route.cluster && route.endpoint) balancer.release(route.cluster, route.endpoint);
    ctx.metrics.active.dec({ listener: 'outbound' });
    // sent = response bytes written to the app, received = request bytes read from it
    done(sock.bytesWritten, sock.bytesRead);
    if (err && !isFdExhausted(err) && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') {
      ctx.log('info', 'outbound: connection ended with error', { dst: `${route.kind === 'passthrough' ? route.address : route.address}:${route.port}`, error: err.message });
    }
  });
}
