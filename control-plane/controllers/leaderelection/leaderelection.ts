// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it:
// try to acquire (create the Lease, or take it over when its holder has not renewed for a whole lease
// duration as *we* observed it, so clock skew between hosts does not matter), then renew every retry
// period; a leader that cannot renew within the renew deadline steps down. Stopping releases the lease
// (holder emptied) so a standby takes over at once instead of waiting out the lease.

import type { KubeClient } from '../../../api/client/index.js';
import { isConflict, isNotFound, isAlreadyExists } from '../../../api/client/index.js';
import type { KubeObject } from '../../../api/meta.js';
import { refs } from '../informers.js';
import { type Clock, realClock } from '../../../lib/time/clock.js';

/** Settings of one election (kube's defaults: 15 s lease, 10 s renew deadline, 2 s retry). */
export interface LeaderElectionConfig {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** called once we lead; the signal aborts when leadership is lost or stop() is called */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
  clock?: Clock;
  log?: (msg: string) => void;
}

/** MicroTime as Kubernetes serializes it. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** Runs one election; `run()` resolves when stopped. */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observedRv = '';
  private observedHolder = '';
  private observedAt = 0;
  private lease?: KubeObject;
  private leaderAbort?: AbortController;
  private wake?: () => void;
  private readonly clock: Clock;
  private readonly d: { lease: number; renew: number; retry: number };

  constructor(private readonly c: LeaderElectionConfig) {
    this.clock = c.clock ?? realClock;
    this.d = { lease: c.leaseDurationMs ?? 15_000, renew: c.renewDeadlineMs ?? 10_000, retry: c.retryPeriodMs ?? 2_000 };
  }

  /** True while this process holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Acquire, lead, renew; loops (re-campaigning after a loss) until stop(). */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.tryAcquireOrRenew())) {
        await this.sleep(this.d.retry * (1 + Math.random() * 0.2));
        continue;
      }
      this.leading = true;
      this.leaderAbort = new AbortController();
      this.c.log?.(`successfully acquired lease ${this.c.namespace}/${this.c.name}`);
      void Promise.resolve(this.c.onStartedLeading(this.leaderAbort.signal)).catch((e) => this.c.log?.(`leader callback: ${(e as Error).message}`));
      let lastRenew = this.clock.now();
      while (!this.stopped) {
        await this.sleep(this.d.retry);
        if (this.stopped) break;
        if (await this.tryAcquireOrRenew()) lastRenew = this.clock.now();
        else if (this.clock.now() - lastRenew > this.d.renew || (this.observedHolder !== this.c.identity && this.observedHolder !== '')) break;
      }
      this.leading = false;
      this.leaderAbort.abort();
      this.c.onStoppedLeading?.();
      if (!this.stopped) this.c.log?.(`lost lease ${this.c.namespace}/${this.c.name}`);
    }
  }

  /** Stop campaigning; if leading, release the lease so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.lease && this.lease.spec?.holderIdentity === this.c.identity) {
      const next = structuredClone(this.lease);
      next.spec = { ...next.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.clock.now()) };
      delete next.spec.holderIdentity;
      await this.c.client.update(refs.leases, next, { namespace: this.c.namespace }).catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const h = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(h);
        resolve();
      };
    });
  }

  /** One attempt: true when we hold the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const mine = (prev?: KubeObject): KubeObject['spec'] => ({
      holderIdentity: this.c.identity,
      leaseDurationSeconds: Math.ceil(this.d.lease / 1000),
      acquireTime: prev?.spec?.holderIdentity === this.c.identity && prev.spec.acquireTime ? prev.spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (prev?.spec?.leaseTransitions ?? 0) + (prev && prev.spec?.holderIdentity !== this.c.identity ? 1 : 0),
    });
    let cur: KubeObject;
    try {
      cur = await this.c.client.get(refs.leases, this.c.name, { namespace: this.c.namespace });
    } catch (e) {
      if (!isNotFound(e)) return false;
      try {
        this.lease = await this.c.client.create(refs.leases, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.c.name, namespace: this.c.namespace }, spec: mine(),
        }, { namespace: this.c.namespace });
        this.observe(this.lease, now);
        return true;
      } catch (e2) {
        if (!isAlreadyExists(e2)) this.c.log?.(`create lease: ${(e2 as Error).message}`);
        return false;
      }
    }
    if (cur.metadata.resourceVersion !== this.observedRv) this.observe(cur, now);
    const holder = cur.spec?.holderIdentity ?? '';
    const durMs = (cur.spec?.leaseDurationSeconds ?? 15) * 1000;
    if (holder !== '' && holder !== this.c.identity && this.observedAt + durMs > now) return false;
    const next = structuredClone(cur);
    next.spec = mine(cur);
    try {
      this.lease = await this.c.client.update(refs.leases, next, { namespace: this.c.namespace });
      this.observe(this.lease, now);
      return true;
    } catch (e) {
      if (!isConflict(e)) this.c.log?.(`update lease: ${(e as Error).message}`);
      return false;
    }
  }

  private observe(lease: KubeObject, now: number): void {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.observedHolder && holder) this.c.onNewLeader?.(holder);
    this.observedRv = lease.metadata.resourceVersion ?? '';
    this.observedHolder = holder;
    this.observedAt = now;
  }
}
