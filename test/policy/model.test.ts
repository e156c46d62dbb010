// The NetworkPolicy model, table-driven in the style of the upstream e2e netpol truth tables: namespaces
// x, y, z with pods a, b, c each; every row states which of the 72 pod pairs (self excluded) are DENIED
// for one protocol/port, and every other pair must be allowed.
import t from 'tap';
import { allowed, computePolicy, inBlock, namespaceInfo, podInfo, policyTypes, type NamespaceInfo, type PodInfo, type Protocol } from '../../node/policy/model/policy.js';

const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const ipOf = (ns: string, pod: string) => `10.9.${NS.indexOf(ns) + 1}.${PODS.indexOf(pod) + 10}`;
const ports = [
  { name: 'serve-80-tcp', port: 80, protocol: 'TCP' as const }, { name: 'serve-81-tcp', port: 81, protocol: 'TCP' as const },
  { name: 'serve-80-udp', port: 80, protocol: 'UDP' as const }, { name: 'serve-81-udp', port: 81, protocol: 'UDP' as const },
];

function world(podLabels: Record<string, Record<string, string>> = {}, nsLabels: Record<string, Record<string, string>> = {}): { pods: PodInfo[]; nss: NamespaceInfo[] } {
  const pods: PodInfo[] = [];
  for (const ns of NS) for (const p of PODS) pods.push({ namespace: ns, name: p, labels: podLabels[`${ns}/${p}`] ?? { pod: p }, ip: ipOf(ns, p), ports });
  return { pods, nss: NS.map((n) => ({ name: n, labels: nsLabels[n] ?? { ns: n } })) };
}

const KEYS = NS.flatMap((n) => PODS.map((p) => `${n}/${p}`));
const ALL = KEYS.flatMap((s) => KEYS.filter((d) => d !== s).map((d) => `${s}>${d}`));
/** every pair whose destination is one of `dsts` */
const to = (...dsts: string[]) => ALL.filter((p) => dsts.includes(p.split('>')[1]!));
/** every pair whose source is one of `srcs` */
const from = (...srcs: string[]) => ALL.filter((p) => srcs.includes(p.split('>')[0]!));
const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
const ipKey = (k: string) => ipOf(k.split('/')[0]!, k.split('/')[1]!);

const np = (ns: string, spec: Record<string, any>, name = 'p') => ({ metadata: { namespace: ns, name }, spec });

interface Row {
  name: string;
  policies: any[];
  proto?: Protocol;
  port?: number;
  denied: string[];
  podLabels?: Record<string, Record<string, string>>;
  nsLabels?: Record<string, Record<string, string>>;
}

const rows: Row[] = [
  { name: 'no policies: all allowed', policies: [], denied: [] },
  { name: 'default-deny ingress in x', policies: [np('x', { podSelector: {}, policyTypes: ['Ingress'] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'default-deny ingress by empty ingress list (types inferred)', policies: [np('x', { podSelector: {}, ingress: [] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'default-deny egress in x', policies: [np('x', { podSelector: {}, policyTypes: ['Egress'] })], denied: from('x/a', 'x/b', 'x/c') },
  { name: 'default-deny all in x', policies: [np('x', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], denied: [...new Set([...to('x/a', 'x/b', 'x/c'), ...from('x/a', 'x/b', 'x/c')])] },
  { name: 'allow-all ingress ({} rule)', policies: [np('x', { podSelector: {}, ingress: [{}] })], denied: [] },
  { name: 'egress section without policyTypes infers Egress too', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{ to: [{ podSelector: {} }] }] })],
    // no ingress section but Ingress inferred: x/a's ingress is denied too (the classic surprise)
    denied: [...minus(from('x/a'), ['x/a>x/b', 'x/a>x/c']), ...to('x/a')] },
  { name: 'Egress-only policy leaves ingress open', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [] })], denied: from('x/a') },
  { name: 'podSelector peer: own namespace only', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    denied: minus(to('x/a'), ['x/b>x/a']) },
  { name: 'namespaceSelector peer: all pods of matching namespaces', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    denied: minus(to('x/a'), ['y/a>x/a', 'y/b>x/a', 'y/c>x/a']) },
  { name: 'both in one peer: AND', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'c' } } }] }] })],
    denied: minus(to('x/a'), ['y/c>x/a']) },
  { name: 'separate peers: OR', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'c' } } }] }] })],
    denied: minus(to('x/a'), ['y/a>x/a', 'y/b>x/a', 'y/c>x/a', 'x/c>x/a']) },
  { name: 'matchExpressions NotIn', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['y'] }] } }] }] })],
    denied: ['y/a>x/a', 'y/b>x/a', 'y/c>x/a'] },
  { name: 'kubernetes.io/metadata.name namespace label', policies: [np('x', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }] })],
    denied: minus(to('x/a', 'x/b', 'x/c'), from('z/a', 'z/b', 'z/c')) },
  { name: 'additive policies: union', policies: [
    np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }, 'p1'),
    np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } }, podSelector: { matchLabels: { pod: 'a' } } }] }] }, 'p2')],
    denied: minus(to('x/a'), ['x/b>x/a', 'z/a>x/a']) },
  { name: 'deny-all plus allow-one stack', policies: [np('x', { podSelector: {}, ingress: [] }, 'deny'), np('x', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] }, 'allow')],
    denied: minus(to('x/a', 'x/b', 'x/c'), ['x/a>x/b']) },
  { name: 'port 80 allowed: probe on 80', policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })], denied: [] },
  { name: 'port 80 allowed: probe on 81 denied', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'TCP port does not allow UDP', proto: 'UDP', policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'UDP-only policy does not allow TCP', policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'UDP-only policy allows UDP', proto: 'UDP', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] })], denied: [] },
  { name: 'named ingress port resolves on the destination', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], denied: [] },
  { name: 'named port of the wrong protocol selects nothing', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-tcp', protocol: 'UDP' }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'unknown port name selects nothing, no error', policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 'nope' }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'named egress port resolves per destination pod', port: 81, policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], denied: [] },
  { name: 'named egress port: 80 not allowed', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-tcp' }] }] })], denied: from('x/a') },
  { name: 'endPort range covers 81', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 79, endPort: 81 }] }] })], denied: [] },
  { name: 'endPort range excludes 81', port: 81, policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 70, endPort: 80 }] }] })], denied: to('x/a', 'x/b', 'x/c') },
  { name: 'ipBlock with except', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.9.2.0/24', except: [`${ipOf('y', 'b')}/32`] } }] }] })],
    denied: minus(to('x/a'), ['y/a>x/a', 'y/c>x/a']) },
  { name: 'egress to a CIDR', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.9.3.0/24' } }] }] })],
    denied: minus(from('x/a'), ['x/a>z/a', 'x/a>z/b', 'x/a>z/c']) },
  { name: 'egress and ingress both needed', policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] }, 'e'), np('y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }, 'i')],
    denied: [...from('x/a')] },
  { name: 'updated pod labels change selection', podLabels: { 'x/c': { pod: 'b' } }, policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    denied: minus(to('x/a'), ['x/b>x/a', 'x/c>x/a']) },
  { name: 'updated namespace labels change selection', nsLabels: { z: { ns: 'y' } }, policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    denied: minus(to('x/a'), ['y/a>x/a', 'y/b>x/a', 'y/c>x/a', 'z/a>x/a', 'z/b>x/a', 'z/c>x/a']) },
  { name: 'policy in another namespace does not select x pods', policies: [np('y', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [] })], denied: to('y/a') },
];

t.test('truth tables', async (t) => {
  for (const r of rows) {
    const w = world(r.podLabels, r.nsLabels);
    const model = computePolicy(w.pods, w.nss, r.policies);
    const denied = ALL.filter((pair) => {
      const [s, d] = pair.split('>') as [string, string];
      return !allowed(model, ipKey(s), ipKey(d), r.proto ?? 'TCP', r.port ?? 80);
    });
    t.same(denied.sort(), [...new Set(r.denied)].sort(), r.name);
  }
});

t.test('isolation per direction is reported only where a policy selects', async (t) => {
  const w = world();
  const model = computePolicy(w.pods, w.nss, [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] })]);
  const xa = model.find((p) => p.key === 'x/a')!;
  t.same(xa.egress, [], 'x/a egress isolated, nothing allowed');
  t.equal(xa.ingress, undefined, 'x/a ingress not isolated');
  t.equal(model.filter((p) => p.ingress || p.egress).length, 1, 'no other pod isolated');
});

t.test('pods without IP or on the host network take no part', async (t) => {
  const w = world();
  w.pods.push({ namespace: 'x', name: 'pending', labels: { pod: 'a' }, ports: [] }, { namespace: 'x', name: 'host', labels: { pod: 'a' }, ip: '127.0.0.9', hostNetwork: true, ports: [] });
  const keys = computePolicy(w.pods, w.nss, [np('x', { podSelector: {}, ingress: [] })]).map((p) => p.key);
  t.notOk(keys.includes('x/pending'));
  t.notOk(keys.includes('x/host'));
  t.equal(keys.length, 9);
});

t.test('policyTypes inference', async (t) => {
  const rows: { spec: any; want: string[] }[] = [
    { spec: {}, want: ['Ingress'] },
    { spec: { egress: [] }, want: ['Ingress'] },
    { spec: { egress: [{}] }, want: ['Ingress', 'Egress'] },
    { spec: { policyTypes: ['Egress'], ingress: [{}] }, want: ['Egress'] },
  ];
  for (const r of rows) t.same([...policyTypes(r.spec)], r.want, JSON.stringify(r.spec));
});

t.test('ipBlock membership', async (t) => {
  const rows: { ip: string; cidr: string; except?: string[]; want: boolean }[] = [
    { ip: '10.1.2.3', cidr: '10.1.0.0/16', want: true },
    { ip: '10.2.2.3', cidr: '10.1.0.0/16', want: false },
    { ip: '10.1.2.3', cidr: '10.1.0.0/16', except: ['10.1.2.0/24'], want: false },
    { ip: '10.1.3.3', cidr: '10.1.0.0/16', except: ['10.1.2.0/24'], want: true },
    { ip: '1.2.3.4', cidr: '0.0.0.0/0', want: true },
    { ip: '1.2.3.4', cidr: '1.2.3.4/32', want: true },
    { ip: '1.2.3.4', cidr: 'fd00::/8', want: false },
  ];
  for (const r of rows) t.equal(inBlock(r.ip, { cidr: r.cidr, except: r.except ?? [] }), r.want, `${r.ip} in ${r.cidr} - ${r.except ?? []}`);
});

t.test('API objects to model inputs', async (t) => {
  const p = podInfo({ metadata: { namespace: 'x', name: 'a', labels: { app: 'w' } }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9 }] }] }, status: { podIP: '10.0.0.2' } });
  t.same(p, { namespace: 'x', name: 'a', labels: { app: 'w' }, ip: '10.0.0.2', hostNetwork: false, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
  t.equal(podInfo({ metadata: { name: 'b' }, spec: {}, status: {} }).ip, undefined, 'no IP yet');
  t.same(namespaceInfo({ metadata: { name: 'x', labels: { a: 'b' } } }), { name: 'x', labels: { a: 'b' } });
});
