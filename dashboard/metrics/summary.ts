// One line of text about one service from the graph: how its requests split between versions right now
// and how many succeed — the live line `shoal up` prints for Bookinfo's reviews, and the dashboard's
// header. Same graph, same numbers as the web page.

import type { Graph, ServiceSplit } from './graph.js';

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`);

/** The split of `service` (a FQDN, or `name.namespace`, or a bare name) in `g`, if it has requests. */
export function findSplit(g: Graph, service: string): ServiceSplit | undefined {
  return g.services.find((s) => s.service === service || s.service.startsWith(`${service}.`));
}

/** `reviews  v1 90% · v2 10% · v3 0%   success 100%   4.2 rps`, or why there is nothing to show. */
export function summaryLine(g: Graph | undefined, service: string): string {
  const name = service.split('.')[0]!;
  if (!g) return `${name}: waiting for the dashboard…`;
  const s = findSplit(g, service);
  if (!s) return `${name}: no requests yet`;
  if (s.rps === null) return `${name}: measuring…`;
  if (s.rps === 0) return `${name}: idle (no requests in the last ${g.windowSec ?? '?'} s)`;
  const versions = s.versions.map((v) => `${v.version || v.workload} ${pct(v.share)}`).join(' · ');
  return `${name}  ${versions}   success ${pct(s.successRate)}   ${s.rps.toFixed(1)} rps`;
}
