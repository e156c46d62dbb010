// The one process runner every Shoal process uses (`ip`, `nft`, `nsenter`, `conntrack`, CNI plugins,
// container commands). One failure rule, so callers never guess:
//   - `run` never rejects. It resolves with the exit code and the whole stdout/stderr.
//   - A command that could not be started (missing binary, EACCES) resolves with code 127 (the shell's
//     "command not found") and `startError` set to the reason; its message is also in stderr.
//   - A command killed because `timeoutMs` passed resolves with code 124 (coreutils `timeout`); one
//     killed by any other signal with 128 + the signal number (the shell's rule).
//   - `mustRun` is the strict form: it throws a CommandError (`<what>: <cmd> exited <code>: <stderr>`)
//     on any non-zero code.
// `runSync` is the same rule for the few synchronous callers (`shoal down` cleanup). Tests hand a
// FakeRunner (fake.ts) to anything that takes a Runner.

import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';

/** A finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** set when the process could not be started at all (code is then 127) */
  startError?: string;
}

/** Options of one run. */
export interface RunOptions {
  /** written to stdin, which is then closed (an empty stdin when absent) */
  input?: string | Buffer;
  /** the whole environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long; the result then has code 124 */
  timeoutMs?: number;
}

/** The process seam. */
export interface Runner {
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** The exit code for a process ended by `signal` (128 + its number), or 124 when our timeout killed it. */
export function signalCode(signal: NodeJS.Signals | null, timedOut: boolean): number {
  if (timedOut) return 124;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/** Runs real processes. */
export const realRunner: Runner = {
  run(cmd, args, opts = {}) {
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (e) => {
        if (timer) clearTimeout(timer);
        const startError = `${cmd}: ${e.message}`;
        resolve({ code: 127, stdout, stderr: stderr ? `${stderr}\n${startError}` : startError, startError });
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? signalCode(signal, timedOut), stdout, stderr });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  },
};

/** `run` for synchronous callers, same rule (never throws; 127 when the command cannot start). */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { env: opts.env ?? process.env, input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') {
    const startError = `${cmd}: ${r.error.message}`;
    return { code: 127, stdout: r.stdout ?? '', stderr: startError, startError };
  }
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status ?? signalCode(r.signal, timedOut), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A command that exited non-zero, from `mustRun`. */
export class CommandError extends Error {
  constructor(
    readonly what: string,
    readonly cmd: string,
    readonly result: RunResult,
  ) {
    super(`${what}: ${cmd} exited ${result.code}: ${firstLines(result.stderr)}`);
    this.name = 'CommandError';
  }
}

/** The first six lines of a tool's stderr on one line (error messages stay readable). */
export function firstLines(stderr: string, n = 6): string {
  return stderr.trim().split('\n').slice(0, n).join(' | ');
}

/** Runs and resolves with stdout; throws a CommandError naming `what` on a non-zero exit. */
export async function mustRun(runner: Runner, what: string, cmd: string, args: readonly string[], opts?: RunOptions): Promise<string> {
  const r = await runner.run(cmd, args, opts);
  if (r.code !== 0) throw new CommandError(what, cmd, r);
  return r.stdout;
}

/** The command line that runs `cmd args` inside the network namespace at `netns` (any path, /proc/<pid>/ns/net too). */
export function inNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, '--', cmd, ...args]] : [cmd, [...args]];
}

/** Quotes a word for /bin/sh. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
