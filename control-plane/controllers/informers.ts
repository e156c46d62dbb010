// Shared informers: one list+watch per resource for the whole process, however many controllers read
// it (client-go's SharedInformerFactory). Controllers ask for an informer, add handlers, and the manager
// starts them all and waits for every cache to sync before the workers run.

import { Informer, type KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';

/** How a resource is addressed without discovery. */
export interface InformerRef {
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

/** Well-known resources controllers read. */
export const refs = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  nodes: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  endpoints: { apiVersion: 'v1', plural: 'endpoints', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  serviceaccounts: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  secrets: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  events: { apiVersion: 'v1', plural: 'events', namespaced: true },
  deployments: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  replicasets: { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  daemonsets: { apiVersion: 'apps/v1', plural: 'daemonsets', namespaced: true },
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  leases: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
} satisfies Record<string, InformerRef>;

/** One informer per resource, created on first use. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(readonly client: KubeClient, private readonly onError?: (e: unknown) => void) {}

  /** The shared informer for `ref` (all namespaces). */
  for<T extends KubeObject = KubeObject>(ref: InformerRef): Informer<T> {
    const k = `${ref.apiVersion}/${ref.plural}`;
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new Informer(this.client, ref, { namespace: '', onError: this.onError });
      this.informers.set(k, inf);
      if (this.started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  /** Start every informer (and any created later). */
  start(): void {
    this.started = true;
    for (const i of this.informers.values()) i.start();
  }

  /** Wait until every informer has listed once. */
  async waitForSync(timeoutMs = 60_000): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  /** Stop every informer. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** The controller owner reference of an object, if any. */
export function controllerRef(o: KubeObject): { apiVersion: string; kind: string; name: string; uid: string } | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

/** Queue handlers that enqueue the key `f(obj)` returns (skipping undefined) for add, update and delete. */
export function enqueueOn<T extends KubeObject>(f: (o: T) => string | string[] | undefined, add: (k: string) => void) {
  const push = (o: T) => {
    const k = f(o);
    if (k === undefined) return;
    for (const x of Array.isArray(k) ? k : [k]) add(x);
  };
  return { onAdd: push, onUpdate: (old: T, cur: T) => { push(old); push(cur); }, onDelete: push };
}
