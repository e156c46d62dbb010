// `pods/portforward` (what `kubectl port-forward` uses). kubectl 1.31+ asks for a WebSocket with the
// subprotocol `SPDY/3.1+portforward.k8s.io` and then speaks plain SPDY/3.1 inside it: every binary
// WebSocket message carries the next bytes of the SPDY session (measured with kubectl 1.32 -v=9; upstream
// client-go tools/portforward/tunneling_connection.go). For each local connection kubectl opens two SPDY
// streams with the headers `streamtype: error|data`, `port: N`, `requestid: K`; once both of a request id
// are there, the API server dials the pod's node agent (`/portForward/{ns}/{pod}?port=N`, a WebSocket:
// [0, bytes] data both ways, [255, 0] = the client's data has ended, [1, text] = the agent's error) and
// relays. An error (nothing listening, agent unreachable) is written on that connection's error stream in
// kubelet's words and ends only that connection's streams: the SPDY session and the other connections live on.
//
//   kubectl ──ws(SPDY/3.1)──▶ API server ──ws per connection──▶ node agent ──shoal-stream connect──▶ 127.0.0.1:N in the pod
//
// A direct SPDY upgrade (`Upgrade: SPDY/3.1`, kubectl's fallback when the WebSocket is refused) is served
// too, with the same session code: 101 Switching Protocols, then SPDY frames on the raw socket.

import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import type { KubeObject } from '../../../api/meta.js';
import { errors } from '../../../api/errors.js';
import { agentAddress } from './node-proxy.js';
import { upgradeSocket } from './exec-stream.js';
import { SpdySession, type SpdyStream } from './spdy.js';

/** The tunnelled subprotocol kubectl 1.31+ offers, and the SPDY stream protocol inside it. */
export const PORT_FORWARD_WS_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** Agent message channels. */
export const PfChannel = { data: 0, error: 1, close: 255 } as const;

/** Serves an upgrade on pods/{name}/portforward. Throws ApiError (a plain answer) before upgrading. */
export async function streamPortForward(req: FastifyRequest, reply: FastifyReply, pod: KubeObject, node: KubeObject): Promise<void> {
  const raw = req.raw as IncomingMessage;
  const up = upgradeSocket(raw);
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const agent = agentAddress(node);
  if (!up) throw errors.badRequest('portforward: an Upgrade (WebSocket or SPDY/3.1) is required');
  if (upgrade === 'websocket') {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!offered.includes(PORT_FORWARD_WS_PROTOCOL))
      throw errors.badRequest(`Sec-WebSocket-Protocol: Unsupported value: ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')}: supported values: ${PORT_FORWARD_WS_PROTOCOL}`, [{ reason: 'FieldValueNotSupported', field: 'Sec-WebSocket-Protocol', message: 'no supported subprotocol offered' }]);
    reply.hijack();
    // `ws` refuses `SPDY/3.1+…` as a subprotocol ('/' is not a token character, RFC 7230): it is checked
    // here, hidden from the parser, and named in the answer by handleProtocols
    raw.headers['sec-websocket-protocol'] = PORT_FORWARD_PROTOCOL;
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => PORT_FORWARD_WS_PROTOCOL });
    wss.handleUpgrade(raw, up.socket, up.head, (ws) => {
      const session = new SpdySession(
        (b) => ws.readyState === ws.OPEN && ws.send(b, { binary: true }),
        (s) => forwarder.add(s),
        () => ws.readyState === ws.OPEN && ws.close(1000),
      );
      const forwarder = new Forwarder(pod, agent);
      ws.on('message', (d: Buffer) => session.feed(Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer)));
      ws.on('close', () => session.close());
      ws.on('error', () => session.close());
    });
    return;
  }
  if (upgrade === 'spdy/3.1') {
    const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim());
    if (!versions.includes(PORT_FORWARD_PROTOCOL))
      throw errors.badRequest(`X-Stream-Protocol-Version: Unsupported value: ${JSON.stringify(req.headers['x-stream-protocol-version'] ?? '')}: supported values: ${PORT_FORWARD_PROTOCOL}`);
    reply.hijack();
    const sock = up.socket;
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
    const forwarder = new Forwarder(pod, agent);
    const session = new SpdySession((b) => sock.writable && sock.write(b), (s) => forwarder.add(s), () => sock.end());
    if (up.head.length) session.feed(up.head);
    sock.on('data', (d: Buffer) => session.feed(d));
    sock.on('close', () => session.close());
    sock.on('error', () => session.close());
    return;
  }
  throw errors.badRequest(`Upgrade: Unsupported value: ${JSON.stringify(req.headers.upgrade ?? '')}: supported values: "websocket", "SPDY/3.1"`);
}

/** Pairs each request id's error and data streams and runs one relay per pair. */
class Forwarder {
  private pending = new Map<string, { error?: SpdyStream; data?: SpdyStream; early: Buffer[]; ended: boolean }>();
  constructor(private readonly pod: KubeObject, private readonly agent: string) {}

  add(s: SpdyStream): void {
    const type = s.headers.streamtype;
    const id = s.headers.requestid ?? '';
    if (type !== 'error' && type !== 'data') return s.reset();
    const p = this.pending.get(id) ?? { early: [], ended: false };
    if (p[type]) return s.reset();
    p[type] = s;
    this.pending.set(id, p);
    s.onReset = () => this.pending.get(id)?.[type] === s && this.pending.delete(id);
    // kubectl opens the error stream first, but a client may send data before the pair is complete: kept
    if (type === 'data') {
      s.onData = (d) => p.early.push(d);
      s.onEnd = () => (p.ended = true);
    }
    if (p.error && p.data) {
      this.pending.delete(id);
      const data = p.data;
      relayPair(this.pod, this.agent, p.error, data);
      for (const d of p.early.splice(0)) data.onData?.(d);
      if (p.ended) data.onEnd?.();
    }
  }
}

/** One forwarded connection: the data stream ⇄ the agent, failures on the error stream. */
export function relayPair(pod: KubeObject, agent: string, errorStream: SpdyStream, data: SpdyStream): void {
  const portText = data.headers.port ?? '';
  const port = Number(portText);
  const fail = (msg: string) => {
    errorStream.write(Buffer.from(`error forwarding port ${portText} to pod ${pod.metadata.name}, uid ${pod.metadata.uid ?? ''}: ${msg}`));
    errorStream.end();
    data.end();
  };
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return fail(`invalid port ${JSON.stringify(portText)}`);
  const url = `ws://${agent}/portForward/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(pod.metadata.name!)}?port=${port}`;
  const ws = new WebSocket(url, [PORT_FORWARD_PROTOCOL], { handshakeTimeout: 10_000, perMessageDeflate: false });
  const queued: Buffer[] = [];
  let agentError = '';
  let done = false;
  const toAgent = (b: Buffer) => (ws.readyState === ws.OPEN ? ws.send(b) : queued.push(b));
  data.onData = (d) => toAgent(Buffer.concat([Buffer.of(PfChannel.data), d]));
  data.onEnd = () => toAgent(Buffer.of(PfChannel.close, PfChannel.data));
  data.onReset = errorStream.onReset = () => {
    done = true;
    ws.terminate();
  };
  ws.on('open', () => {
    for (const b of queued.splice(0)) ws.send(b);
  });
  ws.on('message', (d: Buffer) => {
    if (d[0] === PfChannel.data) data.write(d.subarray(1));
    else if (d[0] === PfChannel.error) agentError += d.subarray(1).toString('utf8');
  });
  ws.on('unexpected-response', (_r, res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (c: string) => (body += c));
    res.on('end', () => {
      try {
        body = JSON.parse(body).message ?? body;
      } catch {
        /* plain text */
      }
      agentError ||= body.trim() || `node agent answered ${res.statusCode}`;
      ws.terminate();
    });
  });
  ws.on('error', (e) => (agentError ||= `Get "${url}": ${e.message}`));
  ws.on('close', () => {
    if (done) return;
    done = true;
    if (agentError) return fail(agentError);
    errorStream.end();
    data.end();
  });
}
