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
import { RoundRobin, type Balancer } from './balance.js';
import { resolveOutbound } from './route.js';

/** Options of the outbound listener. */
export interface OutboundOptions {
  tunnel: TunnelClient;
  balancer?: Balancer;
  /** Own listener port, to refuse connections made straight to it (a loop). */
  port: number;
}

/** Creates the outbound server (not yet listening). */
export function createOutboundServer(ctx: ProxyContext, opts: OutboundOptions): Server {
  const balancer = opts.balancer ?? new RoundRobin();
  const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (sock) => onConnection(ctx, opts, balancer, sock));
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

function onConnection(ctx: ProxyContext, opts: OutboundOptions, balancer: Balancer, sock: Socket): void {
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
  const snap = ctx.store.snapshot;
  const route = resolveOutbound(snap, dst.address, dst.port, balancer, src);
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
    ctx.metrics.active.dec({ listener: 'outbound' });
    // sent = response bytes written to the app, received = request bytes read from it
    done(sock.bytesWritten, sock.bytesRead);
    if (err && !isFdExhausted(err) && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') {
      ctx.log('info', 'outbound: connection ended with error', { dst: `${route.kind === 'passthrough' ? route.address : route.address}:${route.port}`, error: err.message });
    }
  });
}
