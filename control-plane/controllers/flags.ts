// Flags of the controller manager (kube-controller-manager's names where it has them). Parsing collects
// every problem so `main.ts` can report them all and exit 64.

import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { PORTS, RANGES, TIMEOUTS, homeDir } from '../../lib/defaults/defaults.js';
import { parseDuration } from '../../lib/time/duration.js';
import { parseCidr } from '../allocators/range.js';

/** Validated settings of the controller manager. */
export interface ManagerConfig {
  kubeconfig?: string;
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  serviceClusterIpRange: string;
  clusterCidr: string;
  apiAddress?: string;
  apiPort?: number;
  healthPort: number;
  bindAddress: string;
  serviceAccountKeyFile: string;
  controllers: string[];
  logLevel: string;
  /** HPA sync period and downscale stabilization (kube's --horizontal-pod-autoscaler-*; env SHOAL_HPA_SYNC_PERIOD) */
  hpaSyncPeriodMs?: number;
  hpaDownscaleStabilizationMs?: number;
}

/** Every controller this manager can run. */
export const ALL_CONTROLLERS = ['deployment', 'replicaset', 'daemonset', 'endpoints', 'namespace', 'garbagecollector', 'serviceaccount', 'kubernetes-service', 'job', 'ttl-after-finished', 'cronjob', 'statefulset', 'horizontalpodautoscaling', 'canary'] as const;

/** Flags every control-plane component shares: kubeconfig, leader election, health, logging. */
export const COMMON_FLAGS = ['kubeconfig', 'leader-elect', 'leader-elect-lease-duration', 'leader-elect-renew-deadline', 'leader-elect-retry-period', 'health-port', 'bind-address', 'log-level'];

/** The common flags, parsed and checked; `v(k)` reads any other flag named in `extra`. */
export interface CommonFlags {
  v: (k: string) => string | undefined;
  problems: string[];
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  healthPort: number;
  logLevel: string;
}

/**
 * Parse argv leniently and collect every problem: unknown flags, missing values, positionals, and bad
 * common values (leader election durations, health port, log level).
 */
export function parseCommonFlags(argv: string[], extra: string[], defaults: { healthPort: number }): CommonFlags {
  const problems: string[] = [];
  const known = [...COMMON_FLAGS, ...extra];
  const { values, tokens } = parseArgs({ args: argv, options: Object.fromEntries(known.map((k) => [k, { type: 'string' as const }])), strict: false, allowPositionals: true, tokens: true });
  for (const tok of tokens ?? []) {
    if (tok.kind === 'option' && !known.includes(tok.name)) problems.push(`unknown flag: ${tok.rawName}`);
    else if (tok.kind === 'option' && tok.value === undefined && tok.name !== 'leader-elect') problems.push(`${tok.rawName}: needs a value`);
    else if (tok.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(tok.value)}`);
  }
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const le = values['leader-elect'] === true ? 'true' : v('leader-elect') ?? 'true';
  if (le !== 'true' && le !== 'false') problems.push(`--leader-elect: must be true or false, got ${JSON.stringify(le)}`);
  const dur = (k: string, d: string) => {
    const ms = parseDuration(v(k) ?? d);
    if (ms === undefined || ms <= 0) problems.push(`--${k}: must be a duration like 15s or 500ms, got ${JSON.stringify(v(k))}`);
    return ms ?? 0;
  };
  const leaseDurationMs = dur('leader-elect-lease-duration', TIMEOUTS.leaseDuration);
  const renewDeadlineMs = dur('leader-elect-renew-deadline', TIMEOUTS.renewDeadline);
  const retryPeriodMs = dur('leader-elect-retry-period', TIMEOUTS.retryPeriod);
  if (leaseDurationMs && renewDeadlineMs && retryPeriodMs && !(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs))
    problems.push('--leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period: must be lease > renew deadline > retry period');
  const hp = v('health-port') ?? String(defaults.healthPort);
  if (!/^\d+$/.test(hp) || Number(hp) > 65535) problems.push(`--health-port: must be an integer between 0 and 65535, got ${JSON.stringify(hp)}`);
  const logLevel = v('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`--log-level: must be one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`);
  return { v, problems, leaderElect: le === 'true', leaseDurationMs, renewDeadlineMs, retryPeriodMs, healthPort: Number(hp), logLevel };
}

/** Parse the controller manager's flags (the common ones and its own). */
export function parseManagerFlags(argv: string[], env: NodeJS.ProcessEnv = process.env, defaults: { healthPort: number } = { healthPort: PORTS.controllerManagerHealth }): { config?: ManagerConfig; problems: string[] } {
  const common = parseCommonFlags(argv, ['service-cluster-ip-range', 'cluster-cidr', 'api-server-url', 'api-advertise-address', 'service-account-private-key-file', 'controllers', 'horizontal-pod-autoscaler-sync-period', 'horizontal-pod-autoscaler-downscale-stabilization'], defaults);
  const { v, problems, leaderElect, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logLevel } = common;
  const cidrFlag = (k: string, d: string) => {
    const s = v(k) ?? d;
    try {
      parseCidr(s);
    } catch (e) {
      problems.push(`--${k}: ${(e as Error).message}`);
    }
    return s;
  };
  const serviceClusterIpRange = cidrFlag('service-cluster-ip-range', RANGES.serviceCidr);
  const clusterCidr = cidrFlag('cluster-cidr', RANGES.clusterCidr);
  let apiAddress: string | undefined;
  let apiPort: number | undefined;
  const url = v('api-server-url');
  if (url !== undefined) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'https:') throw new Error('not https');
      apiAddress = u.hostname.replace(/^\[|\]$/g, '');
      apiPort = Number(u.port || 443);
    } catch {
      problems.push(`--api-server-url: must be an https:// URL like https://127.0.0.1:6443, got ${JSON.stringify(url)}`);
    }
  }
  const adv = v('api-advertise-address');
  if (adv !== undefined) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(adv)) problems.push(`--api-advertise-address: must be an IPv4 address, got ${JSON.stringify(adv)}`);
    else apiAddress = adv;
  }
  const controllers = (v('controllers') ?? '*').split(',').map((s) => s.trim()).filter(Boolean);
  const selected = controllers.includes('*') ? [...ALL_CONTROLLERS, ...controllers.filter((c) => c.startsWith('-'))] : controllers;
  for (const c of controllers) if (c !== '*' && !(ALL_CONTROLLERS as readonly string[]).includes(c.replace(/^-/, ''))) problems.push(`--controllers: unknown controller ${JSON.stringify(c)}; known: ${ALL_CONTROLLERS.join(', ')}`);
  const off = new Set(selected.filter((c) => c.startsWith('-')).map((c) => c.slice(1)));
  const home = homeDir(undefined, env);
  const hpaDur = (k: string, envValue: string | undefined, d: string) => {
    const text = v(k) ?? envValue ?? d;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) problems.push(`--${k}: must be a positive duration (15s, 500ms, 5m), got ${JSON.stringify(text)}`);
    return ms;
  };
  const hpaSyncPeriodMs = hpaDur('horizontal-pod-autoscaler-sync-period', env.SHOAL_HPA_SYNC_PERIOD, '15s');
  const hpaDownscaleStabilizationMs = hpaDur('horizontal-pod-autoscaler-downscale-stabilization', undefined, '5m');
  if (problems.length) return { problems };
  return {
    problems,
    config: {
      kubeconfig: v('kubeconfig'), leaderElect, leaseDurationMs, renewDeadlineMs, retryPeriodMs,
      serviceClusterIpRange, clusterCidr, apiAddress, apiPort, healthPort: common.healthPort, bindAddress: v('bind-address') ?? '127.0.0.1',
      serviceAccountKeyFile: v('service-account-private-key-file') ?? join(home, 'pki', 'sa.key'),
      controllers: selected.filter((c) => !c.startsWith('-') && !off.has(c)), logLevel, hpaSyncPeriodMs, hpaDownscaleStabilizationMs,
    },
  };
}
