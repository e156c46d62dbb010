// The embedded store: one SQLite file (better-sqlite3, WAL) holding a kine-style revision log plus a
// current-state index. Every write is one IMMEDIATE transaction that takes the next global revision; it is
// acknowledged (the promise resolves) only after COMMIT returns. Watchers are fed in-process right after
// the commit (see watch-hub.ts). Schema and durability: sqlite-schema.ts and README.md.

import Database from 'better-sqlite3';
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
import { type Synchronous, prepareDatabase } from './sqlite-schema.js';
import {
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  StoreError,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './types.js';
import { type LogPage, WatchHub } from './watch-hub.js';

/** Options for openSqliteStore. */
export interface SqliteStoreOptions {
  /** 'NORMAL' (default) survives a process crash; 'FULL' fsyncs every commit and survives power loss. */
  synchronous?: Synchronous;
  /** How long a write waits for another connection's write lock before failing Unavailable (default 5000). */
  busyTimeoutMs?: number;
  /** How many log rows one compaction transaction deletes at most, between yields (default 1000 revisions). */
  compactBatch?: number;
}

interface LogRow {
  revision: number;
  key: string;
  deleted: number;
  create_revision: number;
  value: string;
}

interface ReplayRow extends LogRow {
  p_revision: number | null;
  p_create: number | null;
  p_value: string | null;
}

/** Open (creating if needed) the SQLite store at `path`. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, opts);
}

/** The Store on a SQLite file. One process should own the file: watchers only see this connection's writes. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly hub: WatchHub;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly compactBatch: number;
  private compacting: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    try {
      prepareDatabase(this.db, opts.synchronous ?? 'NORMAL', opts.busyTimeoutMs ?? 5000);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.compactBatch = opts.compactBatch ?? 1000;
    this.hub = new WatchHub({ readSince: (after, range, limit) => this.readSince(after, range, limit) });
  }

  // ------------------------------------------------------------------------------------------ writes

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    const kv = this.run(() =>
      this.db
        .transaction(() => {
          const cur = this.latestRow(key);
          if (cur) throw alreadyExistsError(key, cur.revision);
          const rev = this.meta('revision') + 1;
          this.appendLog(rev, key, 0, rev, 0, value);
          this.stmt(`INSERT INTO current (key, revision) VALUES (?, ?)`).run(key, rev);
          return { key, value, createRevision: rev, modRevision: rev };
        })
        .immediate(),
    );
    this.hub.publish({ type: 'put', kv });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    checkRevision(expectedModRevision, 'expectedModRevision', 1);
    const { kv, prev } = this.run(() =>
      this.db
        .transaction(() => {
          const cur = this.latestRow(key);
          if (!cur) throw notFoundError(key);
          if (cur.revision !== expectedModRevision) throw conflictError(key, expectedModRevision, cur.revision);
          const rev = this.meta('revision') + 1;
          this.appendLog(rev, key, 0, cur.create_revision, cur.revision, value);
          this.stmt(`UPDATE current SET revision = ? WHERE key = ?`).run(rev, key);
          return { kv: { key, value, createRevision: cur.create_revision, modRevision: rev }, prev: toKV(cur) };
        })
        .immediate(),
    );
    this.hub.publish({ type: 'put', kv, prev });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key);
    if (expectedModRevision !== undefined) checkRevision(expectedModRevision, 'expectedModRevision', 1);
    const { kv, prev } = this.run(() =>
      this.db
        .transaction(() => {
          const cur = this.latestRow(key);
          if (!cur) throw notFoundError(key);
          if (expectedModRevision !== undefined && cur.revision !== expectedModRevision) {
            throw conflictError(key, expectedModRevision, cur.revision);
          }
          const rev = this.meta('revision') + 1;
          this.appendLog(rev, key, 1, cur.create_revision, cur.revision, cur.value);
          this.stmt(`DELETE FROM current WHERE key = ?`).run(key);
          return { kv: { key, value: cur.value, createRevision: cur.create_revision, modRevision: rev }, prev: toKV(cur) };
        })
        .immediate(),
    );
    this.hub.publish({ type: 'delete', kv, prev });
    return kv;
  }

  // ------------------------------------------------------------------------------------------- reads

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    checkKey(key);
    if (revision !== undefined) checkRevision(revision, 'revision');
    return this.run(() =>
      this.db.transaction(() => {
        if (!revision) {
          const row = this.latestRow(key);
          return row ? toKV(row) : null;
        }
        this.checkReadable(revision, key);
        const row = this.stmt(
          `SELECT revision, key, deleted, create_revision, value FROM log
           WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1`,
        ).get(key, revision) as LogRow | undefined;
        return row && !row.deleted ? toKV(row) : null;
      })(),
    );
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    const { revision = 0, limit = 0, after } = opts;
    checkRevision(revision, 'opts.revision');
    checkRevision(limit, 'opts.limit');
    if (after !== undefined && typeof after !== 'string') throw new TypeError('store: opts.after: must be a string');
    const range = listRange(prefix);
    return this.run(() =>
      this.db.transaction(() => {
        const at = revision || this.meta('revision');
        if (revision) this.checkReadable(revision);
        const sqlLimit = limit ? limit + 1 : -1; // one extra row tells whether there are more
        const rows = (
          revision
            ? this.stmt(
                `SELECT l.revision, l.key, l.deleted, l.create_revision, l.value FROM log l JOIN
                   (SELECT MAX(revision) AS rev FROM log WHERE ${rangeSql('key', range).sql} AND key > ? AND revision <= ?
                    GROUP BY key) m
                 ON l.revision = m.rev WHERE l.deleted = 0 ORDER BY l.key LIMIT ?`,
              ).all(...rangeSql('key', range).params, after ?? '', revision, sqlLimit)
            : this.stmt(
                `SELECT l.revision, l.key, l.deleted, l.create_revision, l.value FROM current c
                 JOIN log l ON l.revision = c.revision WHERE ${rangeSql('c.key', range).sql} AND c.key > ?
                 ORDER BY c.key LIMIT ?`,
              ).all(...rangeSql('c.key', range).params, after ?? '', sqlLimit)
        ) as LogRow[];
        const more = limit > 0 && rows.length > limit;
        if (more) rows.length = limit;
        return { items: rows.map(toKV), revision: at, more };
      })(),
    );
  }

  async count(prefix: string): Promise<number> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    const w = rangeSql('key', listRange(prefix));
    return this.run(() => (this.stmt(`SELECT COUNT(*) AS n FROM current WHERE ${w.sql}`).get(...w.params) as { n: number }).n);
  }

  async currentRevision(): Promise<number> {
    return this.run(() => this.meta('revision'));
  }

  async compactedRevision(): Promise<number> {
    return this.run(() => this.meta('compacted'));
  }

  // ------------------------------------------------------------------------------------------- watch

  async watch(prefix: string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onError: (err: Error) => void): Promise<Watch> {
    if (typeof prefix !== 'string') throw new TypeError('store: prefix: must be a string');
    checkRevision(opts?.afterRevision, 'opts.afterRevision');
    return this.run(() => this.hub.add(watchRange(prefix), opts.afterRevision, onEvent, onError));
  }

  // One replay page for the hub: log rows after `after` in `range`, with the current and compacted
  // revisions read in the same snapshot.
  private readSince(after: number, range: KeyRange, limit: number): LogPage {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
    return this.db.transaction(() => {
      // '+l.key' keeps SQLite on the revision order of the primary key for prefix scans; an exact key uses
      // the (key, revision) index, which is already in revision order.
      const w = range.exact ? { sql: 'l.key = ?', params: [range.start] } : rangeSql('+l.key', range);
      const rows = this.stmt(
        `SELECT l.revision, l.key, l.deleted, l.create_revision, l.value,
                p.revision AS p_revision, p.create_revision AS p_create, p.value AS p_value
         FROM log l LEFT JOIN log p ON l.prev_revision > 0 AND p.revision = l.prev_revision
         WHERE l.revision > ? AND ${w.sql} ORDER BY l.revision LIMIT ?`,
      ).all(after, ...w.params, limit) as ReplayRow[];
      return { events: rows.map(toEvent), revision: this.meta('revision'), compacted: this.meta('compacted') };
    })();
  }

  // ------------------------------------------------------------------------------------ compaction

  async compact(revision: number): Promise<void> {
    checkRevision(revision, 'revision', 1);
    const run = this.compacting.then(() => this.compactNow(revision));
    this.compacting = run.catch(() => undefined);
    return run;
  }

  // Mark first, delete after: once `compacted` is raised every read below it fails, so the batches that
  // follow (each its own short transaction, so writers are not held up) never expose half-pruned history.
  private async compactNow(revision: number): Promise<void> {
    const from = this.run(() =>
      this.db
        .transaction(() => {
          const current = this.meta('revision');
          const compacted = this.meta('compacted');
          if (revision <= compacted) throw compactedError(revision, compacted);
          if (revision > current) throw futureError(revision, current);
          this.stmt(`UPDATE meta SET value = ? WHERE name = 'compacted'`).run(revision);
          return (this.stmt(`SELECT MIN(revision) AS r FROM log`).get() as { r: number | null }).r ?? revision;
        })
        .immediate(),
    );
    // A row at or below `revision` goes when a later row of its key (still <= revision) supersedes it, or
    // when it is a delete: then the key does not exist at `revision` and nothing older is needed.
    const prune = this.stmt(
      `DELETE FROM log WHERE revision IN (
         SELECT l.revision FROM log l WHERE l.revision >= ? AND l.revision < ? AND l.revision <= ? AND (l.deleted = 1
           OR EXISTS (SELECT 1 FROM log n WHERE n.key = l.key AND n.revision > l.revision AND n.revision <= ?)))`,
    );
    for (let lo = from; lo <= revision; lo += this.compactBatch) {
      if (this.closed) return;
      this.run(() => this.db.transaction(() => prune.run(lo, lo + this.compactBatch, revision, revision)).immediate());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // ------------------------------------------------------------------------------------------- close

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.stopAll();
    await this.compacting;
    this.db.close();
  }

  /** Number of running watchers. */
  get watcherCount(): number {
    return this.hub.size;
  }

  // ----------------------------------------------------------------------------------------- helpers

  // Run a database step, turning SQLite failures (busy, I/O, closed) into StoreError 'Unavailable'.
  private run<T>(fn: () => T): T {
    if (this.closed) throw new StoreError('Unavailable', `store ${this.path} is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError || !(err instanceof Database.SqliteError)) throw err;
      throw new StoreError('Unavailable', `sqlite ${this.path}: ${err.code}: ${err.message}`);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private meta(name: 'revision' | 'compacted'): number {
    return (this.stmt(`SELECT value FROM meta WHERE name = ?`).get(name) as { value: number }).value;
  }

  private latestRow(key: string): LogRow | undefined {
    return this.stmt(
      `SELECT l.revision, l.key, l.deleted, l.create_revision, l.value FROM current c
       JOIN log l ON l.revision = c.revision WHERE c.key = ?`,
    ).get(key) as LogRow | undefined;
  }

  private appendLog(rev: number, key: string, deleted: 0 | 1, createRev: number, prevRev: number, value: string): void {
    this.stmt(
      `INSERT INTO log (revision, key, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(rev, key, deleted, createRev, prevRev, value);
    this.stmt(`UPDATE meta SET value = ? WHERE name = 'revision'`).run(rev);
  }

  private checkReadable(revision: number, key?: string): void {
    const compacted = this.meta('compacted');
    if (revision < compacted) throw compactedError(revision, compacted, key);
    const current = this.meta('revision');
    if (revision > current) throw futureError(revision, current);
  }
}

// SQL for "column in range", with its parameters.
function rangeSql(col: string, range: KeyRange): { sql: string; params: string[] } {
  if (range.exact) return { sql: `${col} = ?`, params: [range.start] };
  if (range.end === null) return { sql: `${col} >= ?`, params: [range.start] };
  return { sql: `${col} >= ? AND ${col} < ?`, params: [range.start, range.end] };
}

function toKV(row: LogRow): KeyValue {
  return { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: row.revision };
}

function toEvent(row: ReplayRow): WatchEvent {
  const kv = toKV(row);
  const prev =
    row.p_revision === null
      ? undefined
      : { key: row.key, value: row.p_value!, createRevision: row.p_create!, modRevision: row.p_revision };
  return { type: row.deleted ? 'delete' : 'put', kv, ...(prev ? { prev } : {}) };
}
