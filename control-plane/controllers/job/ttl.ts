// The TTL-after-finished controller (kube's ttlafterfinished): a finished Job (Complete or Failed) with
// spec.ttlSecondsAfterFinished is deleted, with its pods (propagationPolicy Foreground), that many
// seconds after it finished. Before deleting it re-reads the Job from the API server, as kube does, so a
// TTL raised meanwhile is honoured; the delete carries the uid as a precondition.

import type { KubeObject } from '../../../api/meta.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { jobsRef } from './job.js';
import { trueCondition } from './plan.js';

/** When a finished Job with a TTL expires (ms since epoch), or undefined when it has none or is not finished. */
export function expiresAt(job: KubeObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (typeof ttl !== 'number' || job.metadata.deletionTimestamp) return undefined;
  const done = trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed');
  if (!done) return undefined;
  const finished = Date.parse(job.status?.completionTime ?? done.lastTransitionTime ?? '');
  if (!Number.isFinite(finished)) return undefined;
  return finished + ttl * 1000;
}

/** The controller (`ttl-after-finished` in --controllers). */
export function ttlAfterFinishedController(ctx: ControllerContext): Controller {
  const jobInf = ctx.informers.for(jobsRef);
  const c = new Controller({ name: 'ttl-after-finished', log: ctx.log, reconcile });
  const enqueue = (j: KubeObject) => {
    if (expiresAt(j) !== undefined) c.enqueue(keyOf(j));
  };
  jobInf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, j) => enqueue(j) });

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = jobInf.get(key);
    if (!cached) return;
    const at = expiresAt(cached);
    if (at === undefined) return;
    const left = at - ctx.now();
    if (left > 0) return { requeueAfterMs: left + 10 };
    let fresh: KubeObject;
    try {
      fresh = await ctx.client.get(jobsRef, cached.metadata.name!, { namespace: cached.metadata.namespace });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshAt = expiresAt(fresh);
    if (freshAt === undefined) return;
    if (freshAt > ctx.now()) return { requeueAfterMs: freshAt - ctx.now() + 10 };
    await ctx.client.delete(jobsRef, fresh.metadata.name!, { namespace: fresh.metadata.namespace, propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  }
  return c;
}
