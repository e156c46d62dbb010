// bench/sidecar/resilience: the cost of resilience and telemetry on the success path (issue 15), same run,
// same pods (real netns, HBONE mTLS, layer-7 HTTP path), two Services to the same app:
//   off  VirtualService retries.attempts 0, no DestinationRule; sidecars without tracing or access log
//   on   VirtualService timeout 10s + retries (3 on 5xx, perTryTimeout 2s); DestinationRule outlierDetection
//        and a generous connectionPool; sidecars with tracing at 1% (OTLP/HTTP to a collector in this
//        process) and the client sidecar's access log to a file
// Metrics are always on (istio_requests_total, duration and byte histograms per request, both sidecars).
// Each round starts a fresh sidecar pair per variant (order alternating): closed-loop max rps (16
// connections) and 1000 rps latency; prints the medians, the on/off throughput ratio and both sidecars'
// CPU per 1000 requests. Not a test. Run as root:
//   node dist/bench/sidecar/resilience.js [--seconds 3] [--rounds 5]
import { chownSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meshNet, runInPod, startTestSidecar, until, type Teardown, type PodProcess, type MeshNet } from '../../test/sidecar/fixture.js';
import type { StaticConfigFile } from '../../proxy/config/types.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : d; };
const SECONDS = opt('seconds', 3);
const ROUNDS = opt('rounds', 5);
const K = 13;
const VIP = { off: `10.215.${K}.10`, on: `10.215.${K}.11` };

const cleanups: (() => unknown)[] = [];
const td: Teardown = { teardown: (fn) => { cleanups.push(fn); } };
const cpuTicks = (pid: number): number => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function config(net: MeshNet, self: 'a' | 'b'): StaticConfigFile {
  const me = self === 'a' ? net.a : net.b;
  const sa = self === 'a' ? 'client' : 'server';
  const svc = (name: 'off' | 'on') => ({ name, namespace: 'foo', hostname: `${name}.foo.svc.cluster.local`, vips: [VIP[name]], ports: [{ name: 'http', port: 80, targetPort: 9100, protocol: 'TCP', appProtocol: '' }] });
  const ep = { address: net.b.ip, ports: [{ name: 'http', port: 9100 }], podName: 'server-0', namespace: 'foo', serviceAccount: 'server', identity: 'spiffe://cluster.local/ns/foo/sa/server', mesh: true, labels: { app: 'server' }, ready: true };
  const meta = (kind: string, name: string, spec: unknown) => ({ kind, metadata: { name, namespace: 'foo' }, spec });
  return {
    services: [svc('off'), svc('on')],
    endpoints: [{ service: 'foo/off', endpoints: [ep] }, { service: 'foo/on', endpoints: [ep] }],
    workload: {
      name: `${sa}-0`, namespace: 'foo', serviceAccount: sa, identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, ip: me.ip, labels: { app: sa },
      peerAuthentication: { mode: 'STRICT', portModes: {}, sources: [] }, authorization: [],
    },
    routing: [
      meta('VirtualService', 'off', { hosts: ['off'], http: [{ retries: { attempts: 0 }, route: [{ destination: { host: 'off' } }] }] }),
      meta('VirtualService', 'on', { hosts: ['on'], http: [{ timeout: '10s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' }, route: [{ destination: { host: 'on' } }] }] }),
      meta('DestinationRule', 'on', { host: 'on', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5 }, connectionPool: { tcp: { maxConnections: 10000 }, http: { http1MaxPendingRequests: 10000 } } } }),
    ],
  };
}

async function gen(net: MeshNet, host: string, a: string[]): Promise<any> {
  const p = runInPod(td, net.a, [process.execPath, 'dist/bench/sidecar/loadgen.js', a[0], host, '80', ...a.slice(1)], { env: { LOADGEN_HOST: host } });
  const code = await p.exited;
  if (code !== 0) throw new Error(`loadgen ${a.join(' ')}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const net = await meshNet(td, 'bsrs', K);
  const app = runInPod(td, net.b, [process.execPath, 'dist/bench/sidecar/app.js', '9100']);
  await until('app', () => app.out().includes('up'));
  const log = `/tmp/bsrs-access-${process.pid}.log`;
  writeFileSync(log, '');
  chownSync(log, 1337, 1337); // the sidecar runs as UID 1337
  td.teardown(() => rmSync(log, { force: true }));
  let exported = 0;
  const collector = createServer((q, res) => { let b = ''; q.on('data', (d) => (b += d)); q.on('end', () => { for (const rs of JSON.parse(b).resourceSpans) for (const ss of rs.scopeSpans) exported += ss.spans.length; res.end('{}'); }); });
  await new Promise<void>((r) => collector.listen(0, '0.0.0.0', () => r()));
  td.teardown(() => collector.close());
  const cport = (collector.address() as AddressInfo).port;
  const pair = async (v: 'off' | 'on', i: number): Promise<PodProcess[]> => {
    // BENCH_NO_TRACING / BENCH_NO_ACCESS_LOG leave one part out of `on` (to tell their costs apart).
    const tr = (ip: string) => (v === 'on' && !process.env.BENCH_NO_TRACING ? { SHOAL_TRACING_ENDPOINT: `http://${ip}:${cport}/v1/traces`, SHOAL_TRACING_SAMPLING: '1' } : {});
    const server = await startTestSidecar(td, net, net.b, { sa: 'server', config: config(net, 'b'), env: tr(net.b.hostIp), name: `server-${v}-${i}` });
    const client = await startTestSidecar(td, net, net.a, { sa: 'client', config: config(net, 'a'), env: { ...tr(net.a.hostIp), ...(v === 'on' && !process.env.BENCH_NO_ACCESS_LOG ? { SHOAL_ACCESS_LOG_FILE: log } : {}) }, name: `client-${v}-${i}` });
    await gen(net, VIP[v], ['max', '2', '16']); // warm up (JIT, sessions)
    return [client, server];
  };
  const got: Record<'off' | 'on', { rps: number; cpuPer1k: number; p50: number; p99: number }[]> = { off: [], on: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const v of (i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as ('off' | 'on')[]) {
      const procs = await pair(v, i);
      const before = procs.map((p) => cpuTicks(p.proc.pid!));
      const m = await gen(net, VIP[v], ['max', String(SECONDS), '16']);
      const cpu = procs.reduce((s, p, j) => s + (cpuTicks(p.proc.pid!) - before[j]) / 100, 0);
      const r = await gen(net, VIP[v], ['rate', '1000', '2', '16']);
      if (m.errors || r.errors) throw new Error(`${v}: errors ${m.errors} ${r.errors}`);
      got[v].push({ rps: m.rps, cpuPer1k: +((cpu / (m.rps * SECONDS)) * 1000).toFixed(4), p50: r.p50, p99: r.p99 });
      process.stderr.write(`round ${i} ${v}: ${m.rps} rps, ${got[v].at(-1)!.cpuPer1k} CPU s / 1000 req, 1000 rps p50 ${r.p50} p99 ${r.p99}\n`);
      for (const p of procs) await p.stop();
    }
  }
  const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
  const row = (v: 'off' | 'on') => ({ rps: med(got[v].map((x) => x.rps)), cpuPer1k: med(got[v].map((x) => x.cpuPer1k)), p50: med(got[v].map((x) => x.p50)), p99: med(got[v].map((x) => x.p99)) });
  const off = row('off'), on = row('on');
  const ratios = got.on.map((x, i) => x.rps / got.off[i]!.rps);
  console.log(`\nbench/sidecar/resilience (${ROUNDS} rounds × ${SECONDS}s closed loop, 16 connections, 1 KB; loadavg before ${load0}, after ${loadavg()})\n`);
  console.log('| policy | max rps (median) | sidecars\' CPU s per 1000 req | p50 / p99 ms at 1000 rps |');
  console.log('|---|---|---|---|');
  for (const [n, r] of [['off', off], ['on', on]] as const) console.log(`| ${n} | ${r.rps} | ${r.cpuPer1k} | ${r.p50.toFixed(3)} / ${r.p99.toFixed(3)} |`);
  console.log(`\non/off throughput: median of per-round ratios ${med(ratios).toFixed(3)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`access log: ${readFileSync(log, 'utf8').split('\n').length - 1} lines; spans exported at 1%: ${exported}`);
  console.log(JSON.stringify({ loadavg: [load0, loadavg()], got }));
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch { /* best effort */ }
  }
}
