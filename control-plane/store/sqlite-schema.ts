// The SQLite store's schema and connection settings, kept apart from the store logic so the README and
// the code describe one schema. The log is kine's idea: one row per write, keyed by the global revision.

import type Database from 'better-sqlite3';

/** Schema version written to `meta`; a file with another version is refused rather than misread. */
export const SCHEMA_VERSION = 1;

/**
 * `log`: every write, in revision order. A delete row keeps the deleted value (so a replayed delete event
 * can carry it) and `deleted = 1`. `prev_revision` is the key's previous live row (0 when the key did not
 * exist), which gives watch replay its `prev` without a search.
 * `current`: for each live key, the revision of its latest row: the index that makes get/list/count at the
 * latest revision a lookup instead of a GROUP BY over history.
 * `meta`: the current revision (revisions are never reused, even after compaction removes the newest
 * rows' predecessors), the compacted revision, and the schema version.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY,
  key             TEXT    NOT NULL,
  deleted         INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  value           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS current (
  key      TEXT    PRIMARY KEY,
  revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** SQLite durability level. NORMAL survives a process crash; FULL also survives power loss / OS crash. */
export type Synchronous = 'NORMAL' | 'FULL';

/** Apply connection settings and create the schema if the file is new. Refuses a file written with another schema version. */
export function prepareDatabase(db: Database.Database, synchronous: Synchronous, busyTimeoutMs: number): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('foreign_keys = OFF');
  db.transaction(() => {
    db.exec(SCHEMA);
    // Revision 1 is the empty store, as in etcd: the first write takes revision 2 on both backends.
    db.prepare(`INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 1), ('compacted', 0), ('schema', ?)`).run(
      SCHEMA_VERSION,
    );
  }).immediate();
  const found = (db.prepare(`SELECT value FROM meta WHERE name = 'schema'`).get() as { value: number }).value;
  if (found !== SCHEMA_VERSION) {
    throw new Error(`store: schema version ${found} in the file, this build reads version ${SCHEMA_VERSION}`);
  }
}
