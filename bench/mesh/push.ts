// Push latency to 50 proxies: a real API server (in this process), mesh control as its own process
// (dist/control-plane/mesh/main.js), and 50 simulated proxies here, each a real grpc-js stream over TLS
// that subscribes to the three types and ACKs. Each write (alternately an EndpointSlice change and a
// namespace-wide AuthorizationPolicy change, both affecting every proxy) is timed from just before the
// API call to the moment the last of the 50 proxies has received the new config. Target: ≤ 1 s.
// Usage: node dist/bench/mesh/push.js [proxies=50] [writes=20]. Not a test.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TYPE_ENDPOINTS, TYPE_SERVICE, TYPE_WORKLOAD } from '../../proto/load.js';
import { R, startApi } from '../../test/mesh-control/fixture.js';
import { AdsClient } from '../../test/mesh-control/adsclient.js';
import { waitFor } from '../../test/wait.js';
import { freePort } from '../../lib/serve/serve.js';

const PROXIES = Number(process.argv[2] ?? 50);
const WRITES = Number(process.argv[3] ?? 20);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function main(): Promise<void> {
  const api = await startApi('shoalb-meshpush-');
  const [grpcPort, debugPort] = [await freePort(), await freePort()];
  const mesh = spawn(process.execPath, ['--max-semi-space-size=2', join(dist, 'control-plane', 'mesh', 'main.js'), '--kubeconfig', api.kubeconfigPath, '--grpc-port', String(grpcPort), '--debug-port', String(debugPort),
    '--bind-address', '127.0.0.1', '--home', api.home, '--advertise-address', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const clients: AdsClient[] = [];
  const cleanup = async () => {
    for (const c of clients) c.close();
    mesh.kill('SIGTERM');
    await api.close();
  };
  try {
    const token = await api.tokenFor('bench', 'app');
    for (let i = 0; i < PROXIES; i++) await api.pod('bench', `app-${i}`, { sa: 'app', labels: { app: 'app' }, ip: `10.244.1.${i + 1}`, sidecar: true });
    await api.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'bench' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } } as any, { namespace: 'bench' });
    const slice = (n: number) => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-1', namespace: 'bench', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4',
      ports: [{ port: 5432, protocol: 'TCP' }], endpoints: Array.from({ length: n }, (_, k) => ({ addresses: [`10.244.2.${k + 1}`], conditions: { ready: true } })),
    });
    await api.client.create(R.endpointslices, slice(1) as any, { namespace: 'bench' });
    await api.client.create(R.authorizationpolicies, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'ns', namespace: 'bench' }, spec: { rules: [{ from: [{ source: { namespaces: ['bench'] } }] }] } } as any, { namespace: 'bench' });
    await waitFor('mesh control ready', async () => (await fetch(`http://127.0.0.1:${debugPort}/ready`).catch(() => undefined))?.status === 200, 30_000);
    const root = readFileSync(join(api.home, 'pki', 'mesh', 'root-cert.pem'), 'utf8');
    const t0 = performance.now();
    for (let i = 0; i < PROXIES; i++) {
      clients.push(new AdsClient(`127.0.0.1:${grpcPort}`, root, token, { id: `app-${i}.bench`, podName: `app-${i}`, namespace: 'bench', ip: '', serviceAccount: 'app', labels: {} }, [TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD]).connect());
    }
    await Promise.all(clients.map((c) => c.until(() => c.of(TYPE_WORKLOAD).length > 0 && c.of(TYPE_ENDPOINTS).length > 0, 30_000, 'initial config')));
    console.log(`${PROXIES} proxies connected and configured in ${(performance.now() - t0).toFixed(0)} ms (TLS + TokenReview + first push)\n`);

    const lat: Record<string, number[]> = { endpoint: [], policy: [] };
    for (let w = 0; w < WRITES; w++) {
      const kind = w % 2 === 0 ? 'endpoint' : 'policy';
      const type = kind === 'endpoint' ? TYPE_ENDPOINTS : TYPE_WORKLOAD;
      const before = clients.map((c) => c.of(type).length);
      const start = performance.now();
      if (kind === 'endpoint') await api.client.update(R.endpointslices, slice(2 + (w % 5)) as any, { namespace: 'bench' });
      else await api.client.patch(R.authorizationpolicies, 'ns', { spec: { rules: [{ from: [{ source: { namespaces: ['bench', `other-${w}`] } }] }] } }, { type: 'merge', namespace: 'bench' });
      await Promise.all(clients.map((c, i) => c.until(() => c.of(type).length > before[i]!, 10_000, `${kind} push`)));
      const last = Math.max(...clients.map((c) => c.received.filter((r) => r.response.typeUrl === type).at(-1)!.at));
      lat[kind]!.push(last - start);
      await new Promise((r) => setTimeout(r, 250));
    }
    const all = [...lat.endpoint!, ...lat.policy!];
    console.log(`API write → last of ${PROXIES} proxies received (ms), debounce 100 ms quiet / 1 s max`);
    console.log(`${'write'.padEnd(22)} ${'n'.padStart(3)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
    for (const [k, xs] of [['EndpointSlice update', lat.endpoint!], ['AuthorizationPolicy', lat.policy!], ['all', all]] as const)
      console.log(`${k.padEnd(22)} ${String(xs.length).padStart(3)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)} ${Math.max(...xs).toFixed(1).padStart(8)}`);
    console.log(`\ntarget p99 ≤ 1000 ms: ${pct(all, 99) <= 1000 ? 'met' : 'NOT met'}`);
    const metrics = await (await fetch(`http://127.0.0.1:${debugPort}/metrics`)).text();
    console.log(metrics.split('\n').filter((l) => /^pilot_push_time_seconds_(sum|count)|^pilot_xds |^pilot_xds_pushes/.test(l)).join('\n'));
  } finally {
    await cleanup();
  }
}

await main();
