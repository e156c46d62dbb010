// Flags of the dashboard. Every problem is collected so main.ts (and `shoal up`'s group) can list them all
// and exit 64.

import { parseArgs } from 'node:util';
import { parseDuration } from '../lib/time/duration.js';

/** The dashboard's default port (Kiali's). */
export const DASHBOARD_PORT = 20001;

/** Validated settings. */
export interface DashboardConfig {
  kubeconfig?: string;
  port: number;
  bindAddress: string;
  scrapeIntervalMs: number;
  /** rates are over (at most) this long */
  windowMs: number;
  scrapeTimeoutMs: number;
  /** the sidecar's Prometheus port (15090) and admin port (15000) */
  metricsPort: number;
  adminPort: number;
  rootNamespace: string;
}

const KNOWN = ['kubeconfig', 'port', 'bind-address', 'scrape-interval', 'window', 'scrape-timeout', 'metrics-port', 'admin-port', 'root-namespace'];

/** Parses argv; returns the config or every problem. */
export function parseDashboardFlags(argv: string[]): { config?: DashboardConfig; problems: string[] } {
  const problems: string[] = [];
  const { values, tokens } = parseArgs({ args: argv, options: Object.fromEntries(KNOWN.map((k) => [k, { type: 'string' as const }])), strict: false, allowPositionals: true, tokens: true });
  for (const tok of tokens ?? []) {
    if (tok.kind === 'option' && !KNOWN.includes(tok.name)) problems.push(`unknown flag: ${tok.rawName}`);
    else if (tok.kind === 'option' && tok.value === undefined) problems.push(`${tok.rawName}: needs a value`);
    else if (tok.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(tok.value)}`);
  }
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const port = (k: string, d: number, min = 0) => {
    const t = v(k) ?? String(d);
    if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > 65535) problems.push(`--${k}: must be an integer between ${min} and 65535, got ${JSON.stringify(t)}`);
    return Number(t);
  };
  const dur = (k: string, d: string) => {
    const ms = parseDuration(v(k) ?? d);
    if (ms === undefined || ms <= 0) problems.push(`--${k}: must be a duration like 500ms, 2s or 1m, got ${JSON.stringify(v(k))}`);
    return ms ?? 0;
  };
  const cfg = {
    port: port('port', DASHBOARD_PORT),
    metricsPort: port('metrics-port', 15090, 1),
    adminPort: port('admin-port', 15000, 1),
    scrapeIntervalMs: dur('scrape-interval', '2s'),
    windowMs: dur('window', '10s'),
    scrapeTimeoutMs: dur('scrape-timeout', '1500ms'),
    bindAddress: v('bind-address') ?? '127.0.0.1',
    rootNamespace: v('root-namespace') ?? 'istio-system',
  };
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(cfg.bindAddress)) problems.push(`--bind-address: must be an IPv4 address, got ${JSON.stringify(cfg.bindAddress)}`);
  if (cfg.windowMs && cfg.scrapeIntervalMs && cfg.windowMs < cfg.scrapeIntervalMs) problems.push('--window, --scrape-interval: the window must be at least one scrape interval');
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(cfg.rootNamespace)) problems.push(`--root-namespace: must be a namespace name, got ${JSON.stringify(cfg.rootNamespace)}`);
  if (problems.length) return { problems };
  return { problems, config: { ...(v('kubeconfig') ? { kubeconfig: v('kubeconfig') } : {}), ...cfg } };
}
