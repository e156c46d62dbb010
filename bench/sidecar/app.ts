// The benchmark's server app: HTTP/1.1 keep-alive, 1 KB responses; `GET /bulk?mb=N` streams N MiB.
// Usage: node app.js PORT [PORT...]
import { createServer } from 'node:http';

const body = Buffer.alloc(1024, 'a');
const chunk = Buffer.alloc(1 << 16, 'b');
const server = createServer((req, res) => {
  if (req.url?.startsWith('/bulk')) {
    const mb = Number(new URL(req.url, 'http://x').searchParams.get('mb') ?? '64');
    let left = mb * 16;
    res.writeHead(200, { 'content-length': String(mb << 20) });
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(200, { 'content-length': '1024', 'content-type': 'text/plain' });
  res.end(body);
});
server.keepAliveTimeout = 120_000;
for (const p of process.argv.slice(2)) {
  const s = p === process.argv[2] ? server : createServer(server.listeners('request')[0] as never);
  if (s !== server) (s as typeof server).keepAliveTimeout = 120_000;
  s.listen(Number(p), '0.0.0.0');
}
console.log('up');
