// Flags of the policy enforcer. Every bad flag is collected so main.ts can report all of them and
// exit 64; the result is frozen and shared.

import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { PORTS, TIMEOUTS } from '../../lib/defaults/defaults.js';
import { parseDuration } from '../../lib/time/duration.js';

/** The validated, frozen configuration. */
export interface PolicyConfig {
  kubeconfig?: string;
  nodeName: string;
  /** table `shoal-policy` or `shoal-policy-<suffix>` */
  tableSuffix: string;
  minSyncMs: number;
  maxSyncMs: number;
  retryMs: number;
  /** delete the table on SIGTERM (off by default: isolation outlives a restart) */
  cleanupOnExit: boolean;
  /** `/healthz` port (0: none; default 9099, Calico Felix's health port) */
  healthPort: number;
  bindAddress: string;
}

/** Parses argv; `problems` lists every bad flag as `--flag: why`. */
export function parsePolicyFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: PolicyConfig; problems: string[] } {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        ...Object.fromEntries(['kubeconfig', 'node-name', 'table-suffix', 'min-sync-period', 'sync-period', 'retry-period', 'health-port', 'bind-address'].map((k) => [k, { type: 'string' as const }])),
        'cleanup-on-exit': { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const str = (k: string) => values[k] as string | undefined;
  const tableSuffix = str('table-suffix') ?? '';
  if (!/^[a-z0-9]{0,11}$/.test(tableSuffix)) problems.push(`--table-suffix: at most 11 lowercase letters or digits, got ${JSON.stringify(tableSuffix)}`);
  const dur = (flag: string, def: string): number => {
    const v = parseDuration(str(flag) ?? def) ?? NaN;
    if (Number.isNaN(v) || v <= 0) problems.push(`--${flag}: must be a positive duration like 1s or 100ms, got ${JSON.stringify(str(flag))}`);
    return v;
  };
  const minSyncMs = dur('min-sync-period', TIMEOUTS.policyMinSync);
  const maxSyncMs = dur('sync-period', TIMEOUTS.policySync);
  const retryMs = dur('retry-period', TIMEOUTS.policyRetry);
  const healthText = str('health-port') ?? String(PORTS.policyHealth);
  const healthPort = Number(healthText);
  if (!/^[0-9]+$/.test(healthText) || healthPort > 65535) problems.push(`--health-port: must be 0..65535, got ${JSON.stringify(str('health-port'))}`);
  const bindAddress = str('bind-address') ?? '127.0.0.1';
  if (!isIP(bindAddress)) problems.push(`--bind-address: must be an IP address, got ${JSON.stringify(bindAddress)}`);
  const nodeName = str('node-name') ?? env.NODE_NAME ?? hostname();
  if (!nodeName) problems.push('--node-name: must not be empty');
  if (problems.length) return { problems };
  return {
    problems,
    config: Object.freeze({ kubeconfig: str('kubeconfig'), nodeName, tableSuffix, minSyncMs, maxSyncMs, retryMs, cleanupOnExit: values['cleanup-on-exit'] === true, healthPort, bindAddress }),
  };
}
