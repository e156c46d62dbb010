// A misbehaving HTTP app run inside a test pod (not a test itself): `node app.js PORT VERSION MODE`.
// MODE for ordinary paths: `ok` (200), `flaky` (500 for half the requests, at random), `503` (always).
// Paths for every mode: /stall… (never answers), /garbage (a non-HTTP reply), /midclose (a head announcing
// 100 bytes, 10 of them, then a reset), /slow?ms=N (200 after N ms). Bodies are JSON {version, n, mode,
// host}; GET /__count answers the requests seen so far (for mirrors). Prints `up`.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const version = process.argv[3] ?? 'v1';
const mode = process.argv[4] ?? 'ok';
let n = 0;
const hosts: Record<string, number> = {};

const server = createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://x');
  if (u.pathname === '/__count') return void res.end(JSON.stringify({ n, hosts }));
  n++;
  hosts[req.headers.host ?? ''] = (hosts[req.headers.host ?? ''] ?? 0) + 1;
  req.resume();
  req.on('end', () => {
    const body = (status: number) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify({ version, n, mode, host: req.headers.host })); };
    switch (u.pathname.startsWith('/stall') ? '/stall' : u.pathname) {
      case '/stall': return;
      case '/garbage': return void res.socket?.end('NOT-HTTP garbage\r\n\r\n');
      case '/midclose':
        res.writeHead(200, { 'content-length': '100' });
        res.write('0123456789');
        return void setTimeout(() => res.socket?.destroy(), 20);
      case '/slow': return void setTimeout(() => body(200), Number(u.searchParams.get('ms') ?? 500));
    }
    if (mode === '503') return body(503);
    if (mode === 'flaky' && Math.random() < 0.5) return body(500);
    body(200);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '0.0.0.0', () => console.log('up'));
