// bench/service-proxy/wrk: HTTP throughput through a ClusterIP against the same backend reached directly
// by its pod IP, with the proxy in nftables mode and in userspace mode (each measured against direct in
// the same cluster run, so the ratio is fair). A cluster from `shoal up` (no DNS), one shoal/hello replica,
// wrk from the host. Root only. Not a test.
//   node dist/bench/service-proxy/wrk.js [seconds=5] [connections=32]

import { execFileSync } from 'node:child_process';
import { upCluster } from '../up-cluster.js';

const seconds = Number(process.argv[2] ?? 5);
const conns = Number(process.argv[3] ?? 32);

/** wrk's requests/s and p99 latency (ms) for `url`. */
function wrk(url: string, secs = seconds): { rps: number; p99: number } {
  const out = execFileSync('wrk', ['-t2', `-c${conns}`, `-d${secs}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'ms'] : NaN;
  return { rps, p99 };
}

async function run(mode: 'nftables' | 'userspace', octet: number): Promise<{ direct: { rps: number; p99: number }; vip: { rps: number; p99: number } }> {
  const c = await upCluster('wrk', octet, ['--no-dns', '--proxy-mode', mode]);
  const api = c.api;
  try {
    await api.create({ apiVersion: 'apps/v1', plural: 'deployments', namespaced: true }, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'shoal/hello:1', ports: [{ containerPort: 8080 }] }] } } },
    }, { namespace: 'default' });
    const svc = await api.create({ apiVersion: 'v1', plural: 'services', namespaced: true }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }, { namespace: 'default' });
    let podIP = '';
    const ready = Date.now() + 60_000;
    while (!podIP && Date.now() < ready) {
      const ps = (await api.list({ apiVersion: 'v1', plural: 'pods', namespaced: true }, { namespace: 'default' })).items;
      const p = ps.find((x) => (x.status?.conditions ?? []).some((cd: any) => cd.type === 'Ready' && cd.status === 'True'));
      if (p) podIP = p.status.podIP;
      else await new Promise((r) => setTimeout(r, 200));
    }
    const vipUrl = `http://${svc.spec.clusterIP}/`;
    const vipOk = Date.now() + 30_000;
    while (Date.now() < vipOk) {
      try {
        if ((await fetch(vipUrl)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    wrk(`http://${podIP}:8080/`, 2); // warm-up
    const direct = wrk(`http://${podIP}:8080/`);
    const vip = wrk(vipUrl);
    return { direct, vip };
  } finally {
    await c.stop();
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench/service-proxy/wrk: needs root');
  process.exit(1);
}
const nft = await run('nftables', 182);
const usr = await run('userspace', 183);
const f = (x: number) => x.toFixed(0);
console.log(`wrk -t2 -c${conns} -d${seconds}s from the host to one shoal/hello pod (requests/s, p99 ms)`);
console.log('path                        req/s     p99 ms   ratio to direct (same cluster run)');
console.log(`direct pod IP (nft run)     ${f(nft.direct.rps).padEnd(10)}${nft.direct.p99.toFixed(2).padEnd(9)}1.00`);
console.log(`ClusterIP, nftables mode    ${f(nft.vip.rps).padEnd(10)}${nft.vip.p99.toFixed(2).padEnd(9)}${(nft.vip.rps / nft.direct.rps).toFixed(2)}   target >= 0.95`);
console.log(`direct pod IP (user run)    ${f(usr.direct.rps).padEnd(10)}${usr.direct.p99.toFixed(2).padEnd(9)}1.00`);
console.log(`ClusterIP, userspace mode   ${f(usr.vip.rps).padEnd(10)}${usr.vip.p99.toFixed(2).padEnd(9)}${(usr.vip.rps / usr.direct.rps).toFixed(2)}   target >= 0.60`);
