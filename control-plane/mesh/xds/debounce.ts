// Debounced pushes, as istiod's PILOT_DEBOUNCE_AFTER (100 ms) and PILOT_DEBOUNCE_MAX (10 s there, 1 s
// here: the target is every proxy within 1 s of a write): after the first change, fire once the
// changes stop for `quietMs`, or `maxMs` after the first, whichever comes first. One run at a time; changes
// that arrive during a run start a new debounce when it ends.

/** The debouncer's clock seam (tests pass a fake). */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

const realTimers: Timers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** Calls `run` for bursts of `trigger()`s. */
export class Debouncer {
  private first: number | undefined;
  private last = 0;
  private timer: unknown;
  private running = false;
  private pending = false;
  /** changes merged into the runs so far (metrics) */
  merged = 0;

  constructor(private readonly run: (events: number, waitedMs: number) => Promise<void> | void, readonly quietMs = 100, readonly maxMs = 1000, private readonly t: Timers = realTimers) {}

  private events = 0;

  /** One change happened. */
  trigger(): void {
    const now = this.t.now();
    this.events++;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.first ??= now;
    this.last = now;
    if (this.timer === undefined) this.arm(this.quietMs);
  }

  private arm(ms: number): void {
    this.timer = this.t.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    const now = this.t.now();
    const quietFor = now - this.last;
    const since = now - (this.first ?? now);
    if (quietFor >= this.quietMs || since >= this.maxMs) void this.fire(now);
    else this.arm(Math.min(this.quietMs - quietFor, this.maxMs - since));
  }

  private async fire(now: number): Promise<void> {
    const events = this.events;
    const waited = now - (this.first ?? now);
    this.events = 0;
    this.first = undefined;
    this.running = true;
    this.merged += events;
    try {
      await this.run(events, waited);
    } finally {
      this.running = false;
      if (this.pending) {
        this.pending = false;
        this.first = this.last = this.t.now();
        this.arm(this.quietMs);
      }
    }
  }

  /** Stops the pending timer. */
  stop(): void {
    if (this.timer !== undefined) this.t.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
