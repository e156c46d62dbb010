// The ReplicaSet controller: keep `spec.replicas` active pods matching the selector. Pods are counted
// from the informer cache, adopted when they match and have no controller, created in slow-start
// batches (1, 2, 4, ...) and deleted in kube's order (unscheduled, pending, not-ready, newest first).
// Expectations stop it from acting again before the informer has seen its own creations and deletions.

import type { KubeObject, OwnerReference } from '../../../api/meta.js';
import { fromLabelSelector, matches } from '../../../api/labels.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { Expectations, ownedPodHandlers } from '../expectations.js';
import { controllerRef, refs } from '../informers.js';
import { deletionOrder, isPodActive, isPodAvailable, isPodReady, deepEqual } from '../podutil.js';

const BURST = 500;

/** A pod from a template, owned by `owner` (shared with the DaemonSet controller). */
export function podFromTemplate(owner: KubeObject, template: any, extra: { labels?: Record<string, string>; nodeName?: string } = {}): KubeObject {
  const tm = template?.metadata ?? {};
  const ref: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
  const spec = structuredClone(template?.spec ?? {});
  if (extra.nodeName) spec.nodeName = extra.nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(tm.labels ?? {}), ...(extra.labels ?? {}) },
      ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
      ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec,
  };
}

/** The status a ReplicaSet should report for its pods (pure). */
export function replicaSetStatus(rs: KubeObject, pods: KubeObject[], now: number): Record<string, unknown> {
  const active = pods.filter(isPodActive);
  const tplLabels = rs.spec?.template?.metadata?.labels ?? {};
  const min = rs.spec?.minReadySeconds ?? 0;
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(tplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, min, now)).length,
    terminatingReplicas: pods.filter((p) => p.metadata.deletionTimestamp).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}

/** What a reconcile should do about the pod count (pure): create `n`, delete these, or nothing. */
export function replicaSetDiff(replicas: number, active: KubeObject[]): { create: number; delete: KubeObject[] } {
  const diff = active.length - replicas;
  if (diff < 0) return { create: Math.min(-diff, BURST), delete: [] };
  if (diff > 0) return { create: 0, delete: [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST)) };
  return { create: 0, delete: [] };
}

/**
 * Adopts an orphan `pod` for `owner` (of `apiVersion`/`kind`), as kube's ClaimPods: a merge patch that
 * appends a controller reference, guarded by the pod's resourceVersion; a pod gone meanwhile is skipped.
 */
export async function adoptPod(ctx: ControllerContext, apiVersion: string, kind: string, owner: KubeObject, pod: KubeObject): Promise<void> {
  const refsNow = [...(pod.metadata.ownerReferences ?? []), { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }];
  await ctx.client.patch(refs.pods, pod.metadata.name!, { metadata: { ownerReferences: refsNow, resourceVersion: pod.metadata.resourceVersion } }, { namespace: pod.metadata.namespace, type: 'merge' })
    .catch((e) => { if (!isNotFound(e)) throw e; });
}

/** Pods of `owner` in the cache: those it controls, plus orphans its selector matches (to adopt). */
export function claimPods(owner: KubeObject, pods: KubeObject[]): { owned: KubeObject[]; orphans: KubeObject[] } {
  let sel;
  try {
    sel = fromLabelSelector(owner.spec?.selector);
  } catch {
    return { owned: [], orphans: [] };
  }
  const owned: KubeObject[] = [];
  const orphans: KubeObject[] = [];
  for (const p of pods) {
    if (p.metadata.namespace !== owner.metadata.namespace) continue;
    const ref = controllerRef(p);
    if (ref) {
      if (ref.uid === owner.metadata.uid) owned.push(p);
    } else if (!p.metadata.deletionTimestamp && matches(sel, p.metadata.labels)) orphans.push(p);
  }
  return { owned, orphans };
}

/** Run `n` creations in slow-start batches (1, 2, 4, ...); stop at the first failing batch. Returns successes. */
export async function slowStartBatch(n: number, fn: () => Promise<void>): Promise<{ ok: number; error?: unknown }> {
  let ok = 0;
  let batch = 1;
  while (ok < n) {
    const size = Math.min(batch, n - ok);
    const rs = await Promise.allSettled(Array.from({ length: size }, fn));
    const good = rs.filter((r) => r.status === 'fulfilled').length;
    ok += good;
    const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (bad) return { ok, error: bad.reason };
    batch *= 2;
  }
  return { ok };
}

/** The ReplicaSet controller. */
export function replicaSetController(ctx: ControllerContext): Controller {
  const rsInf = ctx.informers.for(refs.replicasets);
  const podInf = ctx.informers.for(refs.pods);
  const exp = new Expectations(ctx.now);
  const rec = ctx.recorder('replicaset-controller');
  const matchingSets = (p: KubeObject) =>
    rsInf.list().filter((rs) => rs.metadata.namespace === p.metadata.namespace && claimPods(rs, [p]).orphans.length).map(keyOf);

  const c = new Controller({ name: 'replicaset', log: ctx.log, reconcile });
  rsInf.addEventHandler({ onAdd: (o) => c.enqueue(keyOf(o)), onUpdate: (_o, n) => c.enqueue(keyOf(n)), onDelete: (o) => c.enqueue(keyOf(o)) });
  podInf.addEventHandler(ownedPodHandlers('ReplicaSet', exp, (k) => c.enqueue(k), { orphanOwners: matchingSets, orphansOnUpdate: true }));

  async function reconcile(key: string) {
    const cached = rsInf.get(key);
    if (!cached) {
      exp.delete(key);
      return;
    }
    const rs = structuredClone(cached);
    const { owned, orphans } = claimPods(rs, podInf.list());
    if (!rs.metadata.deletionTimestamp) {
      for (const p of orphans) await adoptPod(ctx, 'apps/v1', 'ReplicaSet', rs, p);
      owned.push(...orphans);
    }
    const active = owned.filter(isPodActive);
    if (exp.satisfied(key) && !rs.metadata.deletionTimestamp) {
      const d = replicaSetDiff(rs.spec?.replicas ?? 1, active);
      if (d.create > 0) {
        exp.expect(key, d.create, 0);
        const r = await slowStartBatch(d.create, async () => {
          const pod = await ctx.client.create(refs.pods, podFromTemplate(rs, rs.spec.template), { namespace: rs.metadata.namespace });
          rec.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        });
        for (let i = r.ok; i < d.create; i++) exp.creationObserved(key);
        if (r.error) {
          rec.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(r.error as Error).message}`);
          throw r.error;
        }
      } else if (d.delete.length) {
        exp.expect(key, 0, d.delete.length);
        const errs: unknown[] = [];
        await Promise.all(d.delete.map(async (p) => {
          try {
            await ctx.client.delete(refs.pods, p.metadata.name!, { namespace: p.metadata.namespace });
            rec.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
          } catch (e) {
            exp.deletionObserved(key);
            if (!isNotFound(e)) errs.push(e);
          }
        }));
        if (errs.length) throw errs[0];
      }
    }
    const now = ctx.now();
    const status = replicaSetStatus(rs, owned, now);
    if (!deepEqual(status, rs.status ?? {})) {
      await ctx.client.updateStatus(refs.replicasets, { ...rs, status }, { namespace: rs.metadata.namespace });
    }
    const min = rs.spec?.minReadySeconds ?? 0;
    if (min > 0 && (status.readyReplicas as number) > (status.availableReplicas as number)) return { requeueAfterMs: min * 1000 };
  }
  return c;
}
