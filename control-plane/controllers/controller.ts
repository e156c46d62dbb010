// The reconcile loop every controller runs (client-go's sample-controller): informer handlers only
// enqueue keys; workers take a key, call `reconcile(key)`, forget the key on success and re-queue it with
// backoff when reconcile throws. A reconcile may ask to be called again later by returning a delay (ms).

import { type Clock, realClock } from '../../lib/time/clock.js';
import { WorkQueue, defaultControllerRateLimiter } from './queue/queue.js';

/** What reconcile returns: nothing (done), or `{ requeueAfterMs }` to look again later. */
export type ReconcileResult = void | { requeueAfterMs: number };

/** Logging seam: one line per failure. */
export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** Options of one controller. */
export interface ControllerOptions {
  name: string;
  reconcile(key: string): Promise<ReconcileResult>;
  workers?: number;
  clock?: Clock;
  log?: LogFn;
}

/** A named queue plus its workers. */
export class Controller {
  readonly queue: WorkQueue;
  readonly name: string;
  private running: Promise<void>[] = [];
  /** reconcile calls and failures, for tests and metrics */
  readonly stats = { reconciles: 0, errors: 0 };

  constructor(private readonly o: ControllerOptions) {
    this.name = o.name;
    const clock = o.clock ?? realClock;
    this.queue = new WorkQueue(defaultControllerRateLimiter(clock), clock);
  }

  /** Queue a key. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Start the workers. */
  start(): void {
    for (let i = 0; i < (this.o.workers ?? 2); i++) this.running.push(this.worker());
  }

  /** Stop taking keys and wait for the workers to finish what they hold. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.running);
    this.running = [];
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.stats.reconciles++;
      try {
        const r = await this.o.reconcile(key);
        this.queue.forget(key);
        if (r && r.requeueAfterMs >= 0) this.queue.addAfter(key, r.requeueAfterMs);
      } catch (e) {
        this.stats.errors++;
        this.o.log?.(`${this.name}: reconcile ${key}: ${(e as Error).message ?? String(e)}`, { retries: this.queue.retries(key) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
