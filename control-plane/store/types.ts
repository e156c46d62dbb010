// The store interface: a revisioned key-value log, the contract both backends (SQLite, etcd) meet.
// The semantics are etcd v3's: one global revision counter; every write takes the next revision;
// each key remembers the revision that created it and the one that last modified it; reads can be
// made at a past revision until it is compacted; watch delivers every event after a revision, in order.

/** One key's value at some revision. */
export interface KeyValue {
  key: string;
  value: string;
  /** revision of the write that created this key (since it last did not exist) */
  createRevision: number;
  /** revision of the last write to this key */
  modRevision: number;
}

/** A change to one key. For 'delete', `kv.value` is the value just before deletion and `kv.modRevision` the delete's revision. */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  /** the value before this event, when there was one */
  prev?: KeyValue;
}

/** Result of a list. */
export interface ListResult {
  items: KeyValue[];
  /** the revision the list was read at (the current revision when none was asked for) */
  revision: number;
  /** true when `limit` cut the list; continue from the key after the last item */
  more: boolean;
}

export interface ListOptions {
  /** read as of this revision; 0 or absent = latest */
  revision?: number;
  /** at most this many items (0 or absent = all) */
  limit?: number;
  /** only keys strictly greater than this one (for pagination) */
  after?: string;
}

/** A running watch; stop() is idempotent. */
export interface Watch {
  stop(): void;
}

export interface WatchOptions {
  /** deliver events with revision > afterRevision. Throws StoreError 'Compacted' when that history is gone. */
  afterRevision: number;
}

/**
 * Every reason a store call can fail. 'FutureRevision' (added with the backends) is a read at a revision the store has
 * not reached yet, etcd's `mvcc: required revision is a future revision`; Kubernetes answers it with
 * "Too large resource version" (504).
 */
export const storeErrorCodes = ['NotFound', 'AlreadyExists', 'Conflict', 'Compacted', 'FutureRevision', 'Unavailable'] as const;

/** One of storeErrorCodes; each is documented in README.md (a test keeps the two in step). */
export type StoreErrorCode = (typeof storeErrorCodes)[number];

/**
 * A store failure with a stable code. `detail.revision` is set for Conflict (the key's actual modRevision),
 * Compacted (the compacted revision) and FutureRevision (the current revision).
 */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly detail: { key?: string; revision?: number } = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A revisioned key-value store. Keys are '/'-separated strings; a prefix list/watch uses a trailing '/'. */
export interface Store {
  /** Create `key`; fails with AlreadyExists if present. Returns the new revision. */
  create(key: string, value: string): Promise<KeyValue>;
  /** The key at the latest revision (or `revision`), or null. Throws Compacted for a compacted revision. */
  get(key: string, revision?: number): Promise<KeyValue | null>;
  /** Keys starting with `prefix`, sorted by key. Throws Compacted for a compacted revision. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Count keys under a prefix at the latest revision. */
  count(prefix: string): Promise<number>;
  /**
   * Replace `key`'s value if its modRevision equals `expectedModRevision` (compare-and-swap);
   * NotFound if absent, Conflict (with the actual revision) if it moved.
   */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Delete `key`, optionally only if its modRevision equals `expectedModRevision`.
   * Returns the deleted value (modRevision = the delete's revision). NotFound if absent.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Watch every key under `prefix` (or exactly `prefix` if it has no trailing '/'). */
  watch(prefix: string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onError: (err: Error) => void): Promise<Watch>;
  /** The latest revision. */
  currentRevision(): Promise<number>;
  /** The oldest revision still readable (the last compaction's revision, 0 if none). */
  compactedRevision(): Promise<number>;
  /**
   * Drop history before `revision` (etcd semantics): afterwards get/list at a revision < `revision`
   * and watch with afterRevision < `revision` throw Compacted; reading at `revision` itself still works.
   */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
