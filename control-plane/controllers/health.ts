// The health and metrics endpoint of the controller manager and scheduler, on lib/serve: `/healthz` and
// `/livez` (200 ok while the process runs), `/readyz` (200 once leading or standing by with synced
// caches), `/metrics` (leader status and reconcile counters in Prometheus text format). 127.0.0.1 by
// default; port 0 picks one.

import { checkRoute, serve, type Route, type Served } from '../../lib/serve/serve.js';

/** What the endpoint reports. */
export interface HealthSource {
  ready(): boolean;
  leader(): boolean;
  metrics(): Record<string, { reconciles: number; errors: number }>;
}

/** The routes (tests answer them in-process with lib/serve's `handle`). */
export function healthRoutes(src: HealthSource, component: string): Route[] {
  const live = () => undefined;
  const metrics = () => {
    const lines = [`# HELP leader_election_master_status Whether this process leads (1) or not (0).`, `# TYPE leader_election_master_status gauge`, `leader_election_master_status{name="${component}"} ${src.leader() ? 1 : 0}`];
    lines.push('# HELP workqueue_reconciles_total Reconcile calls per controller.', '# TYPE workqueue_reconciles_total counter');
    for (const [n, s] of Object.entries(src.metrics())) lines.push(`workqueue_reconciles_total{name="${n}"} ${s.reconciles}`);
    lines.push('# HELP workqueue_errors_total Failed reconciles per controller.', '# TYPE workqueue_errors_total counter');
    for (const [n, s] of Object.entries(src.metrics())) lines.push(`workqueue_errors_total{name="${n}"} ${s.errors}`);
    return { status: 200, body: lines.join('\n') + '\n', type: 'text/plain; version=0.0.4' };
  };
  return [
    checkRoute('/healthz', live, { okBody: 'ok' }),
    checkRoute('/livez', live, { okBody: 'ok' }),
    checkRoute('/readyz', () => (src.ready() ? undefined : 'not ready'), { okBody: 'ok' }),
    { path: '/metrics', reply: metrics },
  ];
}

/** Start listening; resolves with the server, its URL and `close`. */
export function startHealthServer(bind: string, port: number, src: HealthSource, component: string): Promise<Served> {
  return serve(bind, port, healthRoutes(src, component));
}
