// startAutoCompaction with lib/time's FakeClock: the tick runs a round, failures go to onError, an external
// compaction past ours is not an error, and bad settings name the setting. Uses a tiny fake Store.

import t from 'tap';
import { startAutoCompaction } from '../../control-plane/store/compactor.js';
import { type Store, StoreError } from '../../control-plane/store/types.js';
import { FakeClock } from '../../lib/time/fake.js';

function fakeStore(current: number, compactImpl: (rev: number) => Promise<void>): Store {
  return { currentRevision: async () => current, compact: compactImpl } as unknown as Store;
}

t.test('a tick compacts; errors go to onError; external compaction is skipped', async (t) => {
  const calls: number[] = [];
  let fail: Error | null = null;
  const store = fakeStore(100, async (rev) => {
    calls.push(rev);
    if (fail) throw fail;
  });
  const errors: Error[] = [];
  const clock = new FakeClock();
  const ac = startAutoCompaction(store, { keepRevisions: 10, intervalMs: 1000, clock, onError: (e) => errors.push(e) });
  clock.advanceSync(1000);
  await new Promise((r) => setImmediate(r));
  t.same(calls, [90], 'the tick compacted to current - keep');
  (store as unknown as { currentRevision: () => Promise<number> }).currentRevision = async () => 150;
  fail = new StoreError('Compacted', 'already', { revision: 145 });
  t.equal(await ac.runOnce(), 0, 'someone compacted further: no compaction of ours');
  t.same(errors, [], 'and no error');
  t.equal(await ac.runOnce(), 0, 'below what someone else compacted: not even tried');
  t.same(calls, [90, 140], 'the second round was skipped without calling compact');
  (store as unknown as { currentRevision: () => Promise<number> }).currentRevision = async () => 300;
  fail = new StoreError('Unavailable', 'down');
  clock.advanceSync(1000);
  await new Promise((r) => setTimeout(r, 10));
  t.match(errors, [{ code: 'Unavailable' }], 'a failed round reports through onError');
  await ac.stop();
  t.equal(clock.pending(), 0, 'stop clears the timer');
});

t.test('bad settings name the setting', async (t) => {
  const store = fakeStore(1, async () => undefined);
  t.throws(() => startAutoCompaction(store, { intervalMs: 0 }), /intervalMs: must be a positive integer/, 'intervalMs');
  t.throws(() => startAutoCompaction(store, { keepRevisions: -1 }), /keepRevisions: must be an integer >= 0/, 'keepRevisions');
});
