// The one event recorder every process uses (controllers, scheduler, node agent, service proxy, policy
// enforcer): what a component did or failed at, as core/v1 Events in the shape kube's
// record.EventRecorder writes them (involvedObject, reason, message, source, first/lastTimestamp, count).
// Aggregation is kube's simplest rule: an event equal to one already written (same object, type, reason,
// message) within ten minutes bumps that Event's count and lastTimestamp instead of making a new one.
// Writes are queued in the background so a reconcile or sync never waits on them; `flush()` waits (tests).

import { rfc3339 } from '../../lib/time/clock.js';
import type { KubeObject } from '../meta.js';
import type { KubeClient, ResourceRef } from './client.js';

const eventsRef: ResourceRef = { apiVersion: 'v1', plural: 'events', namespaced: true };

/** Normal or Warning, as Kubernetes. */
export type EventType = 'Normal' | 'Warning';

/** Where events go: the API (the real one) or a list (unit tests). */
export interface EventSink {
  create(ev: KubeObject): Promise<KubeObject>;
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<KubeObject>;
}

/** An EventSink over the typed client. */
export function clientSink(client: KubeClient): EventSink {
  return {
    create: (ev) => client.create(eventsRef, ev, { namespace: ev.metadata.namespace }),
    patch: (namespace, name, patch) => client.patch(eventsRef, name, patch, { namespace, type: 'merge' }),
  };
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  at: number;
}

const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 4096;

/** Who reports: `source.component` (`deployment-controller`, `kubelet`) and, for node components, the node. */
export interface EventSource {
  component: string;
  host?: string;
}

/** Records events for one component. */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();
  private readonly source: EventSource;

  constructor(
    private readonly sink: EventSink,
    source: string | EventSource,
    private readonly now: () => Date = () => new Date(),
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {
    this.source = typeof source === 'string' ? { component: source } : source;
  }

  /** `source.component`. */
  get component(): string {
    return this.source.component;
  }

  /** Record `reason`/`message` about `obj`. Never throws; the write happens in the background. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const key = [m.uid, namespace, m.name, type, reason, message].join('\x00');
    this.chain = this.chain.then(() => this.write(obj, namespace, key, type, reason, message)).catch(this.onError);
  }

  /** Wait for every queued write. */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(obj: KubeObject, namespace: string, key: string, type: EventType, reason: string, message: string): Promise<void> {
    const nowDate = this.now();
    const ts = rfc3339(nowDate.getTime());
    const prev = this.seen.get(key);
    if (prev && nowDate.getTime() - prev.at < AGGREGATE_WINDOW_MS) {
      prev.count++;
      prev.at = nowDate.getTime();
      try {
        await this.sink.patch(prev.namespace, prev.name, { count: prev.count, lastTimestamp: ts });
        return;
      } catch {
        this.seen.delete(key); // the event is gone (expired or deleted): write a fresh one
      }
    }
    const m = obj.metadata;
    const name = `${m.name}.${(nowDate.getTime() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, uid: m.uid,
        ...(m.namespace ? { namespace: m.namespace } : {}),
        ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      },
      reason, message, type,
      source: { ...this.source },
      firstTimestamp: ts, lastTimestamp: ts, count: 1,
      reportingComponent: this.source.component, reportingInstance: this.source.host ?? this.source.component,
    };
    await this.sink.create(ev);
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { name, namespace, count: 1, first: ts, at: nowDate.getTime() });
  }
}

/** A Node as the object of an Event (node components report about their own Node). */
export function nodeRef(nodeName: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, uid: nodeName } };
}
