// What one CronJob sync should do (kube's cronjob_controllerv2 syncCronJob and utils.go), as a pure
// function of the CronJob, the Jobs it owns and the time: keep status.active in step with its Jobs
// (finished ones leave, with SawCompletedJob; lastSuccessfulTime follows the newest success), find the
// most recent unmet schedule time since lastScheduleTime (or creation), honour suspend,
// startingDeadlineSeconds (MissSchedule), more than 100 missed times (TooManyMissedTimes, then start the
// latest only), concurrencyPolicy Allow/Forbid/Replace, name the Job `<cronjob>-<minutes since epoch>`
// so a time is never started twice, trim finished Jobs to the history limits, and say when to look again
// (next schedule time + 100 ms).

import type { KubeObject } from '../../../api/meta.js';
import { cronJobSchedule, formatInZone, isKnownTimeZone, type Schedule } from '../../../api/kinds/batch/schedule.js';
import { isoSeconds } from '../podutil.js';
import { trueCondition } from '../job/plan.js';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** An event to record on the CronJob. */
export interface CronEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/** The plan. `create` is the Job to post; the controller then adds it to status.active. */
export interface CronPlan {
  status: Record<string, any>;
  create?: KubeObject;
  scheduledTime?: number;
  /** active Jobs to delete first (concurrencyPolicy Replace) */
  replace: { name: string; namespace: string; uid: string }[];
  /** finished Jobs beyond the history limits */
  prune: KubeObject[];
  events: CronEvent[];
  requeueAfterMs?: number;
}

/** `<cronjob>-<scheduled minutes since the epoch>` (getJobName). */
export function jobName(cj: KubeObject, scheduledMs: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** Finished as Complete or Failed (the condition type), or undefined. */
function finishedAs(j: KubeObject): 'Complete' | 'Failed' | undefined {
  if (trueCondition(j, 'Complete')) return 'Complete';
  if (trueCondition(j, 'Failed')) return 'Failed';
  return undefined;
}

/**
 * kube's mostRecentScheduleTime: from max(lastScheduleTime or creation, now - startingDeadlineSeconds),
 * the latest schedule time not after `now` (undefined: none), and whether few (>1) or many (>100) were missed.
 */
export function mostRecentScheduleTime(cj: KubeObject, now: number, sched: Schedule, includeDeadline: boolean):
  { earliest: number; mostRecent?: number; missed: 'none' | 'few' | 'many'; error?: string } {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
  if (!Number.isFinite(earliest)) earliest = now;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeDeadline && typeof sds === 'number') earliest = Math.max(earliest, now - sds * 1000);
  const t1 = sched.next(earliest);
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = sched.next(potentialEarliest); t !== undefined && t <= now; t = sched.next(t)) mostRecent = t;
  const missed = missedCount > 100 ? 'many' : missedCount > 1 ? 'few' : 'none';
  return { earliest, ...(mostRecent !== undefined ? { mostRecent } : {}), missed };
}

/** When to look again: the next schedule time after the most recent one (or the earliest), plus 100 ms. */
function nextScheduleDelay(cj: KubeObject, now: number, sched: Schedule): number | undefined {
  const r = mostRecentScheduleTime(cj, now, sched, false);
  if (r.error) return undefined;
  const next = sched.next(r.mostRecent ?? r.earliest);
  return next === undefined ? undefined : Math.max(0, next + 100 - now);
}

/** RFC 1123Z as Go prints it: `Mon, 02 Jan 2006 15:04:05 +0000`. */
function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** The Job for one scheduled time (getJobFromTemplate2). */
export function jobFromTemplate(cj: KubeObject, scheduledMs: number): KubeObject {
  const tpl = cj.spec?.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, scheduledMs),
      namespace: cj.metadata.namespace,
      labels: { ...(tpl.metadata?.labels ?? {}) },
      annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: formatInZone(scheduledMs, cj.spec?.timeZone) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name!, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(tpl.spec ?? {}),
  };
}

/** Oldest first by status.startTime (Jobs that never started last), then name (byJobStartTime). */
function byStartTime(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(a.status?.startTime ?? '');
  const tb = Date.parse(b.status?.startTime ?? '');
  if (Number.isFinite(ta) !== Number.isFinite(tb)) return Number.isFinite(ta) ? -1 : 1;
  if (Number.isFinite(ta) && ta !== tb) return ta - tb;
  return String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** Plan one sync. `jobs` are the Jobs this CronJob controls; `missing` the uids of active refs the API server says are gone. */
export function planCronJob(cj: KubeObject, jobs: KubeObject[], now: number, missing: Set<string> = new Set()): CronPlan {
  const status: Record<string, any> = structuredClone(cj.status ?? {});
  const plan: CronPlan = { status, replace: [], prune: [], events: [] };
  let active: any[] = status.active ?? [];
  const byUid = new Map(jobs.map((j) => [j.metadata.uid!, j]));

  for (const j of jobs) {
    const inActive = active.some((r) => r.uid === j.metadata.uid);
    const done = finishedAs(j);
    if (!inActive && !done) {
      plan.events.push({ type: 'Warning', reason: 'UnexpectedJob', message: `Saw a job that the controller did not create or forgot: ${j.metadata.name}` });
    } else if (inActive && done) {
      active = active.filter((r) => r.uid !== j.metadata.uid);
      plan.events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${j.metadata.name}, condition: ${done}` });
    }
    if (done === 'Complete' && j.status?.completionTime) {
      const prev = Date.parse(status.lastSuccessfulTime ?? '');
      if (!Number.isFinite(prev) || Date.parse(j.status.completionTime) > prev) status.lastSuccessfulTime = j.status.completionTime;
    }
  }
  for (const r of active) {
    if (byUid.has(r.uid) || !missing.has(r.uid)) continue;
    plan.events.push({ type: 'Normal', reason: 'MissingJob', message: `Active job went missing: ${r.name}` });
  }
  active = active.filter((r) => byUid.has(r.uid) || !missing.has(r.uid));
  const finish = () => {
    status.active = active.length ? active : undefined;
    for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
    prune(plan, cj, jobs);
    return plan;
  };

  if (cj.metadata.deletionTimestamp) return finish();
  const tz: string | undefined = cj.spec?.timeZone ?? undefined;
  if (tz != null && !isKnownTimeZone(tz)) {
    plan.events.push({ type: 'Warning', reason: 'UnknownTimeZone', message: `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}` });
    return finish();
  }
  if (cj.spec?.suspend === true) return finish();
  let sched: Schedule;
  try {
    sched = cronJobSchedule(cj.spec?.schedule ?? '', tz);
  } catch (e) {
    plan.events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${(e as Error).message}` });
    return finish();
  }
  const view = { ...cj, status: { ...status, active } };
  const r = mostRecentScheduleTime(view, now, sched, true);
  if (r.error) {
    plan.events.push({ type: 'Warning', reason: 'InvalidSchedule', message: `invalid schedule: ${cj.spec?.schedule} : ${r.error}` });
    return finish();
  }
  const again = () => {
    const d = nextScheduleDelay({ ...view, status: { ...status, active } }, now, sched);
    if (d !== undefined) plan.requeueAfterMs = d;
    return finish();
  };
  if (r.mostRecent === undefined || r.mostRecent > now) return again();
  if (r.missed === 'many')
    plan.events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
  const scheduled = r.mostRecent;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (typeof sds === 'number' && scheduled + sds * 1000 < now) {
    plan.events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${rfc1123z(scheduled)}` });
    return again();
  }
  const name = jobName(cj, scheduled);
  if (active.some((x) => x.name === name) || Date.parse(status.lastScheduleTime ?? '') === scheduled) return again();
  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && active.length > 0) {
    plan.events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    return again();
  }
  if (policy === 'Replace') {
    plan.replace = active.map((x) => ({ name: x.name, namespace: x.namespace ?? cj.metadata.namespace, uid: x.uid }));
    active = [];
  }
  plan.create = jobFromTemplate(cj, scheduled);
  plan.scheduledTime = scheduled;
  status.lastScheduleTime = isoSeconds(scheduled);
  return again();
}

/** cleanupFinishedJobs: keep the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs. */
function prune(plan: CronPlan, cj: KubeObject, jobs: KubeObject[]): void {
  const limits = { Complete: cj.spec?.successfulJobsHistoryLimit, Failed: cj.spec?.failedJobsHistoryLimit };
  for (const kind of ['Complete', 'Failed'] as const) {
    const limit = limits[kind];
    if (typeof limit !== 'number') continue;
    const done = jobs.filter((j) => finishedAs(j) === kind && !j.metadata.deletionTimestamp).sort(byStartTime);
    plan.prune.push(...done.slice(0, Math.max(0, done.length - limit)));
  }
}
