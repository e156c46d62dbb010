// bench/netpol/prober: the parent side of the probe loop. Starts probe.js inside a pod's network namespace,
// collects its `<start ns> <ok>` lines, and answers "how long after `since` did the verdict flip to `want`
// for good": the start time of the first probe of a run of `want` results that nothing contradicts and
// that lasts `stableMs`. Only settled probes count (started more than the probe timeout ago), because a
// dropped probe reports only when it times out, after later ones that succeeded.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;

/** Probe loop settings. */
export interface ProbeOptions {
  intervalMs: number;
  timeoutMs: number;
}

interface Result {
  start: bigint;
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running probe loop from `netns` to `ip:port`. */
export class Prober {
  private results: Result[] = [];
  private stderr = '';
  private constructor(private readonly child: ChildProcess, readonly o: ProbeOptions) {}

  /** Start probe.js in `netns` (root: `ip netns exec`). */
  static start(netns: string, ip: string, port: number, o: ProbeOptions): Prober {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, join(here, 'probe.js'), ip, String(port), String(o.intervalMs), String(o.timeoutMs)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p = new Prober(child, o);
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const sp = l.indexOf(' ');
        if (sp > 0) p.results.push({ start: BigInt(l.slice(0, sp)), ok: l.slice(sp + 1) === '1' });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.stderr = (p.stderr + d).slice(-2000)));
    return p;
  }

  /**
   * Milliseconds from `since` (process.hrtime.bigint()) to the first probe of the stable `want` run, or
   * undefined if none within `deadlineMs`.
   */
  async waitFor(want: boolean, since: bigint, deadlineMs: number, stableMs = 100): Promise<number | undefined> {
    this.results = this.results.filter((r) => r.start >= since - 2_000_000_000n);
    const stable = BigInt(Math.round(stableMs * 1e6));
    const settle = BigInt(Math.round((this.o.timeoutMs + 30) * 1e6));
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      if (this.child.exitCode !== null) throw new Error(`probe loop exited (${this.child.exitCode}): ${this.stderr}`);
      const horizon = process.hrtime.bigint() - settle;
      const seen = this.results.filter((r) => r.start >= since && r.start <= horizon).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      let lastOther = -1;
      for (let i = seen.length - 1; i >= 0; i--) {
        if (seen[i]!.ok !== want) {
          lastOther = i;
          break;
        }
      }
      const first = seen[lastOther + 1];
      if (first && horizon - first.start >= stable) return Number(first.start - since) / 1e6;
      await sleep(5);
    }
    return undefined;
  }

  /** Stop the loop: close its stdin (it exits), then kill the pid we started if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await Promise.race([exited, sleep(1000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
