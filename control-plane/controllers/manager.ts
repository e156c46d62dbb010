// The controller manager: one process runs every controller, behind leader election on the Lease
// `kube-system/kube-controller-manager` so two can run (one acts, the other waits to take over). On
// leading it builds the shared informers and controllers, waits for the caches, then starts the workers;
// on losing the lease it stops them (the process exits, as kube's does, unless embedded in a test).

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { KubeClient } from '../../api/client/index.js';
import type { Controller, LogFn } from './controller.js';
import { makeContext } from './context.js';
import { InformerFactory } from './informers.js';
import { LeaderElector } from './leaderelection/leaderelection.js';
import { startHealthServer } from './health.js';
import type { ManagerConfig } from './flags.js';
import { deploymentController } from './deployment/deployment.js';
import { replicaSetController } from './replicaset/replicaset.js';
import { daemonSetController } from './daemonset/daemonset.js';
import { endpointsController } from './endpoints/endpoints.js';
import { namespaceController } from './namespace/namespace.js';
import { garbageCollector } from './gc/gc.js';
import { serviceAccountController } from './serviceaccount/serviceaccount.js';
import { ensureServiceAccountKey } from './serviceaccount/token.js';
import { kubernetesServiceController } from './kubernetes/kubernetes.js';
import { jobController } from './job/job.js';
import { ttlAfterFinishedController } from './job/ttl.js';
import { cronJobController } from './cronjob/cronjob.js';
import { statefulSetController } from './statefulset/statefulset.js';
import { hpaController } from './hpa/hpa.js';
import { canaryController } from './canary/canary.js';

/** A running component (controller manager or scheduler) with its election. */
export interface RunningComponent {
  identity: string;
  healthUrl: string;
  isLeader(): boolean;
  /** resolves once this process leads and its caches have synced */
  leading: Promise<void>;
  stop(): Promise<void>;
}

/** What a component does while it leads: start, and return how to stop. */
export type LeaderWork = (signal: AbortSignal) => Promise<{ stop(): Promise<void>; stats(): Record<string, { reconciles: number; errors: number }> }>;

/** Run `work` under leader election (or at once when `leaderElect` is false), with a health server. */
export async function runElected(o: {
  client: KubeClient; lease: string; leaderElect: boolean; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number;
  bindAddress: string; healthPort: number; log: LogFn; work: LeaderWork; onLost?: () => void; identity?: string;
}): Promise<RunningComponent> {
  const identity = o.identity ?? `${hostname()}_${randomUUID()}`;
  let current: Awaited<ReturnType<LeaderWork>> | undefined;
  let ready = false;
  let resolveLeading!: () => void;
  const leading = new Promise<void>((r) => (resolveLeading = r));
  let starting: Promise<void> | undefined;
  let stopping = false;
  const lead = (signal: AbortSignal) => {
    starting = (async () => {
      current = await o.work(signal);
      ready = true;
      resolveLeading();
      o.log(`${o.lease}: leading as ${identity}`);
    })();
    return starting;
  };
  const stopWork = async () => {
    await starting?.catch(() => undefined);
    const c = current;
    current = undefined;
    ready = false;
    await c?.stop();
  };
  const elector = o.leaderElect
    ? new LeaderElector({
      client: o.client, namespace: 'kube-system', name: o.lease, identity,
      leaseDurationMs: o.leaseDurationMs, renewDeadlineMs: o.renewDeadlineMs, retryPeriodMs: o.retryPeriodMs,
      onStartedLeading: (signal) => lead(signal),
      onStoppedLeading: () => { void stopWork().then(() => { if (!stopping) o.onLost?.(); }); },
      log: (m) => o.log(m),
    })
    : undefined;
  const health = await startHealthServer(o.bindAddress, o.healthPort, {
    ready: () => ready || (elector !== undefined && !elector.isLeader()),
    leader: () => elector?.isLeader() ?? true,
    metrics: () => current?.stats() ?? {},
  }, o.lease);
  let running: Promise<void> | undefined;
  if (elector) running = elector.run();
  else void lead(new AbortController().signal);
  return {
    identity,
    healthUrl: health.url,
    isLeader: () => (elector ? elector.isLeader() : true),
    leading,
    async stop() {
      stopping = true;
      if (elector) {
        await stopWork();
        await elector.stop();
        await running;
      } else await stopWork();
      await health.close();
    },
  };
}

/** Build every selected controller over one client; returns how to start and stop them. */
export function buildControllers(client: KubeClient, config: ManagerConfig, log: LogFn) {
  const informers = new InformerFactory(client, (e) => log(`informer: ${(e as Error).message ?? e}`));
  const ctx = makeContext(client, informers, log);
  const on = new Set(config.controllers);
  const list: Controller[] = [];
  if (on.has('replicaset')) list.push(replicaSetController(ctx));
  if (on.has('deployment')) list.push(deploymentController(ctx));
  if (on.has('daemonset')) list.push(daemonSetController(ctx));
  if (on.has('endpoints')) list.push(endpointsController(ctx));
  if (on.has('namespace')) list.push(namespaceController(ctx));
  if (on.has('garbagecollector')) list.push(garbageCollector(ctx));
  if (on.has('job')) list.push(jobController(ctx));
  if (on.has('ttl-after-finished')) list.push(ttlAfterFinishedController(ctx));
  if (on.has('cronjob')) list.push(cronJobController(ctx));
  if (on.has('statefulset')) list.push(statefulSetController(ctx));
  if (on.has('serviceaccount')) {
    const key = ensureServiceAccountKey(config.serviceAccountKeyFile);
    list.push(serviceAccountController(ctx, { privateKeyPem: key.privateKeyPem, caPem: client.config.caPem ?? '' }));
  }
  if (on.has('horizontalpodautoscaling')) list.push(hpaController(ctx, { syncPeriodMs: config.hpaSyncPeriodMs, downscaleStabilizationMs: config.hpaDownscaleStabilizationMs }));
  if (on.has('canary')) list.push(canaryController(ctx));
  if (on.has('kubernetes-service') && config.apiAddress && config.apiPort)
    list.push(kubernetesServiceController(ctx, { serviceCidr: config.serviceClusterIpRange, apiAddress: config.apiAddress, apiPort: config.apiPort }));
  return {
    ctx, informers, controllers: list,
    async start() {
      informers.start();
      await informers.waitForSync();
      for (const c of list) c.start();
    },
    async stop() {
      for (const c of list) c.queue.shutDown();
      await Promise.all(list.map((c) => c.stop()));
      await informers.stop();
      await Promise.all([...ctx.recorders.values()].map((r) => r.flush()));
    },
    stats: () => Object.fromEntries(list.map((c) => [c.name, { ...c.stats }])),
  };
}

/** Start the controller manager (used by main.ts and by tests, with an explicit client). */
export async function startControllerManager(config: ManagerConfig, o: { client?: KubeClient; log?: LogFn; onLost?: () => void; identity?: string } = {}): Promise<RunningComponent> {
  const client = o.client ?? KubeClient.fromKubeconfig(config.kubeconfig ? { path: config.kubeconfig } : {}, { userAgent: 'kube-controller-manager/shoal' });
  const log = o.log ?? (() => undefined);
  const handle = await runElected({
    client, lease: 'kube-controller-manager', leaderElect: config.leaderElect, leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs, retryPeriodMs: config.retryPeriodMs, bindAddress: config.bindAddress,
    healthPort: config.healthPort, log, onLost: o.onLost, identity: o.identity,
    work: async () => {
      const b = buildControllers(client, config, log);
      await b.start();
      return b;
    },
  });
  return {
    ...handle,
    async stop() {
      await handle.stop();
      if (!o.client) await client.close();
    },
  };
}
