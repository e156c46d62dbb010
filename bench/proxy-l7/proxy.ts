// The standalone HTTP/1.1 proxy the benchmark drives: proxy/http1 (raw-socket parsing, keep-alive pool)
// forwarding every request to one upstream. `node dist/bench/proxy-l7/proxy.js LISTEN_PORT UPSTREAM_PORT`
import { createServer } from 'node:net';
import { serveHttp1, type Decision } from '../../proxy/http1/connection.js';
import { NO_OPS } from '../../proxy/http1/headers.js';
import { UpstreamPool } from '../../proxy/http1/pool.js';

const [listen, upstream] = process.argv.slice(2).map(Number);
const pool = new UpstreamPool();
const server = createServer((sock) => serveHttp1(sock, (head): Decision => ({ kind: 'forward', address: '127.0.0.1', port: upstream, head, responseOps: NO_OPS }), pool));
server.listen(listen, '127.0.0.1', () => process.send?.('ready'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
