// The inbound listener (:15006). The capture rules redirect TCP to the pod's ports here. Per connection:
//   sniff the first bytes → mesh mTLS ClientHello (ALPN istio-peer-exchange/istio): terminate TLS,
//   verify the peer (chain to the mesh root, one SPIFFE URI SAN), then authorize; anything else is
//   plaintext, allowed only when the port's PeerAuthentication mode is PERMISSIVE or DISABLE.
//   DISABLE skips sniffing (server-first protocols work); PERMISSIVE waits up to `sniffTimeoutMs` for the
//   client to speak and then treats the connection as plaintext.
// Allowed connections go to the app at the original destination. Garbage (a broken ClientHello, a
// failed handshake) closes that connection only.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { principalOf } from '../authz/evaluate.js';
import { peerSpiffe } from '../identity/spiffe.js';
import { getOriginalDst } from '../native/index.js';
import { plainIp } from '../net/cidr.js';
import { isFdExhausted } from '../net/limits.js';
import { relay } from '../net/relay.js';
import { MESH_ALPN } from '../hbone/client.js';
import { ownIp, type ProxyContext } from '../context.js';
import { NO_PEER, destinationLabels, localMeta, sourceLabels } from '../admin/peer-metadata.js';
import { detect } from '../net/protocol.js';
import type { InboundHttp } from './http.js';
import { isMeshTls, sniffClientHello, type Sniff } from './sniff.js';

/** Options of the inbound listener. */
export interface InboundOptions {
  port: number;
  sniffTimeoutMs?: number;
  /** Layer 7 for plaintext HTTP/1 connections (PERMISSIVE): per-request authorization. */
  http?: InboundHttp;
}

/** Creates the inbound server (not yet listening). */
export function createInboundServer(ctx: ProxyContext, opts: InboundOptions): Server {
  const pending = new WeakMap<Socket, Pending>();
  const terminator = createTerminator(ctx, pending);
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (sock) => onConnection(ctx, opts, sock, terminator, pending));
  server.on('error', (err) => {
    if (isFdExhausted(err)) {
      ctx.budget.counters.emfile++;
      ctx.metrics.refused.inc({ listener: 'inbound' });
      return;
    }
    ctx.log('error', 'inbound: server error', { error: err.message });
  });
  return server;
}

function deny(ctx: ProxyContext, sock: Socket, reason: string, fields: Record<string, unknown>): void {
  ctx.metrics.denied.inc({ listener: 'inbound', reason });
  ctx.log('info', 'inbound: connection refused', { reason, ...fields });
  sock.destroy();
}

function onConnection(ctx: ProxyContext, opts: InboundOptions, sock: Socket, terminator: TlsServer, pending: WeakMap<Socket, Pending>): void {
  sock.on('error', () => { /* this connection only */ });
  if (!ctx.budget.take(2)) {
    ctx.metrics.refused.inc({ listener: 'inbound' });
    sock.destroy();
    return;
  }
  // Descriptors go back once, whichever object (socket or the TLS socket over it) closes first.
  let held = true;
  const release = (): void => { if (held) { held = false; ctx.budget.give(2); } };
  sock.once('close', release);
  const dst = getOriginalDst(sock);
  if (!dst || dst.port === opts.port) { sock.destroy(); return; }
  const mode = ctx.store.snapshot.peerMode(dst.port);
  const src = plainIp(sock.remoteAddress);
  if (mode === 'DISABLE') return forward(ctx, sock, sock, dst.address, dst.port, '', src, release);

  let buf = Buffer.alloc(0);
  let settled = false;
  const timer = setTimeout(() => settle({ kind: 'plain' }), opts.sniffTimeoutMs ?? 1000);
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    const s = sniffClientHello(buf);
    if (s.kind !== 'need-more') settle(s);
  };
  const onEnd = (): void => settle({ kind: 'plain' });
  function settle(s: Sniff): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    sock.off('data', onData);
    sock.off('end', onEnd);
    sock.pause();
    if (buf.length) sock.unshift(buf);
    if (isMeshTls(s)) {
      pending.set(sock, { dstAddr: dst!.address, dstPort: dst!.port, src, release });
      terminator.emit('connection', sock);
      return;
    }
    if (mode === 'STRICT') return deny(ctx, sock, 'plaintext-strict', { source: src, port: dst!.port });
    const codec = opts.http ? detect(buf) : 'tcp';
    if (opts.http && (codec === 'http1' || codec === 'h2')) {
      opts.http.serve(sock, dst!.address, dst!.port, { principal: '', namespace: '', sourceIp: src, meta: NO_PEER, security: 'none' }, codec);
      if (codec === 'http1') sock.resume();
      return;
    }
    forward(ctx, sock, sock, dst!.address, dst!.port, '', src, release);
  }
  sock.on('data', onData);
  sock.on('end', onEnd);
}

/** Where a raw socket handed to the TLS server came from (the TLS socket's `_parent`). */
interface Pending { dstAddr: string; dstPort: number; src: string; release: () => void }

/**
 * The mesh mTLS terminator: a tls.Server that never listens; sniffed sockets are handed to it with
 * emit('connection') (the bytes already read are unshifted back, and TLSSocket drains them first).
 * rejectUnauthorized is off so the reason of a refusal can be logged; `authorized` is checked here.
 */
function createTerminator(ctx: ProxyContext, pending: WeakMap<Socket, Pending>): TlsServer {
  const opts = { requestCert: true, rejectUnauthorized: false, ALPNProtocols: MESH_ALPN, handshakeTimeout: 10_000, minVersion: 'TLSv1.2' as const };
  const server = createTlsServer({ ...ctx.identity.tlsOptions(), ...opts });
  ctx.identity.on('rotated', () => server.setSecureContext({ ...ctx.identity.tlsOptions(), minVersion: 'TLSv1.2' }));
  const parentOf = (s: TLSSocket): Socket | undefined => (s as TLSSocket & { _parent?: Socket })._parent;
  server.on('tlsClientError', (err, tls) => {
    const raw = parentOf(tls);
    tls.destroy();
    if (raw) deny(ctx, raw, 'tls', { source: pending.get(raw)?.src, error: err.message });
  });
  server.on('secureConnection', (tls: TLSSocket) => {
    tls.on('error', () => { /* the relay handles it */ });
    const raw = parentOf(tls);
    const p = raw && pending.get(raw);
    if (!raw || !p) { tls.destroy(); return; }
    tls.once('close', p.release);
    if (!tls.authorized) {
      tls.destroy();
      return deny(ctx, raw, 'tls', { source: p.src, error: String(tls.authorizationError ?? 'peer certificate not verified') });
    }
    const id = peerSpiffe(tls.getPeerCertificate());
    if (id instanceof Error) {
      tls.destroy();
      return deny(ctx, raw, 'identity', { source: p.src, error: id.message });
    }
    forward(ctx, raw, tls, p.dstAddr, p.dstPort, id, p.src, p.release);
  });
  return server;
}

/** Authorizes and relays `client` to the app at dst. `sock` is the accepted socket (for descriptors). */
function forward(
  ctx: ProxyContext, sock: Socket, client: Duplex, dstAddr: string, dstPort: number, identity: string, src: string, release: () => void,
): void {
  const snap = ctx.store.snapshot;
  const { principal, namespace } = principalOf(identity);
  const decision = snap.authorizer.evaluate({
    principal, namespace, sourceIp: src, remoteIp: src, destinationIp: plainIp(dstAddr) || ownIp(ctx), destinationPort: dstPort,
  });
  if (decision.audit.length) ctx.log('info', 'authz audit', { policies: decision.audit, principal, port: dstPort });
  if (!decision.allow) {
    client.destroy();
    return deny(ctx, sock, 'authz', { principal, source: src, port: dstPort, why: decision.reason });
  }
  const w = snap.config.workload;
  const done = ctx.metrics.connection({
    // per-connection TLS / plaintext: no metadata exchange, the peer is its certificate (peer-metadata.ts)
    reporter: 'destination', ...sourceLabels({ ...NO_PEER, principal: identity, namespace }), ...destinationLabels(localMeta(w, ctx.workloadName)),
    destination_service: 'unknown', connection_security_policy: identity ? 'mutual_tls' : 'none',
  });
  ctx.metrics.active.inc({ listener: 'inbound' });
  const up = netConnect({ host: dstAddr, port: dstPort, allowHalfOpen: true, noDelay: true });
  up.on('error', (err) => { if (isFdExhausted(err)) { ctx.budget.counters.emfile++; ctx.metrics.refused.inc({ listener: 'inbound' }); } });
  client.resume();
  relay(client, up, () => {
    release();
    ctx.metrics.active.dec({ listener: 'inbound' });
    done(up.bytesRead, up.bytesWritten);
  });
}
