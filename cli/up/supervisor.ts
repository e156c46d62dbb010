// The supervisor behind `shoal up`: starts each component as a child process, sends its output to
// `$SHOAL_HOME/logs/<name>.log`, waits for its readiness check, restarts it when it exits unexpectedly
// (back-off 1 s doubling to 30 s, reset after 60 s of running), and stops everything on request
// (SIGTERM, then SIGKILL after the grace period) by the PIDs it started.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** One supervised component. */
export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** resolves true once the component serves; polled every 100 ms */
  ready: () => Promise<boolean>;
  /** how long to wait for readiness at start */
  readyTimeoutMs?: number;
  /** how long a stop waits after SIGTERM before SIGKILL (default: stopAll's) */
  stopGraceMs?: number;
  /** the components this process holds when it is a group (group.ts), for reporting */
  members?: string[];
}

/** What the supervisor reports as it goes (the CLI prints it). */
export type SupervisorEvent =
  | { type: 'starting'; name: string }
  | { type: 'ready'; name: string; ms: number; pid: number; members?: string[] }
  | { type: 'exited'; name: string; code: number | null; signal: string | null; restartInMs: number }
  | { type: 'stopped'; name: string };

interface Running {
  spec: ComponentSpec;
  child?: ChildProcess;
  log: WriteStream;
  backoffMs: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

const MIN_BACKOFF = 1000;
const MAX_BACKOFF = 30_000;
const RESET_AFTER = 60_000;

/** Supervises a set of components. */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly logDir: string, private readonly onEvent: (e: SupervisorEvent) => void = () => {}) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Start a component and wait until it is ready; throws (having stopped it) when it is not in time. */
  async start(spec: ComponentSpec): Promise<void> {
    const r: Running = { spec, log: createWriteStream(join(this.logDir, `${spec.name}.log`), { flags: 'a' }), backoffMs: MIN_BACKOFF, startedAt: 0 };
    this.running.set(spec.name, r);
    this.onEvent({ type: 'starting', name: spec.name });
    const t0 = Date.now();
    this.spawn(r);
    const deadline = t0 + (spec.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (r.child?.exitCode !== null && r.child?.exitCode !== undefined && !r.restartTimer) break;
      try {
        if (await spec.ready()) {
          this.onEvent({ type: 'ready', name: spec.name, ms: Date.now() - t0, pid: r.child?.pid ?? 0, members: spec.members });
          return;
        }
      } catch {
        /* not yet */
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    await this.stopOne(r, 2000);
    throw new Error(`${spec.name} did not become ready in ${spec.readyTimeoutMs ?? 30_000} ms; see ${join(this.logDir, `${spec.name}.log`)}`);
  }

  private spawn(r: Running): void {
    const { spec } = r;
    r.startedAt = Date.now();
    r.log.write(`--- ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, { env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    child.stdout!.pipe(r.log, { end: false });
    child.stderr!.pipe(r.log, { end: false });
    child.on('exit', (code, signal) => {
      if (this.stopping || r.child !== child) return;
      if (Date.now() - r.startedAt > RESET_AFTER) r.backoffMs = MIN_BACKOFF;
      const wait = r.backoffMs;
      r.backoffMs = Math.min(MAX_BACKOFF, r.backoffMs * 2);
      this.onEvent({ type: 'exited', name: spec.name, code, signal, restartInMs: wait });
      r.restartTimer = setTimeout(() => {
        r.restartTimer = undefined;
        if (!this.stopping) this.spawn(r);
      }, wait);
    });
  }

  /** PIDs of the running components, by name. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [n, r] of this.running) if (r.child?.pid && r.child.exitCode === null) out[n] = r.child.pid;
    return out;
  }

  private async stopOne(r: Running, graceMs: number): Promise<void> {
    if (r.restartTimer) clearTimeout(r.restartTimer);
    const child = r.child;
    r.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    r.log.end();
    this.onEvent({ type: 'stopped', name: r.spec.name });
  }

  /** Stop every component, last started first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const r of [...this.running.values()].reverse()) await this.stopOne(r, r.spec.stopGraceMs ?? graceMs);
    this.running.clear();
  }
}
