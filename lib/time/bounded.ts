// kube-proxy's BoundedFrequencyRunner, in small, for every sync loop that programs the host from a cache
// (service proxy, policy enforcer, sidecar capture): `run()` asks for a run; runs happen at most once per
// `minIntervalMs`, at least once per `maxIntervalMs`, never two at once; a failed run is retried after
// `retryMs`. Time comes from a Clock, so tests drive it with FakeClock.

import { realClock, type Clock } from './clock.js';

/** Runner settings. */
export interface RunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  retryMs: number;
  clock?: Clock;
  onError?(e: unknown): void;
}

/** Runs `fn` bounded in frequency; never two at once. */
export class BoundedFrequencyRunner {
  private timer: unknown;
  private lastStart = -Infinity;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly clock: Clock;
  /** resolves waiters of `idle()` */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly fn: () => Promise<void>, private readonly o: RunnerOptions) {
    this.clock = o.clock ?? realClock;
  }

  /** Requests a run as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = Math.max(0, this.lastStart + this.o.minIntervalMs - this.clock.now());
    this.schedule(wait);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    this.running = true;
    this.again = false;
    this.lastStart = this.clock.now();
    let next = this.o.maxIntervalMs;
    try {
      await this.fn();
    } catch (e) {
      this.o.onError?.(e);
      next = this.o.retryMs;
    }
    this.running = false;
    if (this.stopped) return;
    if (this.again) next = Math.min(next, Math.max(0, this.lastStart + this.o.minIntervalMs - this.clock.now()));
    this.schedule(next);
    if (!this.again) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves after the next run that leaves nothing pending. */
  idle(): Promise<void> {
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Requests a run and resolves once one has left nothing pending (tests, first sync). */
  runAndWait(): Promise<void> {
    const p = this.idle();
    this.run();
    return p;
  }

  /** Stops all future runs (a running one finishes). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
