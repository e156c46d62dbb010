// The conformance suite against the SQLite backend (a fresh file per subtest), plus what only a file
// store has: reopening keeps data and revision numbering, and the current-state index agrees with the log.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../control-plane/store/open.js';
import { openSqliteStore } from '../../control-plane/store/sqlite.js';
import { runConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), `shoalt-store-${process.pid}-`));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `s${++n}.db`);

runConformance(t, async (tt) => {
  const store = openSqliteStore(freshPath());
  tt.teardown(() => store.close());
  return store;
});

t.test('reopening keeps data, history and revision numbering', async (t) => {
  const path = freshPath();
  const s1 = openSqliteStore(path);
  const a = await s1.create('/p/a', '1');
  const a2 = await s1.update('/p/a', '2', a.modRevision);
  await s1.close();
  const s2 = openSqliteStore(path);
  t.teardown(() => s2.close());
  t.equal(await s2.currentRevision(), a2.modRevision, 'the revision survives a reopen');
  t.equal((await s2.get('/p/a'))?.value, '2', 'the data survives');
  t.equal((await s2.get('/p/a', a.modRevision))?.value, '1', 'and so does history');
  const b = await s2.create('/p/b', 'x');
  t.equal(b.modRevision, a2.modRevision + 1, 'numbering continues where it stopped');
});

t.test('reopening after compaction keeps the compacted revision', async (t) => {
  const path = freshPath();
  const s1 = openSqliteStore(path);
  const a = await s1.create('/p/a', '1');
  const a2 = await s1.update('/p/a', '2', a.modRevision);
  await s1.delete('/p/a');
  await s1.compact(a2.modRevision + 1);
  await s1.close();
  const s2 = openSqliteStore(path);
  t.teardown(() => s2.close());
  t.equal(await s2.compactedRevision(), a2.modRevision + 1, 'compacted revision persisted');
  const c = await s2.create('/p/c', 'x');
  t.equal(c.modRevision, a2.modRevision + 2, 'compaction never reuses revisions, even of removed rows');
});

t.test('sqlite:// and plain paths open the same file', async (t) => {
  const path = freshPath();
  const s1 = await openStore(`sqlite://${path}`);
  await s1.create('/k', 'v');
  await s1.close();
  const s2 = await openStore(path);
  t.teardown(() => s2.close());
  t.equal((await s2.get('/k'))?.value, 'v', 'written via sqlite://, read via the plain path');
});

t.test('compaction removes superseded history, keeps what the compacted revision needs', async (t) => {
  const s = openSqliteStore(freshPath(), { compactBatch: 7 });
  t.teardown(() => s.close());
  const keys = 20;
  const revs: number[] = [];
  for (let i = 0; i < keys; i++) revs.push((await s.create(`/q/k${i}`, 'v0')).modRevision);
  for (let round = 1; round <= 5; round++) {
    for (let i = 0; i < keys; i++) revs[i] = (await s.update(`/q/k${i}`, `v${round}`, revs[i]!)).modRevision;
  }
  for (let i = 0; i < 5; i++) await s.delete(`/q/k${i}`);
  const at = await s.currentRevision();
  const before = await s.list('/q/', { revision: at });
  await s.compact(at);
  const db = (s as unknown as { db: import('better-sqlite3').Database }).db;
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n;
  t.equal(rows, keys - 5, 'one row per live key is left (all superseded rows and tombstones gone)');
  t.same(await s.list('/q/', { revision: at }), before, 'the list at the compacted revision is unchanged');
});

t.test('a compaction that overtakes a replaying watcher ends it with Compacted', async (t) => {
  const s = openSqliteStore(freshPath());
  t.teardown(() => s.close());
  const base = await s.currentRevision();
  for (let b = 0; b < 4; b++) await Promise.all(Array.from({ length: 500 }, (_, i) => s.create(`/o/k${b}-${i}`, 'v')));
  const events: number[] = [];
  const errors: Error[] = [];
  // the first replay page is read inside watch(); the compaction is marked before the next page
  await s.watch('/o/', { afterRevision: base }, (ev) => events.push(ev.kv.modRevision), (err) => errors.push(err));
  const at = await s.currentRevision();
  await s.compact(at);
  for (let i = 0; i < 100 && !errors.length; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(errors.length, 1, 'one error');
  t.match(errors[0], { name: 'StoreError', code: 'Compacted', detail: { revision: at } }, 'Compacted with the compacted revision');
  t.ok(events.length > 0 && events.length < 2000, `the watcher saw the first page only (${events.length} events)`);
  t.equal(s.watcherCount, 0, 'the watcher is gone');
});
