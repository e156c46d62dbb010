// The watch cache (kube-apiserver's "cacher", reduced): one store watch per resource type, each event
// decoded once and fanned out in process to every watcher of that type. A bounded window of recent
// events lets a watcher that resumes from a recent resourceVersion replay from memory; older resumes fall
// back to a direct store watch (which replays from the store's history, or reports 410 when compacted).
// With etcd this turns N watchers into one etcd watch; with either store it saves N-1 JSON decodes.

import type { ResourceType } from '../../../api/resource.js';
import type { Watch } from '../../store/types.js';
import { apiVersionOf } from '../../../api/versions.js';
import { convertEvent, type ObjectEvent, type ObjectStore } from './objects.js';

/** How many recent events each resource type keeps for resuming watchers, by default. */
export const DEFAULT_WATCH_CACHE_SIZE = 2000;

interface Subscriber {
  namespace: string;
  afterRevision: number;
  onEvent: (ev: ObjectEvent) => void;
  onError: (e: Error) => void;
}

/** One resource type's cache. */
class TypeCache {
  private readonly subs = new Set<Subscriber>();
  private readonly window: ObjectEvent[] = [];
  /** the cache has every event with revision > coveredFrom (and ≤ the last one seen) */
  private coveredFrom = 0;
  private watch?: Watch;
  private starting?: Promise<void>;
  private failed?: Error;

  constructor(private readonly objects: ObjectStore, private readonly rt: ResourceType, private readonly size: number) {}

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const rev = await this.objects.store.currentRevision();
      this.coveredFrom = rev;
      this.watch = await this.objects.watchDirect(this.rt, '', rev, (ev) => this.publish(ev), (e) => this.fail(e));
    })();
    return this.starting;
  }

  private publish(ev: ObjectEvent): void {
    this.window.push(ev);
    if (this.window.length > this.size) this.coveredFrom = this.window.shift()!.revision;
    for (const s of this.subs) deliver(s, ev);
  }

  /** The shared watch broke: every subscriber gets the error (clients re-list), and the cache restarts. */
  private fail(e: Error): void {
    this.failed = e;
    const subs = [...this.subs];
    this.subs.clear();
    this.watch?.stop();
    this.watch = undefined;
    this.starting = undefined;
    this.window.length = 0;
    for (const s of subs) s.onError(e);
  }

  /** Subscribe from `afterRevision`; undefined when the window does not reach back that far. */
  async subscribe(namespace: string, afterRevision: number, onEvent: (ev: ObjectEvent) => void, onError: (e: Error) => void): Promise<Watch | undefined> {
    await this.start();
    if (afterRevision < this.coveredFrom) return undefined;
    const s: Subscriber = { namespace, afterRevision, onEvent, onError };
    for (const ev of this.window) deliver(s, ev);
    this.subs.add(s);
    return {
      stop: () => {
        this.subs.delete(s);
      },
    };
  }

  stop(): void {
    this.watch?.stop();
    this.subs.clear();
    void this.failed;
  }
}

function deliver(s: Subscriber, ev: ObjectEvent): void {
  if (ev.revision <= s.afterRevision) return;
  if (s.namespace && ev.object.metadata.namespace !== s.namespace) return;
  s.afterRevision = ev.revision;
  s.onEvent(ev);
}

/** Watch caches for all resource types of one ObjectStore. */
export class Cacher {
  private readonly types = new Map<string, TypeCache>();

  constructor(private readonly objects: ObjectStore, private readonly size = DEFAULT_WATCH_CACHE_SIZE) {}

  /** Watch through the cache, or directly when the requested history is older than the cache window. */
  async watch(rt: ResourceType, namespace: string, afterRevision: number, onEvent: (ev: ObjectEvent) => void, onError: (e: Error) => void): Promise<Watch> {
    const key = `${rt.group}/${rt.plural}`;
    let c = this.types.get(key);
    if (!c) {
      c = new TypeCache(this.objects, rt, this.size);
      this.types.set(key, c);
    }
    // one cache per stored resource, whatever version its first watcher asked for; each watcher gets
    // the events at its own version (converted once per event and version)
    const want = apiVersionOf(rt);
    const w = await c.subscribe(namespace, afterRevision, (ev) => onEvent(convertEvent(ev, want)), onError);
    return w ?? this.objects.watchDirect(rt, namespace, afterRevision, onEvent, onError);
  }

  stop(): void {
    for (const c of this.types.values()) c.stop();
    this.types.clear();
  }
}
