// Mesh control with the sidecar's own clients (proxy/discovery, proxy/identity, proxy/config), mesh control
// running as its own process (dist/control-plane/mesh/main.js) so it can be killed with SIGKILL: the
// proxy's ConfigStore gets every type, validates and ACKs it (SYNCED in syncz), gets its certificate;
// mesh control is killed, the proxy keeps its config; mesh control comes back on the same port, the
// proxy reconnects by itself (backoff) and receives a change written to the API while it was down.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TYPE_WORKLOAD, TYPE_URLS } from '../../proto/load.js';
import { ConfigStore } from '../../proxy/config/store.js';
import { DiscoveryClient } from '../../proxy/discovery/client.js';
import { CaClient } from '../../proxy/identity/ca-client.js';
import { buildCsr, newKey } from '../../proxy/identity/x509.js';
import { R, startApi } from './fixture.js';
import { waitFor } from '../wait.js';
import { freePort } from '../../lib/serve/serve.js';

const MAIN = fileURLToPath(new URL('../../control-plane/mesh/main.js', import.meta.url));

t.test('the sidecar clients against mesh control, through a SIGKILL', async (t) => {
  const api = await startApi('shoalt-meshdp-');
  const [grpcPort, debugPort] = [await freePort(), await freePort()];
  let child: ChildProcess | undefined;
  const start = () => {
    child = spawn(process.execPath, [MAIN, '--kubeconfig', api.kubeconfigPath, '--home', api.home, '--grpc-port', String(grpcPort), '--debug-port', String(debugPort),
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return waitFor('mesh control ready', async () => (await fetch(`http://127.0.0.1:${debugPort}/ready`)).status === 200, 30_000);
  };
  const logs: string[] = [];
  const store = new ConfigStore();
  const made: { dc?: DiscoveryClient; ca?: CaClient } = {};
  t.teardown(async () => {
    made.dc?.stop();
    made.ca?.close();
    child?.kill('SIGKILL');
    await api.close();
  });
  await start();
  const token = await api.tokenFor('shop', 'web');
  await api.pod('shop', 'web-1', { sa: 'web', labels: { app: 'web' }, ip: '10.244.0.11', sidecar: true });
  const tokenFile = join(api.home, 'token');
  writeFileSync(tokenFile, token);
  const rootCertFile = join(api.home, 'pki', 'mesh', 'root-cert.pem');
  const dc = (made.dc = new DiscoveryClient({
    address: `127.0.0.1:${grpcPort}`, rootCertFile, tokenFile, minBackoffMs: 100, maxBackoffMs: 500,
    node: { id: 'web-1.shop', podName: 'web-1', namespace: 'shop', ip: '10.244.0.11', serviceAccount: 'web', labels: { app: 'web' } },
    log: (level, msg, f) => logs.push(`${level} ${msg} ${JSON.stringify(f ?? {})}`),
  }));
  dc.start(store);
  await waitFor('complete config', async () => store.complete, 10_000);
  t.equal(store.snapshot.config.workload?.identity, 'spiffe://cluster.local/ns/shop/sa/web');
  const synced = await waitFor('SYNCED in syncz', async () => {
    const s = (await (await fetch(`http://127.0.0.1:${debugPort}/debug/syncz`)).json()) as any[];
    return s[0] && TYPE_URLS.every((ty) => s[0].types[ty]?.acked === s[0].types[ty]?.sent && !s[0].types[ty]?.nack) ? s[0] : undefined;
  }, 10_000);
  t.equal(synced.proxyId, 'web-1.shop', 'the proxy validated and ACKed every type');

  const ca = (made.ca = new CaClient({ address: `127.0.0.1:${grpcPort}`, rootCertFile, tokenFile }));
  const chain = await ca.sign(buildCsr(newKey('ec').privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/web'] }), 600);
  t.equal(new X509Certificate(chain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
  await t.rejects(ca.sign(buildCsr(newKey('ec').privateKey, { uris: ['spiffe://cluster.local/ns/shop/sa/admin'] }), 600), /may only have/);

  const before = store.snapshot.config.versions[TYPE_WORKLOAD];
  child!.kill('SIGKILL');
  await waitFor('the proxy notices', async () => !dc.status().connected, 10_000);
  t.equal(store.snapshot.config.versions[TYPE_WORKLOAD], before, 'the last good config is kept while mesh control is down');
  await api.client.create(R.peerauthentications, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'strict', namespace: 'shop' }, spec: { mtls: { mode: 'STRICT' } } } as any, { namespace: 'shop' });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(store.snapshot.peerMode(8080), 'PERMISSIVE', 'nothing changes while down');
  await start();
  await waitFor('reconnected and pushed', async () => store.snapshot.peerMode(8080) === 'STRICT', 15_000);
  t.ok(dc.counters.streams >= 2, `the proxy reconnected by itself (${dc.counters.streams} streams)`);
  t.ok(readFileSync(rootCertFile, 'utf8').includes('BEGIN CERTIFICATE'));
});
