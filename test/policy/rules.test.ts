// nftables text for the policy table, table-driven: per-chain rules from allow entries, and the whole
// table's shape. As root, `nft -c` also checks that the kernel's parser accepts every generated table.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chainRules, fullTable, tableName } from '../../node/policy/nftables/rules.js';
import type { Allow, PodPolicy } from '../../node/policy/model/policy.js';

const pod = (ip: string) => ({ cidr: `${ip}/32`, except: [] });

const rows: { name: string; dir: 'ingress' | 'egress'; allows: Allow[]; want: string[] }[] = [
  { name: 'isolated, nothing allowed', dir: 'ingress', allows: [], want: ['counter drop'] },
  { name: 'allow all', dir: 'ingress', allows: [{ peers: 'all', ports: 'all' }], want: ['accept', 'counter drop'] },
  { name: 'pods, any port', dir: 'ingress', allows: [{ peers: [pod('10.0.0.2'), pod('10.0.0.3')], ports: 'all' }], want: ['ip saddr { 10.0.0.2, 10.0.0.3 } accept', 'counter drop'] },
  { name: 'egress returns to the ingress check', dir: 'egress', allows: [{ peers: [pod('10.0.0.2')], ports: 'all' }], want: ['ip daddr 10.0.0.2 return', 'counter drop'] },
  { name: 'ipBlock with except', dir: 'ingress', allows: [{ peers: [{ cidr: '10.1.0.0/16', except: ['10.1.2.0/24', '10.1.3.4/32'] }], ports: 'all' }],
    want: ['ip saddr 10.1.0.0/16 ip saddr != { 10.1.2.0/24, 10.1.3.4 } accept', 'counter drop'] },
  { name: 'IPv6 blocks skipped (IPv4 only)', dir: 'ingress', allows: [{ peers: [{ cidr: 'fd00::/8', except: [] }], ports: 'all' }], want: ['counter drop'] },
  { name: 'ports per protocol, endPort range', dir: 'ingress', allows: [{ peers: 'all', ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 8000, endPort: 8080 }, { protocol: 'UDP', port: 53 }] }],
    want: ['meta l4proto tcp th dport { 80, 8000-8080 } accept', 'meta l4proto udp th dport 53 accept', 'counter drop'] },
  { name: 'protocol without port', dir: 'ingress', allows: [{ peers: 'all', ports: [{ protocol: 'SCTP' }, { protocol: 'UDP', port: 5 }] }],
    want: ['meta l4proto udp th dport 5 accept', 'meta l4proto sctp accept', 'counter drop'] },
  { name: 'peers × ports', dir: 'ingress', allows: [{ peers: [pod('10.0.0.2'), { cidr: '10.2.0.0/16', except: ['10.2.1.0/24'] }], ports: [{ protocol: 'TCP', port: 80 }] }],
    want: ['ip saddr 10.0.0.2 meta l4proto tcp th dport 80 accept', 'ip saddr 10.2.0.0/16 ip saddr != 10.2.1.0/24 meta l4proto tcp th dport 80 accept', 'counter drop'] },
  { name: 'duplicates collapse', dir: 'ingress', allows: [{ peers: 'all', ports: 'all' }, { peers: 'all', ports: 'all' }], want: ['accept', 'counter drop'] },
];

t.test('chain rules', async (t) => {
  for (const r of rows) t.same(chainRules(r.dir, r.allows), r.want, r.name);
});

const model: PodPolicy[] = [
  { key: 'x/a', ip: '10.0.0.2', ingress: [{ peers: [pod('10.0.0.3')], ports: [{ protocol: 'TCP', port: 80 }] }] },
  { key: 'x/b', ip: '10.0.0.3', egress: [] },
  { key: 'x/c', ip: '10.0.0.4' },
];

t.test('whole table', async (t) => {
  const text = fullTable('t1', model);
  t.equal(tableName('t1'), 'shoal-policy-t1');
  t.equal(tableName(), 'shoal-policy');
  t.match(text, /^add table inet shoal-policy-t1\ndelete table inet shoal-policy-t1\ntable inet shoal-policy-t1 \{/, 'atomic replacement');
  t.match(text, /chain forward \{\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state established,related accept\n\t\tip saddr vmap @egress-pods\n\t\tip daddr vmap @ingress-pods\n/);
  t.match(text, /map ingress-pods \{\n\t\ttype ipv4_addr : verdict\n\t\telements = \{ 10\.0\.0\.2 : jump ing-x\/a \}/);
  t.match(text, /map egress-pods \{\n\t\ttype ipv4_addr : verdict\n\t\telements = \{ 10\.0\.0\.3 : jump egr-x\/b \}/);
  t.match(text, /chain ing-x\/a \{\n\t\tip saddr 10\.0\.0\.3 meta l4proto tcp th dport 80 accept\n\t\tcounter drop\n\t\}/);
  t.match(text, /chain egr-x\/b \{\n\t\tcounter drop\n\t\}/);
  t.notMatch(text, /x\/c/, 'unisolated pod has no chain');
  t.notMatch(fullTable('t1', []), /elements/, 'empty maps have no elements clause');
});

t.test('nft accepts the generated text', { skip: process.getuid?.() !== 0 ? 'needs root (nft -c)' : false }, async (t) => {
  const allOfRows: PodPolicy[] = rows.map((r, i) => ({ key: `n/p${i}`, ip: `10.77.0.${i + 2}`, [r.dir]: r.allows }));
  for (const [name, m] of [['small', model], ['every row', allOfRows], ['empty', []]] as const) {
    const r = spawnSync('nft', ['-c', '-f', '-'], { input: fullTable(`chk${process.pid}`, m as PodPolicy[]), encoding: 'utf8' });
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
  }
});
