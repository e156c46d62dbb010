// Benchmark (not a test): dnsperf against Shoal's DNS and against dnsmasq serving the same names from a
// hosts file, each server pinned to core 0 (taskset), dnsperf on core 1, in the same run. Prints qps at
// saturation and p50/p99 latency at a fixed moderate rate (dnsperf -v per-query latencies), as ratios.
//
//   node dist/bench/dns/run.js [--seconds 10] [--services 200] [--rate 5000]
//
// Needs: dnsperf, dnsmasq, taskset (util-linux). Everything it starts is stopped and removed at the end.

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../../test/client/fixture.js';
import { freePort, startDnsmasq } from '../../test/dns/helpers.js';

const run = promisify(execFile);
const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const seconds = arg('seconds', 10), services = arg('services', 200), rate = arg('rate', 5000);

async function dnsperf(port: number, file: string, extra: string[]): Promise<string> {
  const { stdout } = await run('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '4', '-q', '200', '-t', '2', ...extra], { maxBuffer: 1 << 30 });
  return stdout;
}

function summary(out: string): { qps: number; lost: string } {
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '?';
  return { qps, lost };
}

function percentiles(out: string): { p50: number; p99: number } {
  const lat = out.split('\n').map((l) => /^> \w+ .* ([\d.]+)$/.exec(l)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
  const at = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 1e6 : NaN);
  return { p50: at(0.5), p99: at(0.99) };
}

async function measure(name: string, port: number, file: string) {
  await dnsperf(port, file, ['-l', '2']); // warm-up (later -l wins)
  const sat = summary(await dnsperf(port, file, []));
  const lat = percentiles(await dnsperf(port, file, ['-Q', String(rate), '-v']));
  return { name, ...sat, ...lat };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'shoalb-dns-'));
  const cluster = await startCluster('shoalb-dns-api-');
  const hosts: string[] = [], queries: string[] = [];
  const c = cluster.client();
  for (let i = 0; i < services; i++) {
    const ip = `10.96.${(i >> 8) & 255}.${(i & 255) + 1}`;
    await c.create({ apiVersion: 'v1', plural: 'services', namespaced: true }, { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'default' }, spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    hosts.push(`${ip} s${i}.default.svc.cluster.local`);
    queries.push(`s${i}.default.svc.cluster.local A`);
  }
  const file = join(dir, 'queries');
  writeFileSync(file, queries.join('\n') + '\n');
  const dnsmasq = await startDnsmasq('shoalb-dns-mq-', hosts.join('\n') + '\n', ['--cache-size=10000', '--no-negcache'], { logQueries: false });
  // pin dnsmasq to core 0 (it is already running: taskset -p)
  await run('taskset', ['-pc', '0', String(dnsmasq.pid)]);
  const port = await freePort();
  const shoal = spawn('taskset', ['-c', '0', process.execPath, 'dist/dns/main.js', '--kubeconfig', cluster.kubeconfigPath, '--listen', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--health', '', '--ready', '127.0.0.1:0', '--metrics', ''], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 100; i++) {
      const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=1', 's0.default.svc.cluster.local']).catch(() => ({ stdout: '' }));
      if (stdout.trim() === '10.96.0.1') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const a = await measure('dnsmasq', dnsmasq.port, file);
    const b = await measure('shoal-dns', port, file);
    const fmt = (r: typeof a) => `| ${r.name.padEnd(10)} | ${r.qps.toFixed(0).padStart(8)} | ${r.lost.padEnd(12)} | ${r.p50.toFixed(0).padStart(8)} | ${r.p99.toFixed(0).padStart(8)} |`;
    console.log(`dnsperf, ${services} names, ${seconds} s, server on core 0, dnsperf on core 1; latency at ${rate} qps`);
    console.log('| server     |      qps | lost         | p50 (µs) | p99 (µs) |');
    console.log('|------------|----------|--------------|----------|----------|');
    console.log(fmt(a));
    console.log(fmt(b));
    console.log(`shoal/dnsmasq: qps ${(b.qps / a.qps).toFixed(2)}× (target ≥ 0.50), p99 ${(b.p99 / a.p99).toFixed(2)}× (target ≤ 2)`);
  } finally {
    const exited = new Promise((r) => shoal.once('exit', r));
    shoal.kill('SIGTERM');
    await exited;
    await dnsmasq.close();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
