// Interactive `pods/exec` and `pods/attach` (what `kubectl exec` and `kubectl attach` use since 1.30): a WebSocket upgrade speaking Kubernetes'
// remotecommand channel protocol, `v5.channel.k8s.io` or `v4.channel.k8s.io`. The API server does not run
// anything itself: it authenticates the request like any other, checks pod, container and query, dials the
// pod's node agent with a WebSocket on the same path shape (`/exec/{ns}/{pod}/{container}?…`) and the
// same subprotocol, and once the agent has accepted it answers the client's upgrade and relays messages
// verbatim both ways (the agent owns the meaning of the channels). Errors the API server finds itself
// (401, 404 pod, 400 container/command/subprotocol) are plain HTTP answers carrying a Kubernetes
// Status, and the same checks answer an SPDY upgrade, because kubectl retries a refused WebSocket over
// SPDY and shows that second answer. An agent that refuses or cannot be reached is reported after the
// upgrade, as a Status on the error channel (3), so its message is the one kubectl prints.
//
//   kubectl ──ws(v5)──▶ API server ──ws(v5)──▶ node agent ──pipes──▶ nsenter … CMD
//
// Node's HTTP server hands upgrade requests to an `upgrade` listener, not to fastify; `routeUpgrades`
// feeds them back into fastify's router (hooks, auth, error handler included) with the socket stashed on
// the request, like @fastify/websocket does.

import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import type { KubeObject } from '../../../api/meta.js';
import { ApiError, errors } from '../../../api/errors.js';
import { agentAddress } from './node-proxy.js';

const ERROR_CHANNEL = 3;

/** Subprotocols offered to clients, best first (v1–v3 report errors differently on channel 3). */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const kSocket = Symbol('shoal.upgrade.socket');
const kHead = Symbol('shoal.upgrade.head');
type UpgradeRequest = IncomingMessage & { [kSocket]?: Duplex; [kHead]?: Buffer };

/**
 * Sends upgrade requests through fastify's normal routing (so authentication and errors are the same as
 * for any request) and ends every live stream when the server closes.
 */
export function routeUpgrades(app: FastifyInstance): void {
  const live = new Set<Duplex>();
  app.server.on('upgrade', (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    req[kSocket] = socket;
    req[kHead] = head;
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as any);
    // a plain (error) answer ends the exchange: the socket left the HTTP parser and cannot be reused
    res.on('finish', () => socket.end());
    app.routing(req, res);
  });
  app.addHook('preClose', async () => {
    for (const s of live) s.destroy();
  });
}

/** The socket and early bytes of an upgrade request routed by `routeUpgrades` (undefined if not one). */
export function upgradeSocket(req: IncomingMessage): { socket: Duplex; head: Buffer } | undefined {
  const raw = req as UpgradeRequest;
  return raw[kSocket] ? { socket: raw[kSocket], head: raw[kHead] ?? Buffer.alloc(0) } : undefined;
}

/** The first subprotocol offered that we speak. */
export function pickProtocol(header: string | string[] | undefined): string | undefined {
  const offered = String(header ?? '').split(',').map((s) => s.trim());
  return EXEC_PROTOCOLS.find((p) => offered.includes(p));
}

/** Checks what can be checked here; returns the query to pass on to the agent (attach has no command). */
export function checkExecQuery(query: Record<string, string | string[]>, kind: 'exec' | 'attach' = 'exec'): URLSearchParams {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of ([] as string[]).concat(v)) if (k !== 'container') qs.append(k, x);
  if (kind === 'exec' && !qs.getAll('command').length)
    throw errors.badRequest('command: Required value: you must specify at least one command for the container', [{ reason: 'FieldValueRequired', field: 'command', message: 'Required value' }]);
  return qs;
}

/**
 * Serves an upgrade on `pods/exec` or `pods/attach`-like paths: negotiates the subprotocol, dials the agent,
 * then upgrades the client and relays. Throws ApiError (answered by the normal error handler) before any
 * byte of the upgrade is written.
 */
export async function streamExec(req: FastifyRequest, reply: FastifyReply, pod: KubeObject, node: KubeObject, container: string, kind: 'exec' | 'attach' = 'exec'): Promise<void> {
  const raw = req.raw as UpgradeRequest;
  const qs = checkExecQuery(req.query as Record<string, string | string[]>, kind);
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade !== 'websocket' || !raw[kSocket])
    throw errors.badRequest(`Upgrade: Unsupported value: ${JSON.stringify(req.headers.upgrade ?? '')}: interactive exec is served over WebSocket only (${EXEC_PROTOCOLS.join(', ')}), not SPDY; use kubectl 1.30 or newer`);
  const protocol = pickProtocol(req.headers['sec-websocket-protocol']);
  if (!protocol)
    throw errors.badRequest(`Sec-WebSocket-Protocol: Unsupported value: ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')}: supported values: ${EXEC_PROTOCOLS.join(', ')}`, [{ reason: 'FieldValueNotSupported', field: 'Sec-WebSocket-Protocol', message: 'no supported subprotocol offered' }]);

  const url = `ws://${agentAddress(node)}/${kind}/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(container)}?${qs}`;
  const upstream = await dialAgent(url, protocol).catch((e: ApiError) => e);
  reply.hijack();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => protocol });
  wss.handleUpgrade(raw, raw[kSocket]!, raw[kHead] ?? Buffer.alloc(0), (client) => {
    if (upstream instanceof WebSocket) return relay(client, upstream);
    // kubectl retries a refused WebSocket over SPDY and would show that error instead of the agent's: so an
    // agent refusal is reported the way a failed command is, as a Status on the error channel
    client.send(Buffer.concat([Buffer.of(ERROR_CHANNEL), Buffer.from(JSON.stringify({ ...upstream.toStatus(), kind: undefined, apiVersion: undefined }))]), () => client.close(1000));
  });
}

/** Opens the agent's stream; an agent refusal becomes the ApiError it describes. */
function dialAgent(url: string, protocol: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [protocol], { handshakeTimeout: 10_000, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_r, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        let msg = body.trim();
        try {
          msg = JSON.parse(body).message ?? msg;
        } catch {
          /* plain text */
        }
        const code = res.statusCode ?? 500;
        reject(new ApiError(code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError', msg || `node agent answered ${code}`));
        ws.terminate();
      });
    });
    ws.once('error', (e) => reject(new ApiError('InternalError', `Get "${url}": ${e.message}`)));
  });
}

/** Copies messages both ways; either side closing closes the other once what is queued has gone. */
function relay(client: WebSocket, upstream: WebSocket): void {
  client.on('message', (d, isBinary) => upstream.readyState === upstream.OPEN && upstream.send(d, { binary: isBinary }));
  upstream.on('message', (d, isBinary) => client.readyState === client.OPEN && client.send(d, { binary: isBinary }));
  const closeOther = (other: WebSocket) => () => {
    if (other.readyState === other.OPEN) other.close(1000);
    else if (other.readyState === other.CONNECTING) other.terminate();
  };
  client.on('close', closeOther(upstream));
  upstream.on('close', closeOther(client));
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => client.terminate());
}
