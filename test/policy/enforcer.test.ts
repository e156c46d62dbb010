// The enforcer loop against a real in-process API server and a fake host (no root): the first sync is
// a whole table, later ones only the difference (set elements for label changes); a failing `nft` is
// reported as a Warning Event and retried as a full replacement, and nothing is applied in between (the
// kernel keeps the previous table).
import t from 'tap';
import { startCluster } from '../client/fixture.js';
import { startEnforcer } from '../../node/policy/enforcer.js';
import { FakeHost } from '../../lib/host/fake.js';
import { waitFor } from '../wait.js';

/** Records nft transactions that succeeded; fails them while `failing` is set. */
function fakeHost() {
  const h = Object.assign(new FakeHost({ 'net.bridge.bridge-nf-call-iptables': '0' }), { failing: false, applied: [] as string[] });
  h.on(/^nft /, (c) => {
    if (h.failing) return { code: 1, stderr: 'Error: Could not process rule: Operation not permitted' };
    h.applied.push(c.input || c.args.join(' '));
    return {};
  });
  return h;
}

const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;
const nsRef = { apiVersion: 'v1', plural: 'namespaces', namespaced: false } as const;
const npRef = { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true } as const;


t.test('enforcer loop with a fake host', async (t) => {
  const cluster = await startCluster('shoalt-policy-');
  t.teardown(() => cluster.close());
  const client = cluster.client();
  for (const ns of ['pa', 'pb']) await client.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: ns } } } as any);
  const mkPod = async (ns: string, name: string, ip: string, labels: Record<string, string>) => {
    await client.create(podsRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'shoal/hello' }] } } as any, { namespace: ns });
    await client.patch(podsRef, name, { status: { podIP: ip } }, { type: 'merge', namespace: ns, subresource: 'status' });
  };
  await mkPod('pa', 'web', '10.55.0.2', { app: 'web' });
  await mkPod('pb', 'cli', '10.55.0.3', { app: 'cli' });

  const host = fakeHost();
  const logs: string[] = [];
  const enf = await startEnforcer(client, host, { nodeName: 'n1', tableSuffix: 'unit', minSyncMs: 5, maxSyncMs: 60000, retryMs: 50, log: (_l, m) => logs.push(m) });
  t.teardown(() => enf.close());
  t.equal(host.sysctls.get('net.bridge.bridge-nf-call-iptables'), '1', 'bridged traffic sent through the inet hooks');
  const last = () => host.applied.at(-1) ?? '';
  t.match(last(), /table inet shoal-policy-unit/, 'first sync applied');
  t.notMatch(last(), /jump ing-/, 'no policy: no pod isolated');

  await client.create(npRef, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'from-team-x', namespace: 'pa' },
    spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }] } } as any, { namespace: 'pa' });
  await waitFor('policy applied', () => /10\.55\.0\.2 : jump ing-pa\/web/.test(last()));
  t.notMatch(last(), /^add table/, 'an incremental transaction, not a table');
  t.match(last(), /add set inet shoal-policy-unit sel-\w+ \{ type ipv4_addr; \}\n/, 'the selector set');
  t.match(last(), /add rule inet shoal-policy-unit ing-pa\/web jump (pol-in-\w+)\nadd rule inet shoal-policy-unit ing-pa\/web counter drop\n/, 'the pod chain jumps to the policy chain, then drops');
  t.match(last(), /add rule inet shoal-policy-unit pol-in-\w+ ip saddr @sel-\w+ accept\n/, 'the policy chain accepts the selector set');
  t.notMatch(last(), /add element inet shoal-policy-unit sel-/, 'no namespace labelled team=x: the set is empty, web accepts nobody');

  await client.patch(nsRef, 'pb', { metadata: { labels: { team: 'x' } } }, { type: 'merge' });
  await waitFor('namespace label applied', () => /add element inet shoal-policy-unit sel-\w+ \{ 10\.55\.0\.3 \}/.test(last()));
  t.notMatch(last(), /chain|rule/, 'namespace relabel: set elements only, no chain rewritten');

  host.failing = true;
  const before = host.applied.length;
  await client.patch(podsRef, 'cli', { metadata: { labels: { app: 'other' } } }, { type: 'merge', namespace: 'pb' });
  await client.delete(npRef, 'from-team-x', { namespace: 'pa' });
  await waitFor('failure reported', async () => {
    const ev = await client.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default' });
    return (ev.items as any[]).some((e) => e.reason === 'SyncNetworkPolicyFailed' && e.involvedObject?.name === 'n1');
  });
  t.equal(host.applied.length, before, 'nothing applied while nft fails');
  t.match(logs.join('\n'), /previous rules stay in force/);
  host.failing = false;
  await waitFor('retried after recovery', () => host.applied.length > before && !/jump ing-/.test(last()));
  t.match(host.applied[before], /^add table inet shoal-policy-unit\ndelete table inet shoal-policy-unit\ntable inet shoal-policy-unit \{/, 'the sync after a failure is a full replacement');
  t.equal(enf.lastError(), undefined, 'healthy again');
});

t.test('flags', async (t) => {
  const { parsePolicyFlags } = await import('../../node/policy/flags.js');
  const ok = parsePolicyFlags(['--node-name', 'n1', '--table-suffix', 'ab1', '--min-sync-period', '50ms', '--cleanup-on-exit'], {});
  t.same(ok.config, { kubeconfig: undefined, nodeName: 'n1', tableSuffix: 'ab1', minSyncMs: 50, maxSyncMs: 30000, retryMs: 1000, cleanupOnExit: true, healthPort: 9099, bindAddress: '127.0.0.1' });
  const bad = parsePolicyFlags(['--table-suffix', 'Bad-Suffix', '--sync-period', 'soon', '--retry-period', '0s', '--health-port', '70000', '--bind-address', 'here'], {});
  t.equal(bad.config, undefined);
  t.same(bad.problems.map((p) => p.split(':')[0]), ['--table-suffix', '--sync-period', '--retry-period', '--health-port', '--bind-address'], 'every bad flag reported, by name');
  t.match(parsePolicyFlags(['--nope'], {}).problems[0], /nope/);
});
