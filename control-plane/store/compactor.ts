// Periodic auto-compaction, as k3s runs for kine and the Kubernetes API server runs for etcd: every
// `intervalMs`, compact everything older than the newest `keepRevisions` revisions. The server starts it;
// it works on any Store. Old history is what lets a watch resume; keeping ~1000 revisions / 5 minutes
// gives clients that long to reconnect before they must relist (410 Gone).

import { realClock, type Clock } from '../../lib/time/clock.js';
import { type Store, StoreError } from './types.js';

/** Settings for startAutoCompaction. */
export interface AutoCompactionOptions {
  /** how often to compact, milliseconds (default 300000, k3s' 5 minutes) */
  intervalMs?: number;
  /** how many of the newest revisions to keep readable (default 1000, as k3s) */
  keepRevisions?: number;
  /** told about each compaction (revision) or failure; default: nothing */
  onCompact?: (revision: number) => void;
  onError?: (err: Error) => void;
  /** the time seam (tests: lib/time's FakeClock) */
  clock?: Clock;
}

/** A running auto-compactor. `stop()` is idempotent and waits for a compaction in progress. */
export interface AutoCompactor {
  /** Run one round now (what each tick does); resolves to the revision compacted to, or 0 if none. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Start compacting `store` periodically. The timer is unref'd: it never keeps the process alive. */
export function startAutoCompaction(store: Store, opts: AutoCompactionOptions = {}): AutoCompactor {
  const intervalMs = opts.intervalMs ?? 300_000;
  const keep = opts.keepRevisions ?? 1000;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new TypeError(`autoCompaction: intervalMs: must be a positive integer, got ${intervalMs}`);
  if (!Number.isSafeInteger(keep) || keep < 0) throw new TypeError(`autoCompaction: keepRevisions: must be an integer >= 0, got ${keep}`);
  const clock = opts.clock ?? realClock;
  let last = 0;
  let running: Promise<number> | null = null;
  let stopped = false;

  const round = async (): Promise<number> => {
    const target = (await store.currentRevision()) - keep;
    if (target <= last || target < 1) return 0;
    try {
      await store.compact(target);
    } catch (err) {
      // Someone (another API server, etcdctl) compacted past us: fine, remember where history starts.
      if (err instanceof StoreError && err.code === 'Compacted') {
        last = Math.max(last, err.detail.revision ?? target);
        return 0;
      }
      throw err;
    }
    last = target;
    opts.onCompact?.(target);
    return target;
  };

  const runOnce = (): Promise<number> => {
    if (stopped) return Promise.resolve(0);
    if (!running) {
      running = round().finally(() => {
        running = null;
      });
    }
    return running;
  };

  const timer = clock.setInterval(() => {
    runOnce().catch((err: Error) => opts.onError?.(err));
  }, intervalMs);

  return {
    runOnce,
    async stop() {
      if (stopped) return;
      stopped = true;
      clock.clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
