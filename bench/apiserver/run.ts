// bench/apiserver: the API server on SQLite and on etcd, side by side in one run.
// Measures pod creates/s with p50/p99 latency (1 KB pods, 16 concurrent clients), get latency, list of 1k
// and 10k pods, watch delivery (100 watchers, 1k events: p99 from write to delivery) and the server's RSS
// with 10k pods stored. Not a test: it prints figures and never fails on them.
//
//   node dist/bench/apiserver/run.js [--pods 10000] [--creates 3000] [--only sqlite|etcd]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import { freePort } from '../../lib/serve/serve.js';

const here = dirname(fileURLToPath(import.meta.url));
const apiserverMain = join(here, '..', '..', 'control-plane', 'apiserver', 'main.js');

const { values: flags } = parseArgs({ options: { pods: { type: 'string', default: '10000' }, creates: { type: 'string', default: '3000' }, only: { type: 'string' } } });
const TOTAL_PODS = Number(flags.pods);
const CREATES = Number(flags.creates);
const CONCURRENCY = 16;

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function waitFor(fn: () => Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function rssMb(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : NaN;
}

function podBody(i: number): string {
  // about 1 KB serialized
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `bench-${i}`, labels: { app: 'bench', shard: String(i % 10) }, annotations: { note: 'x'.repeat(420) } },
    spec: { containers: [{ name: 'app', image: 'shoal/hello:1', ports: [{ containerPort: 8080 }], env: [{ name: 'A', value: 'b' }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });
}

interface Result {
  backend: string;
  createsPerSec: number;
  createP50: number;
  createP99: number;
  pacedP50: number;
  pacedP99: number;
  getP50: number;
  getP99: number;
  list1k: number;
  list10k: number;
  watchP50: number;
  watchP99: number;
  watchDelivered: number;
  rss: number;
}

async function startEtcd(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const client = await freePort();
  const peer = await freePort();
  const child = spawn('etcd', [
    '--name', 'bench', '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `bench=http://127.0.0.1:${peer}`, '--log-level', 'error',
  ], { stdio: 'ignore' });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${client}/health`)).ok, 15000, 'etcd');
  return { url: `etcd://127.0.0.1:${client}`, child };
}

async function benchBackend(backend: 'sqlite' | 'etcd'): Promise<Result> {
  const home = mkdtempSync(join(tmpdir(), `shoalb-api-${backend}-`));
  const children: ChildProcess[] = [];
  try {
    let store = join(home, 'state.db');
    if (backend === 'etcd') {
      const e = await startEtcd(home);
      children.push(e.child);
      store = e.url;
    }
    const port = await freePort();
    const srv = spawn(process.execPath, [apiserverMain, '--home', home, '--store', store, '--bind-address', '127.0.0.1', '--secure-port', String(port), '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(srv);
    const base = `https://127.0.0.1:${port}`;
    await waitFor(async () => existsSync(join(home, 'pki', 'tokens.csv')), 15000, 'pki');
    const ca = readFileSync(join(home, 'pki', 'ca.crt'), 'utf8');
    const token = readFileSync(join(home, 'pki', 'tokens.csv'), 'utf8').split(',')[0]!;
    const agent = new Agent({ connect: { ca }, connections: CONCURRENCY * 2, pipelining: 1 });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: string) => {
      const r = await request(`${base}${path}`, { method: method as any, headers, body, dispatcher: agent });
      const text = await r.body.text();
      if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 200)}`);
      return text;
    };
    await waitFor(async () => (await request(`${base}/readyz`, { dispatcher: agent })).statusCode === 200, 20000, 'apiserver');
    const P = '/api/v1/namespaces/default/pods';

    // warm-up
    for (let i = 0; i < 100; i++) await call('POST', P, podBody(1_000_000 + i));

    // creates: CREATES pods, 16 concurrent
    let next = 0;
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < CREATES) {
        const i = next++;
        const s = performance.now();
        await call('POST', P, podBody(i));
        lat.push(performance.now() - s);
      }
    }));
    const createsPerSec = CREATES / ((performance.now() - t0) / 1000);

    // paced: 500 creates/s offered for 3 s (latency measured from the scheduled send time)
    const RATE = 500;
    const PACED = 1500;
    const plat: number[] = [];
    const pstart = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < PACED; i++) {
      const due = pstart + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(call('POST', P, podBody(2_000_000 + i)).then(() => void plat.push(performance.now() - due)));
    }
    await Promise.all(inflight);

    // gets
    const glat: number[] = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      await call('GET', `${P}/bench-${i % CREATES}`);
      glat.push(performance.now() - s);
    }

    // list 1k: pods in namespace "l1k"
    await call('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'l1k' } }));
    next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < 1000) {
        const i = next++;
        await call('POST', '/api/v1/namespaces/l1k/pods', podBody(i));
      }
    }));
    const time = async (fn: () => Promise<unknown>, n = 3) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await fn();
        xs.push(performance.now() - s);
      }
      return pct(xs, 50);
    };
    const list1k = await time(() => call('GET', '/api/v1/namespaces/l1k/pods'));

    // fill the default namespace until the store holds TOTAL_PODS pods, then list them all (every namespace)
    const stored = 100 + CREATES + PACED + 1000;
    next = CREATES;
    const fillTo = CREATES + Math.max(0, TOTAL_PODS - stored);
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < fillTo) {
        const i = next++;
        await call('POST', P, podBody(i));
      }
    }));
    const list10k = await time(() => call('GET', '/api/v1/pods'));
    await new Promise((r) => setTimeout(r, 3000)); // let the server settle (idle GC) before reading RSS
    const rss = rssMb(srv.pid!);
    if (process.env.SHOAL_BENCH_HEAP) {
      const m = await call('GET', '/metrics');
      process.stderr.write(`${backend}: ${m.split('\n').filter((l) => /^(nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes|process_resident_memory_bytes) /.test(l)).join('; ')}\n`);
    }

    // watch delivery: 100 watchers, 1k events
    const rv = JSON.parse(await call('GET', `${P}?limit=1`)).metadata.resourceVersion;
    const sent = new Map<string, number>();
    const delays: number[] = [];
    let delivered = 0;
    const watchAgent = new Agent({ connect: { ca }, connections: 110 });
    const ctrl = new AbortController();
    setMaxListeners(200, ctrl.signal);
    const watchers = await Promise.all(Array.from({ length: 100 }, async () => {
      const r = await request(`${base}/api/v1/namespaces/wb/pods?watch=true&resourceVersion=${rv}`, { headers, dispatcher: watchAgent, signal: ctrl.signal });
      let buf = '';
      r.body.setEncoding('utf8');
      r.body.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const name = /"name":"(wb-\d+)"/.exec(line)?.[1];
          const at = name ? sent.get(name) : undefined;
          if (at !== undefined) {
            delays.push(performance.now() - at);
            delivered++;
          }
        }
      });
      r.body.on('error', () => {});
      return r;
    }));
    await call('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'wb' } }));
    for (let i = 0; i < 1000; i++) {
      sent.set(`wb-${i}`, performance.now());
      await call('POST', '/api/v1/namespaces/wb/pods', podBody(i).replace(`bench-${i}`, `wb-${i}`));
    }
    await waitFor(async () => delivered >= 100_000, 20000, 'watch delivery').catch(() => undefined);
    ctrl.abort();
    void watchers;
    await watchAgent.destroy().catch(() => undefined);

    await agent.close();
    return {
      backend, createsPerSec, createP50: pct(lat, 50), createP99: pct(lat, 99), pacedP50: pct(plat, 50), pacedP99: pct(plat, 99), getP50: pct(glat, 50), getP99: pct(glat, 99),
      list1k, list10k, watchP50: pct(delays, 50), watchP99: pct(delays, 99), watchDelivered: delivered, rss,
    };
  } finally {
    for (const c of children.reverse()) {
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once('exit', r)));
    }
    rmSync(home, { recursive: true, force: true });
  }
}

const backends: ('sqlite' | 'etcd')[] = flags.only ? [flags.only as 'sqlite' | 'etcd'] : ['sqlite', 'etcd'];
const results: Result[] = [];
for (const b of backends) {
  process.stderr.write(`bench/apiserver: ${b}...\n`);
  results.push(await benchBackend(b));
}
const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const rows: [string, (r: Result) => string, string][] = [
  ['pod creates/s (16 clients, saturated)', (r) => f(r.createsPerSec, 0), ''],
  ['create p50 ms', (r) => f(r.createP50), ''],
  ['create p99 ms (saturated)', (r) => f(r.createP99), ''],
  ['create p50 ms at 500/s', (r) => f(r.pacedP50), ''],
  ['create p99 ms at 500/s', (r) => f(r.pacedP99), 'target ≤ 50'],
  ['get p50 ms', (r) => f(r.getP50), ''],
  ['get p99 ms', (r) => f(r.getP99), ''],
  ['list 1k pods ms', (r) => f(r.list1k), ''],
  [`list ${TOTAL_PODS} pods ms`, (r) => f(r.list10k), 'target ≤ 1000'],
  ['watch delivery p50 ms', (r) => f(r.watchP50), ''],
  ['watch delivery p99 ms', (r) => f(r.watchP99), 'target ≤ 100'],
  ['watch events delivered', (r) => String(r.watchDelivered), 'of 100000'],
  [`apiserver RSS MB (${TOTAL_PODS} pods stored, after the list)`, (r) => f(r.rss, 0), 'target ≤ 300'],
];
const header = ['metric', ...results.map((r) => r.backend), ...(results.length === 2 ? ['etcd/sqlite'] : []), 'note'];
const table = rows.map(([name, get, note]) => {
  const cells = results.map(get);
  const ratio = results.length === 2 ? f(Number(cells[1]) / Number(cells[0]), 2) : undefined;
  return [name, ...cells, ...(ratio !== undefined ? [ratio] : []), note];
});
const widths = header.map((_, i) => Math.max(header[i]!.length, ...table.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(header));
for (const r of table) console.log(line(r));
