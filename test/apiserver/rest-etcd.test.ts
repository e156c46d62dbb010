// REST semantics on a real etcd (started on loopback for this test): the same suite as on SQLite.
import t from 'tap';
import { restSuite } from './rest-suite.js';
import { startEtcd, etcdMissing } from '../store/etcd-fixture.js';
import { openStore } from '../../control-plane/store/open.js';

const missing = etcdMissing();
t.test('REST on etcd', { skip: missing ?? false }, async (t) => {
  const etcd = await startEtcd(t);
  restSuite(t, () => openStore(etcd.spec));
});
