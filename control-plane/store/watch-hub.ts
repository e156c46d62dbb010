// In-process watch fan-out for the SQLite store: replays history from the revision log, then switches to
// live events published after each commit, with no gap and no duplicate.
//
// Why that holds: better-sqlite3 runs every statement synchronously on the one JavaScript thread, and the
// store publishes a write's event in the same synchronous block that commits it. A watcher that is still
// replaying ignores live events; each replay page reads the log *and* the current revision in one read
// transaction, and when a page comes back short the watcher has seen everything up to that revision and
// goes live in the same tick, before any other write can commit. From then on every commit reaches it.
//
//   watch(afterRevision) ──► replay page ──► replay page ──► (short page) live ◄── publish(event) after commit
//                               ▲ setImmediate ┘                                  │
//                               └────────── per-watcher queue, delivered in order ┘

import { type KeyRange, compactedError, inRange } from './keys.js';
import type { Watch, WatchEvent } from './types.js';

/** What a replay page reads: events after a revision, plus the revisions bounding them, in one snapshot. */
export interface LogPage {
  events: WatchEvent[];
  /** the current revision in the same snapshot */
  revision: number;
  /** the compacted revision in the same snapshot */
  compacted: number;
}

/** Reads the revision log (synchronously, so that the hub's no-gap argument holds). */
export interface LogSource {
  /** At most `limit` events with revision > `after` whose key is in `range`, ascending. */
  readSince(after: number, range: KeyRange, limit: number): LogPage;
}

/** How many log rows one replay step reads before yielding to the event loop. */
export const REPLAY_PAGE = 500;

interface Watcher {
  range: KeyRange;
  /** the highest revision already queued (or known to hold nothing for this watcher) */
  lastRevision: number;
  live: boolean;
  stopped: boolean;
  queue: WatchEvent[];
  flushing: boolean;
  onEvent: (ev: WatchEvent) => void;
  onError: (err: Error) => void;
}

/** Watchers of one store, fed from its log and its commits. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly source: LogSource) {}

  /**
   * Start a watcher delivering every event with revision > `afterRevision` in `range`. Throws Compacted
   * (synchronously) when that history is gone.
   */
  add(range: KeyRange, afterRevision: number, onEvent: (ev: WatchEvent) => void, onError: (err: Error) => void): Watch {
    const w: Watcher = { range, lastRevision: afterRevision, live: false, stopped: false, queue: [], flushing: false, onEvent, onError };
    this.replayStep(w, true);
    this.watchers.add(w);
    return {
      stop: () => {
        w.stopped = true;
        w.queue.length = 0;
        this.watchers.delete(w);
      },
    };
  }

  /** Hand a committed event to every live watcher whose range holds its key. Call right after the commit. */
  publish(ev: WatchEvent): void {
    for (const w of this.watchers) {
      if (!w.live || w.stopped || ev.kv.modRevision <= w.lastRevision || !inRange(w.range, ev.kv.key)) continue;
      w.lastRevision = ev.kv.modRevision;
      w.queue.push(ev);
      this.scheduleFlush(w);
    }
  }

  /** Stop every watcher (the store is closing); they get no error, like a cancelled etcd watch. */
  stopAll(): void {
    for (const w of this.watchers) {
      w.stopped = true;
      w.queue.length = 0;
    }
    this.watchers.clear();
  }

  /** Number of running watchers (for metrics and tests). */
  get size(): number {
    return this.watchers.size;
  }

  // One replay page. `first` is the call inside add(): there a compacted start is thrown to the caller;
  // later (compaction overtook a slow replay) it ends the watch through onError, as etcd cancels it.
  private replayStep(w: Watcher, first: boolean): void {
    if (w.stopped) return;
    let page: LogPage;
    try {
      page = this.source.readSince(w.lastRevision, w.range, REPLAY_PAGE);
    } catch (err) {
      if (first) throw err;
      return this.fail(w, err as Error);
    }
    if (w.lastRevision < page.compacted) {
      const err = compactedError(w.lastRevision, page.compacted);
      if (first) throw err;
      return this.fail(w, err);
    }
    for (const ev of page.events) w.queue.push(ev);
    if (page.events.length < REPLAY_PAGE) {
      // Short page: nothing else committed up to page.revision, and nothing can commit before this returns.
      w.lastRevision = Math.max(w.lastRevision, page.revision);
      w.live = true;
    } else {
      w.lastRevision = page.events[page.events.length - 1]!.kv.modRevision;
      setImmediate(() => this.replayStep(w, false));
    }
    if (w.queue.length) this.scheduleFlush(w);
  }

  private scheduleFlush(w: Watcher): void {
    if (w.flushing) return;
    w.flushing = true;
    queueMicrotask(() => this.flush(w));
  }

  // Deliver in order. An event published from inside onEvent lands at the end of the queue, so even a
  // callback that writes to the store sees events in revision order.
  private flush(w: Watcher): void {
    try {
      while (!w.stopped && w.queue.length) {
        const ev = w.queue.shift()!;
        try {
          w.onEvent(ev);
        } catch (err) {
          return this.fail(w, err as Error);
        }
      }
    } finally {
      w.flushing = false;
    }
  }

  private fail(w: Watcher, err: Error): void {
    if (w.stopped) return;
    w.stopped = true;
    w.queue.length = 0;
    this.watchers.delete(w);
    w.onError(err);
  }
}
