// HTTP/1.1 reverse-proxy throughput on loopback, same run, same upstream (an nginx origin with one worker
// returning 1 KB): direct; through proxy/http1 (bench/proxy-l7/proxy.ts), bare and with the sidecar's
// filter chain over a compiled VirtualService; through nginx as a keep-alive reverse proxy with one worker;
// through node:http + undici. wrk, 16 connections, one thread, bounded
// seconds per target, rounds interleaved. Prints rps, the proxy's CPU (from /proc, so "rps per core" =
// rps / cores used) and ratios to nginx. Not a test.
//   node dist/bench/proxy-l7/run.js [seconds=5] [rounds=2]
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 2);
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-l7-'));
const base = 20000 + Math.floor(Math.random() * 20000);
const ORIGIN = base, NGINX = base + 1, OURS = base + 2, NODE = base + 3, CHAIN = base + 4;
const children: ChildProcess[] = [];
const TICK = 100; // USER_HZ

function nginxConf(name: string, server: string): string {
  return `worker_processes 1; pid ${dir}/${name}.pid; error_log ${dir}/${name}.err warn; daemon off;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}/${name}-body; proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fcgi; uwsgi_temp_path ${dir}/${name}-uwsgi; scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 1000000; ${server} }`;
}

async function startNginx(name: string, server: string): Promise<ChildProcess> {
  writeFileSync(join(dir, `${name}.conf`), nginxConf(name, server));
  const p = spawn('nginx', ['-p', dir, '-c', join(dir, `${name}.conf`)], { stdio: 'ignore' });
  children.push(p);
  await new Promise((r) => setTimeout(r, 400));
  return p;
}

async function startNode(script: string, listen: number, ...extra: string[]): Promise<ChildProcess> {
  const p = fork(join(here, script), [String(listen), String(ORIGIN), ...extra], { stdio: 'ignore' });
  children.push(p);
  await new Promise((resolve, reject) => { p.once('message', resolve); p.once('exit', reject); });
  return p;
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

function wrk(port: number): number {
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const errs = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  if (errs) console.log(`  port ${port}: ${errs[0]}`);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const body = 'x'.repeat(1024);
  await startNginx('origin', `server { listen 127.0.0.1:${ORIGIN}; location / { default_type text/plain; return 200 "${body}"; } }`);
  const nginx = await startNginx('proxy', `upstream o { server 127.0.0.1:${ORIGIN}; keepalive 32; }
    server { listen 127.0.0.1:${NGINX}; location / { proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection ""; } }`);
  const ours = await startNode('proxy.js', OURS);
  const chain = await startNode('proxy.js', CHAIN, 'chain');
  const node = await startNode('node-proxy.js', NODE);
  const targets = [
    { name: 'direct (nginx origin)', port: ORIGIN, pid: 0 },
    { name: 'nginx proxy (1 worker)', port: NGINX, pid: nginx.pid! },
    { name: 'proxy/http1', port: OURS, pid: ours.pid! },
    { name: 'proxy/http1 + filter chain', port: CHAIN, pid: chain.pid! },
    { name: 'node:http + undici', port: NODE, pid: node.pid! },
  ];
  for (const t of targets) if (t.port !== ORIGIN) wrk1s(t.port);
  const sum = new Map(targets.map((t) => [t.name, { rps: 0, cpu: 0 }]));
  for (let r = 0; r < rounds; r++)
    for (const t of targets) {
      const c0 = t.pid ? cpu(t.pid) : 0;
      const rps = wrk(t.port);
      const used = t.pid ? (cpu(t.pid) - c0) / seconds : 0;
      const s = sum.get(t.name)!;
      s.rps += rps / rounds;
      s.cpu += used / rounds;
    }
  const ng = sum.get('nginx proxy (1 worker)')!;
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${rounds} rounds x ${seconds}s, wrk -t1 -c16, 1 KB responses`);
  console.log('target                      rps      proxy cores   rps/core   rps vs nginx   rps/core vs nginx');
  for (const t of targets) {
    const s = sum.get(t.name)!;
    const perCore = s.cpu > 0 ? s.rps / s.cpu : 0;
    const ngPerCore = ng.rps / ng.cpu;
    console.log(`${t.name.padEnd(26)} ${s.rps.toFixed(0).padStart(7)}   ${s.cpu ? s.cpu.toFixed(2).padStart(10) : '         -'}   ${perCore ? perCore.toFixed(0).padStart(8) : '       -'}   ${(s.rps / ng.rps).toFixed(2).padStart(12)}   ${perCore ? (perCore / ngPerCore).toFixed(2).padStart(17) : '                -'}`);
  }
}

function wrk1s(port: number): void {
  execFileSync('wrk', ['-t1', '-c16', '-d1s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 300);
});
