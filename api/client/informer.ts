// Informer: client-go's list+watch pattern. List (page by page) to fill a local cache keyed
// `namespace/name`, then watch from the list's resourceVersion; every later change updates the cache and
// calls the handlers. A watch that ends (timeout, server restart, dropped connection) resumes from the last
// resourceVersion seen (bookmarks included), so nothing is missed or repeated; a 410 Expired (history
// compacted) re-lists and diffs the new list against the cache, so handlers see exactly the changes they
// missed: adds, updates (resourceVersion moved), deletes (gone), and delete+add for a re-created name.

import type { KubeObject } from '../meta.js';
import type { KubeClient, ResourceRef } from './client.js';
import { isExpired, KubeApiError } from './errors.js';
import type { WatchEvent } from './watch.js';

/** Callbacks for cache changes. Handlers must not mutate the objects they get (copy first). */
export interface EventHandlers<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** How an informer lists and watches. */
export interface InformerOptions {
  /** '' or absent: all namespaces */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** list page size (default 500) */
  pageSize?: number;
  /** server-side watch timeout; a random value in [min, 2*min) as client-go does (default 300 s) */
  minWatchTimeoutSeconds?: number;
  /** first retry delay after an error, doubled up to maxBackoffMs (defaults 200 ms, 30 s) */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** called for each failure the informer recovers from (logging seam) */
  onError?(err: unknown): void;
  /** randomness seam for the watch timeout */
  random?: () => number;
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function keyOf(o: KubeObject): string {
  const ns = o.metadata.namespace;
  return ns ? `${ns}/${o.metadata.name}` : String(o.metadata.name);
}

/** A list+watch cache of one resource with event handlers. */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: EventHandlers<T>[] = [];
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abort?: AbortController;
  private running?: Promise<void>;
  private lastRv = '';
  /** how many times the informer listed (1 + re-lists after 410); for tests and metrics */
  listCount = 0;
  /** how many watch requests it opened */
  watchCount = 0;

  constructor(private readonly client: KubeClient, private readonly ref: ResourceRef, private readonly o: InformerOptions = {}) {}

  /** Register handlers; once synced, the new handler first gets onAdd for every cached object. */
  addEventHandler(h: EventHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) this.call(h, 'onAdd', o);
  }

  /** Start listing and watching in the background (idempotent). */
  start(): this {
    if (this.running) return this;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
    return this;
  }

  /** Stop the watch; resolves once the background loop has ended. The cache keeps its content. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
    this.running = undefined;
  }

  /** True once the first list has been delivered to the handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolve once synced; reject after `timeoutMs` (default: never). */
  waitForSync(timeoutMs?: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.syncWaiters.push(done);
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
          reject(new Error(`informer: not synced after ${timeoutMs} ms`));
        }, timeoutMs);
    });
  }

  /** The cached object for `namespace/name` (or `name`). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Every cached key. */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** The resourceVersion the informer is up to date with. */
  resourceVersion(): string {
    return this.lastRv;
  }

  // ------------------------------------------------------------------------------------ the loop

  private async run(signal: AbortSignal): Promise<void> {
    const base = this.o.initialBackoffMs ?? 200;
    const max = this.o.maxBackoffMs ?? 30_000;
    let backoff = base;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
          backoff = base;
        }
        const progressed = await this.watchOnce(signal);
        if (progressed) backoff = base;
        else {
          // a watch that ends at once without any event must not become a busy loop
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, max);
        }
      } catch (e) {
        if (signal.aborted) break;
        if (isExpired(e)) {
          needList = true; // history is gone: list again at once
          continue;
        }
        this.o.onError?.(e);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const list = await this.client.listAll<T>(this.ref, {
      namespace: this.o.namespace, labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector, pageSize: this.o.pageSize,
    });
    if (signal.aborted) return;
    this.listCount++;
    this.replace(list.items);
    this.lastRv = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Make the cache equal `items`, calling handlers only for real differences. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const o of items) {
      const k = keyOf(o);
      seen.add(k);
      this.upsert(k, o);
    }
    for (const [k, old] of [...this.cache]) {
      if (seen.has(k)) continue;
      this.cache.delete(k);
      this.emit('onDelete', old);
    }
  }

  private upsert(k: string, o: T): void {
    const old = this.cache.get(k);
    this.cache.set(k, o);
    if (!old) return this.emit('onAdd', o);
    if (old.metadata.uid && o.metadata.uid && old.metadata.uid !== o.metadata.uid) {
      this.emit('onDelete', old);
      return this.emit('onAdd', o);
    }
    if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('onUpdate', old, o);
  }

  /** One watch request; true when it delivered at least one event. 410 (status or ERROR event) throws. */
  private async watchOnce(signal: AbortSignal): Promise<boolean> {
    const min = this.o.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(min * (1 + (this.o.random ?? Math.random)()));
    this.watchCount++;
    let progressed = false;
    const events = this.client.watch<T>(this.ref, {
      namespace: this.o.namespace, labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector,
      resourceVersion: this.lastRv, allowWatchBookmarks: true, timeoutSeconds, signal,
    });
    for await (const ev of events) {
      this.handle(ev);
      progressed = true;
    }
    return progressed;
  }

  private handle(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') throw new KubeApiError(ev.object as any);
    const rv = ev.object.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.lastRv = rv;
      return;
    }
    const k = keyOf(ev.object);
    if (ev.type === 'DELETED') {
      this.cache.delete(k);
      this.emit('onDelete', ev.object);
    } else {
      this.upsert(k, ev.object);
    }
    if (rv) this.lastRv = rv;
  }

  private emit(what: 'onAdd' | 'onDelete', o: T): void;
  private emit(what: 'onUpdate', old: T, o: T): void;
  private emit(what: keyof EventHandlers<T>, a: T, b?: T): void {
    for (const h of this.handlers) this.call(h, what, a, b);
  }

  private call(h: EventHandlers<T>, what: keyof EventHandlers<T>, a: T, b?: T): void {
    try {
      if (what === 'onUpdate') h.onUpdate?.(a, b!);
      else h[what]?.(a);
    } catch (e) {
      // a failing handler must not stop the informer or the other handlers
      this.o.onError?.(e);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
