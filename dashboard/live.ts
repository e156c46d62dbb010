// What `shoal up` prints about the mesh once it is up: the dashboard's URL, and for the Bookinfo sample the
// product page, a live line with reviews' split by version and its success rate, and what to try next.
// The live line reads the dashboard's /api/summary — the same graph code as the web page, one
// implementation. On a terminal it is rewritten in place every couple of seconds; otherwise (a log, a
// pipe, CI) a line is printed periodically, only when it changed. `stop()` ends it (Ctrl-C).

import { request } from 'undici';

/** Options of the live line. */
export interface LiveOptions {
  /** the dashboard's base URL (`http://127.0.0.1:20001/`) */
  dashboardUrl: string;
  /** the service to follow (`reviews.bookinfo`) */
  service: string;
  out: NodeJS.WritableStream;
  /** rewrite in place (a TTY) or print periodically */
  tty: boolean;
  /** how often to refresh (ms): default 2 s on a TTY, 30 s otherwise */
  everyMs?: number;
  prefix?: string;
}

/** Fetches the summary line of `service` from the dashboard (or says why not). */
export async function fetchSummary(dashboardUrl: string, service: string, timeoutMs = 1500): Promise<string> {
  try {
    const r = await request(new URL(`api/summary?service=${encodeURIComponent(service)}`, dashboardUrl), { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    const body = (await r.body.json()) as { line?: string; error?: string };
    return r.statusCode === 200 && body.line ? body.line : `dashboard: ${body.error ?? `HTTP ${r.statusCode}`}`;
  } catch (e) {
    return `dashboard unreachable (${(e as Error).message})`;
  }
}

/** Starts the live line; the returned function stops it (and ends the line on a TTY). */
export function startLiveLine(o: LiveOptions): () => void {
  const every = o.everyMs ?? (o.tty ? 2000 : 30_000);
  const prefix = o.prefix ?? '  live         ';
  let last = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    const line = await fetchSummary(o.dashboardUrl, o.service);
    if (stopped) return;
    if (o.tty) o.out.write(`\r\x1b[2K${prefix}${line}`);
    else if (line !== last) o.out.write(`${prefix}${line}   (${new Date().toISOString().slice(11, 19)})\n`);
    last = line;
    timer = setTimeout(() => void tick(), every);
  };
  void tick();
  return () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    if (o.tty && last) o.out.write('\n');
  };
}

/** The Bookinfo block of `shoal up`'s summary (before the live line). */
export function bookinfoSummary(dashboardUrl: string, kubeconfig: string): string {
  return [
    '',
    'Bookinfo is running in namespace bookinfo (every pod with a sidecar, mTLS only):',
    '  product page http://127.0.0.1/productpage   (the Bookinfo Ingress, served by shoal-ingress on host port 80;',
    '               from a pod in the mesh: http://productpage.bookinfo:9080/productpage)',
    `  dashboard    ${dashboardUrl}   (the live service graph: shoal dashboard)`,
    '',
    `Next, in another terminal (export KUBECONFIG=${kubeconfig}):`,
    '  # traffic: a pod in the mesh that loads the product page 5 times a second',
    '  kubectl create namespace demo && kubectl label namespace demo istio-injection=enabled',
    "  kubectl run load -n demo --image=shoal/shell -- 'while true; do curl -s -o /dev/null http://productpage.bookinfo:9080/productpage; sleep 0.2; done'",
    '  # or from this machine, through the ingress: while true; do curl -s -o /dev/null http://127.0.0.1/productpage; sleep 0.2; done',
    '  # a canary by hand: move reviews to 50/50 v1/v3 and watch the line below and the dashboard follow',
    `  kubectl patch virtualservice reviews -n bookinfo --type merge -p '{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":50},{"destination":{"host":"reviews","subset":"v3"},"weight":50}]}]}}'`,
    '  # a policy: ratings only lets reviews in; delete that and look at the workload in the dashboard',
    '  kubectl get authorizationpolicy -n bookinfo ratings-from-reviews -o yaml',
    '',
  ].join('\n');
}
