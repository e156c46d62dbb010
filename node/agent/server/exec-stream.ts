// Streaming exec on the agent: `GET /exec/{ns}/{pod}/{container}?command=…&stdin=1&stdout=1&stderr=1&tty=0`
// upgraded to a WebSocket that speaks Kubernetes' remotecommand channel protocol (`v5.channel.k8s.io`,
// `v4.channel.k8s.io`). The API server relays a `kubectl exec` stream to it frame for frame, so this is
// the one place that knows what the channels mean:
//   every binary message = [channel byte, ...data]
//   0 stdin (client → us)   1 stdout   2 stderr   3 error: one JSON metav1.Status when the command ends
//   4 resize: JSON {"Width","Height"} (TTY only)   255 close (v5 only): [255, 0] = the client's stdin has ended
// With `tty=true` the command runs on a pseudo-terminal made by the `shoal-stream pty` helper (forkpty;
// resizes through its control pipe, fd 3, as TIOCSWINSZ); its output is all on channel 1, as kube's.
// `/attach/{ns}/{pod}/{container}` streams what the container writes from now on (its log file, followed).
// `/portForward/{ns}/{pod}?port=N` is port-forward.ts.
// The command runs exactly like the non-interactive exec (`execInPod`): nsenter into every namespace of
// the pod's holder, with the container's env and workingDir. The process is its own process group, so a
// client that goes away takes nsenter and the command it forked with it.

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { IncomingMessage, Server } from 'node:http';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { enterArgs } from '../containers/runner.js';
import { findStreamHelper } from './stream-helper.js';
import { PORT_FORWARD_PROTOCOL, parsePort, runPortForward, type PortConnector } from './port-forward.js';
import { followAttach } from './attach.js';

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

/** Starts a command on a pseudo-terminal: stdio[3] is the helper's control pipe ("ROWS COLS\n"). */
export type TtySpawner = (argv: string[], target: ExecTarget, size: { rows: number; cols: number }) => ChildProcess;

/** The real TTY spawner: `shoal-stream pty ROWS COLS -- nsenter … CMD` (the pty is made on the host). */
export const helperTtySpawner: TtySpawner = (argv, target, size) => {
  const helper = findStreamHelper();
  const args = enterArgs(target.holderPid);
  if (target.workingDir) args.splice(args.length - 1, 0, `--wd=${target.workingDir}`);
  // `setsid -c` inside the pod's PID namespace makes the command lead a new session with the pty as its
  // controlling terminal, so its process group is one the shell can see (dash/bash restore the foreground
  // group on exit and fail with "Cannot set tty process group" on a group of the host's namespace)
  return spawn(helper, ['pty', String(size.rows), String(size.cols), '--', 'nsenter', ...args, 'setsid', '-c', ...argv], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm', ...target.env },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true,
  });
};

/** What attach needs: the container's current log file and whether that run is still the current one. */
export interface AttachTarget {
  logFile: string;
  current(): boolean;
  /** the container's stdin FIFO (`stdin: true`), where channel 0 goes */
  stdinPath?: string;
}

/** Options of `attachExecStream`. */
export interface ExecStreamDeps {
  /** the container's exec target; throws a LookupError (404 pod/container, 400 not running) */
  find(ns: string, pod: string, container: string): ExecTarget;
  /** the pod's holder process (its network namespace), for port-forward; throws a LookupError */
  findPod?(ns: string, pod: string): { holderPid: number };
  /** the container's output, for attach; throws a LookupError */
  findAttach?(ns: string, pod: string, container: string): AttachTarget;
  spawn?: ExecSpawner;
  spawnTty?: TtySpawner;
  connect?: PortConnector;
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
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => pickProtocol([...set].join(',')) ?? (set.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false) });
  const spawner = deps.spawn ?? nsenterSpawner;
  const ttySpawner = deps.spawnTty ?? helperTtySpawner;
  const refuseLookup = (socket: Duplex, e: unknown) => {
    const le = e as LookupError;
    return refuseUpgrade(socket, le.code ?? 500, le.reason ?? 'InternalError', le.message);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const pf = /^\/portForward\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (pf && deps.findPod) {
      const [ns, pod] = pf.slice(1).map(decodeURIComponent) as [string, string];
      const port = parsePort(url.searchParams.get('port'));
      if (typeof port === 'string') return refuseUpgrade(socket, 400, 'BadRequest', port);
      if (!String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((x) => x.trim()).includes(PORT_FORWARD_PROTOCOL))
        return refuseUpgrade(socket, 400, 'BadRequest', `Sec-WebSocket-Protocol: Unsupported value: ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')}: supported values: ${PORT_FORWARD_PROTOCOL}`);
      let holder: { holderPid: number };
      try {
        holder = deps.findPod(ns, pod);
      } catch (e) {
        return refuseLookup(socket, e);
      }
      return wss.handleUpgrade(req, socket, head, (ws) => runPortForward(ws, holder.holderPid, port, deps.connect));
    }
    const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || (m[1] === 'attach' && !deps.findAttach)) return refuseUpgrade(socket, 404, 'NotFound', `no streaming endpoint at ${url.pathname}`);
    const [ns, pod, container] = m.slice(2).map(decodeURIComponent) as [string, string, string];
    if (m[1] === 'attach') url.searchParams.set('command', 'attach'); // attach has no command; the rest is checked alike
    const params = parseExecParams(url.searchParams);
    if ('field' in params) return refuseUpgrade(socket, 400, 'BadRequest', params.message);
    if (!pickProtocol(req.headers['sec-websocket-protocol']))
      return refuseUpgrade(socket, 400, 'BadRequest', `Sec-WebSocket-Protocol: Unsupported value: ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')}: supported values: ${EXEC_PROTOCOLS.join(', ')}`);
    if (m[1] === 'attach') {
      let target: AttachTarget;
      try {
        target = deps.findAttach!(ns, pod, container);
      } catch (e) {
        return refuseLookup(socket, e);
      }
      return wss.handleUpgrade(req, socket, head, (ws) => followAttach(ws, target, params));
    }
    let target: ExecTarget;
    try {
      target = deps.find(ns, pod, container);
    } catch (e) {
      return refuseLookup(socket, e);
    }
    if (params.tty) {
      try {
        findStreamHelper();
      } catch (e) {
        return refuseUpgrade(socket, 500, 'InternalError', (e as Error).message);
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => (params.tty ? runTtySession(ws, params, target, ttySpawner) : runSession(ws, params, target, spawner)));
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

/**
 * One exec on a pseudo-terminal: waits briefly for kubectl's first resize (it sends the terminal size right
 * after connecting) so the command starts with the right size, then relays stdin → pty and pty → channel 1.
 */
function runTtySession(ws: WebSocket, p: ExecParams, target: ExecTarget, spawner: TtySpawner): void {
  let child: ChildProcess | undefined;
  let size = { rows: 0, cols: 0 };
  const early: Buffer[] = [];
  let stdinEnded = false;
  const resize = (buf: Buffer) => {
    try {
      const m = JSON.parse(buf.toString('utf8')) as { Width?: number; Height?: number };
      const rows = Math.trunc(Number(m.Height));
      const cols = Math.trunc(Number(m.Width));
      if (!(rows > 0 && cols > 0 && rows < 65536 && cols < 65536)) return;
      size = { rows, cols };
      const ctl = child?.stdio[3] as NodeJS.WritableStream | undefined;
      ctl?.write(`${rows} ${cols}\n`);
    } catch {
      /* not JSON: ignored, as kubelet does */
    }
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const buf = isBinary ? data : Buffer.from(data);
    if (!buf.length) return;
    const ch = buf[0];
    if (ch === Channel.resize) {
      resize(buf.subarray(1));
      if (!child) start();
    } else if (ch === Channel.stdin && p.stdin) {
      if (child) child.stdin?.write(buf.subarray(1));
      else early.push(buf.subarray(1));
    } else if (ch === Channel.close && buf[1] === Channel.stdin) {
      stdinEnded = true;
      child?.stdin?.end();
    }
  });
  const timer = setTimeout(() => start(), 300);
  let exited = false;
  ws.on('close', () => {
    clearTimeout(timer);
    if (!exited && child?.pid) killGroup(child.pid);
  });
  function start() {
    if (child || ws.readyState !== ws.OPEN) return;
    clearTimeout(timer);
    try {
      child = spawner(p.command, target, size);
    } catch (e) {
      sendStatus(ws, { metadata: {}, status: 'Failure', reason: 'InternalError', message: `exec ${JSON.stringify(p.command)}: ${(e as Error).message}` });
      return;
    }
    const c = child;
    let spawnError: Error | undefined;
    c.on('error', (e) => (spawnError = e));
    c.stdin?.on('error', () => undefined);
    (c.stdio[3] as NodeJS.WritableStream | undefined)?.on?.('error', () => undefined);
    for (const b of early.splice(0)) c.stdin?.write(b);
    if (!p.stdin || stdinEnded) c.stdin?.end();
    let inFlight = 0;
    const out = (d: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      inFlight++;
      ws.send(Buffer.concat([Buffer.of(Channel.stdout), d]), () => --inFlight < 8 && c.stdout?.resume());
      if (inFlight >= 8) c.stdout?.pause();
    };
    c.stdout?.on('data', out);
    c.stderr?.on('data', out); // the helper's own complaints (exec failed); the command's all go to the pty
    c.on('close', (code, signal) => {
      exited = true;
      if (spawnError) return sendStatus(ws, { metadata: {}, status: 'Failure', reason: 'InternalError', message: `exec ${JSON.stringify(p.command)}: ${spawnError.message}` });
      sendStatus(ws, exitStatus(code ?? 128 + (signal ? signalNumber(signal) : 9), p.command));
    });
  }
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
