// `pods/exec` as kubectl does it since 1.30: a WebSocket to the API server speaking Kubernetes'
// remotecommand channel protocol (`v5.channel.k8s.io`, else `v4.channel.k8s.io`). The command's output is
// handed on as it comes, for as long as the command runs (no request timeout: a DNS lookup that times out
// or a load loop may take minutes), and its exit code comes from the Status on the error channel.
//
//   every binary message = [channel byte, ...data]
//   0 stdin (to the command)   1 stdout   2 stderr   3 one JSON metav1.Status when the command ends
//   255 close (v5 only): [255, 0] = our stdin has ended

import { WebSocket } from 'ws';
import type { Status } from '../meta.js';
import type { ClusterConfig } from './config.js';
import { errorFromResponse, KubeApiError } from './errors.js';

/** Subprotocols offered, best first. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, close: 255 } as const;

/** What to run and where its output goes. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  /** sent to the command, then its stdin is closed (v5); absent: the command gets no stdin */
  stdin?: Buffer | string;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** aborting ends the stream; the agent then kills the command (Ctrl-C) */
  signal?: AbortSignal;
}

/** How the command ended. */
export interface ExecOutcome {
  /** the command's exit code; 130 when aborted */
  exitCode: number;
  /** the Status sent on channel 3 (undefined when aborted) */
  status?: Status;
}

/** The exec URL (wss://…) for a request. */
export function execUrl(server: string, r: Pick<ExecRequest, 'namespace' | 'pod' | 'container' | 'command' | 'stdin'>): string {
  const qs = new URLSearchParams();
  for (const c of r.command) qs.append('command', c);
  if (r.container) qs.set('container', r.container);
  qs.set('stdout', 'true');
  qs.set('stderr', 'true');
  if (r.stdin !== undefined) qs.set('stdin', 'true');
  const base = server.replace(/^http/, 'ws').replace(/\/+$/, '');
  return `${base}/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods/${encodeURIComponent(r.pod)}/exec?${qs}`;
}

/** The exit code a channel-3 Status carries: 0 on Success, the ExitCode cause on NonZeroExitCode. */
export function exitCodeOf(s: Status): number | undefined {
  if (s.status === 'Success') return 0;
  if (s.reason !== 'NonZeroExitCode') return undefined;
  const n = Number((s.details?.causes ?? []).find((c) => c.reason === 'ExitCode')?.message);
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Runs the command and streams its output; resolves with its exit code once it ends, however long that
 * takes. Rejects with a KubeApiError when the server refuses (unknown pod, bad container, 401…) or
 * reports a failure other than an exit code.
 */
export function execStream(config: ClusterConfig, r: ExecRequest): Promise<ExecOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(execUrl(config.server, r), EXEC_PROTOCOLS, {
      headers: config.token ? { authorization: `Bearer ${config.token}` } : {},
      ca: config.caPem, cert: config.certPem, key: config.keyPem, rejectUnauthorized: !config.insecureSkipTlsVerify,
      perMessageDeflate: false, handshakeTimeout: 30_000,
    });
    let status: Status | undefined;
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      r.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => {
      ws.terminate();
      done(() => resolve({ exitCode: 130 }));
    };
    if (r.signal?.aborted) return onAbort();
    r.signal?.addEventListener('abort', onAbort);
    ws.on('open', () => {
      if (r.stdin === undefined) return;
      ws.send(Buffer.concat([Buffer.of(CH.stdin), Buffer.from(r.stdin)]));
      if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.of(CH.close, CH.stdin));
    });
    ws.on('message', (d: Buffer) => {
      if (!d.length) return;
      const body = d.subarray(1);
      if (d[0] === CH.stdout) r.stdout(body);
      else if (d[0] === CH.stderr) r.stderr(body);
      else if (d[0] === CH.error) {
        try {
          status = JSON.parse(body.toString('utf8')) as Status;
        } catch {
          status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: body.toString('utf8'), code: 500 };
        }
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => done(() => reject(errorFromResponse(res.statusCode ?? 500, text))));
    });
    ws.on('error', (e) => done(() => reject(e)));
    ws.on('close', () => {
      done(() => {
        if (!status) return reject(new Error('exec: the stream closed before the command reported how it ended'));
        const code = exitCodeOf(status);
        if (code === undefined) return reject(new KubeApiError({ ...status, kind: 'Status', apiVersion: 'v1', code: status.code || 500 }));
        resolve({ exitCode: code, status });
      });
    });
  });
}
