// The incremental layout, pure: table-driven diffs (old state, new state → exact transaction text), the
// whole-table text, and the compiler's promise that pod and label changes move set elements and map
// entries, not chains. As root, `nft -c` checks that the kernel's parser accepts full and diff texts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { Compiler, emptyState, selectorSetName, type SetState, type TableState } from '../../node/policy/desired/compiler.js';
import { diffText, fullText } from '../../node/policy/nftables/transaction.js';
import type { NamespaceInfo, PodInfo } from '../../node/policy/model/policy.js';

const addrs = (...e: string[]): SetState => ({ type: 'ipv4_addr', elements: new Set(e) });
const st = (o: Partial<{ sets: [string, SetState][]; chains: [string, string[]][]; ingress: [string, string][]; egress: [string, string][] }>): TableState =>
  ({ sets: new Map(o.sets ?? []), chains: new Map(o.chains ?? []), ingress: new Map(o.ingress ?? []), egress: new Map(o.egress ?? []) });
const T = 'inet shoal-policy-d';
const base = st({ sets: [['sel-1', addrs('10.0.0.2', '10.0.0.3')]], chains: [['ing-x/a', ['ip saddr @sel-1 accept', 'counter drop']]], ingress: [['10.0.0.2', 'ing-x/a']] });

const rows: { name: string; old: TableState; next: TableState; want: string }[] = [
  { name: 'equal states: nothing to do', old: base, next: base, want: '' },
  { name: 'pod joins a selector: one element', old: base, next: { ...base, sets: new Map([['sel-1', addrs('10.0.0.2', '10.0.0.3', '10.0.0.4')]]) },
    want: `add element ${T} sel-1 { 10.0.0.4 }\n` },
  { name: 'pod leaves and another joins', old: base, next: { ...base, sets: new Map([['sel-1', addrs('10.0.0.2', '10.0.0.9')]]) },
    want: `delete element ${T} sel-1 { 10.0.0.3 }\nadd element ${T} sel-1 { 10.0.0.9 }\n` },
  { name: 'new policy: new set, chain rewritten', old: base,
    next: st({ sets: [['sel-1', addrs('10.0.0.2', '10.0.0.3')], ['sel-2', addrs('10.0.0.5')]], chains: [['ing-x/a', ['ip saddr @sel-1 accept', 'ip saddr @sel-2 accept', 'counter drop']]], ingress: [['10.0.0.2', 'ing-x/a']] }),
    want: `add set ${T} sel-2 { type ipv4_addr; }\nadd element ${T} sel-2 { 10.0.0.5 }\nflush chain ${T} ing-x/a\nadd rule ${T} ing-x/a ip saddr @sel-1 accept\nadd rule ${T} ing-x/a ip saddr @sel-2 accept\nadd rule ${T} ing-x/a counter drop\n` },
  { name: 'newly isolated pod: chain before its map element', old: base,
    next: { ...base, chains: new Map([...base.chains, ['egr-x/b', ['counter drop']]]), egress: new Map([['10.0.0.3', 'egr-x/b']]) },
    want: `add chain ${T} egr-x/b\nadd rule ${T} egr-x/b counter drop\nadd element ${T} egress-pods { 10.0.0.3 : jump egr-x/b }\n` },
  { name: 'policy deleted: map element, then chain, then set', old: base, next: emptyState(),
    want: `delete element ${T} ingress-pods { 10.0.0.2 }\nflush chain ${T} ing-x/a\ndelete chain ${T} ing-x/a\ndelete set ${T} sel-1\n` },
  { name: 'IP moves to another pod: element replaced', old: base,
    next: st({ sets: [['sel-1', addrs('10.0.0.2', '10.0.0.3')]], chains: [['ing-x/z', ['ip saddr @sel-1 accept', 'counter drop']]], ingress: [['10.0.0.2', 'ing-x/z']] }),
    want: `add chain ${T} ing-x/z\nadd rule ${T} ing-x/z ip saddr @sel-1 accept\nadd rule ${T} ing-x/z counter drop\ndelete element ${T} ingress-pods { 10.0.0.2 }\nadd element ${T} ingress-pods { 10.0.0.2 : jump ing-x/z }\nflush chain ${T} ing-x/a\ndelete chain ${T} ing-x/a\n` },
  { name: 'pod chain and the policy chain it jumps to both go: all flushed, then deleted',
    old: st({ chains: [['ing-x/a', ['jump pol-in-1', 'counter drop']], ['pol-in-1', ['accept']]], ingress: [['10.0.0.2', 'ing-x/a']] }), next: emptyState(),
    want: `delete element ${T} ingress-pods { 10.0.0.2 }\nflush chain ${T} ing-x/a\nflush chain ${T} pol-in-1\ndelete chain ${T} ing-x/a\ndelete chain ${T} pol-in-1\n` },
  { name: 'new pod chain jumping to a new policy chain: both created before any rule',
    old: emptyState(), next: st({ chains: [['ing-x/a', ['jump pol-in-1', 'counter drop']], ['pol-in-1', ['accept']]], ingress: [['10.0.0.2', 'ing-x/a']] }),
    want: `add chain ${T} ing-x/a\nadd chain ${T} pol-in-1\nadd rule ${T} ing-x/a jump pol-in-1\nadd rule ${T} ing-x/a counter drop\nadd rule ${T} pol-in-1 accept\nadd element ${T} ingress-pods { 10.0.0.2 : jump ing-x/a }\n` },
  { name: 'named-port set: concatenated elements', old: emptyState(),
    next: st({ sets: [['np-1', { type: 'ipv4_addr . inet_proto . inet_service', elements: new Set(['10.0.0.2 . tcp . 81']) }]] }),
    want: `add set ${T} np-1 { type ipv4_addr . inet_proto . inet_service; }\nadd element ${T} np-1 { 10.0.0.2 . tcp . 81 }\n` },
];

t.test('diff text', async (t) => {
  for (const r of rows) t.equal(diffText('d', r.old, r.next), r.want, r.name);
});

t.test('full text', async (t) => {
  const text = fullText('d', base);
  t.match(text, /^add table inet shoal-policy-d\ndelete table inet shoal-policy-d\ntable inet shoal-policy-d \{\n\tset sel-1 \{\n\t\ttype ipv4_addr\n\t\telements = \{ 10\.0\.0\.2, 10\.0\.0\.3 \}\n\t\}\n/, 'sets first, elements sorted');
  t.match(text, /map ingress-pods \{\n\t\ttype ipv4_addr : verdict\n\t\telements = \{ 10\.0\.0\.2 : jump ing-x\/a \}/);
  t.match(text, /chain ing-x\/a \{\n\t\tip saddr @sel-1 accept\n\t\tcounter drop\n\t\}/);
  t.notMatch(fullText('d', emptyState()), /elements|set /, 'empty table: no sets, no elements');
});

/** The rules of the (first) policy chain a pod chain jumps to. */
const jumped = (s: TableState, podChain: string) => s.chains.get(/^jump (\S+)$/.exec(s.chains.get(podChain)![0]!)![1]!)!;

const pod = (ns: string, name: string, ip: string, labels: Record<string, string>, http = 80): PodInfo =>
  ({ namespace: ns, name, ip, labels, ports: [{ name: 'http', port: http, protocol: 'TCP' }] });
const allowFrom = (ns: string, name: string, from: any, ports?: any[]) => ({ metadata: { namespace: ns, name }, spec: { podSelector: {}, ingress: [{ from, ...(ports ? { ports } : {}) }] } });

t.test('compiler: chains refer to sets; pod changes move elements, not chains', async (t) => {
  const c = new Compiler();
  const nss: NamespaceInfo[] = [{ name: 'x', labels: {} }, { name: 'y', labels: { team: 'blue' } }];
  const pods = [pod('x', 'a', '10.1.0.2', { app: 'a' }), pod('x', 'b', '10.1.0.3', { app: 'b' }), pod('y', 'c', '10.1.0.4', { app: 'b' })];
  const pols = [allowFrom('x', 'p', [{ podSelector: { matchLabels: { app: 'b' } } }, { namespaceSelector: { matchLabels: { team: 'blue' } } }])];
  const s1 = c.compile(pods, nss, pols);
  const own = selectorSetName(JSON.stringify([null, 'x', [{ key: 'app', operator: 'Equals', values: ['b'] }]]));
  t.same([...s1.sets.get(own)!.elements], ['10.1.0.3'], 'podSelector set: x/b only (own namespace)');
  const podChains = [...s1.chains.keys()].filter((k) => !k.startsWith('pol-')).sort();
  t.same(podChains, ['ing-x/a', 'ing-x/b'], 'one chain per isolated pod');
  const polChains = [...s1.chains.keys()].filter((k) => k.startsWith('pol-in-'));
  t.equal(polChains.length, 1, 'one chain for the policy, however many pods it selects');
  for (const k of podChains) t.same(s1.chains.get(k), [`jump ${polChains[0]}`, 'counter drop'], `${k} jumps to the policy's chain, then drops`);
  t.match(s1.chains.get(polChains[0]!)!.join('\n'), new RegExp(`ip saddr @${own} accept`));
  const again = c.compile(pods, nss, pols);
  t.equal(again.chains.get('ing-x/a'), s1.chains.get('ing-x/a'), 'same inputs: the cached chain, not a recomputed one');
  t.equal(diffText('u', s1, again), '', 'same inputs: empty diff');

  // relabel x/a to app=b, and relabel namespace y: only set elements change
  const s2 = c.compile([pod('x', 'a', '10.1.0.2', { app: 'b' }), ...pods.slice(1)], [nss[0]!, { name: 'y', labels: {} }], pols);
  t.same([...s2.sets.get(own)!.elements].sort(), ['10.1.0.2', '10.1.0.3'], 'x/a joined');
  const text = diffText('u', s1, s2);
  t.notMatch(text, /chain|rule/, 'no chain touched');
  t.match(text, /add element inet shoal-policy-u sel-\w+ \{ 10\.1\.0\.2 \}/);
  t.match(text, /delete element inet shoal-policy-u sel-\w+ \{ 10\.1\.0\.4 \}/, 'namespace y no longer blue');

  // an unrelated policy write in namespace y leaves x's chains as the same objects
  const s3 = c.compile(pods, nss, [...pols, allowFrom('y', 'q', [{ ipBlock: { cidr: '10.9.0.0/16', except: ['10.9.1.0/24'] } }])]);
  t.equal(s3.chains.get('ing-x/a'), c.compile(pods, nss, [...pols, allowFrom('y', 'q', [])]).chains.get('ing-x/a'), 'x chains reused across y writes');
  t.match(jumped(s3, 'ing-y/c').join('\n'), /ip saddr 10\.9\.0\.0\/16 ip saddr != 10\.9\.1\.0\/24 accept/, 'ipBlocks inline');

  // a policy's rules change: only its own chain is rewritten, the pods' jump lists stay
  const changed = [allowFrom('x', 'p', [{ podSelector: { matchLabels: { app: 'b' } } }], [{ port: 81 }])];
  const s1b = c.compile(pods, nss, changed);
  const upd = diffText('u', s1, s1b);
  t.match(upd, new RegExp(`^flush chain inet shoal-policy-u ${polChains[0]}$`, 'm'), 'the policy chain is rewritten in place');
  t.notMatch(upd, /ing-x\//, 'no pod chain touched');
  // a second policy selecting x/a: x/a's jump list grows by one line, x/b's is untouched
  const s1c = c.compile(pods, nss, [...changed, { metadata: { namespace: 'x', name: 'q' }, spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{}] } }]);
  const add = diffText('u', s1b, s1c);
  t.match(add, /^flush chain inet shoal-policy-u ing-x\/a$/m);
  t.notMatch(add, /ing-x\/b/, 'x/b not selected: untouched');
  t.equal(s1c.chains.get('ing-x/a')!.length, 3, 'x/a: two jumps and the drop');

  // egress named port: one concatenated set per (selector, name, protocol), following the pods' ports
  const eg = { metadata: { namespace: 'x', name: 'e' }, spec: { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'http' }] }] } };
  const s4 = c.compile(pods, nss, [eg]);
  const np = [...s4.sets].find(([n]) => n.startsWith('np-'))!;
  t.same([...np[1].elements].sort(), ['10.1.0.2 . tcp . 80', '10.1.0.3 . tcp . 80'], 'named port resolved per destination pod of x');
  t.match(jumped(s4, 'egr-x/a').join('\n'), new RegExp(`ip daddr \\. meta l4proto \\. th dport @${np[0]} goto ingress-check`), 'egress allowed: on to the destination\'s ingress check');
  const s5 = c.compile([pods[0]!, pod('x', 'b', '10.1.0.3', { app: 'b' }, 8080), pods[2]!], nss, [eg]);
  t.equal(diffText('u', s4, s5), `delete element inet shoal-policy-u ${np[0]} { 10.1.0.3 . tcp . 80 }\nadd element inet shoal-policy-u ${np[0]} { 10.1.0.3 . tcp . 8080 }\n`, 'port moved: elements only');
});

t.test('nft accepts full and diff texts', { skip: process.getuid?.() !== 0 ? 'needs root (nft -c)' : false }, async (t) => {
  const sfx = `chk${process.pid}`;
  for (const r of rows) {
    const text = fullText(sfx, r.old) + diffText(sfx, r.old, r.next).replaceAll('shoal-policy-d ', `shoal-policy-${sfx} `);
    const res = spawnSync('nft', ['-c', '-f', '-'], { input: text, encoding: 'utf8' });
    t.equal(res.status, 0, `${r.name}: ${res.stderr}`);
  }
});

t.test('compiler: no anonymous sets in rules (nft fetches each one before any element update)', async (t) => {
  const c = new Compiler();
  const pods = [pod('x', 'a', '10.1.0.2', { app: 'a' })];
  const pol = { metadata: { namespace: 'x', name: 'many' }, spec: { podSelector: {}, ingress: [{
    from: [{ ipBlock: { cidr: '10.9.0.0/16', except: ['10.9.1.0/24', '10.9.2.0/24'] } }, { ipBlock: { cidr: '10.8.0.0/16' } }, { ipBlock: { cidr: '10.7.0.0/16' } }],
    ports: [{ port: 80 }, { port: 443 }, { port: 9000, endPort: 9100 }, { protocol: 'UDP', port: 53 }],
  }] } };
  const s = c.compile(pods, [{ name: 'x', labels: {} }], [pol]);
  const rules = [...s.chains.values()].flat();
  for (const r of rules) t.notMatch(r, /\{/, `no { … } in: ${r}`);
  t.ok(rules.includes('ip saddr 10.9.0.0/16 ip saddr != 10.9.1.0/24 ip saddr != 10.9.2.0/24 meta l4proto tcp th dport 9000-9100 accept'), 'excepts as chained != matches, ranges as ranges');
  t.equal(rules.filter((r) => r.endsWith(' accept')).length, 3 * 4, 'one rule per (peer, port)');
});
