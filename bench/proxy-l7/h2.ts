// gRPC unary calls (@grpc/grpc-js client and server, 1 KB responses) direct and through proxy/http2
// (serveHttp2 + Http2UpstreamPool, one upstream session — over TCP, and inside an HTTP/2 CONNECT stream
// to a tunnel process as the sidecar will run it), and through nginx's grpc_pass (1 worker) when
// nginx has it — same run, bounded time per target, rounds interleaved. Each party is its own process;
// the load generator keeps `concurrency` calls in flight on one channel. Prints calls/s, latency
// percentiles, the proxy's CPU (from /proc) and ratios. Not a test.
//   node dist/bench/proxy-l7/h2.js [seconds=5] [concurrency=16] [rounds=2]
import type * as Grpc from '@grpc/grpc-js';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Decision, Dispatch } from '../../proxy/http1/connection.js';
import { NO_OPS } from '../../proxy/http1/headers.js';
import { serveHttp2 } from '../../proxy/http2/connection.js';
import { detectProtocol } from '../../proxy/http2/detect.js';
import { Http2UpstreamPool, type Http2Dialer } from '../../proxy/http2/pool.js';

const self = fileURLToPath(import.meta.url);
const TICK = 100; // USER_HZ
const ser = (b: Buffer): Buffer => b;
const SERVICE = {
  call: { path: '/bench.Echo/Call', requestStream: false, responseStream: false, requestSerialize: ser, requestDeserialize: ser, responseSerialize: ser, responseDeserialize: ser },
} satisfies Grpc.ServiceDefinition;
// grpc-js is loaded only by the client and server roles: the proxy's RSS is the proxy's.
const loadGrpc = (): Promise<typeof Grpc> => import('@grpc/grpc-js');

// ---------------------------------------------------------------------------------------------
// Roles (each a child process).

async function serverRole(): Promise<void> {
  const grpc = await loadGrpc();
  const reply = Buffer.alloc(1024, 0x78);
  const server = new grpc.Server();
  server.addService(SERVICE, { call: (_c: Grpc.ServerUnaryCall<Buffer, Buffer>, cb: Grpc.sendUnaryData<Buffer>) => cb(null, reply) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  process.send!({ port });
}

/** The far end of a mesh-like tunnel: HTTP/2 CONNECT host:port → TCP (as the HBONE server does, without TLS). */
function tunnelRole(): void {
  const server = createH2Server({ settings: { initialWindowSize: 1 << 20 } });
  server.on('stream', (s, h) => {
    s.on('error', () => {});
    const [host, port] = String(h[':authority']).split(':');
    const app = tcpConnect({ host, port: Number(port), noDelay: true });
    app.on('error', () => s.destroy());
    app.on('connect', () => { s.respond({ ':status': 200 }); s.pipe(app).pipe(s); });
    s.on('close', () => app.destroy());
  });
  server.on('session', (ss) => ss.on('error', () => {}));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}

/** Upstream sessions inside CONNECT streams of one outer session to the tunnel (the sidecar's case). */
function tunnelDialer(tunnelPort: number): Http2Dialer {
  let outer: ClientHttp2Session | null = null;
  return (address, port) => {
    if (!outer || outer.closed || outer.destroyed) {
      outer = h2connect(`http://127.0.0.1:${tunnelPort}`, { settings: { initialWindowSize: 1 << 20 } });
      outer.on('error', () => {});
    }
    const s = outer.request({ ':method': 'CONNECT', ':authority': `${address}:${port}` }, { endStream: false });
    s.once('response', (h) => { if (Number(h[':status']) !== 200) s.destroy(new Error(`CONNECT status ${h[':status']}`)); });
    return s;
  };
}

function proxyRole(upstream: number, tunnelPort: number): void {
  const pool = new Http2UpstreamPool(tunnelPort ? { dial: tunnelDialer(tunnelPort) } : {});
  const dispatch: Dispatch = (head): Decision => ({ kind: 'forward', address: '127.0.0.1', port: upstream, head, responseOps: NO_OPS });
  const server = createServer((sock) => {
    // Sniff as the sidecar will: the first bytes decide, then they are put back.
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const p = detectProtocol(buf);
      if (p === 'need-more') return;
      sock.off('data', onData);
      sock.pause();
      if (p !== 'h2') return void sock.destroy();
      sock.unshift(buf);
      serveHttp2(sock, dispatch, pool);
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}

async function clientRole(port: number, seconds: number, concurrency: number): Promise<void> {
  const grpc = await loadGrpc();
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
  const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const req = Buffer.alloc(64, 0x61);
  const lat: number[] = [];
  let errors = 0;
  const one = (): Promise<void> => new Promise((res) => {
    const t0 = process.hrtime.bigint();
    c.call(req, (err: Error | null) => {
      if (err) errors++;
      else lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      res();
    });
  });
  // Warm-up: channel, session, JIT.
  const warmEnd = Date.now() + 500;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < warmEnd) await one(); }));
  lat.length = 0;
  errors = 0;
  const t0 = Date.now(), end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < end) await one(); }));
  const elapsed = (Date.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  c.close();
  process.send!({ rps: lat.length / elapsed, p50: q(0.5), p90: q(0.9), p99: q(0.99), errors });
}

// ---------------------------------------------------------------------------------------------
// Driver.

const children: ChildProcess[] = [];

function start(role: string, ...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(self, [role, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

interface Result { rps: number; p50: number; p90: number; p99: number; errors: number }

function load(port: number, seconds: number, concurrency: number): Promise<Result> {
  const child = fork(self, ['client', String(port), String(seconds), String(concurrency)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => { child.kill('SIGTERM'); resolve(m); });
    child.once('exit', (code) => { if (code) reject(new Error(`client exited with ${code}`)); });
  });
}

/** CPU seconds of a process and its children (nginx: master + worker). */
function cpu(pid: number): number {
  let total = 0;
  const pids = [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  for (const p of pids) {
    const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    total += (Number(f[11]) + Number(f[12])) / TICK;
  }
  return total;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** nginx as a gRPC proxy (one worker), when this nginx has the http2 and grpc modules. */
async function startNginx(dir: string, upstream: number): Promise<{ child: ChildProcess; port: number } | null> {
  try {
    execFileSync('nginx', ['-V'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err warn; daemon off;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream g { server 127.0.0.1:${upstream}; keepalive 32; }
  server { listen 127.0.0.1:${port} http2; location / { grpc_pass grpc://g; } } }`);
  try {
    execFileSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  children.push(child);
  await new Promise((r) => setTimeout(r, 400));
  return { child, port };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 16);
  const rounds = Number(process.argv[4] ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-h2-'));
  try {
    const up = await start('server');
    const proxy = await start('proxy', String(up.port), '0');
    const tunnel = await start('tunnel');
    const tunnelled = await start('proxy', String(up.port), String(tunnel.port));
    const nginx = await startNginx(dir, up.port);
    const rssIdle = rssMb(proxy.child.pid!);
    const targets = [
      { name: 'direct (grpc-js server)', port: up.port, pid: 0 },
      { name: 'proxy/http2', port: proxy.port, pid: proxy.child.pid! },
      { name: 'proxy/http2, up via CONNECT', port: tunnelled.port, pid: tunnelled.child.pid! },
      ...(nginx ? [{ name: 'nginx grpc_pass (1 worker)', port: nginx.port, pid: nginx.child.pid! }] : []),
    ];
    const sum = new Map(targets.map((t) => [t.name, { rps: 0, p50: 0, p90: 0, p99: 0, cpu: 0, errors: 0 }]));
    for (let r = 0; r < rounds; r++)
      for (const t of targets) {
        const c0 = t.pid ? cpu(t.pid) : 0;
        const w0 = Date.now();
        const res = await load(t.port, seconds, concurrency);
        const wall = (Date.now() - w0) / 1000;
        const s = sum.get(t.name)!;
        s.rps += res.rps / rounds;
        s.p50 += res.p50 / rounds;
        s.p90 += res.p90 / rounds;
        s.p99 += res.p99 / rounds;
        s.errors += res.errors;
        // CPU over the whole client run (warm-up included), per second of it.
        s.cpu += t.pid ? (cpu(t.pid) - c0) / wall / rounds : 0;
      }
    const direct = sum.get(targets[0].name)!;
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${rounds} rounds x ${seconds}s, ${concurrency} calls in flight on one channel, 1 KB responses`);
    console.log('target                        calls/s   p50 ms   p90 ms   p99 ms   proxy cores   calls/core   vs direct   errors');
    for (const t of targets) {
      const s = sum.get(t.name)!;
      const perCore = s.cpu > 0 ? (s.rps / s.cpu).toFixed(0) : '-';
      console.log(`${t.name.padEnd(28)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(2).padStart(8)} ${s.p90.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)}   ${(s.cpu ? s.cpu.toFixed(2) : '-').padStart(11)}   ${perCore.padStart(10)}   ${(s.rps / direct.rps).toFixed(2).padStart(9)}   ${String(s.errors).padStart(6)}`);
    }
    console.log(`proxy/http2 RSS ${rssIdle.toFixed(0)} MB idle, ${rssMb(proxy.child.pid!).toFixed(0)} MB after the runs; added p50 ${(sum.get('proxy/http2')!.p50 - direct.p50).toFixed(2)} ms, p99 ${(sum.get('proxy/http2')!.p99 - direct.p99).toFixed(2)} ms`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 300);
  }
}

const role = process.argv[2];
if (role === 'server') void serverRole();
else if (role === 'proxy') proxyRole(Number(process.argv[3]), Number(process.argv[4] ?? 0));
else if (role === 'tunnel') tunnelRole();
else if (role === 'client') void clientRole(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
else main().catch((e) => { console.error(e); process.exitCode = 1; });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
