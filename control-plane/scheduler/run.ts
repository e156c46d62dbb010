// Starting the scheduler as a process: flags (exit 64 reporting all), leader election on the Lease
// `kube-system/kube-scheduler`, health on --health-port (default 10259). Shares the controller
// manager's election and health code.

import { parseArgs } from 'node:util';
import { KubeClient } from '../../api/client/index.js';
import { InformerFactory } from '../controllers/informers.js';
import { EventRecorder, clientSink } from '../controllers/events/recorder.js';
import { runElected, type RunningComponent } from '../controllers/manager.js';
import { parseDuration } from '../controllers/flags.js';
import type { LogFn } from '../controllers/controller.js';
import { Scheduler } from './scheduler.js';

/** Validated settings of the scheduler. */
export interface SchedulerConfig {
  kubeconfig?: string;
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  healthPort: number;
  bindAddress: string;
  schedulerName: string;
  logLevel: string;
}

/** Parse flags; the config or every problem. */
export function parseSchedulerFlags(argv: string[]): { config?: SchedulerConfig; problems: string[] } {
  const problems: string[] = [];
  const known = ['kubeconfig', 'leader-elect', 'leader-elect-lease-duration', 'leader-elect-renew-deadline', 'leader-elect-retry-period', 'health-port', 'bind-address', 'scheduler-name', 'log-level'];
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
  const leaseDurationMs = dur('leader-elect-lease-duration', '15s');
  const renewDeadlineMs = dur('leader-elect-renew-deadline', '10s');
  const retryPeriodMs = dur('leader-elect-retry-period', '2s');
  const hp = v('health-port') ?? '10259';
  if (!/^\d+$/.test(hp) || Number(hp) > 65535) problems.push(`--health-port: must be an integer between 0 and 65535, got ${JSON.stringify(hp)}`);
  const logLevel = v('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`--log-level: must be one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`);
  if (problems.length) return { problems };
  return {
    problems,
    config: {
      kubeconfig: v('kubeconfig'), leaderElect: le === 'true', leaseDurationMs, renewDeadlineMs, retryPeriodMs, healthPort: Number(hp),
      bindAddress: v('bind-address') ?? '127.0.0.1', schedulerName: v('scheduler-name') ?? 'default-scheduler', logLevel,
    },
  };
}

/** Start the scheduler (main.ts, and tests with their own client). */
export async function startScheduler(config: SchedulerConfig, o: { client?: KubeClient; log?: LogFn; onLost?: () => void; random?: () => number } = {}): Promise<RunningComponent & { scheduler(): Scheduler | undefined }> {
  const client = o.client ?? KubeClient.fromKubeconfig(config.kubeconfig ? { path: config.kubeconfig } : {}, { userAgent: 'kube-scheduler/shoal' });
  const log = o.log ?? (() => undefined);
  let current: Scheduler | undefined;
  const handle = await runElected({
    client, lease: 'kube-scheduler', leaderElect: config.leaderElect, leaseDurationMs: config.leaseDurationMs, renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs, bindAddress: config.bindAddress, healthPort: config.healthPort, log, onLost: o.onLost,
    work: async () => {
      const informers = new InformerFactory(client, (e) => log(`informer: ${(e as Error).message ?? e}`));
      const recorder = new EventRecorder(clientSink(client), config.schedulerName, undefined, (e) => log(`event: ${(e as Error).message}`));
      const s = new Scheduler({ client, informers, recorder, schedulerName: config.schedulerName, random: o.random, log });
      informers.start();
      await informers.waitForSync();
      s.start();
      current = s;
      let scheduled = 0;
      return {
        async stop() {
          await s.stop();
          await informers.stop();
          await recorder.flush();
          current = undefined;
        },
        stats: () => ({ scheduler: { reconciles: scheduled++, errors: 0 } }),
      };
    },
  });
  return {
    ...handle,
    scheduler: () => current,
    async stop() {
      await handle.stop();
      if (!o.client) await client.close();
    },
  };
}
