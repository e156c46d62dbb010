// The scheduler loop: watch pods and nodes; for each pod with no node (and our schedulerName) build a
// snapshot of what each node holds (bound pods from the cache plus pods we bound moments ago and the
// cache has not caught up with: "assumed"), filter then score (scores.ts), and bind through
// POST pods/{name}/binding. A pod that fits nowhere gets a FailedScheduling event with kube's message,
// PodScheduled=False/Unschedulable, and is retried with backoff and whenever a node changes.

import type { KubeObject } from '../../api/meta.js';
import { isConflict, isNotFound, keyOf, type KubeClient } from '../../api/client/index.js';
import type { InformerFactory } from '../controllers/informers.js';
import { refs } from '../controllers/informers.js';
import type { EventRecorder } from '../../api/client/events.js';
import { WorkQueue, ItemExponentialLimiter } from '../controllers/queue/queue.js';
import { podRequests, type NodeInfo } from './filters.js';
import { pickNode } from './scores.js';

/** Settings of a scheduler. */
export interface SchedulerOptions {
  client: KubeClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  schedulerName?: string;
  random?: () => number;
  log?: (msg: string) => void;
}

/** Does this scheduler own the pod right now? */
export function needsScheduling(p: KubeObject, schedulerName = 'default-scheduler'): boolean {
  return !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.spec?.schedulerName ?? 'default-scheduler') === schedulerName &&
    p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** What each node holds, from bound pods plus assumed bindings (pure). */
export function snapshot(nodes: KubeObject[], pods: KubeObject[], assumed: Map<string, { pod: KubeObject; node: string }>): NodeInfo[] {
  const infos = new Map<string, NodeInfo>(nodes.map((n) => [n.metadata.name!, { node: n, requested: { milliCpu: 0, memory: 0, pods: 0 }, pods: [] }]));
  const add = (p: KubeObject, node: string) => {
    const i = infos.get(node);
    if (!i || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return;
    const r = podRequests(p);
    i.requested.milliCpu += r.milliCpu;
    i.requested.memory += r.memory;
    i.requested.pods += 1;
    i.pods.push(p);
  };
  const seen = new Set<string>();
  for (const p of pods) if (p.spec?.nodeName) {
    add(p, p.spec.nodeName);
    seen.add(keyOf(p));
  }
  for (const [k, a] of assumed) if (!seen.has(k)) add(a.pod, a.node);
  return [...infos.values()];
}

/** The scheduler. */
export class Scheduler {
  readonly queue = new WorkQueue(new ItemExponentialLimiter(1000, 10_000));
  private readonly assumed = new Map<string, { pod: KubeObject; node: string; at: number }>();
  private readonly unschedulable = new Set<string>();
  private worker?: Promise<void>;
  private readonly name: string;
  private readonly pods;
  private readonly nodes;

  constructor(private readonly o: SchedulerOptions) {
    this.name = o.schedulerName ?? 'default-scheduler';
    this.pods = o.informers.for(refs.pods);
    this.nodes = o.informers.for(refs.nodes);
    const enqueue = (p: KubeObject) => {
      if (needsScheduling(p, this.name)) this.queue.add(keyOf(p));
      else this.assumed.delete(keyOf(p)); // bound (the cache caught up) or gone
    };
    this.pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p), onDelete: (p) => { this.assumed.delete(keyOf(p)); this.retryUnschedulable(); } });
    const nodeChanged = () => this.retryUnschedulable();
    this.nodes.addEventHandler({ onAdd: nodeChanged, onUpdate: nodeChanged, onDelete: nodeChanged });
  }

  private retryUnschedulable(): void {
    for (const k of this.unschedulable) this.queue.add(k);
    this.unschedulable.clear();
  }

  /** Start the scheduling loop (informers are started by the caller). */
  start(): void {
    this.worker = this.loop();
  }

  /** Stop after the pod in hand. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.worker;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const retry = await this.scheduleOne(key);
        if (retry) {
          this.unschedulable.add(key);
          this.queue.addRateLimited(key);
        } else this.queue.forget(key);
      } catch (e) {
        this.o.log?.(`scheduler: ${key}: ${(e as Error).message}`);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Schedule one pod; true when it fit nowhere (retry later). */
  async scheduleOne(key: string): Promise<boolean> {
    const pod = this.pods.get(key);
    if (!pod || !needsScheduling(pod, this.name) || this.assumed.has(key)) return false;
    const now = Date.now();
    for (const [k, a] of this.assumed) if (now - a.at > 30_000) this.assumed.delete(k);
    const infos = snapshot(this.nodes.list(), this.pods.list(), this.assumed);
    const d = pickNode(pod, infos, { random: this.o.random });
    const ns = pod.metadata.namespace!;
    if (d.node === undefined) {
      this.o.recorder.event(pod, 'Warning', 'FailedScheduling', d.message);
      const conds = (pod.status?.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      const prev = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
      if (prev?.message !== d.message) {
        conds.push({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: d.message, lastProbeTime: null, lastTransitionTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z') });
        await this.o.client.updateStatus(refs.pods, { ...structuredClone(pod), status: { ...(pod.status ?? {}), conditions: conds } }, { namespace: ns })
          .catch((e) => { if (!isConflict(e) && !isNotFound(e)) throw e; });
      }
      return true;
    }
    this.assumed.set(key, { pod, node: d.node, at: now });
    try {
      const path = await this.o.client.path(refs.pods, ns, pod.metadata.name, 'binding');
      await this.o.client.request('POST', path, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: d.node } },
      });
    } catch (e) {
      this.assumed.delete(key);
      if (isNotFound(e) || isConflict(e)) return false; // deleted or bound by someone else meanwhile
      throw e;
    }
    this.o.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${pod.metadata.name} to ${d.node}`);
    return false;
  }
}
