// The node:http + undici reverse proxy the benchmark compares with (the shape the issue measured at 0.42x
// nginx): node:http server, undici Pool.stream to the upstream. `node dist/bench/proxy-l7/node-proxy.js LISTEN UPSTREAM`
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [listen, upstream] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstream}`, { connections: 32, pipelining: 1 });
createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive') headers[k] = v;
  pool.stream({ path: req.url ?? '/', method: req.method as 'GET', headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, ({ statusCode, headers: h }) => {
    res.writeHead(statusCode, h as Record<string, string>);
    return res;
  }).catch(() => { if (!res.headersSent) res.writeHead(502); res.end(); });
}).listen(listen, '127.0.0.1', () => process.send?.('ready'));
