// bench/sidecar: one client pod to one server pod (real netns, the capture table), same run:
//   direct                     client → server app (ports excluded from capture)
//   haproxy pair (TCP mode)    client → HAProxy in the client pod → HAProxy in the server pod → app (plain TCP, 1 thread each)
//   sidecars, HBONE            client → VIP → sidecar A (15001) → HTTP/2 CONNECT over pooled mTLS → sidecar B (15008) → app
//   sidecars, TLS per conn     the same with SHOAL_TUNNEL=tls (one mTLS connection per app connection, B's 15006)
//   nginx (HTTP, keep-alive)   client → nginx in the client pod (1 worker, upstream keepalive) → app
//   sidecars, HTTP/1.1 layer 7 client → VIP of a port named `http` → sidecar A parses and routes each request
//                              (route table, balancer) → keep-alive HBONE stream → sidecar B (authz per request) → app
// Per row: fixed 1000 rps (HTTP/1.1 keep-alive, 1 KB responses, 16 connections) with latency from the scheduled
// time, max rate (closed loop, 16 connections), one bulk transfer, proxy CPU (from /proc/<pid>/stat) and RSS
// during the 1000 rps run; then new-connection latency (a connection per request) for the two tunnel modes.
// Not a test: prints a table and a JSON line. Bounded: a few seconds per row. Run as root:
//   node dist/bench/sidecar/run.js [--seconds 5] [--bulk-mb 256] [--rounds 7]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meshNet, meshConfig, runInPod, startTestSidecar, until, type Teardown, type Pod, type PodProcess, type MeshNet } from '../../test/sidecar/fixture.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : d; };
const SECONDS = opt('seconds', 5);
const BULK_MB = opt('bulk-mb', 256);
const ROUNDS = opt('rounds', 7);
// --before DIR: before/after mode. DIR is another build's dist (e.g. the previous commit built in /tmp);
// each round runs direct, then the pair from DIR, then the pair from ./dist (same pods, same flags), and
// prints the median per variant of the 1000 rps latency, CPU, RSS and the bulk rate.
const BEFORE = (() => { const i = args.indexOf('--before'); return i >= 0 ? args[i + 1] : undefined; })();
const K = 9;
const VIP = `10.215.${K}.10`;
const VIP_HTTP = `10.215.${K}.11`;

const cleanups: (() => unknown)[] = [];
const td: Teardown = { teardown: (fn) => { cleanups.push(fn); } };

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
function rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
}
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function gen(pod: Pod, a: string[]): Promise<any> {
  // Host: the address dialled (a Service VIP is one of its virtual host's domains; an unknown Host would go to
  // the original destination, Istio's PassthroughCluster, which this netns pair has no service proxy for)
  const p = runInPod(td, pod, [process.execPath, 'dist/bench/sidecar/loadgen.js', ...a], { env: { LOADGEN_HOST: a[1] } });
  const code = await p.exited;
  if (code !== 0) throw new Error(`loadgen ${a.join(' ')}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}

interface Row { name: string; rate: any; max: any; bulk: any; cpu: number[]; rss: number[]; maxCpu: number[] }

async function row(name: string, net: MeshNet, host: string, port: number, procs: PodProcess[]): Promise<Row> {
  await gen(net.a, ['rate', host, String(port), '200', '1', '4']); // warm up (JIT, sessions)
  const pids = procs.map((p) => p.proc.pid!);
  const before = pids.map(cpuTicks);
  const t0 = performance.now();
  const rate = await gen(net.a, ['rate', host, String(port), '1000', String(SECONDS), '16']);
  const wall = (performance.now() - t0) / 1000;
  const cpu = pids.map((p, i) => +(((cpuTicks(p) - before[i]) / 100) / wall).toFixed(3));
  const rss = pids.map(rssMb);
  const m0 = pids.map(cpuTicks);
  const tm = performance.now();
  const max = await gen(net.a, ['max', host, String(port), String(Math.max(2, SECONDS - 1)), '16']);
  const mwall = (performance.now() - tm) / 1000;
  // vCPU of each proxy during the max-rate run: rps per proxy core = max rps / this
  const maxCpu = pids.map((p, i) => +(((cpuTicks(p) - m0[i]) / 100) / mwall).toFixed(3));
  const b0 = pids.map(cpuTicks);
  const bulk = await gen(net.a, ['bulk', host, String(port), String(BULK_MB)]);
  // CPU seconds per GiB moved, summed over the proxies: less sensitive to a busy machine than MB/s
  bulk.cpuSecPerGiB = pids.length ? +((pids.reduce((a, p, i) => a + cpuTicks(p) - b0[i], 0) / 100) * (1024 / BULK_MB)).toFixed(2) : 0;
  const r = { name, rate, max, bulk, cpu, rss, maxCpu };
  process.stderr.write(`${name}: ${JSON.stringify(r)}\n`);
  return r;
}

const HAPROXY = (bind: string, to: string): string => `global
  maxconn 4000
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen l
  bind ${bind}
  server s ${to}
`;

const NGINX = (dir: string, listen: string, to: string): string => `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  upstream app { server ${to}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen ${listen};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
`;

/** The layer-4 config plus a Service `web` whose port is named `http` (layer 7) at VIP .11 → B:9000. */
function l7Config(net: MeshNet, self: 'a' | 'b') {
  const c = meshConfig(net, K, self);
  c.services!.push({ name: 'web', namespace: 'foo', hostname: 'web.foo.svc.cluster.local', vips: [VIP_HTTP], ports: [{ name: 'http', port: 80, targetPort: 9000, protocol: 'TCP', appProtocol: '' }] });
  c.endpoints!.push({ service: 'foo/web', endpoints: c.endpoints![0]!.endpoints.map((e) => ({ ...e, ports: [{ name: 'http', port: 9000 }] })) });
  return c;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const net = await meshNet(td, 'scb', K, { excludePorts: [9100, 9200] });
  const app = runInPod(td, net.b, [process.execPath, 'dist/bench/sidecar/app.js', '9000', '9100']);
  await until('app', () => app.out().includes('up'));
  if (BEFORE) return beforeAfter(net, load0, BEFORE);
  writeFileSync(join(net.dir, 'hb.cfg'), HAPROXY('0.0.0.0:9200', '127.0.0.1:9100'));
  writeFileSync(join(net.dir, 'ha.cfg'), HAPROXY('127.0.0.1:9201', `${net.b.ip}:9200`));
  const hb = runInPod(td, net.b, ['/usr/sbin/haproxy', '-db', '-f', join(net.dir, 'hb.cfg')]);
  const ha = runInPod(td, net.a, ['/usr/sbin/haproxy', '-db', '-f', join(net.dir, 'ha.cfg')]);
  writeFileSync(join(net.dir, 'nginx.conf'), NGINX(net.dir, '127.0.0.1:9202', `${net.b.ip}:9100`));
  const nginx = runInPod(td, net.a, ['/usr/sbin/nginx', '-c', join(net.dir, 'nginx.conf'), '-e', 'stderr']);
  const server = await startTestSidecar(td, net, net.b, { sa: 'server', config: l7Config(net, 'b') });
  let client = await startTestSidecar(td, net, net.a, { sa: 'client', config: l7Config(net, 'a') });
  await until('haproxy pair', async () => (await gen(net.a, ['rate', '127.0.0.1', '9201', '10', '0.2', '1'])).done > 0);
  await until('nginx', async () => (await gen(net.a, ['rate', '127.0.0.1', '9202', '10', '0.2', '1'])).done > 0);
  // `ip netns exec` execs nginx (the master); its one child, the worker, does the proxying
  const nginxWorker = (): PodProcess => {
    const pid = Number(readFileSync(`/proc/${nginx.proc.pid}/task/${nginx.proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    if (!pid) throw new Error('nginx worker not found');
    return { ...nginx, proc: { pid } as never };
  };


  const rows: Row[] = [];
  rows.push(await row('direct', net, net.b.ip, 9100, []));
  rows.push(await row('haproxy pair (TCP, plain)', net, '127.0.0.1', 9201, [ha, hb]));
  rows.push(await row('sidecars, HBONE mTLS', net, VIP, 80, [client, server]));
  rows.push(await row('nginx (HTTP keep-alive, 1 worker)', net, '127.0.0.1', 9202, [nginxWorker()]));
  rows.push(await row('sidecars, HTTP/1.1 layer 7 (HBONE mTLS)', net, VIP_HTTP, 80, [client, server]));
  const l7paired: { p50: number; p90: number; p99: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dr = await gen(net.a, ['rate', net.b.ip, '9100', '1000', '2', '16']);
    const hr = await gen(net.a, ['rate', VIP_HTTP, '80', '1000', '2', '16']);
    l7paired.push({ p50: hr.p50 - dr.p50, p90: hr.p90 - dr.p90, p99: hr.p99 - dr.p99 });
  }
  const hboneConnect = await gen(net.a, ['connect', VIP, '80', '100', String(Math.min(4, SECONDS))]);
  // Paired rounds: direct and HBONE alternate in 2 s slices, so both see the same machine; the added
  // latency is the median over rounds of (HBONE − direct) per percentile.
  const paired: { p50: number; p90: number; p99: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dr = await gen(net.a, ['rate', net.b.ip, '9100', '1000', '2', '16']);
    const hr = await gen(net.a, ['rate', VIP, '80', '1000', '2', '16']);
    paired.push({ p50: hr.p50 - dr.p50, p90: hr.p90 - dr.p90, p99: hr.p99 - dr.p99 });
    process.stderr.write(`round ${i}: direct ${dr.p50}/${dr.p90}/${dr.p99} hbone ${hr.p50}/${hr.p90}/${hr.p99}\n`);
  }
  const med = (k: 'p50' | 'p90' | 'p99', xs0 = paired): number => { const xs = xs0.map((x) => x[k]).sort((a, b) => a - b); return xs[Math.floor(xs.length / 2)]; };
  await client.stop();
  client = await startTestSidecar(td, net, net.a, { sa: 'client', config: l7Config(net, 'a'), tunnel: 'tls', name: 'client-tls' });
  rows.push(await row('sidecars, TLS per connection', net, VIP, 80, [client, server]));
  const tlsConnect = await gen(net.a, ['connect', VIP, '80', '100', String(Math.min(4, SECONDS))]);
  const directConnect = await gen(net.a, ['connect', net.b.ip, '9100', '100', String(Math.min(4, SECONDS))]);

  const d = rows[0];
  const f = (x: number): string => x.toFixed(3);
  console.log(`\nbench/sidecar  (${SECONDS}s per rate row, 16 connections, 1 KB responses; loadavg before ${load0}, after ${loadavg()}; ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length} CPUs)\n`);
  console.log('| path | p50 ms | p90 ms | p99 ms | added p50/p90/p99 ms | max rps (×direct) | max rps per proxy core (busiest proxy) | bulk MB/s (×direct) | proxies\' CPU s per GiB bulk | CPU vCPU at 1000 rps (each proxy) | RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  const perCore = (r: Row): number => (r.maxCpu.length ? Math.round(r.max.rps / Math.max(...r.maxCpu)) : 0);
  for (const r of rows) {
    const added = r === d ? '—' : `${f(r.rate.p50 - d.rate.p50)} / ${f(r.rate.p90 - d.rate.p90)} / ${f(r.rate.p99 - d.rate.p99)}`;
    console.log(`| ${r.name} | ${f(r.rate.p50)} | ${f(r.rate.p90)} | ${f(r.rate.p99)} | ${added} | ${r.max.rps} (${(r.max.rps / d.max.rps).toFixed(2)}) | ${perCore(r) || '—'} | ${r.bulk.mbps} (${(r.bulk.mbps / d.bulk.mbps).toFixed(2)}) | ${r.bulk.cpuSecPerGiB || '—'} | ${r.cpu.join(' + ') || '—'} | ${r.rss.join(' + ') || '—'} |`);
  }
  const ng = rows.find((r) => r.name.startsWith('nginx'))!, l7 = rows.find((r) => r.name.includes('layer 7'))!;
  console.log(`\nadded latency of the HBONE pair at 1000 rps, median of ${ROUNDS} paired 2 s rounds (direct, then sidecars): p50 ${f(med('p50'))}  p90 ${f(med('p90'))}  p99 ${f(med('p99'))} ms`);
  console.log(`added latency of the layer-7 pair at 1000 rps, median of ${ROUNDS} paired rounds: p50 ${f(med('p50', l7paired))}  p90 ${f(med('p90', l7paired))}  p99 ${f(med('p99', l7paired))} ms (target p99 ≤ 1 ms)`);
  console.log(`layer 7: max rps per sidecar core ${perCore(l7)} vs nginx per core ${perCore(ng)} = ${(perCore(l7) / perCore(ng)).toFixed(2)}× (target ≥ 0.5×); vCPU per sidecar per 1000 rps ${l7.cpu.join(', ')} (target ≤ 0.2); RSS ${l7.rss.join(', ')} MB (target ≤ 60)`);
  console.log('\nnew connection per request at 100/s (connect + 1 request + close), latency ms:');
  for (const [n, c] of [['direct', directConnect], ['HBONE (pooled session)', hboneConnect], ['TLS per connection', tlsConnect]] as const) {
    console.log(`  ${n}: p50 ${f(c.p50)}  p90 ${f(c.p90)}  p99 ${f(c.p99)}  errors ${c.errors}`);
  }
  console.log(JSON.stringify({ loadavg: [load0, loadavg()], rows, paired, l7paired, connect: { directConnect, hboneConnect, tlsConnect } }));
}

async function beforeAfter(net: MeshNet, load0: string, before: string): Promise<void> {
  const variants = [['before', before], ['after', 'dist']] as const;
  const got: Record<string, { added: { p50: number; p90: number; p99: number }; r: Row }[]> = { before: [], after: [] };
  const direct: Row[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    direct.push(await row('direct', net, net.b.ip, 9100, []));
    for (const [name, dist] of variants) {
      const server = await startTestSidecar(td, net, net.b, { sa: 'server', config: meshConfig(net, K, 'b'), dist, name: `server-${name}-${i}` });
      const client = await startTestSidecar(td, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a'), dist, name: `client-${name}-${i}` });
      const d = await gen(net.a, ['rate', net.b.ip, '9100', '1000', String(SECONDS), '16']);
      let r: Row;
      try {
        r = await row(name, net, VIP, 80, [client, server]);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}\nclient: ${client.err().slice(-2000)}\nserver: ${server.err().slice(-2000)}`);
      }
      got[name]!.push({ added: { p50: r.rate.p50 - d.p50, p90: r.rate.p90 - d.p90, p99: r.rate.p99 - d.p99 }, r });
      await client.stop();
      await server.stop();
    }
  }
  const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
  const f = (x: number): string => x.toFixed(3);
  const dBulk = med(direct.map((r) => r.bulk.mbps));
  console.log(`
bench/sidecar --before ${before}  (${ROUNDS} rounds: direct, before, after; ${SECONDS}s at 1000 rps, bulk ${BULK_MB} MiB; loadavg before ${load0}, after ${loadavg()})
`);
  console.log('| variant | added p50 / p90 / p99 ms at 1000 rps | vCPU per sidecar at 1000 rps (client, server) | RSS MB (client, server) | max rps | bulk MB/s (×direct) | CPU s per GiB bulk (pair) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name] of variants) {
    const xs = got[name]!;
    console.log(`| ${name} | ${f(med(xs.map((x) => x.added.p50)))} / ${f(med(xs.map((x) => x.added.p90)))} / ${f(med(xs.map((x) => x.added.p99)))} | ${f(med(xs.map((x) => x.r.cpu[0]!)))}, ${f(med(xs.map((x) => x.r.cpu[1]!)))} | ${med(xs.map((x) => x.r.rss[0]!))}, ${med(xs.map((x) => x.r.rss[1]!))} | ${med(xs.map((x) => x.r.max.rps))} | ${med(xs.map((x) => x.r.bulk.mbps))} (${(med(xs.map((x) => x.r.bulk.mbps)) / dBulk).toFixed(2)}) | ${med(xs.map((x) => x.r.bulk.cpuSecPerGiB))} |`);
  }
  console.log(`(medians over rounds; direct bulk ${dBulk} MB/s)`);
  console.log(JSON.stringify({ loadavg: [load0, loadavg()], direct, got }));
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch { /* best effort */ }
  }
}
