// Bulk upload through proxy/http2 (one process, loopback): a node:http2 client POSTs MB megabytes, the
// proxy relays them to a node:http2 upstream that counts them — with the upstream session over TCP, and
// inside an HTTP/2 CONNECT stream to a tunnel (CONNECT → TCP, the HBONE shape without TLS), where Node
// runs the upstream session on its JSStreamSocket. Prints time, MB/s and the CPU of all parties. Not a test.
//   node dist/bench/proxy-l7/h2-bulk.js [MB=64] [rounds=2]
import { connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect as tcpConnect, createServer, type AddressInfo, type Server } from 'node:net';
import type { Dispatch } from '../../proxy/http1/connection.js';
import { NO_OPS } from '../../proxy/http1/headers.js';
import { serveHttp2 } from '../../proxy/http2/connection.js';
import { Http2UpstreamPool } from '../../proxy/http2/pool.js';

const MB = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 2);
const SIZE = MB << 20, CHUNK = 64 << 10;
const chunk = Buffer.alloc(CHUNK, 7);
const WINDOW = { settings: { initialWindowSize: 1 << 20 } };

const listen = async (s: Server | Http2Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
};

async function main(): Promise<void> {
  const up = createH2Server(WINDOW);
  up.on('session', (s) => s.setLocalWindowSize(16 << 20));
  up.on('stream', (s) => {
    let n = 0;
    s.on('data', (c: Buffer) => { n += c.length; });
    s.on('end', () => { s.respond({ ':status': 200 }); s.end(String(n)); });
  });
  const upPort = await listen(up);
  const tunnel = createH2Server(WINDOW);
  tunnel.on('session', (s) => s.setLocalWindowSize(16 << 20));
  tunnel.on('stream', (s, h) => {
    const [host, port] = String(h[':authority']).split(':');
    const app = tcpConnect({ host, port: Number(port), noDelay: true });
    app.on('connect', () => { s.respond({ ':status': 200 }); s.pipe(app).pipe(s); });
  });
  const outer = h2connect(`http://127.0.0.1:${await listen(tunnel)}`, WINDOW);
  outer.on('connect', () => outer.setLocalWindowSize(16 << 20));
  const dispatch: Dispatch = (head) => ({ kind: 'forward', address: '127.0.0.1', port: upPort, head, responseOps: NO_OPS });
  const pools = {
    tcp: new Http2UpstreamPool(),
    connect: new Http2UpstreamPool({ dial: (a, p) => outer.request({ ':method': 'CONNECT', ':authority': `${a}:${p}` }, { endStream: false }) }),
  };
  console.log(`${MB} MB per upload, load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (let r = 0; r < rounds; r++)
    for (const mode of ['tcp', 'connect'] as const) {
      const px = createServer((s) => serveHttp2(s, dispatch, pools[mode]));
      const c = h2connect(`http://127.0.0.1:${await listen(px)}`);
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const req = c.request({ ':method': 'POST', ':path': '/' });
      let i = 0;
      await new Promise<void>((res) => {
        const pump = (): void => {
          while (i < SIZE / CHUNK) {
            i++;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
          res();
        };
        pump();
      });
      const body = await new Promise<string>((res) => { let b = ''; req.on('data', (d) => { b += d; }); req.on('end', () => res(b)); });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = process.cpuUsage(c0);
      console.log(`upstream over ${mode.padEnd(8)} ${body === String(SIZE) ? 'ok ' : `BAD ${body}`} ${ms.toFixed(0).padStart(6)} ms ${(MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s   CPU of all parties ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(5)} ms`);
      c.close();
      px.close();
    }
  pools.tcp.close(true);
  pools.connect.close(true);
  outer.destroy();
  up.close();
  tunnel.close();
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => setTimeout(() => process.exit(), 100));
