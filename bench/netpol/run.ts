// bench/netpol/run: the NetworkPolicy benchmark (issue 6). One `shoal up` cluster with a client, a server,
// its unpoliced twin and five other pods; for each N in --policies, N background policies are present while the allow-client
// policy is deleted (deny) and re-created (allow) --rounds times, each edge timed from the API write
// returning to the first probe of a stable run of the new verdict, seen by a TCP connect loop in the
// client pod's netns. Then wrk from the client's netns to the server (pod IP keep-alive and conn/req,
// ClusterIP) and to its twin with 0 policies, with the largest N (the client allowed by one of them), and
// with 0 again (A-B-A), as ratios; the twin gives a paired control sample by sample.
// Root only. Prints figures, never pass/fail. Not a test.
//   node dist/bench/netpol/run.js [--policies 10,100,1000] [--rounds 20] [--seconds 5] [--connections 4]
//        [--samples 3] [--enforcer auto|cluster|own] [--json FILE]

import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { upCluster, type UpCluster } from '../up-cluster.js';
import type { KubeObject } from '../../api/meta.js';
import { APP_NS, BG_NS, SERVER_PORT, allowClient, backgroundPolicy, namespaces, pods, sentinelDenyServer, serverService } from './fixture.js';
import { Prober, type ProbeOptions } from './prober.js';
import { startOwnEnforcer, type Enforcer } from './enforcer.js';
import { wrkFromNetns, type WrkResult } from './wrk.js';

// ---- flags ----
const { values } = parseArgs({
  options: {
    policies: { type: 'string', default: '10,100,1000' }, rounds: { type: 'string', default: '20' }, seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '4' }, samples: { type: 'string', default: '3' }, enforcer: { type: 'string', default: 'auto' }, json: { type: 'string' },
  },
  strict: true,
});
const problems: string[] = [];
const sizes = values.policies!.split(',').map(Number);
if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) problems.push(`--policies: comma-separated integers 1..5000, got ${JSON.stringify(values.policies)}`);
sizes.sort((a, b) => a - b);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 500) problems.push(`--rounds: an integer 1..500, got ${JSON.stringify(values.rounds)}`);
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) problems.push(`--seconds: an integer 1..60, got ${JSON.stringify(values.seconds)}`);
const conns = Number(values.connections);
if (!Number.isInteger(conns) || conns < 1 || conns > 64) problems.push(`--connections: an integer 1..64, got ${JSON.stringify(values.connections)}`);
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 1 || samples > 9) problems.push(`--samples: an integer 1..9, got ${JSON.stringify(values.samples)}`);
if (!['auto', 'cluster', 'own'].includes(values.enforcer!)) problems.push(`--enforcer: auto, cluster or own, got ${JSON.stringify(values.enforcer)}`);
if (problems.length) {
  for (const p of problems) console.error(`bench/netpol: ${p}`);
  process.exit(64);
}
if (process.getuid?.() !== 0) {
  console.error('bench/netpol: needs root (probes and wrk run inside pod network namespaces)');
  process.exit(1);
}

// ---- helpers ----
const R = {
  ns: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  svc: { apiVersion: 'v1', plural: 'services', namespaced: true },
  nodes: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  np: { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
};
const PROBE: ProbeOptions = { intervalMs: 2, timeoutMs: 150 };
const EDGE_DEADLINE_MS = 30_000;
const CATCH_UP_DEADLINE_MS = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => process.hrtime.bigint();
const pct = (a: number[], p: number) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)]! : NaN);
const ready = (p: KubeObject) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const say = (s: string) => process.stderr.write(`[netpol] ${s}\n`);

let retries = 0;
/**
 * A write, retried (up to 3 times) when the API connection broke under it — a pooled keep-alive socket the
 * server closed while wrk ran. A retry that meets 409 (create) or 404 (delete) means the first try landed.
 */
async function write<T>(fn: () => Promise<T>, landed: number): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (attempt > 1 && code === landed) return undefined;
      if (attempt >= 3 || !/UND_ERR_SOCKET|other side closed|ECONNRESET|EPIPE/.test(String((e as Error).message))) throw e;
      retries++;
      await sleep(100);
    }
  }
}
const create = (ref: (typeof R)[keyof typeof R], obj: KubeObject, namespace?: string) => write(() => api().create(ref, obj, namespace ? { namespace } : {}), 409);
const remove = (ref: (typeof R)[keyof typeof R], name: string, namespace: string) => write(() => api().delete(ref, name, { namespace }), 404);
const api = () => cluster!.api;

/** Run `fns` with at most `limit` at a time. */
async function pool(limit: number, fns: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, async () => {
    while (next < fns.length) await fns[next++]!();
  }));
}

/** The pod's network namespace: the agent names it `<prefix><uid without dashes, 12 chars>`. */
function netnsOf(pod: KubeObject): string {
  const tail = pod.metadata!.uid!.replace(/-/g, '').slice(0, 12);
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!);
  const ns = names.find((n) => n.endsWith(tail));
  if (!ns) throw new Error(`pod ${pod.metadata!.name}: no network namespace ending in ${tail}`);
  return ns;
}

// ---- cleanup on exit and on SIGINT ----
let cluster: UpCluster | undefined;
let enforcer: Enforcer | undefined;
let prober: Prober | undefined;
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await prober?.stop().catch(() => undefined);
    await enforcer?.stop().catch(() => undefined);
    await cluster?.stop().catch((e) => say(`stopping the cluster: ${(e as Error).message}`));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    say(`${sig}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });
}

// ---- the run ----
interface Latency { n: number; catchUpMs: number; deny: number[]; allow: number[]; missed: number }
type PathKey = 'pod' | 'open' | 'close' | 'openClose' | 'vip';
// each keep-alive/conn-per-request run to the server is followed by the same to server-open (the control)
const PATHS: PathKey[] = ['pod', 'open', 'close', 'openClose', 'vip'];
const PATH_NAME: Record<PathKey, string> = { pod: 'pod IP', open: 'server-open', close: 'pod IP, conn/req', openClose: 'server-open, c/req', vip: 'ClusterIP' };
interface Throughput { label: string; median: Record<PathKey, WrkResult>; samples: Record<PathKey, number[]> }

/** The enforcer's sync totals from its /metrics (shoal up's component only), or undefined. */
async function syncMetrics(): Promise<{ count: number; compile: number; applyCount: number; apply: number; bytes: number } | undefined> {
  if (enforcer || !cluster) return undefined;
  try {
    const port = JSON.parse(readFileSync(`${cluster.home}/run/ports.json`, 'utf8')).policy as number;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const v = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    return {
      count: v(/^shoal_policy_sync_compile_duration_seconds_count (\S+)$/m), compile: v(/^shoal_policy_sync_compile_duration_seconds_sum (\S+)$/m),
      applyCount: v(/^shoal_policy_sync_apply_duration_seconds_count\{kind="diff"\} (\S+)$/m), apply: v(/^shoal_policy_sync_apply_duration_seconds_sum\{kind="diff"\} (\S+)$/m),
      bytes: v(/^shoal_policy_sync_bytes_total\{kind="diff"\} (\S+)$/m),
    };
  } catch {
    return undefined;
  }
}

async function main(): Promise<{ lat: Latency[]; tp: Throughput[]; enforcerKind: string }> {
  const load = loadavg();
  say(`load average at start: ${load.map((x) => x.toFixed(2)).join(' ')}`);
  cluster = await upCluster('netpol', 184, ['--no-dns']);
  const api = cluster.api;
  const node = (await api.list(R.nodes)).items[0]!.metadata!.name!;
  const clusterHasEnforcer = cluster.output().includes('network-policy ready');
  let enforcerKind = 'shoal up component network-policy';
  if (values.enforcer === 'own' || (values.enforcer === 'auto' && !clusterHasEnforcer)) {
    enforcer = await startOwnEnforcer(`${cluster.home}/kubeconfig`, node);
    enforcerKind = `own node/policy process (table ${enforcer.table})`;
  } else if (!clusterHasEnforcer) throw new Error('--enforcer cluster: `shoal up` did not start network-policy');
  say(`enforcer: ${enforcerKind}`);

  for (const ns of namespaces()) await create(R.ns, ns);
  for (const p of pods()) await create(R.pods, p, p.metadata!.namespace!);
  const svc = (await create(R.svc, serverService(), APP_NS)) ?? (await api.get(R.svc, 'server', { namespace: APP_NS }));
  const want = pods().length;
  const deadline = Date.now() + 120_000;
  let mine: KubeObject[] = [];
  while (Date.now() < deadline) {
    mine = (await Promise.all([APP_NS, ...BG_NS].map((ns) => api.list(R.pods, { namespace: ns })))).flatMap((l) => l.items);
    if (mine.filter((p) => ready(p) && p.status?.podIP).length >= want) break;
    await sleep(200);
  }
  const byName = (n: string) => mine.find((p) => p.metadata!.name === n && ready(p));
  const client = byName('client');
  const server = byName('server');
  const openServer = byName('server-open');
  if (!client || !server || !openServer) throw new Error(`pods not ready after 120 s: ${mine.map((p) => `${p.metadata!.name}=${ready(p)}`).join(' ')}`);
  const clientNs = netnsOf(client);
  const serverIP = server.status!.podIP as string;
  const openIP = openServer.status!.podIP as string;
  // conn/req runs open thousands of connections a second to one ip:port: without this, the servers'
  // TIME_WAIT sockets collide with reused client ports within seconds and the figures collapse. Both are
  // per-netns sysctls of the bench's own pods (gone with them).
  execFileSync('ip', ['netns', 'exec', clientNs, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65535']);
  for (const p of [server, openServer]) execFileSync('ip', ['netns', 'exec', netnsOf(p), 'sysctl', '-qw', 'net.ipv4.tcp_max_tw_buckets=0']);
  const vip = svc.spec.clusterIP as string;
  say(`client netns ${clientNs}, server ${serverIP}:${SERVER_PORT}, ClusterIP ${vip}:80`);

  // both paths answer from the client before anything is measured
  for (const [ip, port] of [[serverIP, SERVER_PORT], [vip, 80]] as const) {
    const p = Prober.start(clientNs, ip, port, PROBE);
    const ok = await p.waitFor(true, now(), 60_000).finally(() => p.stop());
    if (ok === undefined) throw new Error(`${ip}:${port} not reachable from the client pod within 60 s`);
  }

  const tp: Throughput[] = [];
  const paths: Record<PathKey, () => WrkResult> = {
    pod: () => wrkFromNetns(clientNs, `http://${serverIP}:${SERVER_PORT}/`, seconds, conns),
    vip: () => wrkFromNetns(clientNs, `http://${vip}/`, seconds, conns),
    close: () => wrkFromNetns(clientNs, `http://${serverIP}:${SERVER_PORT}/`, seconds, conns, true),
    open: () => wrkFromNetns(clientNs, `http://${openIP}:${SERVER_PORT}/`, seconds, conns),
    openClose: () => wrkFromNetns(clientNs, `http://${openIP}:${SERVER_PORT}/`, seconds, conns, true),
  };
  const measureTp = (label: string): Throughput => {
    // `samples` rounds over the paths in turn; the median (by req/s) damps a noisy machine
    const runs: Record<PathKey, WrkResult[]> = { pod: [], vip: [], close: [], open: [], openClose: [] };
    for (let i = 0; i < samples; i++) for (const k of PATHS) runs[k].push(paths[k]());
    const median = (a: WrkResult[]) => [...a].sort((x, y) => x.rps - y.rps)[Math.floor(a.length / 2)]!;
    const r: Throughput = { label, median: {} as Record<PathKey, WrkResult>, samples: {} as Record<PathKey, number[]> };
    for (const k of PATHS) {
      r.median[k] = median(runs[k]);
      r.samples[k] = runs[k].map((x) => Math.round(x.rps));
    }
    say(`throughput ${label}: ${PATHS.map((k) => `${k} ${r.samples[k].join(' ')}`).join(', ')} req/s`);
    return r;
  };
  wrkFromNetns(clientNs, `http://${serverIP}:${SERVER_PORT}/`, 2, conns); // warm-up
  wrkFromNetns(clientNs, `http://${vip}/`, 2, conns);
  wrkFromNetns(clientNs, `http://${serverIP}:${SERVER_PORT}/`, 2, conns, true);
  tp.push(measureTp('0 policies (before)'));

  const lat: Latency[] = [];
  let have = 0;
  await create(R.np, allowClient(), APP_NS);
  for (const n of sizes) {
    const t0 = Date.now();
    await pool(32, Array.from({ length: n - have }, (_, k) => () => {
      const p = backgroundPolicy(have + k);
      return create(R.np, p, p.metadata!.namespace!);
    }));
    say(`${n} background policies created in ${Date.now() - t0} ms`);
    have = n;
    prober = Prober.start(clientNs, serverIP, SERVER_PORT, PROBE);
    // catch-up: the deny below is applied only once every earlier create is in the enforcer's view
    await remove(R.np, 'allow-client', APP_NS);
    const c0 = Date.now();
    const caught = await prober.waitFor(false, now(), CATCH_UP_DEADLINE_MS);
    if (caught === undefined) throw new Error(`enforcer did not apply ${n} policies within ${CATCH_UP_DEADLINE_MS / 1000} s`);
    const catchUpMs = Date.now() - t0;
    say(`enforcer caught up ${Date.now() - c0} ms after the last write`);
    await create(R.np, allowClient(), APP_NS);
    if ((await prober.waitFor(true, now(), CATCH_UP_DEADLINE_MS)) === undefined) throw new Error('the client was not re-admitted after catch-up');
    const row: Latency = { n, catchUpMs, deny: [], allow: [], missed: 0 };
    const before = await syncMetrics();
    for (let r = 0; r < rounds; r++) {
      await sleep(50);
      await remove(R.np, 'allow-client', APP_NS);
      const d = await prober.waitFor(false, now(), EDGE_DEADLINE_MS);
      if (d === undefined) row.missed++;
      else row.deny.push(d);
      await sleep(50);
      await create(R.np, allowClient(), APP_NS);
      const a = await prober.waitFor(true, now(), EDGE_DEADLINE_MS);
      if (a === undefined) row.missed++;
      else row.allow.push(a);
    }
    await prober.stop();
    prober = undefined;
    say(`N=${n}: deny p99 ${pct(row.deny, 99).toFixed(1)} ms, allow p99 ${pct(row.allow, 99).toFixed(1)} ms`);
    const after = await syncMetrics();
    if (before && after) {
      const syncs = after.count - before.count;
      const diffs = after.applyCount - before.applyCount;
      say(`N=${n}: during the rounds the enforcer synced ${syncs} times: compile ${((after.compile - before.compile) / syncs * 1000).toFixed(1)} ms per sync, ` +
        `nft ${((after.apply - before.apply) / diffs * 1000).toFixed(1)} ms per transaction (${diffs}), ${Math.round((after.bytes - before.bytes) / diffs)} bytes each`);
    }
    lat.push(row);
  }
  tp.push(measureTp(`${have} policies`));

  // back to 0 policies, proven by a sentinel deny that appears and goes after the deletions
  for (const ns of [APP_NS, ...BG_NS]) await write(() => api.deleteCollection(R.np, { namespace: ns, labelSelector: 'bench.shoal.io/netpol=bg' }), 404);
  prober = Prober.start(clientNs, serverIP, SERVER_PORT, PROBE);
  await create(R.np, sentinelDenyServer(), APP_NS);
  if ((await prober.waitFor(false, now(), CATCH_UP_DEADLINE_MS)) === undefined) throw new Error('sentinel deny never applied');
  await remove(R.np, 'sentinel-deny', APP_NS);
  if ((await prober.waitFor(true, now(), CATCH_UP_DEADLINE_MS)) === undefined) throw new Error('sentinel deny never lifted');
  await prober.stop();
  prober = undefined;
  tp.push(measureTp('0 policies (after)'));
  if (retries) say(`${retries} API writes were retried after a broken connection`);
  return { lat, tp, enforcerKind };
}

// ---- report ----
function report(r: Awaited<ReturnType<typeof main>>, load: number[]): void {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const q = (a: number[]) => `${f(pct(a, 50))}/${f(pct(a, 90))}/${f(pct(a, 99))}/${f(Math.max(...a))}`;
  console.log(`load average at start: ${load.map((x) => x.toFixed(2)).join(' ')} (2 cores); enforcer: ${r.enforcerKind}`);
  console.log(`\nEnforcement latency, ms: API write returned → first probe of the new verdict (TCP connect every ${PROBE.intervalMs} ms, timeout ${PROBE.timeoutMs} ms, from the client pod's netns); ${rounds} rounds`);
  console.log('policies  deny p50/p90/p99/max          allow p50/p90/p99/max         missed  create+catch-up ms');
  for (const l of r.lat) console.log(`${String(l.n).padEnd(10)}${q(l.deny).padEnd(30)}${q(l.allow).padEnd(30)}${String(l.missed).padEnd(8)}${l.catchUpMs}`);
  console.log('target: p99 ≤ 100 ms at 1000 policies (reference: Cilium reports 0.5–1 ms per policy event)');
  const [before, mid, after] = r.tp as [Throughput, Throughput, Throughput];
  console.log(`\nThroughput, wrk -t2 -c${conns} -d${seconds}s from the client pod's netns, median of ${samples} (req/s; p99 ms)`);
  console.log(`path                ${before.label.padEnd(22)}${mid.label.padEnd(22)}${after.label.padEnd(22)}ratio (policies / mean of 0)`);
  for (const k of PATHS) {
    const cell = (t: Throughput) => `${t.median[k].rps.toFixed(0)}; ${t.median[k].p99.toFixed(2)}${t.median[k].errors ? ` (${t.median[k].errors} err)` : ''}`.padEnd(22);
    const ratio = mid.median[k].rps / ((before.median[k].rps + after.median[k].rps) / 2);
    console.log(`${PATH_NAME[k].padEnd(20)}${cell(before)}${cell(mid)}${cell(after)}${ratio.toFixed(3)}  (loss ${((1 - ratio) * 100).toFixed(1)}%)`);
  }
  console.log('(conn/req: wrk with `Connection: close`, every request a new connection through the policy chain)');
  // paired: server ÷ server-open within each sample (adjacent in time), median per state; the policy cost is
  // that ratio with N policies ÷ its mean with 0, which cancels both the load drift and pod differences
  const paired = (t: Throughput, a: PathKey, b: PathKey) => pct(t.samples[a].map((x, i) => x / t.samples[b][i]!), 50);
  console.log(`\nPaired control (server ÷ server-open, median of per-sample ratios):`);
  console.log(`                    ${before.label.padEnd(22)}${mid.label.padEnd(22)}${after.label.padEnd(22)}policy cost ratio`);
  for (const [name, a, b] of [['keep-alive', 'pod', 'open'], ['conn/req', 'close', 'openClose']] as const) {
    const [x, y, z] = [paired(before, a, b), paired(mid, a, b), paired(after, a, b)];
    const ratio = y / ((x + z) / 2);
    console.log(`${name.padEnd(20)}${x.toFixed(3).padEnd(22)}${y.toFixed(3).padEnd(22)}${z.toFixed(3).padEnd(22)}${ratio.toFixed(3)}  (loss ${((1 - ratio) * 100).toFixed(1)}%)`);
  }
  console.log('target: throughput loss ≤ 5% with 1000 policies');
  const json = { loadavg: load, enforcer: r.enforcerKind, probe: PROBE, rounds, latency: r.lat.map((l) => ({ policies: l.n, missed: l.missed, createAndCatchUpMs: l.catchUpMs, deny: { p50: pct(l.deny, 50), p90: pct(l.deny, 90), p99: pct(l.deny, 99), max: Math.max(...l.deny) }, allow: { p50: pct(l.allow, 50), p90: pct(l.allow, 90), p99: pct(l.allow, 99), max: Math.max(...l.allow) } })), throughput: r.tp };
  console.log(`\n${JSON.stringify(json)}`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
}

const load = loadavg();
let code = 0;
try {
  report(await main(), load);
} catch (e) {
  if (!cleaning) { // after SIGINT the cluster goes away under the run: not a failure worth a report
    say(`failed: ${(e as Error).message}`);
    if (cluster) say(`shoal up said:\n${cluster.output()}`);
  }
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
