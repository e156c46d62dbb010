// The Store conformance suite: one set of tests that every backend must pass unchanged (sqlite.test.ts and
// etcd.test.ts call runConformance with their factory). Tests never assume absolute revision numbers, only
// the revisions the store returned, so they hold on a shared etcd too; they do assume that nothing else
// writes to the store while a test runs (each backend test owns its SQLite file or its etcd).

import type { Test } from 'tap';
import { startAutoCompaction } from '../../control-plane/store/compactor.js';
import { type KeyValue, type Store, StoreError, type StoreErrorCode, type WatchEvent } from '../../control-plane/store/types.js';

/** Makes a fresh, empty store for one subtest and registers its cleanup with `t.teardown`. */
export type StoreFactory = (t: Test) => Promise<Store>;

/** Expect `p` to reject with StoreError `code`; returns the error for further checks. */
export async function rejectsWith(t: Test, p: Promise<unknown>, code: StoreErrorCode, what: string): Promise<StoreError | null> {
  try {
    await p;
    t.fail(`${what}: resolved, want StoreError ${code}`);
    return null;
  } catch (err) {
    if (!(err instanceof StoreError)) {
      t.fail(`${what}: threw ${String(err)}, want StoreError ${code}`);
      return null;
    }
    t.equal(err.code, code, `${what}: ${code}`);
    return err;
  }
}

/** Records watch events and lets a test wait for a count. */
export class Collector {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  readonly onEvent = (ev: WatchEvent) => void this.events.push(ev);
  readonly onError = (err: Error) => void this.errors.push(err);

  /** Resolve once `pred` holds, reject after `ms`. */
  async until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.errors.length) throw new Error(`${what}: watch failed: ${this.errors[0]!.message}`);
      if (Date.now() > deadline) throw new Error(`${what}: timed out with ${this.events.length} events`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Wait until an event for `key` at `revision` (a sentinel write) has arrived. */
  async sawRevision(revision: number, what = 'sentinel'): Promise<void> {
    await this.until(() => this.events.some((e) => e.kv.modRevision >= revision), what);
  }

  revisions(): number[] {
    return this.events.map((e) => e.kv.modRevision);
  }
}

const kvOf = (kv: KeyValue | null) => kv && { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision };

/** Run every conformance test against the backend `makeStore` opens. */
export function runConformance(t: Test, makeStore: StoreFactory): void {
  t.test('create, get, AlreadyExists, values round-trip', async (t) => {
    const s = await makeStore(t);
    const value = JSON.stringify({ kind: 'Pod', metadata: { name: 'ü-ñ-日本' }, pad: 'x'.repeat(1024) });
    const a = await s.create('/registry/pods/default/a', value);
    t.equal(a.createRevision, a.modRevision, 'a new key is created and modified at the same revision');
    t.same(kvOf(await s.get('/registry/pods/default/a')), kvOf(a), 'get returns what create returned');
    t.equal((await s.get('/registry/pods/default/a'))!.value, value, 'unicode and 1 KiB values round-trip');
    t.equal(await s.get('/registry/pods/default/missing'), null, 'get of a missing key is null');
    const err = await rejectsWith(t, s.create('/registry/pods/default/a', '{}'), 'AlreadyExists', 'second create');
    t.equal(err?.detail.key, '/registry/pods/default/a', 'AlreadyExists names the key');
    t.equal(await s.currentRevision(), a.modRevision, 'a failed create takes no revision');
    t.equal((await s.get('/registry/pods/default/a'))!.value, value, 'a failed create changes nothing');
  });

  t.test('revisions: global, strictly increasing, shared across keys', async (t) => {
    const s = await makeStore(t);
    const start = await s.currentRevision();
    t.ok(start >= 1, 'the current revision of an empty store is at least 1');
    const a = await s.create('/r/a', '1');
    const b = await s.create('/r/b', '1');
    const a2 = await s.update('/r/a', '2', a.modRevision);
    const db = await s.delete('/r/b');
    t.same([a.modRevision, b.modRevision, a2.modRevision, db.modRevision], [start + 1, start + 2, start + 3, start + 4], 'each write takes the next revision, whatever the key');
    t.equal(await s.currentRevision(), db.modRevision, 'currentRevision is the last write');
  });

  t.test('get at a revision', async (t) => {
    const s = await makeStore(t);
    const before = await s.currentRevision();
    const v1 = await s.create('/g/k', 'v1');
    const v2 = await s.update('/g/k', 'v2', v1.modRevision);
    const other = await s.create('/g/other', 'o');
    const del = await s.delete('/g/k');
    const cases: Array<{ at: number; want: string | null; mod?: number }> = [
      { at: before, want: null },
      { at: v1.modRevision, want: 'v1', mod: v1.modRevision },
      { at: v2.modRevision, want: 'v2', mod: v2.modRevision },
      { at: other.modRevision, want: 'v2', mod: v2.modRevision },
      { at: del.modRevision, want: null },
      { at: 0, want: null },
    ];
    for (const c of cases) {
      const got = await s.get('/g/k', c.at);
      t.equal(got?.value ?? null, c.want, `value at revision ${c.at}`);
      if (c.mod) t.equal(got?.modRevision, c.mod, `modRevision at revision ${c.at}`);
      if (got) t.equal(got.createRevision, v1.createRevision, `createRevision at revision ${c.at}`);
    }
    await rejectsWith(t, s.get('/g/k', del.modRevision + 100), 'FutureRevision', 'get at a future revision');
  });

  t.test('list: prefix, sorted, limit+after pagination, at a revision, count', async (t) => {
    const s = await makeStore(t);
    const names = ['m', 'b', 'z', 'a', 'c/d', 'k', 'y', 'e'];
    for (const n of names) await s.create(`/l/a/${n}`, n);
    await s.create('/l/ab', 'sibling, not under /l/a/');
    await s.create('/l/b/x', 'other prefix');
    const all = await s.list('/l/a/');
    t.same(all.items.map((i) => i.key), [...names].sort().map((n) => `/l/a/${n}`), 'only keys under the prefix, sorted by key');
    t.same(all.items.map((i) => i.value), [...names].sort(), 'values come with their keys');
    t.equal(all.more, false, 'no limit, no more');
    t.equal(all.revision, await s.currentRevision(), 'a latest list reports the current revision');
    t.equal((await s.list('/l/')).items.length, names.length + 2, 'a shorter prefix covers everything under it');
    t.equal((await s.list('/nothing/')).items.length, 0, 'an empty prefix lists nothing');

    const pages: string[][] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s.list('/l/a/', { limit: 3, ...(after ? { after } : {}) });
      pages.push(page.items.map((x) => x.key));
      if (!page.more) break;
      after = page.items[page.items.length - 1]!.key;
    }
    t.same(pages.map((p) => p.length), [3, 3, 2], 'pages of 3, 3 and 2; `more` false on the last');
    t.same(pages.flat(), all.items.map((i) => i.key), 'pages concatenate to the full list');
    t.same((await s.list('/l/a/', { limit: 8 })).more, false, 'limit equal to the size: no more');

    const mid = await s.currentRevision();
    const m = all.items.find((i) => i.key === '/l/a/m')!;
    await s.update('/l/a/m', 'm2', m.modRevision);
    await s.delete('/l/a/b');
    await s.create('/l/a/new', 'n');
    const then = await s.list('/l/a/', { revision: mid });
    t.same(then.items.map((i) => [i.key, i.value]), all.items.map((i) => [i.key, i.value]), 'a list at a past revision shows that state');
    t.equal(then.revision, mid, 'a list at a revision reports that revision');
    const thenPage = await s.list('/l/a/', { revision: mid, limit: 2, after: '/l/a/b' });
    t.same(thenPage.items.map((i) => i.key), ['/l/a/c/d', '/l/a/e'], 'pagination works at a past revision too');
    t.equal(thenPage.more, true, 'more at a past revision');
    const now = await s.list('/l/a/');
    t.same(now.items.map((i) => i.key), [...names.filter((n) => n !== 'b'), 'new'].sort().map((n) => `/l/a/${n}`), 'the latest list moved on');
    t.equal(now.items.find((i) => i.key === '/l/a/m')!.value, 'm2', 'and shows the update');
    await rejectsWith(t, s.list('/l/a/', { revision: (await s.currentRevision()) + 5 }), 'FutureRevision', 'list at a future revision');

    t.equal(await s.count('/l/a/'), names.length, 'count under a prefix');
    t.equal(await s.count('/l/'), names.length + 2, 'count under a shorter prefix');
    t.equal(await s.count('/none/'), 0, 'count of an empty prefix');
  });

  t.test('update: compare-and-swap, Conflict, NotFound, createRevision kept', async (t) => {
    const s = await makeStore(t);
    const c = await s.create('/u/k', 'v1');
    const u1 = await s.update('/u/k', 'v2', c.modRevision);
    t.ok(u1.modRevision > c.modRevision, 'update takes a new revision');
    t.equal(u1.createRevision, c.createRevision, 'createRevision is kept across updates');
    const u2 = await s.update('/u/k', 'v3', u1.modRevision);
    t.equal(u2.createRevision, c.createRevision, 'and across a second update');
    const err = await rejectsWith(t, s.update('/u/k', 'stale', u1.modRevision), 'Conflict', 'update with a stale revision');
    t.equal(err?.detail.revision, u2.modRevision, 'Conflict carries the actual modRevision');
    t.equal(err?.detail.key, '/u/k', 'Conflict names the key');
    t.equal((await s.get('/u/k'))!.value, 'v3', 'a failed update changes nothing');
    await rejectsWith(t, s.update('/u/missing', 'x', 5), 'NotFound', 'update of a missing key');
    t.equal(await s.currentRevision(), u2.modRevision, 'failed updates take no revision');
  });

  t.test('delete: with and without CAS, NotFound, recreate', async (t) => {
    const s = await makeStore(t);
    const c = await s.create('/d/k', 'v1');
    const err = await rejectsWith(t, s.delete('/d/k', c.modRevision + 7), 'Conflict', 'delete with a wrong revision');
    t.equal(err?.detail.revision, c.modRevision, 'Conflict carries the actual modRevision');
    const d = await s.delete('/d/k', c.modRevision);
    t.same([d.value, d.createRevision], ['v1', c.createRevision], 'delete returns the deleted value');
    t.equal(d.modRevision, (await s.currentRevision()), "delete's modRevision is the delete's revision");
    t.equal(await s.get('/d/k'), null, 'gone after delete');
    t.equal((await s.get('/d/k', c.modRevision))?.value, 'v1', 'still readable at the earlier revision');
    await rejectsWith(t, s.delete('/d/k'), 'NotFound', 'delete of a deleted key');
    await rejectsWith(t, s.delete('/d/k', d.modRevision), 'NotFound', 'CAS delete of a deleted key');
    t.equal(await s.currentRevision(), d.modRevision, 'failed deletes take no revision');
    const again = await s.create('/d/k', 'v2');
    t.equal(again.createRevision, again.modRevision, 'recreating starts a new createRevision');
    t.ok(again.createRevision > c.createRevision, 'the new createRevision is later');
    const d2 = await s.delete('/d/k');
    t.equal(d2.value, 'v2', 'delete without CAS');
  });

  t.test('watch from now: ordered, prefix-filtered, prev values, delete events', async (t) => {
    const s = await makeStore(t);
    await s.create('/w/a/pre', 'before the watch');
    const col = new Collector();
    const w = await s.watch('/w/a/', { afterRevision: await s.currentRevision() }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    const x = await s.create('/w/a/x', 'x1');
    await s.create('/w/b/y', 'outside the prefix');
    await s.create('/w/ab', 'sibling key, not under /w/a/');
    const x2 = await s.update('/w/a/x', 'x2', x.modRevision);
    const dx = await s.delete('/w/a/x');
    const sentinel = await s.create('/w/a/zz', 'last');
    await col.sawRevision(sentinel.modRevision);
    t.same(col.revisions(), [x.modRevision, x2.modRevision, dx.modRevision, sentinel.modRevision], 'exactly the writes under the prefix, in order');
    const [e1, e2, e3] = col.events;
    t.same([e1!.type, kvOf(e1!.kv), e1!.prev], ['put', kvOf(x), undefined], 'create: put with no prev');
    t.same([e2!.type, kvOf(e2!.kv), kvOf(e2!.prev ?? null)], ['put', kvOf(x2), kvOf(x)], 'update: put with prev');
    t.same([e3!.type, kvOf(e3!.kv), kvOf(e3!.prev ?? null)], ['delete', kvOf(dx), kvOf(x2)], 'delete: kv has the deleted value at the delete revision, prev the last value');
    t.same(col.errors, [], 'no errors');
  });

  t.test('watch from the past replays history, then goes live', async (t) => {
    const s = await makeStore(t);
    const start = await s.currentRevision();
    const written: KeyValue[] = [];
    for (let i = 0; i < 30; i++) written.push(await s.create(`/h/k${String(i).padStart(2, '0')}`, `v${i}`));
    const u = await s.update('/h/k03', 'v3b', written[3]!.modRevision);
    const d = await s.delete('/h/k04');
    await s.create('/other/x', 'not watched');
    const col = new Collector();
    const w = await s.watch('/h/', { afterRevision: start }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    const live = await s.create('/h/live', 'after the watch started');
    await col.sawRevision(live.modRevision);
    t.same(col.revisions(), [...written.map((k) => k.modRevision), u.modRevision, d.modRevision, live.modRevision], 'every event after the revision, in order, then the live one');
    t.equal(col.events[30]!.prev?.value, 'v3', 'replayed update carries prev');
    t.same([col.events[31]!.type, col.events[31]!.kv.value, col.events[31]!.prev?.value], ['delete', 'v4', 'v4'], 'replayed delete carries the deleted value');

    const mid = new Collector();
    const w2 = await s.watch('/h/', { afterRevision: written[27]!.modRevision }, mid.onEvent, mid.onError);
    t.teardown(() => w2.stop());
    const live2 = await s.create('/h/live2', 'x');
    await mid.sawRevision(live2.modRevision);
    t.same(mid.revisions(), [written[28]!.modRevision, written[29]!.modRevision, u.modRevision, d.modRevision, live.modRevision, live2.modRevision], 'a watch from the middle starts strictly after its revision');
  });

  t.test('watch of one key (no trailing slash)', async (t) => {
    const s = await makeStore(t);
    const col = new Collector();
    const w = await s.watch('/e/k', { afterRevision: await s.currentRevision() }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    const k = await s.create('/e/k', '1');
    await s.create('/e/k2', 'a longer key with the same prefix');
    await s.create('/e/k/child', 'a key under it');
    const k2 = await s.update('/e/k', '2', k.modRevision);
    await col.sawRevision(k2.modRevision);
    t.same(col.revisions(), [k.modRevision, k2.modRevision], 'only the exact key');
  });

  t.test('watch under concurrent writes: no gap, no duplicate', async (t) => {
    const s = await makeStore(t);
    const base = await s.currentRevision();
    const N = 300;
    const watchers: Array<{ after: number; col: Collector }> = [];
    const starts: Promise<void>[] = [];
    const writes: Promise<KeyValue>[] = [];
    for (let i = 0; i < N; i++) {
      writes.push(s.create(`/c/k${i}`, `v${i}`));
      // yield now and then without waiting for the writes, so watch starts and writes interleave
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      // start watchers while writes are in flight, each from whatever revision is current then
      if (i % 60 === 0) {
        starts.push(
          s.currentRevision().then(async (after) => {
            const col = new Collector();
            const w = await s.watch('/c/', { afterRevision: after }, col.onEvent, col.onError);
            t.teardown(() => w.stop());
            watchers.push({ after, col });
          }),
        );
      }
    }
    const done = await Promise.all(writes);
    await Promise.all(starts);
    const fromBase = new Collector();
    const wb = await s.watch('/c/', { afterRevision: base }, fromBase.onEvent, fromBase.onError);
    t.teardown(() => wb.stop());
    watchers.push({ after: base, col: fromBase });
    const sentinel = await s.create('/c/zz-sentinel', 'end');
    const all = [...done.map((k) => k.modRevision), sentinel.modRevision].sort((a, b) => a - b);
    t.equal(new Set(all).size, N + 1, 'every concurrent write got its own revision');
    for (const { after, col } of watchers) {
      await col.sawRevision(sentinel.modRevision, `watcher after ${after}`);
      t.same(col.revisions(), all.filter((r) => r > after), `watcher after revision ${after - base} (relative) saw every later write once, in order`);
    }
    t.ok(watchers.length >= 5, 'several watchers ran');
    t.ok(new Set(watchers.map((w) => w.after)).size >= 3, 'watchers started at different points of the write stream');
  });

  t.test('a long replay meets concurrent writes: switches to live with no gap and no duplicate', async (t) => {
    const s = await makeStore(t);
    const base = await s.currentRevision();
    const revs: number[] = [];
    for (let b = 0; b < 12; b++) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/lr/h${b * 100 + i}`, 'v')));
      revs.push(...batch.map((kv) => kv.modRevision));
    }
    const col = new Collector();
    const w = await s.watch('/lr/', { afterRevision: base }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    // keep writing while the replay (1200 events, several pages) is under way
    for (let i = 0; i < 40; i++) {
      const batch = await Promise.all(Array.from({ length: 5 }, (_, j) => s.create(`/lr/live${i * 5 + j}`, 'v')));
      revs.push(...batch.map((kv) => kv.modRevision));
      await new Promise((r) => setImmediate(r));
    }
    const sentinel = await s.create('/lr/zz', 'end');
    revs.push(sentinel.modRevision);
    await col.sawRevision(sentinel.modRevision);
    t.same(col.revisions(), [...revs].sort((a, b) => a - b), '1200 replayed and 201 live events, each once, in order');
  });

  t.test('several watchers see the same events; stop() is idempotent', async (t) => {
    const s = await makeStore(t);
    const after = await s.currentRevision();
    const cols = [new Collector(), new Collector(), new Collector()];
    const ws = await Promise.all(cols.map((c) => s.watch('/m/', { afterRevision: after }, c.onEvent, c.onError)));
    const a = await s.create('/m/a', '1');
    await Promise.all(cols.map((c) => c.sawRevision(a.modRevision)));
    ws[0]!.stop();
    ws[0]!.stop();
    const b = await s.create('/m/b', '2');
    await Promise.all(cols.slice(1).map((c) => c.sawRevision(b.modRevision)));
    // the stopped watcher had every chance to see b: the others already did
    t.same(cols[0]!.revisions(), [a.modRevision], 'a stopped watcher gets nothing more');
    t.same(cols[1]!.revisions(), [a.modRevision, b.modRevision], 'second watcher');
    t.same(cols[2]!.revisions(), cols[1]!.revisions(), 'third watcher saw the same');
    for (const w of ws) w.stop();
    t.same(cols.flatMap((c) => c.errors), [], 'stopping is not an error');
  });

  t.test('compaction', async (t) => {
    const s = await makeStore(t);
    const k1 = await s.create('/x/k', 'v1');
    const gone = await s.create('/x/gone', 'deleted before the compaction');
    const k2 = await s.update('/x/k', 'v2', k1.modRevision);
    const dg = await s.delete('/x/gone');
    const k3 = await s.update('/x/k', 'v3', k2.modRevision);
    const mid = k3.modRevision;
    const k4 = await s.update('/x/k', 'v4', k3.modRevision);
    const n = await s.create('/x/new', 'n');
    await s.compact(mid);
    t.equal(await s.compactedRevision(), mid, 'compactedRevision is the compaction point');
    const e = await rejectsWith(t, s.get('/x/k', k2.modRevision), 'Compacted', 'get below the compacted revision');
    t.equal(e?.detail.revision, mid, 'Compacted carries the compacted revision');
    await rejectsWith(t, s.get('/x/k', mid - 1), 'Compacted', 'get just below');
    const le = await rejectsWith(t, s.list('/x/', { revision: k1.modRevision }), 'Compacted', 'list below the compacted revision');
    t.equal(le?.detail.revision, mid, 'list Compacted carries the compacted revision');
    await rejectsWith(t, s.watch('/x/', { afterRevision: mid - 1 }, () => undefined, () => undefined), 'Compacted', 'watch from below the compacted revision');
    await rejectsWith(t, s.watch('/x/', { afterRevision: 0 }, () => undefined, () => undefined), 'Compacted', 'watch from the beginning');
    t.equal((await s.get('/x/k', mid))?.value, 'v3', 'get at the compacted revision works');
    t.equal(await s.get('/x/gone', mid), null, 'a key deleted before the compaction is absent at it');
    t.same((await s.list('/x/', { revision: mid })).items.map((i) => [i.key, i.value]), [['/x/k', 'v3']], 'list at the compacted revision works');
    t.same((await s.list('/x/')).items.map((i) => [i.key, i.value]), [['/x/k', 'v4'], ['/x/new', 'n']], 'the latest list is untouched');
    const col = new Collector();
    const w = await s.watch('/x/', { afterRevision: mid }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    await col.sawRevision(n.modRevision);
    t.same(col.revisions(), [k4.modRevision, n.modRevision], 'watch from the compacted revision replays what followed');
    t.equal(col.events[0]!.prev?.value, 'v3', 'the first replayed event still has its prev');
    t.ok(dg.modRevision < mid, 'the deleted key was deleted before the compaction');
    await rejectsWith(t, s.compact(mid), 'Compacted', 'compacting at the compacted revision again');
    await rejectsWith(t, s.compact((await s.currentRevision()) + 10), 'FutureRevision', 'compacting at a future revision');
    t.equal(gone.createRevision < mid, true, 'history of the deleted key was below the compaction point');
  });

  t.test('auto-compaction keeps the newest revisions', async (t) => {
    const s = await makeStore(t);
    for (let i = 0; i < 12; i++) await s.create(`/ac/k${i}`, 'v');
    const compacted: number[] = [];
    const ac = startAutoCompaction(s, { intervalMs: 3_600_000, keepRevisions: 5, onCompact: (r) => compacted.push(r) });
    t.teardown(() => ac.stop());
    const cur = await s.currentRevision();
    t.equal(await ac.runOnce(), cur - 5, 'compacts to current - keepRevisions');
    t.equal(await s.compactedRevision(), cur - 5, 'the store agrees');
    t.equal(await ac.runOnce(), 0, 'nothing new to compact');
    const more = await s.create('/ac/more', 'v');
    t.equal(await ac.runOnce(), more.modRevision - 5, 'the next round moves with new writes');
    t.same(compacted, [cur - 5, more.modRevision - 5], 'onCompact reports each compaction');
    await ac.stop();
    await ac.stop();
    t.equal(await ac.runOnce(), 0, 'a stopped compactor does nothing');
  });

  t.test('close', async (t) => {
    const s = await makeStore(t);
    await s.create('/z/k', 'v');
    const col = new Collector();
    await s.watch('/z/', { afterRevision: await s.currentRevision() }, col.onEvent, col.onError);
    await s.close();
    await s.close();
    await rejectsWith(t, s.get('/z/k'), 'Unavailable', 'get after close');
    await rejectsWith(t, s.create('/z/k2', 'v'), 'Unavailable', 'create after close');
    t.same(col.errors, [], 'close ends watches without an error');
  });

  t.test('bad arguments name the argument', async (t) => {
    const s = await makeStore(t);
    const cases: Array<{ name: string; call: () => Promise<unknown>; want: RegExp }> = [
      { name: 'empty key', call: () => s.create('', 'v'), want: /key: must be a non-empty string/ },
      { name: 'non-string value', call: () => s.create('/a', 5 as unknown as string), want: /value: must be a string/ },
      { name: 'negative revision', call: () => s.get('/a', -1), want: /revision: must be an integer >= 0/ },
      { name: 'zero CAS revision', call: () => s.update('/a', 'v', 0), want: /expectedModRevision: must be an integer >= 1/ },
      { name: 'fractional limit', call: () => s.list('/a/', { limit: 1.5 }), want: /opts\.limit/ },
      { name: 'missing afterRevision', call: () => s.watch('/a/', {} as { afterRevision: number }, () => undefined, () => undefined), want: /opts\.afterRevision/ },
    ];
    for (const c of cases) await t.rejects(c.call(), { name: 'TypeError', message: c.want }, c.name);
  });
}
