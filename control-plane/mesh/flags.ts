// Flags of mesh control (istiod's names where it has them, as flags). Every problem is collected so
// main.ts can list them all and exit 64.

import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { parseDuration } from '../../lib/time/duration.js';

/** Validated settings. */
export interface MeshConfig {
  kubeconfig?: string;
  grpcPort: number;
  debugPort: number;
  bindAddress: string;
  bindDebugAddress: string;
  /** where the self-signed root lives ($SHOAL_HOME/pki/mesh) */
  caDir: string;
  /** the address pods use to reach mesh control (default: the `kubernetes` Service's endpoint) */
  advertiseAddress?: string;
  maxCertTtlSec: number;
  debounceQuietMs: number;
  debounceMaxMs: number;
  rootNamespace: string;
  tokenAudiences: string[];
  manageIstiodService: boolean;
  logLevel: string;
}

const KNOWN = ['kubeconfig', 'grpc-port', 'debug-port', 'bind-address', 'debug-bind-address', 'home', 'advertise-address', 'max-cert-ttl', 'debounce-after', 'debounce-max', 'root-namespace', 'token-audiences', 'istiod-service', 'log-level'];

/** Parses argv; returns the config or every problem. */
export function parseMeshFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: MeshConfig; problems: string[] } {
  const problems: string[] = [];
  const { values, tokens } = parseArgs({ args: argv, options: Object.fromEntries(KNOWN.map((k) => [k, { type: 'string' as const }])), strict: false, allowPositionals: true, tokens: true });
  for (const tok of tokens ?? []) {
    if (tok.kind === 'option' && !KNOWN.includes(tok.name)) problems.push(`unknown flag: ${tok.rawName}`);
    else if (tok.kind === 'option' && tok.value === undefined) problems.push(`${tok.rawName}: needs a value`);
    else if (tok.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(tok.value)}`);
  }
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const port = (k: string, d: number) => {
    const t = v(k) ?? String(d);
    if (!/^\d+$/.test(t) || Number(t) > 65535) problems.push(`--${k}: must be an integer between 0 and 65535, got ${JSON.stringify(t)}`);
    return Number(t);
  };
  const dur = (k: string, d: string) => {
    const ms = parseDuration(v(k) ?? d);
    if (ms === undefined || ms <= 0) problems.push(`--${k}: must be a duration like 100ms, 1s or 24h, got ${JSON.stringify(v(k))}`);
    return ms ?? 0;
  };
  const ipv4 = (k: string, d?: string) => {
    const t = v(k) ?? d;
    if (t !== undefined && !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(t)) problems.push(`--${k}: must be an IPv4 address, got ${JSON.stringify(t)}`);
    return t;
  };
  const grpcPort = port('grpc-port', 15012);
  const debugPort = port('debug-port', 15014);
  const bindAddress = ipv4('bind-address', '0.0.0.0')!;
  const bindDebugAddress = ipv4('debug-bind-address', bindAddress)!;
  const advertiseAddress = ipv4('advertise-address');
  const maxCertTtlMs = dur('max-cert-ttl', '24h');
  const debounceQuietMs = dur('debounce-after', '100ms');
  const debounceMaxMs = dur('debounce-max', '1s');
  if (debounceQuietMs && debounceMaxMs && debounceQuietMs > debounceMaxMs) problems.push('--debounce-after, --debounce-max: the quiet period must not exceed the maximum');
  const rootNamespace = v('root-namespace') ?? 'istio-system';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(rootNamespace)) problems.push(`--root-namespace: must be a namespace name, got ${JSON.stringify(rootNamespace)}`);
  const istiod = v('istiod-service') ?? 'true';
  if (istiod !== 'true' && istiod !== 'false') problems.push(`--istiod-service: must be true or false, got ${JSON.stringify(istiod)}`);
  const logLevel = v('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`--log-level: must be one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`);
  const home = v('home') ?? env.SHOAL_HOME ?? '/var/lib/shoal';
  if (problems.length) return { problems };
  return {
    problems,
    config: {
      ...(v('kubeconfig') ? { kubeconfig: v('kubeconfig') } : {}), grpcPort, debugPort, bindAddress, bindDebugAddress,
      caDir: join(home, 'pki', 'mesh'), ...(advertiseAddress ? { advertiseAddress } : {}), maxCertTtlSec: Math.floor(maxCertTtlMs / 1000),
      debounceQuietMs, debounceMaxMs, rootNamespace, tokenAudiences: (v('token-audiences') ?? '').split(',').filter(Boolean),
      manageIstiodService: istiod === 'true', logLevel,
    },
  };
}
