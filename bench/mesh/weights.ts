// A VirtualService weight change reaching every proxy (issue 14: "within 1 s of the API write"): a real API
// server (in this process), mesh control as its own process (dist/control-plane/mesh/main.js) and N proxies
// here, each the sidecar's own DiscoveryClient (proxy/discovery/client.ts: TLS, SA token, ACK/NACK) feeding
// its own ConfigStore, which validates the RouteConfig and compiles the route table. Each write is a merge
// patch of the VirtualService's weights (90/10 → 80/20 → …), timed from just before the API call to the
// moment each proxy's store has applied a snapshot whose compiled route for reviews:9080 carries the new
// weights (read with findVirtualHost/findRoute, as the route filter does). Prints p50/p99/max per proxy and
// for the last proxy of each write. Target: ≤ 1 s. Not a test.
// Usage: node dist/bench/mesh/weights.js [proxies=50] [writes=20]

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigStore } from '../../proxy/config/store.js';
import { DiscoveryClient } from '../../proxy/discovery/client.js';
import { findRoute, findVirtualHost } from '../../proxy/route/match.js';
import type { Snapshot } from '../../proxy/config/store.js';
import { R, startApi } from '../../test/mesh-control/fixture.js';
import { waitFor } from '../../test/wait.js';
import { freePort } from '../../lib/serve/serve.js';

const PROXIES = Number(process.argv[2] ?? 50);
const WRITES = Number(process.argv[3] ?? 20);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VS = { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true };
const DR = { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true };
const HOST = 'reviews.bench.svc.cluster.local';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

/** The weights the route filter would split by for a request to reviews:9080 ('' when not routed yet). */
function weightsOf(s: Snapshot): string {
  const vh = findVirtualHost(s.routes, HOST, 9080);
  const r = vh && findRoute(vh, { method: 'GET', scheme: 'http', authority: HOST, path: '/', headers: [], port: 9080, sourceLabels: {}, sourceNamespace: 'bench', sourceIp: '' });
  return r && r.route.action.kind === 'route' ? r.route.action.destinations.map((d) => d.weight).join('/') : '';
}

const split = (v2: number) => [{ route: [
  { destination: { host: 'reviews', subset: 'v1' }, weight: 100 - v2 },
  { destination: { host: 'reviews', subset: 'v2' }, weight: v2 },
] }];

async function main(): Promise<void> {
  const api = await startApi('shoalb-meshweights-');
  const [grpcPort, debugPort] = [await freePort(), await freePort()];
  const mesh = spawn(process.execPath, ['--max-semi-space-size=2', join(dist, 'control-plane', 'mesh', 'main.js'), '--kubeconfig', api.kubeconfigPath, '--grpc-port', String(grpcPort), '--debug-port', String(debugPort),
    '--bind-address', '127.0.0.1', '--home', api.home, '--advertise-address', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const clients: DiscoveryClient[] = [];
  const cleanup = async () => {
    for (const c of clients) c.stop();
    mesh.kill('SIGTERM');
    await api.close();
  };
  try {
    const tokenFile = join(api.home, 'bench-token');
    writeFileSync(tokenFile, await api.tokenFor('bench', 'app'));
    for (let i = 0; i < PROXIES; i++) await api.pod('bench', `app-${i}`, { sa: 'app', labels: { app: 'app' }, ip: `10.244.1.${i + 1}`, sidecar: true });
    await api.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'bench' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] } } as any, { namespace: 'bench' });
    await api.client.create(DR, { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'bench' }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } } as any, { namespace: 'bench' });
    await api.client.create(VS, { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'bench' }, spec: { hosts: ['reviews'], http: split(10) } } as any, { namespace: 'bench' });
    await waitFor('mesh control ready', async () => (await fetch(`http://127.0.0.1:${debugPort}/ready`).catch(() => undefined))?.status === 200, 30_000);
    const rootCertFile = join(api.home, 'pki', 'mesh', 'root-cert.pem');
    const stores: ConfigStore[] = [];
    const quiet = () => { /* the proxies' logs are not the benchmark's output */ };
    const t0 = performance.now();
    for (let i = 0; i < PROXIES; i++) {
      const store = new ConfigStore();
      const c = new DiscoveryClient({ address: `127.0.0.1:${grpcPort}`, rootCertFile, tokenFile, log: quiet,
        node: { id: `app-${i}.bench`, podName: `app-${i}`, namespace: 'bench', ip: `10.244.1.${i + 1}`, serviceAccount: 'app', labels: {} } });
      c.start(store);
      stores.push(store);
      clients.push(c);
    }
    await waitFor('every proxy routes 90/10', async () => stores.every((s) => weightsOf(s.snapshot) === '90/10'), 60_000);
    console.log(`${PROXIES} proxies (DiscoveryClient + ConfigStore) connected and routing 90/10 in ${(performance.now() - t0).toFixed(0)} ms\n`);

    const perProxy: number[] = [];
    const lastProxy: number[] = [];
    for (let w = 0; w < WRITES; w++) {
      const v2 = 20 + (w % 8) * 10; // 20..90, never the current value
      const want = `${100 - v2}/${v2}`;
      const seen = new Array<number>(PROXIES).fill(0);
      const listeners = stores.map((s, i) => {
        const on = (snap: Snapshot) => { if (!seen[i] && weightsOf(snap) === want) seen[i] = performance.now(); };
        s.on('change', on);
        return on;
      });
      const start = performance.now();
      await api.client.patch(VS, 'reviews', { spec: { http: split(v2) } }, { type: 'merge', namespace: 'bench' });
      await waitFor(`write ${w}: every proxy routes ${want}`, async () => seen.every((x) => x > 0), 10_000, 5);
      stores.forEach((s, i) => s.off('change', listeners[i]!));
      const lat = seen.map((x) => x - start);
      perProxy.push(...lat);
      lastProxy.push(Math.max(...lat));
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(`VirtualService weight change (API write) → proxy's route table has the new weights (ms); debounce 100 ms quiet / 1 s max`);
    console.log(`${'measure'.padEnd(28)} ${'n'.padStart(5)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
    for (const [k, xs] of [['each proxy', perProxy], [`last of ${PROXIES} proxies per write`, lastProxy]] as const)
      console.log(`${k.padEnd(28)} ${String(xs.length).padStart(5)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)} ${Math.max(...xs).toFixed(1).padStart(8)}`);
    console.log(`\ntarget ≤ 1000 ms (last proxy, p99): ${pct(lastProxy, 99) <= 1000 ? 'met' : 'NOT met'}`);
    const nacks = clients.reduce((s, c) => s + c.counters.nacks, 0);
    console.log(`NACKs: ${nacks}`);
  } finally {
    await cleanup();
  }
}

await main();
