// Incremental syncs in a real kernel (root): a seeded sequence of random changes (policies added,
// changed, deleted; pods relabelled, their named port moved; namespaces relabelled) is applied as
// diff transactions only. Every few steps the kernel's truth table must equal the model's; at the end
// the incrementally built table must list (`nft -j list table`) exactly like a full rewrite of the
// final state. A failing incremental transaction leaves the old rules in force, and the next sync (a
// full replacement) brings the kernel back to the model. Replay a seed with SHOAL_POLICY_SEED=<n>.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { computePolicy, type NamespaceInfo, type PodInfo } from '../../node/policy/model/policy.js';
import { Compiler, type TableState } from '../../node/policy/desired/compiler.js';
import { diffText, fullText } from '../../node/policy/nftables/transaction.js';
import { tableName } from '../../node/policy/nftables/rules.js';
import { deniedPairs, rootSkip, startNetns, type NetnsEnv } from './netns.js';
import { prng, randomPolicy } from './random.js';

const PODS = ['x-a', 'x-b', 'y-a', 'y-b'];

/** The world the changes act on. */
interface World {
  labels: Map<string, Record<string, string>>;
  httpPort: Map<string, number>;
  nsLabels: Map<string, Record<string, string>>;
  policies: Map<string, any>;
}

function inputs(env: NetnsEnv, w: World): [PodInfo[], NamespaceInfo[], any[]] {
  const pods = PODS.map((p) => ({ namespace: p.split('-')[0]!, name: p.split('-')[1]!, labels: w.labels.get(p)!, ip: env.ips.get(p)!,
    ports: [{ name: 'http', port: w.httpPort.get(p)!, protocol: 'TCP' as const }] }));
  return [pods, [...w.nsLabels].map(([name, labels]) => ({ name, labels })), [...w.policies.values()]];
}

function fill(env: NetnsEnv, v: unknown): any {
  const cidr = env.ips.get('x-a')!.replace(/\.\d+$/, '.0/24');
  return JSON.parse(JSON.stringify(v).replaceAll('"CIDR"', JSON.stringify(cidr)).replaceAll('"YB/32"', JSON.stringify(`${env.ips.get('y-b')}/32`)));
}

/** One random change to the world; returns what it did. */
function change(r: () => number, env: NetnsEnv, w: World, step: number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const names = [...w.policies.keys()];
  const kind = names.length < 2 ? 'add' : pick(['add', 'add', 'change', 'delete', 'pod', 'pod', 'port', 'ns']);
  if (kind === 'add' || kind === 'change') {
    const p = fill(env, randomPolicy(r, step));
    if (kind === 'change') {
      const [ns, name] = pick(names).split('/');
      p.metadata = { namespace: ns, name };
    }
    w.policies.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
    return `${kind} ${p.metadata.namespace}/${p.metadata.name}`;
  }
  if (kind === 'delete') {
    const n = pick(names);
    w.policies.delete(n);
    return `delete ${n}`;
  }
  if (kind === 'pod') {
    const p = pick(PODS);
    w.labels.set(p, { pod: pick(['a', 'b', 'c']) });
    return `relabel pod ${p} ${w.labels.get(p)!.pod}`;
  }
  if (kind === 'port') {
    const p = pick(PODS);
    w.httpPort.set(p, w.httpPort.get(p) === 81 ? 80 : 81);
    return `pod ${p} http → ${w.httpPort.get(p)}`;
  }
  const ns = pick(['x', 'y']);
  w.nsLabels.set(ns, { ns: pick(['x', 'y', 'z']) });
  return `relabel namespace ${ns} ${w.nsLabels.get(ns)!.ns}`;
}

/** Denied pairs observed in the kernel and expected by the model. */
const truthTable = (env: NetnsEnv, w: World) => deniedPairs(env, PODS, computePolicy(...inputs(env, w)));

/** `nft -j list table`, without handles and counter values, with set elements and objects sorted. */
export function listing(suffix: string): string[] {
  const r = spawnSync('nft', ['-j', 'list', 'table', 'inet', tableName(suffix)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft list: ${r.stderr}`);
  const strip = (v: any): any => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: any = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'handle') continue;
        if (k === 'counter' && x && typeof x === 'object') o[k] = { packets: 0, bytes: 0 };
        else if (k === 'elem' && Array.isArray(x)) o[k] = x.map(strip).map((e) => JSON.stringify(e)).sort();
        else o[k] = strip(x);
      }
      return o;
    }
    return v;
  };
  return (JSON.parse(r.stdout).nftables as any[]).filter((o) => !o.metainfo).map((o) => JSON.stringify(strip(o))).sort();
}

function newWorld(): World {
  return {
    labels: new Map(PODS.map((p) => [p, { pod: p.split('-')[1]! }])),
    httpPort: new Map(PODS.map((p) => [p, 81])),
    nsLabels: new Map([['x', { ns: 'x' }], ['y', { ns: 'y' }]]),
    policies: new Map(),
  };
}

t.test('incremental syncs: kernel equals the model, table equals a full rewrite', { skip: rootSkip() }, async (t) => {
  const seed = Number(process.env.SHOAL_POLICY_SEED ?? 20261122);
  const env = await startNetns(t, PODS);
  const r = prng(seed);
  const w = newWorld();
  const compiler = new Compiler();
  let applied: TableState = compiler.compile(...inputs(env, w));
  env.nft(fullText(env.suffix, applied));
  const log: string[] = [];
  let diffs = 0;
  for (let step = 1; step <= 24; step++) {
    log.push(change(r, env, w, step));
    const next = compiler.compile(...inputs(env, w));
    const text = diffText(env.suffix, applied, next);
    t.notMatch(text, /^add table|^table /m, `step ${step}: a diff, not a table`);
    if (text) env.nft(text);
    if (text) diffs++;
    applied = next;
    if (step % 8 === 0) {
      const { observed, expected } = await truthTable(env, w);
      t.same(observed, expected, `seed ${seed} step ${step}: kernel equals the model (${expected.length} of 36 denied)`, { log });
    }
  }
  t.ok(diffs >= 6, `most steps changed the table (${diffs} of 24)`);
  const incremental = listing(env.suffix);
  env.nft(fullText(env.suffix, new Compiler().compile(...inputs(env, w))));
  t.same(incremental, listing(env.suffix), `seed ${seed}: the incrementally built table lists exactly like a full rewrite`, { log });
  t.ok(incremental.some((l) => l.includes('"set"') && l.includes('"elem"')), 'the table has sets with elements');
});

t.test('a failed incremental transaction: old rules stay, next sync is a full replacement', { skip: rootSkip() }, async (t) => {
  const env = await startNetns(t, PODS);
  const w = newWorld();
  w.policies.set('x/deny', { metadata: { namespace: 'x', name: 'deny' }, spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] } });
  const compiler = new Compiler();
  const applied = compiler.compile(...inputs(env, w));
  env.nft(fullText(env.suffix, applied));
  const before = listing(env.suffix);
  const first = await truthTable(env, w);
  t.ok(first.expected.length > 0, 'x is isolated');
  t.same(first.observed, first.expected, 'kernel equals the model');

  // the change opens x/b to everyone, but its transaction fails at its last command
  w.labels.set('x-b', { pod: 'a' });
  w.policies.delete('x/deny');
  const next = compiler.compile(...inputs(env, w));
  const bad = `${diffText(env.suffix, applied, next)}add rule inet ${tableName(env.suffix)} no-such-chain accept\n`;
  t.throws(() => env.nft(bad), /nft/, 'the broken incremental transaction is rejected');
  t.same(listing(env.suffix), before, 'the table is exactly as before');
  t.same(await env.probe('y-a', [[env.ips.get('x-b')!, 'tcp', 80]]), [false], 'x/b still isolated');

  // the enforcer's rule after a failure: a full replacement from the compiler's state
  env.nft(fullText(env.suffix, compiler.compile(...inputs(env, w))));
  const after = await truthTable(env, w);
  t.same(after.observed, after.expected, 'after the full replacement the kernel equals the model');
  t.equal(after.expected.length, 0, 'no policy left: all open');
});
