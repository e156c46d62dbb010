// The monitoring port (:15014, istiod's http-monitoring): /ready, /metrics, /debug/syncz (each connected
// proxy: per type the version sent, the version acked, the nonce, the last push and the last NACK), and
// /debug/config_dump?proxyID=<pod>.<namespace> (what mesh control would push to that proxy). A route
// table on lib/serve.

import { checkRoute, metricsRoute, serve, type Reply } from '../../../lib/serve/serve.js';
import type { MeshControl } from '../control.js';
import type { MeshMetrics } from './metrics.js';

const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body, null, 1), type: 'application/json' });

/** Starts the server; `port` 0 picks one. */
export async function startDebugServer(bind: string, port: number, mc: MeshControl, metrics: MeshMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const served = await serve(bind, port, [
    checkRoute('/ready', () => (mc.ready() ? undefined : 'not ready')),
    checkRoute('/healthz', () => undefined),
    metricsRoute(metrics.registry),
    { path: '/debug/syncz', reply: () => json(200, mc.discovery.syncz()) },
    {
      path: '/debug/config_dump',
      reply: (url) => {
        const id = url.searchParams.get('proxyID') ?? '';
        const dump = mc.configDump(id);
        return dump ? json(200, dump) : json(404, { error: `proxyID ${JSON.stringify(id)}: no such pod (want <pod>.<namespace>)` });
      },
    },
  ], { notFound: () => json(404, { error: 'not found', paths: ['/ready', '/metrics', '/debug/syncz', '/debug/config_dump?proxyID=<pod>.<namespace>'] }) });
  return { url: `http://${bind === '0.0.0.0' ? '127.0.0.1' : bind}:${served.port}`, close: served.close };
}
