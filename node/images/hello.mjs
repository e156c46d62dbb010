// shoal/hello — the sample HTTP app of the built-in image catalog. Node's http server on $PORT (default
// 8080): `GET /` answers {"pod": <hostname>, "ip": <pod IP>, "version": <image tag>}, `/healthz` 200.
// Plain JavaScript (no build step) so it starts in tens of milliseconds.
// `FAIL_RATE` (0..1, default 0) answers that share of `GET /` with 500, evenly spread (a bad release, for
// canary tests: 0.2 fails every fifth request, so a short analysis window sees it without luck);
// with `FAIL_VERSION` set, only when the image tag is that version (so a canary copy of the same pod
// template fails while the primary does not).
import { createServer } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

function podIP() {
  if (process.env.POD_IP) return process.env.POD_IP;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

const body = JSON.stringify({ pod: hostname(), ip: podIP(), version: process.env.SHOAL_IMAGE_TAG || 'latest' }) + '\n';
const port = Number(process.env.PORT || 8080);
const tag = process.env.SHOAL_IMAGE_TAG || 'latest';
const failRate = !process.env.FAIL_VERSION || process.env.FAIL_VERSION === tag ? Math.min(1, Math.max(0, Number(process.env.FAIL_RATE) || 0)) : 0;
let served = 0;
const failBody = JSON.stringify({ error: 'injected failure', version: tag }) + '\n';
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  // evenly spread, not random: exactly FAIL_RATE of any run of requests fails (1 in 5 for 0.2)
  served++;
  if (failRate > 0 && Math.floor(served * failRate) !== Math.floor((served - 1) * failRate)) {
    res.writeHead(500, { 'content-type': 'application/json' }).end(failBody);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
server.listen(port, () => console.log(`hello ${process.env.SHOAL_IMAGE_TAG || 'latest'} listening on :${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
