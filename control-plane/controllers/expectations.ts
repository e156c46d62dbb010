// Controller expectations (kube's ControllerExpectations): after a controller asks for N creations or
// deletions it waits until the informer has seen them before counting pods again, so a slow watch never
// makes it create twice. Expectations older than five minutes are ignored, as in kube.

import type { KubeObject } from '../../api/meta.js';
import type { EventHandlers } from '../../api/client/informer.js';
import { controllerRef } from './informers.js';

const TTL_MS = 5 * 60 * 1000;

interface Expect {
  add: number;
  del: number;
  at: number;
}

/** Per-controller-key outstanding creates and deletes. */
export class Expectations {
  private readonly m = new Map<string, Expect>();
  constructor(private readonly now: () => number = Date.now) {}

  /** True when nothing is outstanding (or the record is stale). */
  satisfied(key: string): boolean {
    const e = this.m.get(key);
    return !e || (e.add <= 0 && e.del <= 0) || this.now() - e.at > TTL_MS;
  }

  /** Record that `add` creations and `del` deletions are in flight. */
  expect(key: string, add: number, del: number): void {
    this.m.set(key, { add, del, at: this.now() });
  }

  /** One creation was seen (or failed). */
  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.add--;
  }

  /** One deletion was seen (or failed). */
  deletionObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.del--;
  }

  /** Forget `key` (its object is gone). */
  delete(key: string): void {
    this.m.delete(key);
  }
}

/**
 * The pod-event handlers of a controller that owns pods (ReplicaSet, Job, StatefulSet), as kube's write
 * them: the owner's key (`namespace/name` of the pod's controller reference of `kind`) is enqueued on
 * every change and a creation or deletion observed in `exp`; `orphanOwners` (when given) names the
 * owners whose selector matches a pod that has no controller, for adoption, on add (and on update with
 * `orphansOnUpdate`).
 */
export function ownedPodHandlers(kind: string, exp: Expectations, enqueue: (key: string) => void, o: { orphanOwners?: (p: KubeObject) => string[]; orphansOnUpdate?: boolean } = {}): EventHandlers {
  const ownerKey = (p: KubeObject) => {
    const r = controllerRef(p);
    return r?.kind === kind ? `${p.metadata.namespace}/${r.name}` : undefined;
  };
  return {
    onAdd(p) {
      const k = ownerKey(p);
      if (k) {
        exp.creationObserved(k);
        enqueue(k);
      } else for (const x of o.orphanOwners?.(p) ?? []) enqueue(x);
    },
    onUpdate(old, p) {
      const k = ownerKey(p);
      if (k && p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) exp.deletionObserved(k);
      for (const x of new Set([ownerKey(old), k])) if (x) enqueue(x);
      if (!k && o.orphansOnUpdate) for (const x of o.orphanOwners?.(p) ?? []) enqueue(x);
    },
    onDelete(p) {
      const k = ownerKey(p);
      if (!k) return;
      if (!p.metadata.deletionTimestamp) exp.deletionObserved(k);
      enqueue(k);
    },
  };
}
