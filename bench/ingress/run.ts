// Shoal's ingress against nginx as the equivalent reverse proxy, same run, same upstream (an nginx origin
// with one worker returning 1 KB), plain HTTP and TLS: wrk -t1 -c16 with keep-alive, `Host: bench.test`,
// bounded seconds per target, rounds interleaved. The ingress runs as its process (dist/ingress/main.js)
// against an in-process API server holding one Ingress with TLS (the Service and its endpoint come from a
// static mesh config file); nginx runs one worker with an upstream keepalive pool. Prints rps, p99, the
// proxy's CPU (from /proc: rps per core) and the ratios Shoal / nginx. Not a test.
//   node dist/bench/ingress/run.js [seconds=5] [rounds=1]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../test/client/fixture.js';
import { freePort } from '../../lib/serve/serve.js';
import { distDir } from '../../node/images/builtin.js';
import { buildCertificate, newKey } from '../../proxy/identity/x509.js';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-ingress-'));
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

/** wrk's rps and p99 (ms). */
function wrk(url: string, secs = seconds): { rps: number; p99: number; errors: string } {
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${secs}s`, '--latency', '-H', 'Host: bench.test', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : 0;
  const errors = [/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[0], /Socket errors: (.*)/.exec(out)?.[0]].filter(Boolean).join('; ');
  return { rps, p99, errors };
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(url).catch(() => null))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready`);
}

async function main(): Promise<void> {
  const [ORIGIN, NG_HTTP, NG_HTTPS, SH_HTTP, SH_HTTPS, SH_HEALTH] = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
  const k = newKey('ec');
  const cert = buildCertificate({ spki: k.spki, subject: { cn: 'bench.test' }, sans: { dns: ['bench.test'] }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) }, { key: k.privateKey, selfSigned: true });
  writeFileSync(join(dir, 'tls.crt'), cert);
  writeFileSync(join(dir, 'tls.key'), k.keyPem);
  const body = 'x'.repeat(1024);
  await startNginx('origin', `server { listen 127.0.0.1:${ORIGIN}; location / { default_type text/plain; return 200 "${body}"; } }`);
  const nginx = await startNginx('proxy', `upstream web { server 127.0.0.1:${ORIGIN}; keepalive 32; }
    server { listen 127.0.0.1:${NG_HTTP}; listen 127.0.0.1:${NG_HTTPS} ssl; server_name bench.test;
      ssl_certificate ${dir}/tls.crt; ssl_certificate_key ${dir}/tls.key;
      location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; } }`);

  const cluster = await startCluster('shoalb-ingress-');
  try {
    const c = cluster.client();
    await c.create({ apiVersion: 'v1', plural: 'secrets', namespaced: true }, { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'bench-tls', namespace: 'default' },
      data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(k.keyPem).toString('base64') } } as any);
    await c.create({ apiVersion: 'networking.k8s.io/v1', plural: 'ingressclasses', namespaced: false }, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: { name: 'shoal', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'shoal.io/ingress-controller' } } as any);
    await c.create({ apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true }, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
      metadata: { name: 'bench', namespace: 'default', annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' } },
      spec: { tls: [{ hosts: ['bench.test'], secretName: 'bench-tls' }], rules: [{ host: 'bench.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } } as any);
    writeFileSync(join(dir, 'mesh.json'), JSON.stringify({
      services: [{ name: 'web', namespace: 'default', hostname: 'web.default.svc.cluster.local', vips: ['10.96.0.80'], ports: [{ name: 'http', port: 80, targetPort: ORIGIN, protocol: 'TCP' }] }],
      endpoints: [{ service: 'default/web', endpoints: [{ address: '127.0.0.1', ports: [{ name: 'http', port: ORIGIN }], podName: 'web-0', namespace: 'default', mesh: false, ready: true }] }],
      workload: { name: 'shoal-ingress', namespace: 'kube-system', serviceAccount: 'shoal-ingress', identity: 'spiffe://cluster.local/ns/kube-system/sa/shoal-ingress', ip: '127.0.0.1' },
    }));
    // SHOAL_BENCH_PROF=DIR writes a V8 CPU profile of the ingress there (open it in Chrome DevTools).
    const prof = process.env.SHOAL_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.SHOAL_BENCH_PROF] : [];
    const shoal = spawn(process.execPath, [...prof, '--max-semi-space-size=8', join(distDir(), 'ingress', 'main.js'), '--kubeconfig', cluster.kubeconfigPath, '--config-file', join(dir, 'mesh.json'),
      '--bind', '127.0.0.1', '--http-port', String(SH_HTTP), '--https-port', String(SH_HTTPS), '--health-port', String(SH_HEALTH)], { stdio: 'ignore' });
    children.push(shoal);
    await waitHttp(`http://127.0.0.1:${SH_HEALTH}/ready`);
    await new Promise((r) => setTimeout(r, 300));
    const targets = [
      { name: 'nginx http', url: `http://127.0.0.1:${NG_HTTP}/`, pid: nginx.pid!, kind: 'http', who: 'nginx' },
      { name: 'shoal http', url: `http://127.0.0.1:${SH_HTTP}/`, pid: shoal.pid!, kind: 'http', who: 'shoal' },
      { name: 'nginx https', url: `https://127.0.0.1:${NG_HTTPS}/`, pid: nginx.pid!, kind: 'https', who: 'nginx' },
      { name: 'shoal https', url: `https://127.0.0.1:${SH_HTTPS}/`, pid: shoal.pid!, kind: 'https', who: 'shoal' },
    ];
    for (const t of targets) {
      const w = wrk(t.url, 1); // warm-up (JIT, pools)
      if (w.errors) console.log(`  warm-up ${t.name}: ${w.errors}`);
    }
    const sum = new Map(targets.map((t) => [t.name, { rps: 0, p99: 0, cpu: 0 }]));
    for (let r = 0; r < rounds; r++)
      for (const t of targets) {
        const c0 = cpu(t.pid);
        const w = wrk(t.url);
        if (w.errors) console.log(`  ${t.name}: ${w.errors}`);
        const s = sum.get(t.name)!;
        s.rps += w.rps / rounds;
        s.p99 += w.p99 / rounds;
        s.cpu += (cpu(t.pid) - c0) / seconds / rounds;
      }
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${rounds} round(s) x ${seconds}s, wrk -t1 -c16 keep-alive, 1 KB responses, one nginx worker, one ingress process`);
    console.log('target         rps     p99 ms   proxy cores   rps/core');
    for (const t of targets) {
      const s = sum.get(t.name)!;
      console.log(`${t.name.padEnd(12)} ${s.rps.toFixed(0).padStart(6)}   ${s.p99.toFixed(2).padStart(7)}   ${s.cpu.toFixed(2).padStart(11)}   ${(s.rps / s.cpu).toFixed(0).padStart(8)}`);
    }
    console.log('ratio (shoal / nginx)   rps    rps/core   p99');
    for (const kind of ['http', 'https']) {
      const n = sum.get(`nginx ${kind}`)!, s = sum.get(`shoal ${kind}`)!;
      console.log(`${kind.padEnd(22)} ${(s.rps / n.rps).toFixed(2).padStart(5)}   ${((s.rps / s.cpu) / (n.rps / n.cpu)).toFixed(2).padStart(8)}   ${(s.p99 / n.p99).toFixed(2).padStart(5)}`);
    }
  } finally {
    await cluster.close();
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 1500);
});
