// The conformance suite against a real etcd started for this file (skipped, saying why, without etcd).
// Each subtest gets its own key prefix on the one etcd, so subtests never see each other's keys.

import t from 'tap';
import { openEtcdStore } from '../../control-plane/store/etcd.js';
import { openStore } from '../../control-plane/store/open.js';
import { rejectsWith, runConformance } from './conformance.js';
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

  t.test('an unreachable etcd is Unavailable', async (t) => {
    const store = openEtcdStore(['http://127.0.0.1:1'], { timeoutMs: 1000, dialTimeoutMs: 500 });
    t.teardown(() => store.close());
    const err = await rejectsWith(t, store.get('/k'), 'Unavailable', 'get from an etcd nobody serves');
    t.match(err?.message, /127\.0\.0\.1:1/, 'the error names the endpoint');
  });
}
