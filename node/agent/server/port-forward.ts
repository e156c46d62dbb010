// The agent's side of `kubectl port-forward`: `GET /portForward/{ns}/{pod}?port=N` upgraded to a WebSocket
// (subprotocol `portforward.k8s.io`), one per forwarded connection; the API server terminates kubectl's SPDY
// session and opens one of these for each connection (control-plane/apiserver/handlers/port-forward.ts).
//   [0, bytes]  data, both ways          [255, 0]  the client's data has ended (we half-close)
//   [1, text]   our error (then we close): "dial tcp4 127.0.0.1:N: connect: connection refused", as kubelet
// The connection itself is made by `shoal-stream connect <holder pid> <port>`, which enters the pod's network
// namespace and connects to 127.0.0.1:N (like kubelet/CRI's PortForward), relaying its stdin/stdout.

import { spawn } from 'node:child_process';
import type { WebSocket } from 'ws';
import { findStreamHelper } from './stream-helper.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PfChannel = { data: 0, error: 1, close: 255 } as const;

/** Starts the in-pod connection for a port; the seam tests replace (e.g. to connect on the host). */
export type PortConnector = (holderPid: number, port: number) => import('node:child_process').ChildProcessWithoutNullStreams;

export const helperConnector: PortConnector = (holderPid, port) =>
  spawn(findStreamHelper(), ['connect', String(holderPid), String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });

/** Parses `port`; a message naming the field when it is bad. */
export function parsePort(v: string | null): number | string {
  const n = Number(v);
  if (!v || !/^\d+$/.test(v) || n < 1 || n > 65535) return `port: Invalid value: ${JSON.stringify(v ?? '')}: must be a port number between 1 and 65535`;
  return n;
}

/** Relays one forwarded connection until either side ends. */
export function runPortForward(ws: WebSocket, holderPid: number, port: number, connect: PortConnector = helperConnector): void {
  let child;
  try {
    child = connect(holderPid, port);
  } catch (e) {
    ws.send(Buffer.concat([Buffer.of(PfChannel.error), Buffer.from((e as Error).message)]), () => ws.close(1000));
    return;
  }
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.stdin.on('error', () => undefined);
  child.on('error', (e) => (err ||= e.message));
  let inFlight = 0;
  child.stdout.on('data', (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    inFlight++;
    ws.send(Buffer.concat([Buffer.of(PfChannel.data), d]), () => --inFlight < 8 && child.stdout.resume());
    if (inFlight >= 8) child.stdout.pause();
  });
  ws.on('message', (d: Buffer) => {
    if (d[0] === PfChannel.data && !child.stdin.writableEnded) child.stdin.write(d.subarray(1));
    else if (d[0] === PfChannel.close) child.stdin.end();
  });
  ws.on('close', () => child.kill('SIGKILL'));
  child.on('close', (code) => {
    if (ws.readyState !== ws.OPEN) return;
    if (code !== 0 && err) ws.send(Buffer.concat([Buffer.of(PfChannel.error), Buffer.from(err.trim())]), () => ws.close(1000));
    else ws.close(1000);
  });
}
