// The StatefulSet controller: revisions are ControllerRevision objects (`<set>-<hash>` of the pod
// template, `revision` numbered from 1, trimmed to revisionHistoryLimit), so a pod below the partition
// can be recreated at the current revision and `kubectl rollout history` finds them. Each sync reads the
// caches, adopts orphans its selector matches, plans with plan.ts (pure), creates or deletes pods (one
// at a time for OrderedReady) and writes the status last, marking the update revision current once
// every pod runs it and is ready.

import type { KubeObject } from '../../../api/meta.js';
import { isAlreadyExists, isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { Expectations, ownedPodHandlers } from '../expectations.js';
import { controllerRef, refs } from '../informers.js';
import { deepEqual } from '../podutil.js';
import { podTemplateHash } from '../deployment/rolling.js';
import { adoptPod, claimPods } from '../replicaset/replicaset.js';
import { completeRollingUpdate, ordinalOf, planStatefulSet, statefulPod } from './plan.js';

export const statefulSetsRef = { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true };
export const revisionsRef = { apiVersion: 'apps/v1', plural: 'controllerrevisions', namespaced: true };
const HASH_LABEL = 'controller.kubernetes.io/hash';

/** The revision name for a set's current template. */
export function revisionName(set: KubeObject): { name: string; hash: string } {
  const hash = podTemplateHash(set.spec?.template, set.status?.collisionCount ?? 0);
  return { name: `${set.metadata.name}-${hash}`, hash };
}

/** The pod template a ControllerRevision holds. */
function templateOf(rev: KubeObject): any {
  const t = structuredClone(rev.data?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

/** The StatefulSet controller (`statefulset` in --controllers). */
export function statefulSetController(ctx: ControllerContext): Controller {
  const setInf = ctx.informers.for(statefulSetsRef);
  const podInf = ctx.informers.for(refs.pods);
  const revInf = ctx.informers.for(revisionsRef);
  const exp = new Expectations(ctx.now);
  const rec = ctx.recorder('statefulset-controller');
  const c = new Controller({ name: 'statefulset', log: ctx.log, reconcile });
  setInf.addEventHandler({ onAdd: (s) => c.enqueue(keyOf(s)), onUpdate: (_o, s) => c.enqueue(keyOf(s)), onDelete: (s) => c.enqueue(keyOf(s)) });
  podInf.addEventHandler(ownedPodHandlers('StatefulSet', exp, (k) => c.enqueue(k)));

  async function ensureRevisions(set: KubeObject): Promise<{ current: KubeObject; update: KubeObject; all: KubeObject[] }> {
    const ns = set.metadata.namespace!;
    let revs = revInf.list().filter((r) => r.metadata.namespace === ns && controllerRef(r)?.uid === set.metadata.uid);
    const { name, hash } = revisionName(set);
    const max = revs.reduce((n, r) => Math.max(n, r.revision ?? 0), 0);
    let update = revs.find((r) => r.metadata.name === name);
    if (!update) {
      const fresh: KubeObject = {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name, namespace: ns, labels: { ...(set.spec?.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        data: { spec: { template: { ...structuredClone(set.spec?.template ?? {}), $patch: 'replace' } } },
        revision: max + 1,
      };
      try {
        update = await ctx.client.create(revisionsRef, fresh, { namespace: ns });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        update = await ctx.client.get(revisionsRef, name, { namespace: ns });
      }
      revs = [...revs, update];
    } else if ((update.revision ?? 0) < max) {
      // an old template came back (rollout undo): it becomes the newest revision
      update = await ctx.client.update(revisionsRef, { ...structuredClone(update), revision: max + 1 }, { namespace: ns });
      revs = revs.map((r) => (r.metadata.name === name ? update! : r));
    }
    const current = revs.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, all: revs };
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = setInf.get(key);
    if (!cached) {
      exp.delete(key);
      return;
    }
    const set = structuredClone(cached);
    const ns = set.metadata.namespace!;
    if (set.metadata.deletionTimestamp) return;
    const { owned, orphans } = claimPods(set, podInf.list());
    for (const p of orphans) {
      if (ordinalOf(set, p) === undefined) continue;
      await adoptPod(ctx, 'apps/v1', 'StatefulSet', set, p);
      owned.push(p);
    }
    const { current, update, all } = await ensureRevisions(set);
    const plan = planStatefulSet(set, owned, current.metadata.name!, update.metadata.name!, ctx.now());
    if (exp.satisfied(key)) {
      if (plan.delete.length) {
        exp.expect(key, 0, plan.delete.length);
        for (const p of plan.delete) {
          try {
            await ctx.client.delete(refs.pods, p.metadata.name!, { namespace: ns });
            rec.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`);
          } catch (e) {
            exp.deletionObserved(key);
            if (!isNotFound(e)) throw e;
          }
        }
      }
      if (plan.create.length) {
        exp.expect(key, plan.create.length, 0);
        await Promise.all(plan.create.map(async ({ ordinal, update: atUpdate }) => {
          const rev = atUpdate ? update : current;
          const pod = statefulPod(set, templateOf(rev), rev.metadata.name!, ordinal);
          try {
            await ctx.client.create(refs.pods, pod, { namespace: ns });
            rec.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
          } catch (e) {
            exp.creationObserved(key);
            if (!isAlreadyExists(e)) {
              rec.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
              throw e;
            }
          }
        }));
      }
    }
    const status = completeRollingUpdate(set, plan.status);
    if (!deepEqual(status, cached.status ?? {})) await ctx.client.updateStatus(statefulSetsRef, { ...set, status }, { namespace: ns });
    // history: keep revisionHistoryLimit revisions besides the current and update ones and those pods use
    const inUse = new Set([current.metadata.name, update.metadata.name, ...owned.map((p) => p.metadata.labels?.['controller-revision-hash'])]);
    const old = all.filter((r) => !inUse.has(r.metadata.name)).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const excess = old.length - (set.spec?.revisionHistoryLimit ?? 10);
    for (const r of old.slice(0, Math.max(0, excess))) await ctx.client.delete(revisionsRef, r.metadata.name!, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs };
  }
  return c;
}
