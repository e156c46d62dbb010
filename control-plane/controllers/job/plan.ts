// What one Job sync should do, as a pure function of the Job, its pods and the time (kube's syncJob and
// manageJob, pkg/controller/job): count succeeded/failed pods (podFailurePolicy decides which failures
// count), decide the terminal state in two steps as Kubernetes 1.31+ does (SuccessCriteriaMet then
// Complete, FailureTarget then Failed, the second only once no pod is active or terminating), apply
// backoffLimit (failed pods, or container restarts under OnFailure), activeDeadlineSeconds and suspend,
// and say how many pods to create (with their completion indexes in Indexed mode) or which to delete.
// Replacement pods after failures wait kube's back-off: 10 s doubling per failure since the last
// success, capped at 6 min, counted from the newest failure.

import type { KubeObject } from '../../../api/meta.js';
import { deletionOrder, isPodReady, isoSeconds } from '../podutil.js';
import { formatIndexes, parseIndexes } from './indexes.js';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** Back-off for pods replacing failed ones (kube's DefaultJobPodFailureBackOff; the cap is the documented six minutes). */
export interface JobBackoff {
  baseMs: number;
  maxMs: number;
}
export const jobBackoff: JobBackoff = Object.freeze({ baseMs: 10_000, maxMs: 360_000 });

/** A condition in a Job's status. */
export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** What to do. `create` lists one entry per pod (index undefined in NonIndexed mode). */
export interface JobPlan {
  create: { index?: number }[];
  delete: KubeObject[];
  status: Record<string, any>;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  requeueAfterMs?: number;
}

const isTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** The condition of `type` with status True. */
export function trueCondition(job: KubeObject, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => c.type === type && c.status === 'True');
}

/** Complete=True or Failed=True (kube's IsJobFinished). */
export function isJobFinished(job: KubeObject): boolean {
  return !!(trueCondition(job, 'Complete') || trueCondition(job, 'Failed'));
}

/** The completion index of a pod (label, else annotation), or undefined. */
export function podIndex(p: KubeObject): number | undefined {
  const v = p.metadata.labels?.[COMPLETION_INDEX] ?? p.metadata.annotations?.[COMPLETION_INDEX];
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v)) return undefined;
  return Number(v);
}

/** When a pod finished: the newest container finishedAt, else its last condition change, else its creation. */
export function finishTime(p: KubeObject): number {
  let t = -Infinity;
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const f = Date.parse(c.state?.terminated?.finishedAt ?? '');
    if (Number.isFinite(f)) t = Math.max(t, f);
  }
  if (t > -Infinity) return t;
  for (const c of p.status?.conditions ?? []) {
    const f = Date.parse(c.lastTransitionTime ?? '');
    if (Number.isFinite(f)) t = Math.max(t, f);
  }
  if (t > -Infinity) return t;
  return Date.parse(p.metadata.creationTimestamp ?? '') || 0;
}

/** Which podFailurePolicy rule a failed pod matches: its action and, for FailJob, kube's message. */
export function matchPodFailurePolicy(job: KubeObject, p: KubeObject): { action: string; message: string } | undefined {
  const rules: any[] = job.spec?.podFailurePolicy?.rules ?? [];
  const podName = `${p.metadata.namespace}/${p.metadata.name}`;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.onExitCodes) {
      const req = r.onExitCodes;
      const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])];
      const hit = statuses.find((cs: any) => {
        const term = cs.state?.terminated;
        if (!term || term.exitCode === 0) return false;
        if (req.containerName != null && req.containerName !== cs.name) return false;
        const inList = (req.values ?? []).includes(term.exitCode);
        return req.operator === 'In' ? inList : !inList;
      });
      if (hit) return { action: r.action, message: `Container ${hit.name} for pod ${podName} failed with exit code ${hit.state.terminated.exitCode} matching ${r.action} rule at index ${i}` };
    } else if (r.onPodConditions?.length) {
      const conds: any[] = p.status?.conditions ?? [];
      const hit = (r.onPodConditions as any[]).find((pat) => conds.some((c) => c.type === pat.type && c.status === (pat.status ?? 'True')));
      if (hit) return { action: r.action, message: `Pod ${podName} has condition ${hit.type} matching ${r.action} rule at index ${i}` };
    }
  }
  return undefined;
}

/** Time left before a replacement pod may be created (kube's getRemainingTimeForFailuresCount). */
export function backoffRemaining(failures: number, lastFailure: number, now: number, b: JobBackoff = jobBackoff): number {
  if (failures <= 0) return 0;
  let d = b.baseMs;
  for (let i = 1; i < failures; i++) {
    d *= 2;
    if (d >= b.maxMs) {
      d = b.maxMs;
      break;
    }
  }
  const elapsed = now - lastFailure;
  return d < elapsed ? 0 : d - elapsed;
}

function condition(type: string, reason: string, message: string, ts: string): JobCondition {
  return { type, status: 'True', lastProbeTime: ts, lastTransitionTime: ts, reason, message };
}

/** Set a condition (type unique), keeping its times when status, reason and message did not change. */
function putCondition(list: JobCondition[], c: JobCondition): JobCondition[] {
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return [...list, c];
  const prev = list[i]!;
  if (prev.status === c.status && prev.reason === c.reason && prev.message === c.message) return list;
  const out = [...list];
  out[i] = c;
  return out;
}

const SUCCESS = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
const FAILURES = {
  BackoffLimitExceeded: 'Job has reached the specified backoff limit',
  DeadlineExceeded: 'Job was active longer than specified deadline',
} as const;

/** Plan one sync. `pods` are the Job's own pods; `act` is false while expectations are pending (status only). */
export function planJob(job: KubeObject, pods: KubeObject[], now: number, o: { act?: boolean; backoff?: JobBackoff } = {}): JobPlan {
  const act = o.act ?? true;
  const prev = job.status ?? {};
  const plan: JobPlan = { create: [], delete: [], status: structuredClone(prev), events: [] };
  if (isJobFinished(job)) return plan;
  const spec = job.spec ?? {};
  const ts = isoSeconds(now);
  const indexed = spec.completionMode === 'Indexed';
  const suspended = spec.suspend === true;
  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  const backoffLimit: number = spec.backoffLimit ?? 6;

  const active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  const terminating = pods.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp);
  const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed').sort((a, b) => finishTime(a) - finishTime(b));

  // podFailurePolicy: FailJob ends the Job, Ignore does not count, Count (or no match) counts
  let failJob: string | undefined;
  const counted: KubeObject[] = [];
  for (const p of failedPods) {
    const m = matchPodFailurePolicy(job, p);
    if (m?.action === 'Ignore') continue;
    if (m?.action === 'FailJob' && !failJob) failJob = m.message;
    counted.push(p);
  }
  const failed = Math.max(prev.failed ?? 0, counted.length);
  let completed = new Set<number>();
  let succeeded: number;
  if (indexed) {
    completed = parseIndexes(prev.completedIndexes ?? '', completions ?? 0);
    for (const p of succeededPods) {
      const ix = podIndex(p);
      if (ix !== undefined && ix < (completions ?? 0)) completed.add(ix);
    }
    succeeded = Math.max(prev.succeeded ?? 0, completed.size);
  } else succeeded = Math.max(prev.succeeded ?? 0, succeededPods.length);

  let conditions: JobCondition[] = prev.conditions ?? [];
  let startTime: string | undefined = prev.startTime;
  // suspend / resume
  if (suspended) {
    const had = conditions.find((c) => c.type === 'Suspended' && c.status === 'True');
    if (!had) {
      conditions = putCondition(conditions, condition('Suspended', 'JobSuspended', 'Job suspended', ts));
      plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    }
  } else {
    const wasSuspended = conditions.find((c) => c.type === 'Suspended' && c.status === 'True');
    if (wasSuspended) {
      conditions = putCondition(conditions, { ...condition('Suspended', 'JobResumed', 'Job resumed', ts), status: 'False' });
      plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
      startTime = ts; // the deadline counts continuous activity
    }
    if (!startTime) startTime = ts;
  }

  // the terminal decision: in progress already, or reached now
  let failure = trueCondition(job, 'FailureTarget');
  let success = trueCondition(job, 'SuccessCriteriaMet');
  let deadlineAt: number | undefined;
  if (!failure && !success) {
    const restarts = spec.template?.spec?.restartPolicy === 'OnFailure'
      ? active.reduce((n, p) => n + [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].reduce((m: number, c: any) => m + (c.restartCount ?? 0), 0), 0)
      : 0;
    const pastOnFailure = spec.template?.spec?.restartPolicy === 'OnFailure' && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
    if (spec.activeDeadlineSeconds != null && startTime && !suspended) deadlineAt = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000;
    let reason: string | undefined;
    let message = '';
    if (failJob) [reason, message] = ['PodFailurePolicy', failJob];
    else if (failed > backoffLimit || pastOnFailure) [reason, message] = ['BackoffLimitExceeded', FAILURES.BackoffLimitExceeded];
    else if (deadlineAt !== undefined && now >= deadlineAt) [reason, message] = ['DeadlineExceeded', FAILURES.DeadlineExceeded];
    if (reason) {
      failure = condition('FailureTarget', reason, message, ts);
      conditions = putCondition(conditions, failure);
      plan.events.push({ type: 'Warning', reason, message });
    } else {
      const done = indexed ? completed.size >= (completions ?? 0)
        : completions == null ? succeeded > 0 && active.length === 0
          : succeeded >= completions;
      if (done) {
        success = condition('SuccessCriteriaMet', SUCCESS.reason, SUCCESS.message, ts);
        conditions = putCondition(conditions, success);
      }
    }
  }

  if (failure || success) {
    // finishing: no new pods, the active ones go; the final condition once nothing runs
    if (act) plan.delete.push(...active);
    if (active.length === 0 && terminating.length === 0) {
      if (failure) {
        conditions = putCondition(conditions, condition('Failed', failure.reason!, failure.message!, ts));
      } else {
        conditions = putCondition(conditions, condition('Complete', success!.reason!, success!.message!, ts));
        plan.status.completionTime = ts;
        plan.events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
      }
    }
  } else if (suspended) {
    if (act) plan.delete.push(...active);
  } else if (act) {
    manage(plan, job, { active, terminating, succeeded, completed, counted, succeededPods, now, indexed, completions, parallelism, backoff: o.backoff ?? jobBackoff });
    if (deadlineAt !== undefined) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(0, deadlineAt - now));
  }

  const st = plan.status;
  st.conditions = conditions.length ? conditions : undefined;
  st.startTime = startTime;
  // as kube reports them: pods deleted in this sync count as terminating, no longer active
  st.active = Math.max(0, active.length - plan.delete.length);
  st.ready = active.filter(isPodReady).length - plan.delete.filter(isPodReady).length;
  st.terminating = terminating.length + plan.delete.length;
  st.succeeded = succeeded;
  st.failed = failed;
  st.uncountedTerminatedPods = {};
  if (indexed) st.completedIndexes = formatIndexes(completed);
  for (const k of Object.keys(st)) if (st[k] === undefined || (st[k] === 0 && (k === 'succeeded' || k === 'failed' || k === 'active'))) delete st[k];
  return plan;
}

/** manageJob: create or delete pods toward the wanted number of active pods. */
function manage(plan: JobPlan, job: KubeObject, c: {
  active: KubeObject[]; terminating: KubeObject[]; succeeded: number; completed: Set<number>; counted: KubeObject[]; succeededPods: KubeObject[];
  now: number; indexed: boolean; completions: number | undefined; parallelism: number; backoff: JobBackoff;
}): void {
  const onlyFailed = job.spec?.podReplacementPolicy === 'Failed';
  const busy = c.active.length + (onlyFailed ? c.terminating.length : 0);
  // back-off from the failures after the last success
  const lastSuccess = c.succeededPods.reduce((t, p) => Math.max(t, finishTime(p)), -Infinity);
  const recent = c.counted.filter((p) => finishTime(p) > lastSuccess);
  const wait = recent.length ? backoffRemaining(recent.length, finishTime(recent[recent.length - 1]!), c.now, c.backoff) : 0;

  if (!c.indexed) {
    const want = c.completions == null ? (c.succeeded > 0 ? 0 : c.parallelism) : Math.max(0, Math.min(c.parallelism, c.completions - c.succeeded));
    if (c.active.length > want) {
      plan.delete.push(...[...c.active].sort(deletionOrder).slice(0, c.active.length - want));
    } else if (busy < want) {
      if (wait > 0) plan.requeueAfterMs = wait;
      else for (let i = 0; i < Math.min(want - busy, 500); i++) plan.create.push({});
    }
    return;
  }
  // Indexed: one active pod per index not yet completed, lowest indexes first
  const total = c.completions ?? 0;
  const taken = new Set<number>();
  const extra: KubeObject[] = [];
  for (const p of [...c.active].sort(deletionOrder).reverse()) {
    const ix = podIndex(p);
    if (ix === undefined || ix >= total || c.completed.has(ix) || taken.has(ix)) extra.push(p);
    else taken.add(ix);
  }
  if (onlyFailed) for (const p of c.terminating) {
    const ix = podIndex(p);
    if (ix !== undefined) taken.add(ix);
  }
  plan.delete.push(...extra);
  const running = c.active.length - extra.length;
  const room = Math.max(0, c.parallelism - running - (onlyFailed ? c.terminating.length : 0));
  const missing: number[] = [];
  for (let i = 0; i < total && missing.length < room; i++) if (!c.completed.has(i) && !taken.has(i)) missing.push(i);
  if (missing.length) {
    if (wait > 0) plan.requeueAfterMs = wait;
    else for (const index of missing.slice(0, 500)) plan.create.push({ index });
  }
  // too many running for the current parallelism: delete the highest indexes
  if (running > c.parallelism) {
    const keep = [...c.active].filter((p) => !extra.includes(p)).sort((a, b) => (podIndex(b) ?? 0) - (podIndex(a) ?? 0));
    plan.delete.push(...keep.slice(0, running - c.parallelism));
  }
}

/** The pod a Job creates: its template with the index label, annotation, hostname and env in Indexed mode. */
export function jobPodTemplate(job: KubeObject, index?: number): { template: any; generateName: string } {
  const template = structuredClone(job.spec?.template ?? {});
  const name = job.metadata.name!;
  if (index === undefined) return { template, generateName: `${name}-` };
  const md = (template.metadata ??= {});
  md.labels = { ...(md.labels ?? {}), [COMPLETION_INDEX]: String(index) };
  md.annotations = { ...(md.annotations ?? {}), [COMPLETION_INDEX]: String(index) };
  const spec = (template.spec ??= {});
  if (!spec.hostname) spec.hostname = `${name}-${index}`;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const env: any[] = (c.env ??= []);
    if (!env.some((e) => e.name === 'JOB_COMPLETION_INDEX'))
      env.push({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } });
  }
  return { template, generateName: `${name}-${index}-` };
}
