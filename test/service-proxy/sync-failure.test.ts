// A failing sync (the nftables transaction refused) is retried as a full resync and reported as a Warning
// Event on the proxy's Node; the backend keeps its last good state (the transaction is all or nothing).
import t from 'tap';
import { startCluster } from '../client/fixture.js';
import { startProxy } from '../../node/service-proxy/proxy.js';
import type { Backend } from '../../node/service-proxy/backend.js';

t.test('sync failure: event and full resync', async (t) => {
  const c = await startCluster('shoalt-proxyfail-');
  t.teardown(() => c.close());
  const client = c.client();
  const calls: ('full' | 'partial')[] = [];
  let failNext = 1;
  const backend: Backend = {
    async init() {},
    async sync(_desired, changed) {
      calls.push(changed ? 'partial' : 'full');
      if (failNext > 0) {
        failNext--;
        throw new Error('nft: Error: Could not process rule: No such file or directory');
      }
    },
    async close() {},
  };
  const proxy = await startProxy(client, backend, { nodeName: 'shoalt-n1', minSyncMs: 10, maxSyncMs: 60_000, healthPort: 0, bindAddress: '127.0.0.1', loadBalancerCidr: '', log: () => {} });
  t.teardown(() => proxy.close());
  const deadline = Date.now() + 10_000;
  let events: any[] = [];
  while (Date.now() < deadline) {
    events = (await client.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default' })).items.filter((e: any) => e.reason === 'SyncProxyRulesFailed');
    if (events.length && calls.length >= 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(events.length, 1, 'one Warning event');
  t.match(events[0], { type: 'Warning', involvedObject: { kind: 'Node', name: 'shoalt-n1' }, message: /No such file or directory/ });
  t.equal(calls[0], 'full', 'the first sync is full');
  t.equal(calls[1], 'full', 'the retry after the failure is a full resync');
});
