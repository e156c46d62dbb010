// Not a test: times policy syncs for a synthetic cluster (10 namespaces, <pods> pods, <policies> policies).
// `node dist/test/policy/bench-sync.js <policies> <pods>` prints one JSON line (after a warm-up):
//   full:    a fresh Compiler's compile + fullText (first sync / after a failure): ms, bytes, nft apply ms
//   write:   one policy changed (a new peer selector), warm Compiler: compile + diffText ms, bytes, nft ms;
//            `writeP50/P99` over 20 such writes, compute + text + nft apply (the policy → enforcement)
//   relabel: one pod relabelled: compute + diff ms, bytes
//   oldModelMs/oldTextMs: the first slice's whole recompute (model + inline text) for comparison
// As root the transactions are applied to a table `shoal-policy-bench<pid>` that is deleted at the end
// (its addresses are in 10.60.0.0/16, nothing routes there); not root: nft figures are null.
import { spawnSync } from 'node:child_process';
import { Compiler, type TableState } from '../../node/policy/desired/compiler.js';
import { computePolicy, type NamespaceInfo, type PodInfo } from '../../node/policy/model/policy.js';
import { fullTable } from '../../node/policy/nftables/rules.js';
import { diffText, fullText } from '../../node/policy/nftables/transaction.js';

const N = Number(process.argv[2] ?? 1000);
const P = Number(process.argv[3] ?? 300);
const root = process.getuid?.() === 0;
const suffix = `bench${process.pid}`;
const nss: NamespaceInfo[] = Array.from({ length: 10 }, (_, n) => ({ name: `ns${n}`, labels: { team: `t${n % 3}` } }));
const pods: PodInfo[] = Array.from({ length: P }, (_, i) => ({ namespace: `ns${i % 10}`, name: `p${i}`, labels: { app: `a${i % 20}` },
  ip: `10.60.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }));
const policy = (i: number, peerApp = `a${(i + 1) % 20}`) => ({ metadata: { namespace: `ns${i % 10}`, name: `np${i}` }, spec: {
  podSelector: { matchLabels: { app: `a${i % 20}` } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: peerApp } } }, { namespaceSelector: { matchLabels: { team: 't1' } } }], ports: [{ port: 'http' }, { port: 9000, endPort: 9100 }] }],
} });
const pols = Array.from({ length: N }, (_, i) => policy(i));

const ms = (t0: number) => +(performance.now() - t0).toFixed(1);
function nft(text: string): number | null {
  if (!root) return null;
  const t0 = performance.now();
  const r = spawnSync('nft', ['-f', '-'], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr.slice(0, 500)}`);
  return Math.round(performance.now() - t0);
}
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

try {
  for (let w = 0; w < 2; w++) fullTable('w', computePolicy(pods, nss, pols));
  let t0 = performance.now();
  const model = computePolicy(pods, nss, pols);
  const oldModelMs = ms(t0);
  t0 = performance.now();
  fullTable('bench', model);
  const oldTextMs = ms(t0);

  for (let w = 0; w < 2; w++) fullText(suffix, new Compiler().compile(pods, nss, pols));
  const compiler = new Compiler();
  t0 = performance.now();
  let applied: TableState = compiler.compile(pods, nss, pols);
  const full = fullText(suffix, applied);
  const fullMs = ms(t0);
  const fullNftMs = nft(full);

  // one policy write at a time: np<k> gets a new peer selector (a new set), then back
  const writes: { ms: number; bytes: number; nft: number | null; total: number }[] = [];
  for (let k = 0; k < 22; k++) {
    pols[k % N] = policy(k % N, k % 2 ? `a${(k + 7) % 20}` : `b${k}`);
    const s = performance.now();
    const next = compiler.compile(pods, nss, pols);
    const text = diffText(suffix, applied, next);
    const computeMs = ms(s);
    const nftMs = nft(text);
    applied = next;
    writes.push({ ms: computeMs, bytes: text.length, nft: nftMs, total: ms(s) });
  }
  const measured = writes.slice(2); // the first two warm up the incremental path

  // one pod relabelled
  pods[0] = { ...pods[0]!, labels: { app: 'a1' } };
  t0 = performance.now();
  const relabelled = compiler.compile(pods, nss, pols);
  const relabelText = diffText(suffix, applied, relabelled);
  const relabelMs = ms(t0);
  const relabelNftMs = nft(relabelText);

  process.stdout.write(`${JSON.stringify({
    policies: N, pods: P, oldModelMs, oldTextMs,
    fullMs, fullBytes: full.length, fullNftMs,
    writeMs: pct(measured.map((x) => x.ms), 0.5), writeBytes: pct(measured.map((x) => x.bytes), 0.5), writeNftMs: root ? pct(measured.map((x) => x.nft!), 0.5) : null,
    writeP50: pct(measured.map((x) => x.total), 0.5), writeP99: pct(measured.map((x) => x.total), 0.99),
    relabelMs, relabelBytes: relabelText.length, relabelNftMs,
  })}\n`);
} finally {
  if (root) spawnSync('nft', ['delete', 'table', 'inet', `shoal-policy-${suffix}`]);
}
