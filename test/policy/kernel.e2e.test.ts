// The policy table in a real kernel, checked against the model by truth table: four pods (x/a, x/b,
// y/a, y/b) as network namespaces on one bridge; for each scenario the model's table is applied with
// one `nft -f -` (the enforcer's layout: desired/compiler.ts → nftables/transaction.ts fullText) and every pod probes every other pod on TCP 80, TCP 81 and UDP 80 in parallel; the
// observed table must equal what `allowed` computes. Root only.
import t from 'tap';
import { computePolicy, type PodInfo } from '../../node/policy/model/policy.js';
import { Compiler, emptyState } from '../../node/policy/desired/compiler.js';
import { fullText } from '../../node/policy/nftables/transaction.js';
import { deniedPairs, rootSkip, startNetns, type NetnsEnv } from './netns.js';
import { prng, randomPolicy } from './random.js';

const PODS = ['x-a', 'x-b', 'y-a', 'y-b'];
const ports = [{ name: 'http', port: 81, protocol: 'TCP' as const }];
const np = (ns: string, spec: Record<string, any>, name = 'p') => ({ metadata: { namespace: ns, name }, spec });

const scenarios: { name: string; policies: any[] }[] = [
  { name: 'no policy', policies: [] },
  { name: 'default-deny ingress in x', policies: [np('x', { podSelector: {}, policyTypes: ['Ingress'] })] },
  { name: 'deny all in x, allow x/a → x/b', policies: [np('x', { podSelector: {}, ingress: [] }, 'deny'), np('x', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] }, 'allow')] },
  { name: 'default-deny egress of y/a (replies to it still flow)', policies: [np('y', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] })] },
  { name: 'namespaceSelector AND podSelector, TCP 80 only', policies: [np('x', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 80 }] }] })] },
  { name: 'UDP-only policy does not allow TCP', policies: [np('y', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP', port: 80 }] }] })] },
  { name: 'named port and endPort', policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] }), np('y', { podSelector: {}, ingress: [{ ports: [{ port: 75, endPort: 80 }] }] })] },
  { name: 'egress to a CIDR with except', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: 'CIDR', except: ['YB/32'] } }] }] })] },
];

const key = (p: string) => p.replace('-', '/');

function pods(env: NetnsEnv): PodInfo[] {
  return PODS.map((p) => ({ namespace: p.split('-')[0]!, name: p.split('-')[1]!, labels: { pod: p.split('-')[1]! }, ip: env.ips.get(p)!, ports }));
}

function fill(env: NetnsEnv, v: unknown): any {
  const cidr = env.ips.get('x-a')!.replace(/\.\d+$/, '.0/24');
  return JSON.parse(JSON.stringify(v).replaceAll('"CIDR"', JSON.stringify(cidr)).replaceAll('"YB/32"', JSON.stringify(`${env.ips.get('y-b')}/32`)));
}

/** Observed and expected tables as lines `src > dst proto/port: allow|deny`, only where they differ from "allow". */
async function truthTable(env: NetnsEnv, policies: any[]): Promise<{ observed: string[]; expected: string[] }> {
  const nss = [{ name: 'x', labels: { ns: 'x' } }, { name: 'y', labels: { ns: 'y' } }];
  const model = computePolicy(pods(env), nss, policies);
  env.nft(fullText(env.suffix, new Compiler().compile(pods(env), nss, policies)));
  return deniedPairs(env, PODS, model, key);
}

t.test('kernel matches the model', { skip: rootSkip() }, async (t) => {
  const env = await startNetns(t, PODS);
  for (const s of scenarios) {
    const { observed, expected } = await truthTable(env, fill(env, s.policies));
    t.same(observed, expected, s.name);
  }
});

t.test('fail closed: a rejected transaction leaves the old table in force', { skip: rootSkip() }, async (t) => {
  const env = await startNetns(t, PODS);
  const deny = [np('x', { podSelector: {}, policyTypes: ['Ingress'] })];
  const first = await truthTable(env, deny);
  t.ok(first.expected.length > 0, 'the policy denies something');
  t.same(first.observed, first.expected, 'isolated');
  const bad = fullText(env.suffix, emptyState()).replace('policy accept;', 'policy accept;\n\t\tthis is not nft');
  t.throws(() => env.nft(bad), /nft/, 'broken transaction rejected');
  const xb = env.ips.get('x-b')!;
  t.same(await env.probe('y-a', [[xb, 'tcp', 80]]), [false], 'x/b still isolated after the failed update');
});

t.test('model-based: random policies from a seed', { skip: rootSkip() }, async (t) => {
  const base = Number(process.env.SHOAL_POLICY_SEED ?? 20261122);
  const env = await startNetns(t, PODS);
  const sizes: number[] = [];
  for (let round = 0; round < 6; round++) {
    const seed = base + round;
    const r = prng(seed);
    const policies = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => randomPolicy(r, i));
    const { observed, expected } = await truthTable(env, fill(env, policies));
    t.same(observed, expected, `seed ${seed}: ${policies.length} policies, ${expected.length} of 36 denied`, { policies });
    sizes.push(expected.length);
  }
  t.ok(sizes.some((n) => n > 0 && n < 36), `the seeds give mixed tables, not all-open or all-closed (${sizes.join(', ')})`);
});

t.test('routed and DNATed traffic is policed on the backend pod IP', { skip: rootSkip() }, async (t) => {
  const env = await startNetns(t, PODS);
  // a ClusterIP stand-in: VIP:80 → x/a:80 in prerouting (as the service proxy does), in a table of this test
  const vip = '10.251.0.10';
  env.nft(`table ip shoalt-pol-nat-${env.suffix} {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tip daddr ${vip} tcp dport 80 dnat to ${env.ips.get('x-a')}:80\n\t}\n}\n`);
  await truthTable(env, []);
  t.same(await env.probe('y-a', [[vip, 'tcp', 80]]), [true], 'no policy: VIP reaches x/a');
  await truthTable(env, [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] })]);
  t.same([await env.probe('y-a', [[vip, 'tcp', 80]]), await env.probe('y-b', [[vip, 'tcp', 80]])], [[false], [true]], 'after DNAT the policy of x/a decides: y/a denied, y/b allowed');
});
