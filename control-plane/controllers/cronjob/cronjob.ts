// The CronJob controller (kube's cronjob_controllerv2): each CronJob key is reconciled from the caches
// with plan.ts, which is pure and takes the time from the context's clock (tests pass a fake one). The
// controller does the I/O: a live GET for active Jobs the cache does not have (a lagging watch is not
// proof of absence), deleting active Jobs for Replace and finished ones past the history limits
// (propagationPolicy Background), creating the scheduled Job (AlreadyExists is the lock that keeps a
// time from running twice), then writing status.active / lastScheduleTime / lastSuccessfulTime last.
// It looks again at the next schedule time.

import type { KubeObject } from '../../../api/meta.js';
import { isAlreadyExists, isNotFound, keyOf } from '../../../api/client/index.js';
import { type Clock, realClock } from '../../../lib/time/clock.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { controllerRef } from '../informers.js';
import { deepEqual } from '../podutil.js';
import { jobsRef } from '../job/job.js';
import { isJobFinished } from '../job/plan.js';
import { planCronJob } from './plan.js';

export const cronJobsRef = { apiVersion: 'batch/v1', plural: 'cronjobs', namespaced: true };

const refOf = (j: KubeObject) => ({ kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion });

/**
 * The CronJob controller (`cronjob` in --controllers). Its time comes from `clock` (lib/time/clock.ts), both
 * for "now" and for the work queue's timers; by default the context's clock, so tests pass a fake one.
 */
export function cronJobController(ctx: ControllerContext, o: { clock?: Clock } = {}): Controller {
  const clock: Clock = o.clock ?? { ...realClock, now: ctx.now };
  const cjInf = ctx.informers.for(cronJobsRef);
  const jobInf = ctx.informers.for(jobsRef);
  const rec = ctx.recorder('cronjob-controller');
  const c = new Controller({ name: 'cronjob', log: ctx.log, reconcile, clock });
  const ownerKey = (j: KubeObject) => {
    const r = controllerRef(j);
    return r?.kind === 'CronJob' ? `${j.metadata.namespace}/${r.name}` : undefined;
  };
  cjInf.addEventHandler({ onAdd: (x) => c.enqueue(keyOf(x)), onUpdate: (_o, x) => c.enqueue(keyOf(x)), onDelete: (x) => c.enqueue(keyOf(x)) });
  jobInf.addEventHandler({
    onAdd: (j) => { const k = ownerKey(j); if (k) c.enqueue(k); },
    onUpdate: (o, j) => { for (const k of new Set([ownerKey(o), ownerKey(j)])) if (k) c.enqueue(k); },
    onDelete: (j) => { const k = ownerKey(j); if (k) c.enqueue(k); },
  });

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = cjInf.get(key);
    if (!cached) return;
    let cj = structuredClone(cached);
    const ns = cj.metadata.namespace!;
    const jobs = jobInf.list().filter((j) => j.metadata.namespace === ns && controllerRef(j)?.uid === cj.metadata.uid);
    // a running Job missing from the cached active list may just be a status write the cache has not
    // seen yet: read the CronJob again before calling it unexpected (as kube does)
    const listed = (o: KubeObject, j: KubeObject) => (o.status?.active ?? []).some((r: any) => r.uid === j.metadata.uid);
    if (jobs.some((j) => !isJobFinished(j) && !listed(cj, j))) {
      try {
        const fresh = await ctx.client.get(cronJobsRef, cj.metadata.name!, { namespace: ns });
        if (fresh.metadata.uid === cj.metadata.uid) cj = fresh;
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    const base = cj;
    const known = new Set(jobs.map((j) => j.metadata.uid));
    const missing = new Set<string>();
    for (const r of cj.status?.active ?? []) {
      if (known.has(r.uid)) continue;
      try {
        await ctx.client.get(jobsRef, r.name, { namespace: r.namespace ?? ns });
      } catch (e) {
        if (isNotFound(e)) missing.add(r.uid);
        else throw e;
      }
    }
    const plan = planCronJob(cj, jobs, clock.now(), missing);
    const del = async (name: string, namespace: string) => {
      try {
        await ctx.client.delete(jobsRef, name, { namespace, propagationPolicy: 'Background' });
        rec.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
      } catch (e) {
        if (!isNotFound(e)) {
          rec.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
          throw e;
        }
      }
    };
    for (const r of plan.replace) await del(r.name, r.namespace);
    for (const e of plan.events) rec.event(cj, e.type, e.reason, e.message);
    if (plan.create) {
      let made: KubeObject | undefined;
      try {
        made = await ctx.client.create(jobsRef, plan.create, { namespace: ns });
        rec.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${made.metadata.name}`);
      } catch (e) {
        if (!isAlreadyExists(e)) {
          rec.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
          throw e;
        }
        const existing = await ctx.client.get(jobsRef, plan.create.metadata.name!, { namespace: ns });
        if (controllerRef(existing)?.uid === cj.metadata.uid) made = existing;
      }
      if (made && !(plan.status.active ?? []).some((r: any) => r.uid === made!.metadata.uid)) plan.status.active = [...(plan.status.active ?? []), refOf(made)];
    }
    for (const j of plan.prune) await del(j.metadata.name!, ns);
    if (!deepEqual(plan.status, base.status ?? {})) {
      await ctx.client.updateStatus(cronJobsRef, { ...cj, status: plan.status }, { namespace: ns });
    }
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs };
  }
  return c;
}
