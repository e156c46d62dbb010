// The conformance suite against a real etcd started for this file (skipped, saying why, without etcd).
// Each subtest gets its own key prefix on the one etcd, so subtests never see each other's keys.

import t from 'tap';
import { openEtcdStore } from '../../control-plane/store/etcd.js';
import { openStore } from '../../control-plane/store/open.js';
import { StoreError } from '../../control-plane/store/types.js';
import { Collector, rejectsWith, runConformance } from './conformance.js';
import { etcdMissing, startEtcd } from './etcd-fixture.js';

const missing = etcdMissing();
if (missing) {
  t.plan(0, missing);
} else {
  const etcd = await startEtcd(t);
  let n = 0;
  runConformance(t, async (tt) => {
    const store = openEtcdStore(etcd.hosts, { keyPrefix: `/shoalt-store-${process.pid}-${++n}` });
    tt.teardown(() => store.close());
    return store;
  });

  t.test('openStore(etcd://...) reaches the same etcd', async (t) => {
    const store = await openStore(etcd.spec, { etcd: { keyPrefix: '/shoalt-store-open' } });
    t.teardown(() => store.close());
    const kv = await store.create('/k', 'v');
    t.equal((await store.get('/k'))?.value, 'v', 'written and read back through openStore');
    t.equal(await store.currentRevision(), kv.modRevision, 'the revision is etcd’s');
  });

  // Last, since it restarts the shared etcd. The etcd3 client re-creates the watch on reconnect; the store
  // must resume it right after the last delivered event.
  t.test('a watch survives an etcd restart with no gap and no duplicate', async (t) => {
    const store = openEtcdStore(etcd.hosts, { keyPrefix: '/shoalt-store-restart', timeoutMs: 3000 });
    t.teardown(() => store.close());
    const col = new Collector();
    const w = await store.watch('/r/', { afterRevision: await store.currentRevision() }, col.onEvent, col.onError);
    t.teardown(() => w.stop());
    const revs: number[] = [];
    for (let i = 0; i < 20; i++) revs.push((await store.create(`/r/before${i}`, 'v')).modRevision);
    await col.sawRevision(revs[revs.length - 1]!, 'events before the restart');
    await etcd.restart();
    // unary calls may fail while the client notices the new connection; retry each write briefly
    for (let i = 0; i < 20; i++) {
      for (let attempt = 0; ; attempt++) {
        try {
          revs.push((await store.create(`/r/after${i}`, 'v')).modRevision);
          break;
        } catch (err) {
          if (attempt > 50 || !(err instanceof StoreError) || err.code !== 'Unavailable') throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    await col.sawRevision(revs[revs.length - 1]!, 'events after the restart');
    t.same(col.revisions(), revs, 'every event once, in order, across the restart');
    t.same(col.errors, [], 'the watch did not fail');
  });

  t.test('an unreachable etcd is Unavailable', async (t) => {
    const store = openEtcdStore(['http://127.0.0.1:1'], { timeoutMs: 1000, dialTimeoutMs: 500 });
    t.teardown(() => store.close());
    const err = await rejectsWith(t, store.get('/k'), 'Unavailable', 'get from an etcd nobody serves');
    t.match(err?.message, /127\.0\.0\.1:1/, 'the error names the endpoint');
  });
}
