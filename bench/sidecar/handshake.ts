// bench/sidecar/handshake: what a new app connection costs between two sidecars, in CPU (both ends, one
// process, loopback), for the two tunnel modes: a CONNECT stream on a pooled HBONE session versus one mTLS
// handshake per app connection (EC P-256 and RSA 2048 workload keys), with plain TCP as the floor.
// CPU time is used because wall time on a shared machine mostly measures the other processes.
//   node dist/bench/sidecar/handshake.js [N]
import { createServer, connect as netConnect, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_WORKLOAD } from '../../proxy/config/types.js';
import { IdentityManager, type KeyType } from '../../proxy/identity/manager.js';
import { ProxyMetrics } from '../../proxy/admin/metrics.js';
import { FdBudget } from '../../proxy/net/limits.js';
import { TunnelClient, MESH_ALPN } from '../../proxy/hbone/client.js';
import { createHboneServer } from '../../proxy/hbone/server.js';
import { buildCertificate, parseCsr } from '../../proxy/identity/x509.js';
import type { ProxyContext } from '../../proxy/context.js';
import { makeCa } from '../../test/sidecar/ca.js';

const N = Number(process.argv[2] ?? 500);
const ca = makeCa();
const signer = {
  async sign(csr: string): Promise<string[]> {
    const r = parseCsr(csr);
    return [buildCertificate({ spki: r.spki, sans: { uris: r.sans.uris }, notBefore: new Date(Date.now() - 1000), notAfter: new Date(Date.now() + 3_600_000) }, ca.signer), ca.certPem];
  },
};
async function context(sa: string, keyType: KeyType): Promise<ProxyContext> {
  const store = new ConfigStore();
  store.apply(TYPE_WORKLOAD, '1', [{ name: sa, namespace: 'foo', ip: '127.0.0.1', peerAuthentication: { mode: 'STRICT' }, authorization: [] }]);
  const identity = new IdentityManager({ identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, signer, root: () => ca.certPem, ttlSeconds: 3600, keyType });
  await identity.start();
  return { store, identity, metrics: new ProxyMetrics(), budget: new FdBudget(100_000), log: () => {}, podIp: '127.0.0.1' };
}
const listen = (s: Server, port = 0): Promise<number> => new Promise((r) => s.listen(port, '127.0.0.1', () => r((s.address() as { port: number }).port)));

async function measure(name: string, open: () => Duplex): Promise<void> {
  const once = (): Promise<void> => new Promise((resolve, reject) => {
    const s = open();
    s.on('error', reject);
    s.write('ping');
    s.once('data', () => { s.destroy(); resolve(); });
  });
  for (let i = 0; i < 50; i++) await once(); // warm up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await once();
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1000 / N;
  console.log(`| ${name} | ${cpu.toFixed(3)} | ${((performance.now() - t0) / N).toFixed(3)} |`);
}

const app = createServer((s) => { s.on('error', () => {}); s.pipe(s); });
const appPort = await listen(app);
console.log(`\nnew app connection between two sidecars (one process, loopback, ${N} sequential; CPU of both ends + echo app + client)\n`);
console.log('| mode | CPU ms per connection | wall ms per connection |');
console.log('|---|---|---|');
await measure('plain TCP (floor)', () => netConnect({ host: '127.0.0.1', port: appPort }));
for (const keyType of ['ec', 'rsa'] as const) {
  const server = await context('server', keyType);
  const client = await context('client', keyType);
  const hbone = createHboneServer(server);
  const hbonePort = await listen(hbone as unknown as Server);
  const tunnel = new TunnelClient(client, 'hbone', hbonePort);
  await measure(`HBONE stream on a pooled session (${keyType})`, () => tunnel.open('127.0.0.1', appPort, 'spiffe://cluster.local/ns/foo/sa/server'));
  // per-connection mTLS: a TLS server that terminates and echoes, as the inbound listener does
  const tlsServer = createTlsServer({ ...server.identity.tlsOptions(), requestCert: true, rejectUnauthorized: true, ALPNProtocols: MESH_ALPN }, (s) => { s.on('error', () => {}); s.pipe(s); });
  const tlsPort = await listen(tlsServer);
  const perConn = new TunnelClient(client, 'tls');
  await measure(`one mTLS handshake per connection (${keyType})`, () => perConn.open('127.0.0.1', tlsPort, 'spiffe://cluster.local/ns/foo/sa/server'));
  tunnel.close();
  hbone.close();
  tlsServer.close();
  server.identity.stop();
  client.identity.stop();
}
console.log(`\nloadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exit(0);
