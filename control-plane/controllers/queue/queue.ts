// The work queue every controller shares, after client-go's workqueue: keys (`namespace/name`) are
// deduplicated while waiting, a key being processed is never handed to a second worker (it is marked
// dirty and re-queued when `done`), and failures come back after a rate-limited delay: the larger of a
// per-item exponential backoff (5 ms doubling to 1000 s) and an overall token bucket (10 qps, burst 100),
// like client-go's DefaultControllerRateLimiter. Time is behind a Clock seam so tests need not sleep.

import { type Clock, realClock } from '../../../lib/time/clock.js';

/** How long an item waits before its next retry. */
export interface RateLimiter {
  when(item: string): number;
  forget(item: string): void;
  retries(item: string): number;
}

/** Per-item exponential backoff: base * 2^failures, capped. */
export class ItemExponentialLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  constructor(private readonly baseMs = 5, private readonly maxMs = 1_000_000) {}
  when(item: string): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }
  forget(item: string): void {
    this.failures.delete(item);
  }
  retries(item: string): number {
    return this.failures.get(item) ?? 0;
  }
}

/** A token bucket over all items: `qps` tokens a second, at most `burst` saved. */
export class BucketLimiter implements RateLimiter {
  private tokens: number;
  private last: number;
  constructor(private readonly qps = 10, private readonly burst = 100, private readonly clock: Clock = realClock) {
    this.tokens = burst;
    this.last = clock.now();
  }
  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1; // reserve a token, possibly in the future
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(): void {}
  retries(): number {
    return 0;
  }
}

/** The larger delay of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(item: string): number {
    return Math.max(...this.limiters.map((l) => l.when(item)));
  }
  forget(item: string): void {
    for (const l of this.limiters) l.forget(item);
  }
  retries(item: string): number {
    return Math.max(...this.limiters.map((l) => l.retries(item)));
  }
}

/** client-go's default: 5 ms → 1000 s per item, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfLimiter(new ItemExponentialLimiter(5, 1_000_000), new BucketLimiter(10, 100, clock));
}

/** A deduplicating, rate-limited queue of string keys. */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, unknown>();
  private readonly getters: ((k: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(readonly limiter: RateLimiter = defaultControllerRateLimiter(), private readonly clock: Clock = realClock) {}

  /** Queue `key` unless it is already waiting; a key in flight is re-queued when done. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const g = this.getters.shift();
    if (g) {
      this.dirty.delete(key);
      this.processing.add(key);
      g(key);
    } else this.queue.push(key);
  }

  /** Queue `key` after `ms` (an earlier pending delay wins). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    if (this.waiting.has(key)) return;
    const h = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, h);
  }

  /** Queue `key` after its rate-limited delay (a failed reconcile). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  /** Reset `key`'s failure count (a successful reconcile). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** How many times `key` has failed in a row. */
  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** The next key, waiting for one; undefined once shut down. */
  get(): Promise<string | undefined> {
    const k = this.queue.shift();
    if (k !== undefined) {
      this.dirty.delete(k);
      this.processing.add(k);
      return Promise.resolve(k);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Mark `key` finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting (not in flight, not delayed). */
  len(): number {
    return this.queue.length;
  }

  /** Stop: pending getters get undefined, delayed adds are cancelled. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const h of this.waiting.values()) this.clock.clearTimeout(h);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }
}
