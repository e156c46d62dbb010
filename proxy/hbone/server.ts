// The HBONE server (:15008): HTTP/2 over mTLS; each CONNECT stream (`:authority` = target ip:port)
// carries one app connection. The client certificate must chain to the mesh root (OpenSSL checks chain
// and validity: requestCert + rejectUnauthorized) and carry one SPIFFE URI SAN (checked here). HBONE is
// always mTLS, so every PeerAuthentication mode admits it; AuthorizationPolicy then decides with the
// peer's identity and the session's source address (the source pod IP). Denied → 403 on that stream.
// A TLS or HTTP/2 protocol error closes that session only.
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { principalOf } from '../authz/evaluate.js';
import { peerSpiffe } from '../identity/spiffe.js';
import { plainIp } from '../net/cidr.js';
import { isFdExhausted } from '../net/limits.js';
import { relay } from '../net/relay.js';
import { ownIp, type ProxyContext } from '../context.js';
import { destinationLabels, localMeta, peerFromHeaders, sourceLabels } from '../admin/peer-metadata.js';
import type { InboundHttp } from '../inbound/http.js';
import { APP_PROTOCOL_HEADER } from './dialer.js';

/** HTTP/2 settings shared by both ends: 1 MiB stream windows so one stream can fill a fast link. */
export const HBONE_SETTINGS = { initialWindowSize: 1 << 20, maxConcurrentStreams: 10_000 };
/** Connection-level receive window. */
export const HBONE_SESSION_WINDOW = 16 << 20;

/** Parses `ip:port` / `[v6]:port`. */
export function parseAuthority(a: string | undefined): { host: string; port: number } | null {
  if (!a) return null;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(a) ?? /^([^:]+):(\d{1,5})$/.exec(a);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : null;
}

interface PeerInfo { identity: string; error: string; sourceIp: string }
const peers = new WeakMap<ServerHttp2Session, PeerInfo>();

function peerOf(session: ServerHttp2Session): PeerInfo {
  let p = peers.get(session);
  if (!p) {
    const sock = session.socket as TLSSocket;
    const id = peerSpiffe(sock.getPeerCertificate?.());
    p = { identity: id instanceof Error ? '' : id, error: id instanceof Error ? id.message : '', sourceIp: plainIp(sock.remoteAddress) };
    peers.set(session, p);
  }
  return p;
}

/** Creates the HBONE server (not yet listening). Streams tagged HTTP go to `http` (layer 7), the rest are relayed. */
export function createHboneServer(ctx: ProxyContext, http?: InboundHttp): Http2SecureServer {
  const server = createSecureServer({
    ...ctx.identity.tlsOptions(), requestCert: true, rejectUnauthorized: true, allowHTTP1: false,
    ALPNProtocols: ['h2'], settings: HBONE_SETTINGS, minVersion: 'TLSv1.2',
  });
  ctx.identity.on('rotated', () => server.setSecureContext({ ...ctx.identity.tlsOptions(), minVersion: 'TLSv1.2' }));
  server.on('connection', (sock) => {
    if (!ctx.budget.take(1)) {
      ctx.metrics.refused.inc({ listener: 'hbone' });
      sock.destroy();
      return;
    }
    sock.once('close', () => ctx.budget.give(1));
    sock.setNoDelay(true);
  });
  server.on('tlsClientError', (err, sock) => {
    ctx.metrics.denied.inc({ listener: 'hbone', reason: 'tls' });
    ctx.log('warn', 'hbone: TLS handshake refused', { peer: sock.remoteAddress, error: err.message });
    sock.destroy();
  });
  server.on('session', (session) => {
    session.on('error', () => { /* this session only */ });
    session.on('connect', () => { if (!session.destroyed) session.setLocalWindowSize(HBONE_SESSION_WINDOW); });
    const p = peerOf(session);
    if (p.error) {
      ctx.metrics.denied.inc({ listener: 'hbone', reason: 'identity' });
      ctx.log('warn', 'hbone: peer refused', { peer: p.sourceIp, error: p.error });
      session.destroy();
    }
  });
  server.on('sessionError', () => { /* a broken session closes alone */ });
  server.on('error', (err) => {
    if (isFdExhausted(err)) ctx.budget.counters.emfile++;
    ctx.log('error', 'hbone: server error', { error: err.message });
  });
  server.on('stream', (stream, headers) => onStream(ctx, stream, headers, http));
  return server;
}

function reply(stream: ServerHttp2Stream, status: number): void {
  if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  else stream.close();
}

function onStream(ctx: ProxyContext, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, http?: InboundHttp): void {
  stream.on('error', () => { /* the relay or the reply handles it */ });
  if (headers[':method'] !== 'CONNECT') return reply(stream, 405);
  const target = parseAuthority(headers[':authority']);
  if (!target) return reply(stream, 400);
  const me = ownIp(ctx);
  if (plainIp(target.host) !== me) {
    ctx.log('warn', 'hbone: CONNECT to an address that is not this pod', { authority: headers[':authority'], pod: me });
    return reply(stream, 400);
  }
  const peer = peerOf(stream.session as ServerHttp2Session);
  const { principal, namespace } = principalOf(peer.identity);
  const snap = ctx.store.snapshot;
  const tag = headers[APP_PROTOCOL_HEADER];
  if (http && (tag === 'http/1.1' || tag === 'h2')) {
    // Layer 7: authorization per request (HTTP fields), the stream carries keep-alive HTTP/1.1.
    if (!ctx.budget.take(1)) {
      ctx.metrics.refused.inc({ listener: 'hbone' });
      return reply(stream, 503);
    }
    ctx.metrics.active.inc({ listener: 'hbone' });
    stream.once('close', () => { ctx.budget.give(1); ctx.metrics.active.dec({ listener: 'hbone' }); });
    stream.respond({ ':status': 200 });
    http.serve(stream, target.host, target.port, {
      principal, namespace, sourceIp: peer.sourceIp, meta: peerFromHeaders(headers, peer.identity, namespace), security: 'mutual_tls',
    }, tag === 'h2' ? 'h2' : 'http1');
    return;
  }
  const decision = snap.authorizer.evaluate({
    principal, namespace, sourceIp: peer.sourceIp, remoteIp: peer.sourceIp, destinationIp: me, destinationPort: target.port,
  });
  if (decision.audit.length) ctx.log('info', 'authz audit', { policies: decision.audit, principal, port: target.port });
  if (!decision.allow) {
    ctx.metrics.denied.inc({ listener: 'hbone', reason: 'authz' });
    ctx.log('info', 'hbone: connection denied', { principal, source: peer.sourceIp, port: target.port, reason: decision.reason });
    return reply(stream, 403);
  }
  if (!ctx.budget.take(1)) {
    ctx.metrics.refused.inc({ listener: 'hbone' });
    return reply(stream, 503);
  }
  const w = snap.config.workload;
  const done = ctx.metrics.connection({
    reporter: 'destination', ...sourceLabels(peerFromHeaders(headers, peer.identity, namespace)),
    ...destinationLabels(localMeta(w, ctx.workloadName)),
    destination_service: 'unknown', connection_security_policy: 'mutual_tls',
  });
  ctx.metrics.active.inc({ listener: 'hbone' });
  const up = netConnect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
  let connected = false;
  const finish = (): void => {
    ctx.budget.give(1);
    ctx.metrics.active.dec({ listener: 'hbone' });
    done(up.bytesRead, up.bytesWritten);
  };
  up.once('connect', () => {
    connected = true;
    if (stream.destroyed) { up.destroy(); finish(); return; }
    stream.respond({ ':status': 200 });
    relay(stream, up, finish);
  });
  up.once('error', (err) => {
    if (connected) return;
    if (isFdExhausted(err)) { ctx.budget.counters.emfile++; ctx.metrics.refused.inc({ listener: 'hbone' }); }
    reply(stream, isFdExhausted(err) ? 503 : 502);
    finish();
  });
}
