// The health and metrics endpoint of the controller manager and scheduler: `/healthz` (200 ok while the
// process runs), `/readyz` (200 once leading or standing by with synced caches), `/metrics` (reconcile
// counters in Prometheus text format). Plain node:http on 127.0.0.1 by default; port 0 picks one.

import { createServer, type Server } from 'node:http';

/** What the endpoint reports. */
export interface HealthSource {
  ready(): boolean;
  leader(): boolean;
  metrics(): Record<string, { reconciles: number; errors: number }>;
}

/** Start listening; resolves with the server and its URL. */
export async function startHealthServer(bind: string, port: number, src: HealthSource, component: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (path === '/readyz') return void res.writeHead(src.ready() ? 200 : 503, { 'content-type': 'text/plain' }).end(src.ready() ? 'ok' : 'not ready');
    if (path === '/metrics') {
      const lines = [`# HELP leader_election_master_status Whether this process leads (1) or not (0).`, `# TYPE leader_election_master_status gauge`, `leader_election_master_status{name="${component}"} ${src.leader() ? 1 : 0}`];
      lines.push('# HELP workqueue_reconciles_total Reconcile calls per controller.', '# TYPE workqueue_reconciles_total counter');
      for (const [n, s] of Object.entries(src.metrics())) lines.push(`workqueue_reconciles_total{name="${n}"} ${s.reconciles}`);
      lines.push('# HELP workqueue_errors_total Failed reconciles per controller.', '# TYPE workqueue_errors_total counter');
      for (const [n, s] of Object.entries(src.metrics())) lines.push(`workqueue_errors_total{name="${n}"} ${s.errors}`);
      return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => resolve());
  });
  const addr = server.address() as { port: number };
  return { server, url: `http://${bind}:${addr.port}` };
}
