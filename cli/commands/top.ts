// `shoal top [-n NS | -A] [--interval 5s]`: per destination service and version, requests per second,
// success rate and p50/p99 latency, from every injected pod's sidecar metrics (:15090/stats/prometheus on
// the pod IP, scraped twice `--interval` apart). The numbers come from proxy/telemetry/top.ts, which the
// canary analysis reads too.
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatRows } from '../printers/table.js';
import { topRows, type TopRow } from '../../proxy/telemetry/top.js';
import { allNamespacesFlag, type Command } from './command.js';

const PODS = { apiVersion: 'v1', plural: 'pods', namespaced: true };

async function scrape(ip: string): Promise<string> {
  try {
    const r = await fetch(`http://${ip}:15090/stats/prometheus`, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : '';
  } catch {
    return '';
  }
}

/** The table (pure). */
export function formatTop(rows: TopRow[]): string {
  const ms = (x: number) => (Number.isNaN(x) ? '-' : `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`);
  return formatRows(['SERVICE', 'VERSION', 'RPS', 'SUCCESS', 'P50', 'P99'], rows.map((r) => [
    r.service, r.version, r.rps.toFixed(1), Number.isNaN(r.successRate) ? '-' : `${(r.successRate * 100).toFixed(1)}%`, ms(r.p50), ms(r.p99),
  ]));
}

export const topCommand: Command = {
  name: 'top',
  summary: 'Requests per second, success rate and p50/p99 latency per service and version, from the sidecars',
  usage: 'shoal top [-n NAMESPACE | -A] [--interval 5s]',
  flags: [allNamespacesFlag, { name: 'interval', type: 'string', help: 'time between the two scrapes (default 5s)' }],
  async run(ctx: Context, a: Parsed) {
    const text = String(a.flags.interval ?? '5s');
    const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
    if (!m) throw new CliError(`--interval: must be a duration such as 5s or 500ms, got ${JSON.stringify(text)}`);
    const seconds = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
    const list = await ctx.client.list(PODS, a.flags['all-namespaces'] ? {} : { namespace: ctx.namespace });
    const ips = (list.items as any[])
      .filter((p) => p.status?.podIP && [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].some((c: any) => c.name === 'istio-proxy'))
      .map((p) => p.status.podIP as string);
    if (ips.length === 0) throw new CliError('no pods with a sidecar here (injected pods have an istio-proxy container)');
    const before = await Promise.all(ips.map(scrape));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await Promise.all(ips.map(scrape));
    ctx.io.out(formatTop(topRows(before, after, seconds)));
    return 0;
  },
};
