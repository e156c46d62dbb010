// Not a test: times one policy sync's pure work and the kernel's parse for a synthetic cluster.
// `node dist/test/policy/bench-sync.js <policies> <pods>` prints one JSON line (after a warm-up):
// model ms, rule-text ms, table bytes, and `nft -c` (parse + validate, nothing applied) ms.
import { spawnSync } from 'node:child_process';
import { computePolicy, type NamespaceInfo, type PodInfo } from '../../node/policy/model/policy.js';
import { fullTable } from '../../node/policy/nftables/rules.js';

const N = Number(process.argv[2] ?? 1000);
const P = Number(process.argv[3] ?? 300);
const nss: NamespaceInfo[] = Array.from({ length: 10 }, (_, n) => ({ name: `ns${n}`, labels: { team: `t${n % 3}` } }));
const pods: PodInfo[] = Array.from({ length: P }, (_, i) => ({ namespace: `ns${i % 10}`, name: `p${i}`, labels: { app: `a${i % 20}` },
  ip: `10.60.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }));
const pols = Array.from({ length: N }, (_, i) => ({ metadata: { namespace: `ns${i % 10}`, name: `np${i}` }, spec: {
  podSelector: { matchLabels: { app: `a${i % 20}` } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: `a${(i + 1) % 20}` } } }, { namespaceSelector: { matchLabels: { team: 't1' } } }], ports: [{ port: 'http' }, { port: 9000, endPort: 9100 }] }],
} }));
for (let w = 0; w < 2; w++) fullTable('w', computePolicy(pods, nss, pols));
const t0 = performance.now();
const model = computePolicy(pods, nss, pols);
const t1 = performance.now();
const text = fullTable('bench', model);
const t2 = performance.now();
const r = process.getuid?.() === 0 ? spawnSync('nft', ['-c', '-f', '-'], { input: text }) : undefined;
const t3 = performance.now();
process.stdout.write(`${JSON.stringify({ policies: N, pods: P, modelMs: +(t1 - t0).toFixed(1), textMs: +(t2 - t1).toFixed(1), bytes: text.length,
  nftCheckMs: r ? Math.round(t3 - t2) : null, nftOk: r ? r.status === 0 : null })}\n`);
