// bench/sidecar/bulk: CPU per GiB of a bulk transfer through the HBONE path, in one process on loopback
// (source app → sidecar B's HBONE server → HTTP/2 CONNECT over mTLS → sidecar A's tunnel client → A's
// outbound-side socket → sink), against plain TCP source → sink. CPU time rather than MB/s because wall
// time on a shared machine mostly measures the other processes. Knobs for experiments (env):
//   HBONE_MAX_FRAME (bytes, HTTP/2 SETTINGS_MAX_FRAME_SIZE), HBONE_WINDOW (initialWindowSize bytes),
//   HBONE_DEBUG=1 (count the data events of the client's CONNECT stream and their mean size).
// PINGPONG=1: instead, 16 connections of 1 KB request/response (echo app) for 3 s, CPU per 1000 requests.
//   node [--max-semi-space-size=2] dist/bench/sidecar/bulk.js [MiB per run] [runs]
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { ConfigStore } from '../../proxy/config/store.js';
import { TYPE_WORKLOAD } from '../../proxy/config/types.js';
import { IdentityManager } from '../../proxy/identity/manager.js';
import { ProxyMetrics } from '../../proxy/admin/metrics.js';
import { FdBudget } from '../../proxy/net/limits.js';
import { relay } from '../../proxy/net/relay.js';
import { TunnelClient } from '../../proxy/hbone/client.js';
import { createHboneServer, HBONE_SETTINGS } from '../../proxy/hbone/server.js';
import { buildCertificate, parseCsr } from '../../proxy/identity/x509.js';
import type { ProxyContext } from '../../proxy/context.js';
import { makeCa } from '../../test/sidecar/ca.js';

const MIB = Number(process.argv[2] ?? 256);
const RUNS = Number(process.argv[3] ?? 3);
const settings = HBONE_SETTINGS as Record<string, number>;
if (process.env.HBONE_MAX_FRAME) settings.maxFrameSize = Number(process.env.HBONE_MAX_FRAME);
if (process.env.HBONE_WINDOW) settings.initialWindowSize = Number(process.env.HBONE_WINDOW);

const ca = makeCa();
const signer = {
  async sign(csr: string): Promise<string[]> {
    const r = parseCsr(csr);
    return [buildCertificate({ spki: r.spki, sans: { uris: r.sans.uris }, notBefore: new Date(Date.now() - 1000), notAfter: new Date(Date.now() + 3_600_000) }, ca.signer), ca.certPem];
  },
};
async function context(sa: string): Promise<ProxyContext> {
  const store = new ConfigStore();
  store.apply(TYPE_WORKLOAD, '1', [{ name: sa, namespace: 'foo', ip: '127.0.0.1', peerAuthentication: { mode: 'STRICT' }, authorization: [] }]);
  const identity = new IdentityManager({ identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, signer, root: () => ca.certPem, ttlSeconds: 3600, keyType: 'ec' });
  await identity.start();
  return { store, identity, metrics: new ProxyMetrics(), budget: new FdBudget(100_000), log: () => {}, podIp: '127.0.0.1' };
}
const listen = (s: Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));

// the source app: sends MIB MiB (one reused 64 KiB buffer, respecting backpressure) and ends
const chunk = Buffer.alloc(64 << 10, 0x61);
const source = createServer({ noDelay: true }, (s: Socket) => {
  s.on('error', () => {});
  let left = (MIB << 20) / chunk.length;
  const pump = (): void => {
    while (left > 0) { left--; if (!s.write(chunk)) { s.once('drain', pump); return; } }
    s.end();
  };
  pump();
});
const sourcePort = await listen(source);

async function transfer(port: number): Promise<{ cpuMsPerGiB: number; mbps: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('data', (d: Buffer) => { got += d.length; });
    s.on('end', () => { s.destroy(); resolve(); });
    s.on('error', reject);
  });
  if (got !== MIB << 20) throw new Error(`got ${got} bytes, want ${MIB << 20}`);
  const cu = process.cpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  return { cpuMsPerGiB: ((cu.user + cu.system) / 1000) * (1024 / MIB), mbps: MIB / s };
}

const server = await context('server');
const client = await context('client');
const hbone = createHboneServer(server);
const hbonePort = await listen(hbone as unknown as Server);
const tunnel = new TunnelClient(client, 'hbone', hbonePort);
// sidecar A's outbound side: each accepted socket relayed into a CONNECT stream
const chunks = { n: 0, bytes: 0 };
const outbound = createServer({ noDelay: true }, (s: Socket) => {
  const t = tunnel.open('127.0.0.1', sourcePort, 'spiffe://cluster.local/ns/foo/sa/server');
  if (process.env.HBONE_DEBUG) t.on('data', (d: Buffer) => { chunks.n++; chunks.bytes += d.length; });
  relay(s, t, () => {});
});
process.on('exit', () => { if (process.env.HBONE_DEBUG) console.log(`stream data events ${chunks.n}, mean ${(chunks.bytes / chunks.n).toFixed(0)} B`); });
const outPort = await listen(outbound);

if (process.env.PINGPONG) {
  const echo = createServer({ noDelay: true }, (s: Socket) => { s.on('error', () => {}); s.pipe(s); });
  const echoPort = await listen(echo);
  const out2 = createServer({ noDelay: true }, (s: Socket) => relay(s, tunnel.open('127.0.0.1', echoPort, 'spiffe://cluster.local/ns/foo/sa/server'), () => {}));
  const out2Port = await listen(out2);
  const msg = Buffer.alloc(1024, 0x62);
  for (const [name, port] of [['plain TCP echo', echoPort], ['through HBONE (both sidecars)', out2Port]] as const) {
    let n = 0;
    const end = performance.now() + 3000;
    const c0 = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, () => new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port, noDelay: true });
      let got = 0;
      s.on('connect', () => s.write(msg));
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got < msg.length) return;
        got = 0; n++;
        if (performance.now() < end) s.write(msg); else { s.destroy(); resolve(); }
      });
    })));
    const cu = process.cpuUsage(c0);
    console.log(`  ${name.padEnd(32)} ${n} requests, CPU ${(((cu.user + cu.system) / 1000) / n * 1000).toFixed(0)} ms per 1000 requests (whole process)`);
  }
  process.exit(0);
}
const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: [string, number][] = [['plain TCP source → sink', sourcePort], ['through HBONE (both sidecars)', outPort]];
console.log(`bulk ${MIB} MiB x ${RUNS}, one process, loopback; settings ${JSON.stringify(HBONE_SETTINGS)}`);
await transfer(outPort); // warm up (session, JIT)
const res: Record<string, { cpu: number[]; mbps: number[] }> = {};
for (let i = 0; i < RUNS; i++) {
  for (const [name, port] of rows) {
    const r = await transfer(port);
    (res[name] ??= { cpu: [], mbps: [] }).cpu.push(r.cpuMsPerGiB);
    res[name].mbps.push(r.mbps);
  }
}
for (const [name, r] of Object.entries(res)) console.log(`  ${name.padEnd(32)} CPU ${(med(r.cpu) / 1000).toFixed(2)} s/GiB (median; ${r.cpu.map((x) => (x / 1000).toFixed(2)).join(' ')})  ${med(r.mbps).toFixed(0)} MB/s`);
console.log(`loadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
tunnel.close();
process.exit(0);
