// The monitoring port (:15014, istiod's http-monitoring): /ready, /metrics, /debug/syncz (each connected
// proxy: per type the version sent, the version acked, the nonce, the last push and the last NACK), and
// /debug/config_dump?proxyID=<pod>.<namespace> (what mesh control would push to that proxy).

import { createServer } from 'node:http';
import type { MeshControl } from '../control.js';
import type { MeshMetrics } from './metrics.js';

/** Starts the server; `port` 0 picks one. */
export async function startDebugServer(bind: string, port: number, mc: MeshControl, metrics: MeshMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (code: number, body: unknown) => void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1));
    if (url.pathname === '/ready') return void res.writeHead(mc.ready() ? 200 : 503, { 'content-type': 'text/plain' }).end(mc.ready() ? 'ok\n' : 'not ready\n');
    if (url.pathname === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (url.pathname === '/metrics') {
      void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
      return;
    }
    if (url.pathname === '/debug/syncz') return json(200, mc.discovery.syncz());
    if (url.pathname === '/debug/config_dump') {
      const id = url.searchParams.get('proxyID') ?? '';
      const dump = mc.configDump(id);
      return dump ? json(200, dump) : json(404, { error: `proxyID ${JSON.stringify(id)}: no such pod (want <pod>.<namespace>)` });
    }
    json(404, { error: 'not found', paths: ['/ready', '/metrics', '/debug/syncz', '/debug/config_dump?proxyID=<pod>.<namespace>'] });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, bind, () => res());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://${bind === '0.0.0.0' ? '127.0.0.1' : bind}:${addr.port}`,
    close: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}
