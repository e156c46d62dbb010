// kube-proxy's change tracker and BoundedFrequencyRunner, in small. Event handlers only record which
// Services changed; the runner calls `sync` at most once per `minIntervalMs`, at least once per
// `maxIntervalMs` (a full resync), and after a failure retries with a full resync after `retryMs`.

/** Keys (`namespace/name`) changed since the last successful sync; `all` after a failure or a node change. */
export class ChangeTracker {
  private pending = new Set<string>();
  private all = true;

  /** Records one changed Service. */
  mark(key: string): void {
    this.pending.add(key);
  }

  /** Asks for a full resync. */
  markAll(): void {
    this.all = true;
  }

  /** Takes the pending changes (`undefined` = everything). */
  take(): Set<string> | undefined {
    const out = this.all ? undefined : this.pending;
    this.pending = new Set();
    this.all = false;
    return out;
  }

  /** Puts changes back after a failed sync (it forces a full resync). */
  restore(): void {
    this.all = true;
  }
}

/** Timer seam. */
export interface Timers {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

/** Real timers. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Runner settings. */
export interface RunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  retryMs: number;
  timers?: Timers;
  onError?(e: unknown): void;
}

/** Runs `fn` bounded in frequency; never two at once. */
export class BoundedFrequencyRunner {
  private timer: unknown;
  private lastStart = -Infinity;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly timers: Timers;
  /** resolves waiters of `idle()` */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly fn: () => Promise<void>, private readonly o: RunnerOptions) {
    this.timers = o.timers ?? realTimers;
  }

  /** Requests a run as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = Math.max(0, this.lastStart + this.o.minIntervalMs - this.timers.now());
    this.schedule(wait);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    this.running = true;
    this.again = false;
    this.lastStart = this.timers.now();
    let next = this.o.maxIntervalMs;
    try {
      await this.fn();
    } catch (e) {
      this.o.onError?.(e);
      next = this.o.retryMs;
    }
    this.running = false;
    if (this.stopped) return;
    if (this.again) next = Math.min(next, Math.max(0, this.lastStart + this.o.minIntervalMs - this.timers.now()));
    this.schedule(next);
    if (!this.again) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves after the next run that leaves nothing pending. */
  idle(): Promise<void> {
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops all future runs (a running one finishes). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
