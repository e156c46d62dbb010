// The Store on etcd v3, through the etcd3 client's raw KV and watch APIs. Store semantics are etcd's own,
// so this module is mostly translation: keys get an optional prefix, compare-and-swap is a Txn on
// mod_revision, and etcd/gRPC errors become StoreError codes. Revisions are etcd's cluster revisions.

import { Etcd3, type IKeyValue, type IRequestOp, type ITxnResponse, type Watcher } from 'etcd3';
import {
  type KeyRange,
  alreadyExistsError,
  checkKey,
  checkRevision,
  checkValue,
  compactedError,
  conflictError,
  futureError,
  listRange,
  notFoundError,
  watchRange,
} from './keys.js';
import { type KeyValue, type ListOptions, type ListResult, type Store, StoreError, type Watch, type WatchEvent, type WatchOptions } from './types.js';

/** Options for openEtcdStore. */
export interface EtcdStoreOptions {
  /** prepended to every key in etcd and stripped from every key returned (e.g. '/shoal'); default '' */
  keyPrefix?: string;
  /** deadline for each unary call, milliseconds (default 10000) */
  timeoutMs?: number;
  /** connection dial timeout, milliseconds (default 3000) */
  dialTimeoutMs?: number;
}

/** Connect to etcd at `hosts` ('http://127.0.0.1:2379', ...). Does not wait for a connection. */
/** Keys read per etcd range request when listing. */
const LIST_PAGE = 500;

export function openEtcdStore(hosts: string[], opts: EtcdStoreOptions = {}): EtcdStore {
  return new EtcdStore(hosts, opts);
}

/** The Store on an etcd v3 cluster. */
export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly watchers = new Set<Watch>();
  /** lower bound for compactedRevision()'s search; compaction only moves forward */
  private knownCompacted = 0;
  private closed = false;

  constructor(readonly hosts: string[], opts: EtcdStoreOptions = {}) {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.prefix = opts.keyPrefix ?? '';
    this.client = new Etcd3({
      hosts,
      dialTimeout: opts.dialTimeoutMs ?? 3000,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    });
  }

  // ------------------------------------------------------------------------------------------ writes

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    const k = this.buf(key);
    const res = await this.txn([{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }], { request_put: { key: k, value: Buffer.from(value) } }, k);
    if (!res.succeeded) throw alreadyExistsError(key, Number(firstKv(res)?.mod_revision ?? 0));
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    checkRevision(expectedModRevision, 'expectedModRevision', 1);
    const k = this.buf(key);
    const res = await this.txn(
      [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
      { request_put: { key: k, value: Buffer.from(value), prev_kv: true } },
      k,
    );
    if (!res.succeeded) throw this.casFailure(key, expectedModRevision, res);
    const prev = res.responses[0]!.response_put.prev_kv;
    return { key, value, createRevision: Number(prev.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key);
    if (expectedModRevision !== undefined) checkRevision(expectedModRevision, 'expectedModRevision', 1);
    const k = this.buf(key);
    const del: IRequestOp = { request_delete_range: { key: k, prev_kv: true } };
    // Without a precondition the compare "key exists" makes a miss cost no revision, as in etcd.
    const cmp =
      expectedModRevision === undefined
        ? { key: k, target: 'Create' as const, result: 'Greater' as const, create_revision: 0 }
        : { key: k, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedModRevision };
    const res = await this.txn([cmp], del, k);
    if (!res.succeeded) throw this.casFailure(key, expectedModRevision ?? 0, res);
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0];
    if (!prev) throw notFoundError(key);
    return { key, value: prev.value.toString(), createRevision: Number(prev.create_revision), modRevision: Number(res.header.revision) };
  }

  // ------------------------------------------------------------------------------------------- reads

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    checkKey(key);
    if (revision !== undefined) checkRevision(revision, 'revision');
    const res = await this.call(() => this.client.kv.range({ key: this.buf(key), ...(revision ? { revision } : {}) }), revision, key);
    return res.kvs[0] ? this.toKV(res.kvs[0]) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    const { revision = 0, limit = 0, after } = opts;
    checkRevision(revision, 'opts.revision');
    checkRevision(limit, 'opts.limit');
    if (after !== undefined && typeof after !== 'string') throw new TypeError('store: opts.after: must be a string');
    const r = this.etcdRange(listRange(prefix));
    // "strictly after `after`" is "from after + NUL", the next key in byte order.
    if (after !== undefined && Buffer.compare(this.buf(after + '\0'), r.key) > 0) r.key = this.buf(after + '\0');
    // Read in pages at one revision, so a large list never exceeds gRPC's message limit (4 MiB).
    const items: KeyValue[] = [];
    let readRevision = revision;
    for (;;) {
      const want = limit ? Math.min(LIST_PAGE, limit - items.length) : LIST_PAGE;
      const res = await this.call(() => this.client.kv.range({ ...r, limit: want, ...(readRevision ? { revision: readRevision } : {}) }), readRevision);
      if (!readRevision) readRevision = Number(res.header.revision);
      for (const kv of res.kvs) items.push(this.toKV(kv));
      const full = limit > 0 && items.length >= limit;
      if (!res.more || res.kvs.length === 0) return { items, revision: readRevision, more: false };
      if (full) return { items, revision: readRevision, more: true };
      r.key = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
  }

  async count(prefix: string): Promise<number> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    const res = await this.call(() => this.client.kv.range({ ...this.etcdRange(listRange(prefix)), count_only: true }));
    return Number(res.count);
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.kv.range({ key: this.buf('\0'), count_only: true }));
    return Number(res.header.revision);
  }

  /**
   * etcd does not report its compacted revision directly; a read at revision r fails exactly when r is
   * below it, so a binary search over [known lower bound, current] finds it in O(log n) reads.
   */
  async compactedRevision(): Promise<number> {
    const current = await this.currentRevision();
    if (this.knownCompacted === 0 && (await this.readable(1))) return 0;
    let lo = Math.max(1, this.knownCompacted); // the answer is at least what was already seen
    let hi = current; // reads at the current revision always work
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readable(mid)) hi = mid;
      else lo = mid + 1;
    }
    this.knownCompacted = lo;
    return lo;
  }

  async compact(revision: number): Promise<void> {
    checkRevision(revision, 'revision', 1);
    await this.call(() => this.client.kv.compact({ revision, physical: true }), revision);
    this.knownCompacted = Math.max(this.knownCompacted, revision);
  }

  // ------------------------------------------------------------------------------------------- watch

  async watch(prefix: string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onError: (err: Error) => void): Promise<Watch> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    checkRevision(opts?.afterRevision, 'opts.afterRevision');
    const after = opts.afterRevision;
    // etcd accepts a watch starting at the compacted revision itself; the Store contract (and SQLite)
    // does not, so check "readable at afterRevision" first. A compaction racing with this check still
    // cancels the watch, and that reaches onError as Compacted.
    if (!(await this.readable(Math.max(after, 1)))) throw compactedError(after, await this.compactedRevision());
    const range = this.etcdRange(watchRange(prefix));
    const builder = this.client.watch().withPreviousKV().startRevision(String(after + 1));
    const w: Watcher = (range.range_end ? builder.inRange({ start: range.key, end: range.range_end }) : builder.key(range.key)).watcher();

    let last = after;
    let state: 'connecting' | 'running' | 'stopped' = 'connecting';
    const stop = () => {
      if (state === 'stopped') return;
      state = 'stopped';
      this.watchers.delete(handle);
      w.removeAllListeners('put').removeAllListeners('delete');
      w.cancel().catch(() => undefined);
    };
    const handle: Watch = { stop };
    const fail = (err: Error) => {
      if (state !== 'running') return;
      stop();
      onError(err);
    };
    const deliver = (type: 'put' | 'delete', kv: IKeyValue, prevKv?: IKeyValue) => {
      const rev = Number(kv.mod_revision);
      if (state === 'stopped' || rev <= last) return; // a replay after reconnecting may repeat delivered events
      last = rev;
      const prev = prevKv ? this.toKV(prevKv) : undefined;
      // etcd's delete event has an empty value and create_revision 0; the Store contract carries the
      // deleted value, which prev_kv holds.
      const cur: KeyValue =
        type === 'put'
          ? this.toKV(kv)
          : { key: this.unbuf(kv.key), value: prev?.value ?? '', createRevision: prev?.createRevision ?? 0, modRevision: rev };
      try {
        onEvent(prev ? { type, kv: cur, prev } : { type, kv: cur });
      } catch (err) {
        fail(err as Error);
      }
    };
    w.on('put', (kv, prev) => deliver('put', kv, prev));
    w.on('delete', (kv, prev) => deliver('delete', kv, prev));
    // The client resumes from the last header revision it saw, which a 'connected' response moves past
    // events not yet received; resume from what was delivered instead, so a reconnect cannot skip events.
    w.on('disconnected', () => {
      w.request.start_revision = String(last + 1);
    });
    await new Promise<void>((resolve, reject) => {
      w.once('connected', () => {
        if (state === 'connecting') state = 'running';
        resolve();
      });
      w.on('error', (err: Error) => {
        if (state === 'stopped') return;
        const wasRunning = state === 'running';
        void this.watchError(err, last).then((mapped) => {
          if (wasRunning) return fail(mapped);
          stop();
          reject(mapped);
        });
      });
    });
    this.watchers.add(handle);
    return handle;
  }

  // ------------------------------------------------------------------------------------------- close

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.stop();
    this.client.close();
  }

  // ----------------------------------------------------------------------------------------- helpers

  private buf(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private unbuf(key: Buffer): string {
    return key.toString().slice(this.prefix.length);
  }

  private toKV(kv: IKeyValue): KeyValue {
    return { key: this.unbuf(kv.key), value: kv.value.toString(), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) };
  }

  // A KeyRange under the key prefix as etcd's [key, range_end); range_end absent = exactly `key`.
  private etcdRange(range: KeyRange): { key: Buffer; range_end?: Buffer } {
    if (range.exact) return { key: this.buf(range.start) };
    if (range.end !== null) return { key: this.buf(range.start), range_end: this.buf(range.end) };
    // No upper bound inside the prefix: up to the end of the prefix itself, or of the keyspace ("\0").
    const end = this.prefix ? nextPrefix(Buffer.from(this.prefix)) : Buffer.from([0]);
    return { key: range.start || this.prefix ? this.buf(range.start) : Buffer.from([0]), range_end: end };
  }

  private txn(compare: NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']>, success: IRequestOp, key: Buffer): Promise<ITxnResponse> {
    return this.call(() => this.client.kv.txn({ compare, success: [success], failure: [{ request_range: { key } }] }));
  }

  private casFailure(key: string, expected: number, res: ITxnResponse): StoreError {
    const kv = firstKv(res);
    return kv ? conflictError(key, expected, Number(kv.mod_revision)) : notFoundError(key);
  }

  // Whether a read at `revision` works: false below the compacted revision, true at or above it (also for
  // a future revision). Calls the client directly: mapError() uses this through compactedRevision().
  private async readable(revision: number): Promise<boolean> {
    if (this.closed) throw new StoreError('Unavailable', `etcd ${this.hosts.join(',')}: store is closed`);
    try {
      await this.client.kv.range({ key: this.buf('\0'), revision, count_only: true });
      return true;
    } catch (err) {
      const msg = String((err as Error)?.message ?? err);
      if (msg.includes(COMPACTED)) return false;
      if (msg.includes(FUTURE)) return true;
      throw new StoreError('Unavailable', `etcd ${this.hosts.join(',')}: ${msg}`);
    }
  }

  // Run one etcd call and map its failure. `revision` is the revision the call asked for, if any.
  private async call<T>(fn: () => Promise<T>, revision = 0, key?: string): Promise<T> {
    if (this.closed) throw new StoreError('Unavailable', `etcd ${this.hosts.join(',')}: store is closed`);
    try {
      return await fn();
    } catch (err) {
      throw await this.mapError(err as Error, revision, key);
    }
  }

  private async mapError(err: Error, revision: number, key?: string): Promise<Error> {
    const msg = String(err?.message ?? err);
    if (msg.includes(COMPACTED)) {
      const compacted = await this.compactedRevision().catch(() => Math.max(this.knownCompacted, revision + 1));
      return compactedError(revision, compacted, key);
    }
    if (msg.includes(FUTURE)) return futureError(revision, await this.currentRevision().catch(() => 0));
    return new StoreError('Unavailable', `etcd ${this.hosts.join(',')}: ${msg}`, key === undefined ? {} : { key });
  }

  private async watchError(err: Error, last: number): Promise<Error> {
    const msg = String(err?.message ?? err);
    // etcd cancels a watch overtaken by compaction with compact_revision set and no reason text; the
    // etcd3 client keeps only the text, so an empty reason means compaction.
    if (/compacted|Watcher canceled:\s*$/.test(msg)) return compactedError(last, await this.compactedRevision().catch(() => last + 1));
    return new StoreError('Unavailable', `etcd watch: ${msg}`);
  }
}

const COMPACTED = 'required revision has been compacted';
const FUTURE = 'required revision is a future revision';

function firstKv(res: ITxnResponse): IKeyValue | undefined {
  return res.responses[0]?.response_range?.kvs[0];
}

// The first byte string after every string starting with `p` (etcd's prefix range_end).
function nextPrefix(p: Buffer): Buffer {
  const b = Buffer.from(p);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]! += 1;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
