// The pods of this node: an informer on pods with `spec.nodeName=<node>`, one PodWorker per pod UID,
// a status writer (coalesced merge-patches of `pods/status`, only when the status changed), an event
// recorder, and the deletion handshake: a pod marked for deletion is terminated within its grace
// period, then deleted with gracePeriodSeconds=0 (the API server keeps it until then). At start,
// state left on disk by a previous agent is adopted (pods still bound here) or torn down (pods gone).

import { Informer } from '../../../api/client/informer.js';
import type { KubeClient } from '../../../api/client/client.js';
import { isNotFound } from '../../../api/client/errors.js';
import { EventRecorder, clientSink } from '../../../api/client/events.js';
import type { KubeObject } from '../../../api/meta.js';
import { podStatus } from './status.js';
import { PodWorker, type WorkerDeps } from './worker.js';
import type { Pod } from './types.js';

const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;

/** Options of the pod manager. */
export interface ManagerOptions {
  client: KubeClient;
  nodeName: string;
  deps: Omit<WorkerDeps, 'event' | 'changed'>;
  /** status write coalescing window */
  statusDelayMs?: number;
}

/** Runs every pod bound to this node. */
export class PodManager {
  readonly workers = new Map<string, PodWorker>();
  private readonly informer: Informer<Pod>;
  private readonly pendingStatus = new Set<string>();
  private statusTimer?: unknown;
  private flushing?: Promise<void>;
  private readonly lastWritten = new Map<string, string>();
  private readonly events: EventRecorder;
  private closed = false;
  /** handlers wait until the start-up adoption pass has run */
  private adopting = true;

  constructor(private readonly o: ManagerOptions) {
    this.events = new EventRecorder(clientSink(o.client), { component: 'kubelet', host: o.nodeName }, () => new Date(o.deps.clock.now()), (e) => o.deps.log('event', e));
    this.informer = new Informer<Pod>(o.client, podsRef, { fieldSelector: `spec.nodeName=${o.nodeName}`, onError: (e) => o.deps.log('pod informer', e) });
    this.informer.addEventHandler({
      onAdd: (p) => this.sync(p),
      onUpdate: (_old, p) => this.sync(p),
      onDelete: (p) => this.gone(p),
    });
  }

  private deps(): WorkerDeps {
    return { ...this.o.deps, event: (p, t, r, m) => this.event(p, t, r, m), changed: (w) => this.statusChanged(w) };
  }

  /** Lists, adopts or cleans what a previous agent left, then follows changes. */
  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    const live = new Set(this.informer.list().map((p) => p.metadata.uid!));
    for (const uid of this.o.deps.sandboxes.known()) {
      if (live.has(uid)) continue;
      const info = this.o.deps.sandboxes.load(uid);
      if (info) await this.o.deps.sandboxes.destroy(info).catch((e) => this.o.deps.log(`orphan sandbox ${uid}`, e));
      this.o.deps.cgroups.removePod(uid);
    }
    this.adopting = false;
    for (const p of this.informer.list()) this.sync(p, true);
  }

  /** Stops watching; `stopPods` terminates every pod too (otherwise they keep running for adoption). */
  async close(stopPods = false): Promise<void> {
    this.closed = true;
    this.informer.stop();
    if (this.statusTimer) this.o.deps.clock.clearTimeout(this.statusTimer);
    if (stopPods) await Promise.all([...this.workers.values()].map((w) => w.terminate(0)));
    for (const w of this.workers.values()) w.detach();
  }

  private sync(p: Pod, adopt = false): void {
    if (this.closed || this.adopting) return;
    const uid = p.metadata.uid!;
    let w = this.workers.get(uid);
    const phase = p.status?.phase;
    if (!w) {
      if (p.metadata.deletionTimestamp && (phase === 'Succeeded' || phase === 'Failed')) return;
      w = new PodWorker(p, this.deps());
      this.workers.set(uid, w);
      const worker = w;
      void w.start(adopt).catch((e) => this.o.deps.log(`pod ${worker.key}: start`, e));
    }
    w.pod = p;
    if ((p.spec.ephemeralContainers ?? []).length > w.ephemeral.length) w.syncEphemeral();
    if (p.metadata.deletionTimestamp && !w.terminating) void this.finish(w, p.metadata.deletionGracePeriodSeconds ?? p.spec.terminationGracePeriodSeconds ?? 30);
  }

  private async finish(w: PodWorker, grace: number): Promise<void> {
    await w.terminate(grace);
    if (this.closed) return;
    try {
      await this.o.client.delete(podsRef, w.pod.metadata.name!, { namespace: w.pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid: w.pod.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) this.o.deps.log(`pod ${w.key}: final delete`, e);
    }
  }

  private gone(p: Pod): void {
    if (this.adopting) return; // the adoption pass tears down state of pods that are gone
    const w = this.workers.get(p.metadata.uid!);
    if (!w) return;
    void w.terminate(0).finally(() => {
      this.workers.delete(p.metadata.uid!);
      this.lastWritten.delete(p.metadata.uid!);
    });
  }

  /** The worker of a pod by namespace and name. */
  find(namespace: string, name: string): PodWorker | undefined {
    for (const w of this.workers.values()) if (w.pod.metadata.namespace === namespace && w.pod.metadata.name === name && !w.terminating) return w;
    for (const w of this.workers.values()) if (w.pod.metadata.namespace === namespace && w.pod.metadata.name === name) return w;
    return undefined;
  }

  // ------------------------------------------------------------------ status

  private statusChanged(w: PodWorker): void {
    if (w.readyAt === undefined && w.ready()) w.readyAt = this.o.deps.clock.now();
    this.pendingStatus.add(w.pod.metadata.uid!);
    if (!this.statusTimer) {
      this.statusTimer = this.o.deps.clock.setTimeout(() => void this.flushInOrder(), this.o.statusDelayMs ?? 20);
    }
  }

  /**
   * One flush at a time: with two in flight, a slow older patch (a container restarting: Running) could
   * land after a newer one (it exited 0: Succeeded) and stay, since nothing changes afterwards.
   */
  private async flushInOrder(): Promise<void> {
    this.statusTimer = undefined;
    while (this.flushing) await this.flushing;
    this.flushing = this.flushStatus().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async flushStatus(): Promise<void> {
    const uids = [...this.pendingStatus];
    this.pendingStatus.clear();
    await Promise.all(uids.map(async (uid) => {
      const w = this.workers.get(uid);
      if (!w || this.closed) return;
      const status = podStatus(w.pod, w.snapshot(), new Date());
      const text = JSON.stringify(status);
      if (this.lastWritten.get(uid) === text) return;
      this.lastWritten.set(uid, text);
      try {
        await this.o.client.patch(podsRef, w.pod.metadata.name!, { status }, { namespace: w.pod.metadata.namespace, type: 'merge', subresource: 'status' });
      } catch (e) {
        this.lastWritten.delete(uid);
        if (!isNotFound(e)) {
          this.o.deps.log(`pod ${w.key}: status`, e);
          this.statusChanged(w);
        }
      }
    }));
  }

  // ------------------------------------------------------------------ events

  private event(p: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.closed) return;
    this.events.event({ ...p, apiVersion: 'v1', kind: 'Pod' } as KubeObject, type, reason, message);
  }

}
