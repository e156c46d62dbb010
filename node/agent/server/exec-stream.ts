// Streaming exec on the agent: `GET /exec/{ns}/{pod}/{container}?command=…&stdin=1&stdout=1&stderr=1&tty=0`
// upgraded to a WebSocket that speaks Kubernetes' remotecommand channel protocol (`v5.channel.k8s.io`,
// `v4.channel.k8s.io`). The API server relays a `kubectl exec` stream to it frame for frame, so this is
// the one place that knows what the channels mean:
//   every binary message = [channel byte, ...data]
//   0 stdin (client → us)   1 stdout   2 stderr   3 error: one JSON metav1.Status when the command ends
//   4 resize (ignored: no TTY)   255 close (v5 only): [255, 0] = the client's stdin has ended
// The command runs exactly like the non-interactive exec (`execInPod`): nsenter into every namespace of
// the pod's holder, with the container's env and workingDir. The process is its own process group, so a
// client that goes away takes nsenter and the command it forked with it.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { IncomingMessage, Server } from 'node:http';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { enterArgs } from '../containers/runner.js';

/** Subprotocols we speak, best first. v1–v3 differ in how channel 3 reports errors; not offered. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** Channel numbers of the remotecommand protocol. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** What a streaming exec needs to know about its target container. */
export interface ExecTarget {
  holderPid: number;
  env: Record<string, string>;
  workingDir?: string;
  /** runs the command as the container's user (setpriv …; empty for root) */
  userPrefix?: string[];
}

/** A lookup failure: HTTP code, Kubernetes reason, message (answered before the upgrade). */
export interface LookupError extends Error {
  code: number;
  reason: string;
}

/** Starts the process of an exec (the OS seam; tests run commands on the host instead of nsenter). */
export type ExecSpawner = (argv: string[], target: ExecTarget) => ChildProcessWithoutNullStreams;

/** The real spawner: nsenter into the holder's namespaces, like `execInPod`, in its own process group. */
export const nsenterSpawner: ExecSpawner = (argv, target) => {
  const args = enterArgs(target.holderPid);
  if (target.workingDir) args.splice(args.length - 1, 0, `--wd=${target.workingDir}`);
  return spawn('nsenter', [...args, ...(target.userPrefix ?? []), ...argv], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...target.env },
    stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
};

/** Options of `attachExecStream`. */
export interface ExecStreamDeps {
  /** the container's exec target; throws a LookupError (404 pod/container, 400 not running) */
  find(ns: string, pod: string, container: string): ExecTarget;
  spawn?: ExecSpawner;
}

/** The parsed query of a streaming exec, or the field at fault. */
export interface ExecParams {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const truthy = (v: string | null) => v === 'true' || v === '1';

/** Reads and checks the exec query (shared with the API server, which checks before it dials us). */
export function parseExecParams(qs: URLSearchParams): ExecParams | { field: string; message: string } {
  const command = qs.getAll('command');
  if (!command.length) return { field: 'command', message: 'command: Required value: you must specify at least one command for the container' };
  const p = { command, stdin: truthy(qs.get('stdin')), stdout: truthy(qs.get('stdout')), stderr: truthy(qs.get('stderr')), tty: truthy(qs.get('tty')) };
  if (p.tty) return { field: 'tty', message: 'tty: Invalid value: true: a TTY is not supported by this node agent; run kubectl exec without -t' };
  if (!p.stdin && !p.stdout && !p.stderr) return { field: 'stdout', message: 'you must specify at least 1 of stdin, stdout, stderr' };
  return p;
}

/** The first subprotocol offered that we speak. */
export function pickProtocol(header: string | string[] | undefined): string | undefined {
  const offered = String(header ?? '').split(',').map((s) => s.trim());
  return EXEC_PROTOCOLS.find((p) => offered.includes(p));
}

/** The metav1.Status sent on channel 3 when the command ends. */
export function exitStatus(code: number, argv: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: command ${JSON.stringify(argv)} exited with ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** Answers a not-upgraded request with a Kubernetes Status and closes the socket. */
export function refuseUpgrade(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  const text = { 400: 'Bad Request', 404: 'Not Found', 401: 'Unauthorized', 500: 'Internal Server Error' }[code] ?? 'Error';
  socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Serves `/exec/...` upgrades on the agent's HTTP server; returns a function that ends every session. */
export function attachExecStream(server: Server, deps: ExecStreamDeps): () => void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => pickProtocol([...set].join(',')) ?? false });
  const spawner = deps.spawn ?? nsenterSpawner;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const m = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return refuseUpgrade(socket, 404, 'NotFound', `no streaming endpoint at ${url.pathname}`);
    const [ns, pod, container] = m.slice(1).map(decodeURIComponent) as [string, string, string];
    const params = parseExecParams(url.searchParams);
    if ('field' in params) return refuseUpgrade(socket, 400, 'BadRequest', params.message);
    if (!pickProtocol(req.headers['sec-websocket-protocol']))
      return refuseUpgrade(socket, 400, 'BadRequest', `Sec-WebSocket-Protocol: Unsupported value: ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')}: supported values: ${EXEC_PROTOCOLS.join(', ')}`);
    let target: ExecTarget;
    try {
      target = deps.find(ns, pod, container);
    } catch (e) {
      const le = e as LookupError;
      return refuseUpgrade(socket, le.code ?? 500, le.reason ?? 'InternalError', le.message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => runSession(ws, params, target, spawner));
  });
  return () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}

/** One exec: pipes the process and the socket into each other until the process ends. */
function runSession(ws: WebSocket, p: ExecParams, target: ExecTarget, spawner: ExecSpawner): void {
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawner(p.command, target);
  } catch (e) {
    sendStatus(ws, { metadata: {}, status: 'Failure', reason: 'InternalError', message: `exec ${JSON.stringify(p.command)}: ${(e as Error).message}` });
    return;
  }
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  child.stdin.on('error', () => undefined);
  if (!p.stdin) child.stdin.end();

  // stdout/stderr → channels 1/2, pausing the process's output while the socket is backed up
  let inFlight = 0;
  const forward = (channel: number, stream: NodeJS.ReadableStream & { pause(): void; resume(): void }) => {
    stream.on('data', (d: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      inFlight++;
      ws.send(Buffer.concat([Buffer.of(channel), d]), () => {
        if (--inFlight < 8) {
          child.stdout.resume();
          child.stderr.resume();
        }
      });
      if (inFlight >= 8) stream.pause();
    });
  };
  forward(Channel.stdout, child.stdout);
  forward(Channel.stderr, child.stderr);

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const buf = isBinary ? data : Buffer.from(data);
    if (!buf.length) return;
    const ch = buf[0];
    if (ch === Channel.stdin && p.stdin && !child.stdin.writableEnded) child.stdin.write(buf.subarray(1));
    else if (ch === Channel.close && buf[1] === Channel.stdin) child.stdin.end();
    // resize (4) and anything else: no TTY, nothing to do
  });

  let exited = false;
  ws.on('close', () => {
    if (!exited && child.pid) killGroup(child.pid);
  });
  child.on('close', (code, signal) => {
    exited = true;
    if (spawnError) {
      sendStatus(ws, { metadata: {}, status: 'Failure', reason: 'InternalError', message: `exec ${JSON.stringify(p.command)}: ${spawnError.message}` });
      return;
    }
    const rc = code ?? 128 + (signal ? signalNumber(signal) : 9);
    sendStatus(ws, exitStatus(rc, p.command));
  });
}

function sendStatus(ws: WebSocket, status: Record<string, unknown>) {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(Buffer.concat([Buffer.of(Channel.error), Buffer.from(JSON.stringify(status))]), () => ws.close(1000));
}

function killGroup(pid: number) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function signalNumber(s: NodeJS.Signals): number {
  return constants.signals[s] ?? 9;
}
