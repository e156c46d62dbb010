// Flags and environment → a frozen DnsConfig, every bad setting reported (not just the first), each
// message naming the flag at fault. The file system is a seam (`readFile`) for tests.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ClusterConfig } from '../api/client/index.js';
import type { DnsConfig } from './server.js';
import type { Upstream } from './forward/forward.js';
import { splitHostPort } from '../lib/serve/serve.js';

/** Parsed flags: the server config plus where the API server is. */
export interface DnsFlags {
  config: DnsConfig;
  kubeconfig?: string;
  help: boolean;
}

/** The usage text printed by `--help` and on bad flags. */
export const USAGE = `usage: shoal-dns [flags]
  --kubeconfig PATH        API server credentials (default: in-cluster config, then $KUBECONFIG)
  --listen HOST:PORT       UDP+TCP address (default 0.0.0.0:53)
  --zone NAME              cluster domain (default cluster.local)
  --ttl SECONDS            TTL of zone answers (default 5)
  --upstream HOST[:PORT]   forward other names here (repeatable; default: nameservers of --resolv-conf)
  --resolv-conf PATH       (default /etc/resolv.conf)
  --forward-timeout MS     per-upstream timeout (default 2000)
  --pods insecure|disabled answer a-b-c-d.<ns>.pod.<zone> (default disabled)
  --health HOST:PORT       liveness /health (default :8080; '' off)
  --ready HOST:PORT        readiness /ready (default :8181; '' off)
  --metrics HOST:PORT      Prometheus /metrics (default :9153; '' off)
  --cache-entries N        encoded answers kept (default 100000)`;

/** Parse argv (without node and script); throws a FlagError listing every problem. */
export function parseFlags(argv: string[], readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): DnsFlags {
  const errs: string[] = [];
  const v: Record<string, string[]> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      errs.push(`${a}: unexpected argument`);
      continue;
    }
    const val = m[2] ?? argv[++i];
    if (val === undefined) {
      errs.push(`--${m[1]}: missing value`);
      continue;
    }
    (v[m[1]] ??= []).push(val);
  }
  const known = ['kubeconfig', 'listen', 'zone', 'ttl', 'upstream', 'resolv-conf', 'forward-timeout', 'pods', 'health', 'ready', 'metrics', 'cache-entries'];
  for (const k of Object.keys(v)) if (!known.includes(k)) errs.push(`--${k}: unknown flag`);
  const one = (k: string, d: string) => (v[k] ? v[k][v[k].length - 1] : d);
  const int = (k: string, d: number, min: number, max: number) => {
    const s = one(k, String(d));
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) errs.push(`--${k}: must be an integer between ${min} and ${max}, got ${JSON.stringify(s)}`);
    return n;
  };
  let listenHost = '0.0.0.0', listenPort = 53;
  try {
    ({ host: listenHost, port: listenPort } = splitHostPort(one('listen', '0.0.0.0:53')));
    if (!isIP(listenHost)) errs.push(`--listen: host must be an IP address, got ${JSON.stringify(listenHost)}`);
    if (listenPort > 65535) errs.push(`--listen: port must be at most 65535`);
  } catch (e) {
    errs.push(`--listen: ${(e as Error).message}`);
  }
  const zone = one('zone', 'cluster.local').toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(zone)) errs.push(`--zone: must be a DNS name, got ${JSON.stringify(zone)}`);
  const ttl = int('ttl', 5, 0, 3600);
  const forwardTimeoutMs = int('forward-timeout', 2000, 10, 60_000);
  const cacheEntries = int('cache-entries', 100_000, 1, 10_000_000);
  const pods = one('pods', 'disabled');
  if (pods !== 'insecure' && pods !== 'disabled') errs.push(`--pods: must be "insecure" or "disabled", got ${JSON.stringify(pods)}`);
  const upstreams: Upstream[] = [];
  const addUpstream = (flag: string, s: string) => {
    const m = /^(?:\[([^\]]+)\]|([^:\]]+)|([0-9a-fA-F:]+))(?::(\d+))?$/.exec(s);
    const host = m ? (m[1] ?? m[2] ?? m[3]) : '';
    const port = m?.[4] && !m[3] ? Number(m[4]) : 53;
    if (!m || !isIP(host) || port < 1 || port > 65535) errs.push(`${flag}: ${JSON.stringify(s)}: must be IP[:PORT] or [IPv6]:PORT`);
    else upstreams.push({ host, port });
  };
  if (v.upstream) for (const u of v.upstream) addUpstream('--upstream', u);
  else {
    const path = one('resolv-conf', '/etc/resolv.conf');
    try {
      for (const line of readFile(path).split('\n')) {
        const m = /^\s*nameserver\s+(\S+)/.exec(line);
        if (m) addUpstream(`--resolv-conf ${path}`, m[1].includes(':') ? `[${m[1]}]:53` : m[1]);
      }
    } catch (e) {
      errs.push(`--resolv-conf: ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const http: Record<string, string> = {};
  for (const [k, d] of [['health', ':8080'], ['ready', ':8181'], ['metrics', ':9153']] as const) {
    const a = one(k, d);
    if (!a) continue;
    try {
      splitHostPort(a);
      http[k] = a;
    } catch (e) {
      errs.push(`--${k}: ${(e as Error).message}`);
    }
  }
  if (errs.length) throw new FlagError(errs);
  return {
    help,
    kubeconfig: v.kubeconfig ? one('kubeconfig', '') : undefined,
    config: Object.freeze({ listenHost, listenPort, zone, ttl, podsInsecure: pods === 'insecure', upstreams, forwardTimeoutMs, http, cacheEntries }),
  };
}

/** Bad flags: every problem, one per line. */
export class FlagError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'FlagError';
  }
}

/** The in-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service account files, or undefined. */
export function inClusterConfig(env: NodeJS.ProcessEnv, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'), dir = '/var/run/secrets/kubernetes.io/serviceaccount'): ClusterConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST, port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: readFile(`${dir}/token`).trim(),
    caPem: readFile(`${dir}/ca.crt`),
  };
}
