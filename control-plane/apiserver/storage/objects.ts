// Kubernetes objects on top of the revisioned key-value Store. Keys follow kube-apiserver's layout
// (`/registry/<group>/<plural>/<namespace>/<name>`); an object's metadata.resourceVersion is the
// key's modRevision and is never stored inside the value, exactly as Kubernetes does on etcd.
// Store errors become ApiErrors here, so handlers only see Kubernetes semantics.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors, ApiError } from '../../../api/errors.js';
import { apiVersionOf, convertTo, toStorage } from '../../../api/versions.js';
import { Cacher } from './cacher.js';
import { StoreError, type KeyValue, type Store, type Watch, type WatchEvent } from '../../store/types.js';

/** A decoded watch event. `object` carries the event's resourceVersion. */
export interface ObjectEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** the object before this event, when known */
  previous?: KubeObject;
  revision: number;
  /** serialized watch lines by event type, shared by every watcher of the plain representation */
  lines?: Record<string, string>;
  /** this event at other served versions, by apiVersion, shared by their watchers (see convertEvent) */
  converted?: Record<string, ObjectEvent>;
}

/** `ev` with its objects at `apiVersion` (the event itself when it already is); cached on the event. */
export function convertEvent(ev: ObjectEvent, apiVersion: string): ObjectEvent {
  if (ev.object.apiVersion === apiVersion) return ev;
  const c = (ev.converted ??= {});
  return (c[apiVersion] ??= {
    type: ev.type, revision: ev.revision, object: convertTo(ev.object, apiVersion),
    ...(ev.previous ? { previous: convertTo(ev.previous, apiVersion) } : {}),
  });
}

/** Options for a list. */
export interface ObjectListOptions {
  revision?: number;
  limit?: number;
  after?: string;
}

/** Objects of one cluster in one Store. */
export class ObjectStore {
  /** `watchCacheSize`: recent events kept per resource type for resuming watchers */
  constructor(readonly store: Store, private readonly watchCacheSize?: number) {}

  /** The registry key of one object. */
  key(rt: ResourceType, namespace: string, name: string): string {
    return rt.namespaced ? `${this.base(rt)}${namespace}/${name}` : `${this.base(rt)}${name}`;
  }

  /** The key prefix of a collection: all namespaces when `namespace` is ''. */
  prefix(rt: ResourceType, namespace: string): string {
    return rt.namespaced && namespace ? `${this.base(rt)}${namespace}/` : this.base(rt);
  }

  private base(rt: ResourceType): string {
    return `/registry/${rt.group || 'core'}/${rt.plural}/`;
  }

  /** Decode a stored value and stamp its resourceVersion; with `rt`, converted to the version rt serves. */
  decode(kv: KeyValue, revision = kv.modRevision, rt?: ResourceType): KubeObject {
    const obj = JSON.parse(kv.value) as KubeObject;
    obj.metadata.resourceVersion = String(revision);
    if (rt) obj.apiVersion = apiVersionOf(rt);
    return obj;
  }

  /** A stored value's JSON text with apiVersion rewritten (conversion between served versions, unparsed). */
  withApiVersion(value: string, apiVersion: string): string {
    const head = '{"apiVersion":"';
    const end = value.startsWith(head) ? value.indexOf('"', head.length) : -1;
    if (end < 0) return JSON.stringify({ ...(JSON.parse(value) as KubeObject), apiVersion });
    return value.slice(head.length, end) === apiVersion ? value : `${head}${apiVersion}${value.slice(end)}`;
  }

  /**
   * Encode for storage: resourceVersion is never stored, and the value always starts with apiVersion,
   * kind and metadata, so a list can splice the resourceVersion in without parsing (see withRevision).
   */
  encode(obj: KubeObject): string {
    const { apiVersion, kind, metadata, ...rest } = obj;
    const { resourceVersion: _rv, ...meta } = metadata;
    return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
  }

  /** A stored value as JSON text with its resourceVersion, parsing only when the layout is unexpected. */
  withRevision(value: string, revision: number): string {
    const i = value.indexOf('"metadata":{');
    if (i < 0 || value.lastIndexOf('{', i) !== 0) {
      const o = JSON.parse(value) as KubeObject;
      o.metadata.resourceVersion = String(revision);
      return JSON.stringify(o);
    }
    const at = i + 12;
    return `${value.slice(0, at)}"resourceVersion":"${revision}"${value[at] === '}' ? '' : ','}${value.slice(at)}`;
  }

  /** A list page as JSON texts (no decoding): for unfiltered lists answered as plain JSON. */
  async listRaw(rt: ResourceType, namespace: string, opts: ObjectListOptions = {}): Promise<{ items: string[]; revision: number; more: boolean; lastKey: string }> {
    const res = await this.call(() => this.store.list(this.prefix(rt, namespace), opts));
    const want = apiVersionOf(rt);
    const items = res.items.map((kv) => this.withApiVersion(this.withRevision(kv.value, kv.modRevision), want));
    return { items, revision: res.revision, more: res.more, lastKey: res.items.length ? res.items[res.items.length - 1]!.key : '' };
  }

  async get(rt: ResourceType, namespace: string, name: string, revision?: number): Promise<KubeObject | null> {
    const kv = await this.call(() => this.store.get(this.key(rt, namespace, name), revision));
    return kv ? this.decode(kv, kv.modRevision, rt) : null;
  }

  /** Get or throw NotFound. */
  async mustGet(rt: ResourceType, namespace: string, name: string): Promise<KubeObject> {
    const o = await this.get(rt, namespace, name);
    if (!o) throw errors.notFound(rt.plural, rt.group, name);
    return o;
  }

  async list(rt: ResourceType, namespace: string, opts: ObjectListOptions = {}): Promise<{ items: KubeObject[]; revision: number; more: boolean; lastKey: string }> {
    const res = await this.call(() => this.store.list(this.prefix(rt, namespace), opts));
    const items = res.items.map((kv) => this.decode(kv, kv.modRevision, rt));
    return { items, revision: res.revision, more: res.more, lastKey: res.items.length ? res.items[res.items.length - 1]!.key : '' };
  }

  async create(rt: ResourceType, obj: KubeObject): Promise<KubeObject> {
    const name = obj.metadata.name!;
    try {
      const kv = await this.store.create(this.key(rt, obj.metadata.namespace ?? '', name), this.encode(toStorage(rt, obj)));
      obj.metadata.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (e) {
      if (e instanceof StoreError && e.code === 'AlreadyExists') throw errors.alreadyExists(rt.plural, rt.group, name);
      throw this.mapError(e);
    }
  }

  /** Compare-and-swap update; Conflict when the stored object moved past `expectedRevision`. */
  async update(rt: ResourceType, obj: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const name = obj.metadata.name!;
    try {
      const kv = await this.store.update(this.key(rt, obj.metadata.namespace ?? '', name), this.encode(toStorage(rt, obj)), expectedRevision);
      obj.metadata.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Conflict')
        throw errors.conflict(rt.plural, rt.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      if (e instanceof StoreError && e.code === 'NotFound') throw errors.notFound(rt.plural, rt.group, name);
      throw this.mapError(e);
    }
  }

  /** Delete; returns the object as it was, stamped with the delete's revision. */
  async delete(rt: ResourceType, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject> {
    try {
      const kv = await this.store.delete(this.key(rt, namespace, name), expectedRevision);
      return this.decode(kv, kv.modRevision, rt);
    } catch (e) {
      if (e instanceof StoreError && e.code === 'NotFound') throw errors.notFound(rt.plural, rt.group, name);
      if (e instanceof StoreError && e.code === 'Conflict')
        throw errors.conflict(rt.plural, rt.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      throw this.mapError(e);
    }
  }

  private cacher?: Cacher;

  /** Watch a collection from after `revision` (through the watch cache). Compacted history throws 410 Expired. */
  watch(rt: ResourceType, namespace: string, afterRevision: number, onEvent: (ev: ObjectEvent) => void, onError: (e: Error) => void): Promise<Watch> {
    this.cacher ??= new Cacher(this, this.watchCacheSize);
    return this.cacher.watch(rt, namespace, afterRevision, onEvent, onError);
  }

  /** Stop the watch caches (on shutdown). */
  stopWatches(): void {
    this.cacher?.stop();
  }

  /** Watch the store directly, bypassing the cache. */
  async watchDirect(rt: ResourceType, namespace: string, afterRevision: number, onEvent: (ev: ObjectEvent) => void, onError: (e: Error) => void): Promise<Watch> {
    return this.call(() =>
      this.store.watch(
        this.prefix(rt, namespace),
        { afterRevision },
        (ev: WatchEvent) => {
          try {
            onEvent(this.toObjectEvent(ev, rt));
          } catch (e) {
            onError(e as Error);
          }
        },
        (e) => onError(this.mapError(e)),
      ),
    );
  }

  private toObjectEvent(ev: WatchEvent, rt: ResourceType): ObjectEvent {
    const rev = ev.kv.modRevision;
    if (ev.type === 'delete') {
      const src = ev.prev ?? ev.kv;
      return { type: 'DELETED', object: this.decode({ ...src, modRevision: rev }, rev, rt), revision: rev };
    }
    const object = this.decode(ev.kv, ev.kv.modRevision, rt);
    const previous = ev.prev ? this.decode(ev.prev, ev.prev.modRevision, rt) : undefined;
    const created = ev.kv.createRevision === ev.kv.modRevision;
    return { type: created ? 'ADDED' : 'MODIFIED', object, ...(previous ? { previous } : {}), revision: rev };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /** Store errors to Kubernetes Status errors. */
  mapError(e: unknown): Error {
    if (e instanceof ApiError) return e;
    if (e instanceof StoreError) {
      if (e.code === 'Compacted')
        return errors.gone(`too old resource version: ${e.detail.revision ?? ''} (${e.detail.revision ?? ''})`.replace(' ()', ''));
      if (e.code === 'Unavailable') return new ApiError('ServiceUnavailable', `storage is unavailable: ${e.message}`);
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}
