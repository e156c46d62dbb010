// The Job controller: reconciles each Job key from the informer caches with plan.ts (pure), then acts:
// adopts orphan pods its selector matches, creates pods in slow-start batches (owned by the Job, with
// the completion index in Indexed mode), deletes the pods the plan names, records kube's events and
// writes the status last. Expectations keep a lagging pod watch from doubling creations. Time comes
// from the context's clock, so tests can drive deadlines and back-offs.

import type { KubeObject } from '../../../api/meta.js';
import { isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { Expectations, ownedPodHandlers } from '../expectations.js';
import { refs } from '../informers.js';
import { deepEqual } from '../podutil.js';
import { adoptPod, claimPods, podFromTemplate, slowStartBatch } from '../replicaset/replicaset.js';
import { type JobBackoff, isJobFinished, jobPodTemplate, planJob } from './plan.js';

export const jobsRef = { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true };

/** The Job controller (`job` in --controllers). */
export function jobController(ctx: ControllerContext, o: { backoff?: JobBackoff } = {}): Controller {
  const jobInf = ctx.informers.for(jobsRef);
  const podInf = ctx.informers.for(refs.pods);
  const exp = new Expectations(ctx.now);
  const rec = ctx.recorder('job-controller');
  const matching = (p: KubeObject) =>
    jobInf.list().filter((j) => j.metadata.namespace === p.metadata.namespace && claimPods(j, [p]).orphans.length).map(keyOf);

  const c = new Controller({ name: 'job', log: ctx.log, reconcile });
  jobInf.addEventHandler({ onAdd: (j) => c.enqueue(keyOf(j)), onUpdate: (_o, j) => c.enqueue(keyOf(j)), onDelete: (j) => c.enqueue(keyOf(j)) });
  podInf.addEventHandler(ownedPodHandlers('Job', exp, (k) => c.enqueue(k), { orphanOwners: matching }));

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = jobInf.get(key);
    if (!cached) {
      exp.delete(key);
      return;
    }
    if (isJobFinished(cached)) return;
    const job = structuredClone(cached);
    const { owned, orphans } = claimPods(job, podInf.list());
    if (!job.metadata.deletionTimestamp) {
      for (const p of orphans) await adoptPod(ctx, 'batch/v1', 'Job', job, p);
      owned.push(...orphans);
    }
    const act = exp.satisfied(key) && !job.metadata.deletionTimestamp;
    const plan = planJob(job, owned, ctx.now(), { act, ...(o.backoff ? { backoff: o.backoff } : {}) });
    let firstError: unknown;
    if (plan.delete.length) {
      exp.expect(key, 0, plan.delete.length);
      await Promise.all(plan.delete.map(async (p) => {
        try {
          await ctx.client.delete(refs.pods, p.metadata.name!, { namespace: p.metadata.namespace });
          rec.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          exp.deletionObserved(key);
          if (!isNotFound(e)) firstError ??= e;
        }
      }));
    }
    if (plan.create.length) {
      exp.expect(key, plan.create.length, 0);
      const queue = [...plan.create];
      const r = await slowStartBatch(queue.length, async () => {
        const { index } = queue.shift()!;
        const { template, generateName } = jobPodTemplate(job, index);
        const pod = podFromTemplate(job, template);
        pod.metadata.generateName = generateName;
        const made = await ctx.client.create(refs.pods, pod, { namespace: job.metadata.namespace });
        rec.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
      });
      for (let i = r.ok; i < plan.create.length; i++) exp.creationObserved(key);
      if (r.error) {
        rec.event(job, 'Warning', 'FailedCreate', `Error creating: ${(r.error as Error).message}`);
        firstError ??= r.error;
      }
    }
    for (const e of plan.events) rec.event(job, e.type, e.reason, e.message);
    if (!deepEqual(plan.status, cached.status ?? {})) {
      await ctx.client.updateStatus(jobsRef, { ...job, status: plan.status }, { namespace: job.metadata.namespace });
    }
    if (firstError) throw firstError;
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs + 10 };
  }
  return c;
}
