// Starting the scheduler as a process: flags (exit 64 reporting all), leader election on the Lease
// `kube-system/kube-scheduler`, health on --health-port (default 10259). Shares the controller
// manager's election and health code.

import { PORTS } from '../../lib/defaults/defaults.js';
import { KubeClient } from '../../api/client/index.js';
import { InformerFactory } from '../controllers/informers.js';
import { EventRecorder, clientSink } from '../../api/client/events.js';
import { runElected, type RunningComponent } from '../controllers/manager.js';
import { parseCommonFlags } from '../controllers/flags.js';
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
  const c = parseCommonFlags(argv, ['scheduler-name'], { healthPort: PORTS.schedulerHealth });
  if (c.problems.length) return { problems: c.problems };
  return {
    problems: [],
    config: {
      kubeconfig: c.v('kubeconfig'), leaderElect: c.leaderElect, leaseDurationMs: c.leaseDurationMs, renewDeadlineMs: c.renewDeadlineMs,
      retryPeriodMs: c.retryPeriodMs, healthPort: c.healthPort, bindAddress: c.v('bind-address') ?? '127.0.0.1',
      schedulerName: c.v('scheduler-name') ?? 'default-scheduler', logLevel: c.logLevel,
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
