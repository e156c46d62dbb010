// The CronJob controller's decisions on a fake clock (plan.ts is pure: the time is an argument): the
// first run, Job names, the deterministic lock, concurrencyPolicy, startingDeadlineSeconds, missed
// schedules (few: run the latest; more than 100: event, run the latest), suspend, time zones, active list
// upkeep, lastSuccessfulTime and history limits.

import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { cronJob as cronKind } from '../../api/kinds/batch/cronjob.js';
import { jobName, mostRecentScheduleTime, planCronJob } from '../../control-plane/controllers/cronjob/plan.js';
import { cronJobSchedule } from '../../api/kinds/batch/schedule.js';

const T0 = Date.parse('2026-03-02T10:00:30Z'); // a Monday
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;

function cj(spec: Record<string, any> = {}, status?: Record<string, any>): KubeObject {
  const o: KubeObject = {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick', namespace: 'default', uid: 'cj-uid', creationTimestamp: iso(T0) },
    spec: { schedule: '*/1 * * * *', jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
  };
  cronKind.applyDefaults(o);
  if (status) o.status = status;
  return o;
}
function job(name: string, o: { done?: 'Complete' | 'Failed'; start?: number; end?: number; uid?: string } = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default', uid: o.uid ?? `uid-${name}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true }] },
    status: {
      ...(o.start !== undefined ? { startTime: iso(o.start) } : {}),
      ...(o.done ? { conditions: [{ type: o.done, status: 'True' }] } : {}),
      ...(o.done === 'Complete' && o.end !== undefined ? { completionTime: iso(o.end) } : {}),
    },
  };
}
const ref = (j: KubeObject) => ({ kind: 'Job', namespace: 'default', name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1' });
const reasons = (p: { events: { reason: string }[] }) => p.events.map((e) => e.reason);

t.test('first run, name, lock, next look', async (t) => {
  const c = cj();
  const early = planCronJob(c, [], T0 + 10_000);
  t.notOk(early.create, 'nothing before the first minute');
  t.equal(early.requeueAfterMs, 20_100, 'looks again at 10:01:00 + 100 ms');
  const at = Date.parse('2026-03-02T10:01:00Z');
  const p = planCronJob(c, [], at + 2_000);
  t.equal(p.create?.metadata.name, `tick-${at / MIN}`, 'named <cronjob>-<minutes since epoch>');
  t.equal(jobName(c, at), 'tick-29540761');
  t.same(p.create?.metadata.labels, { team: 'a' }, 'template labels');
  t.same(p.create?.metadata.annotations, { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-03-02T10:01:00Z' });
  t.match(p.create?.metadata.ownerReferences, [{ kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true }]);
  t.equal(p.status.lastScheduleTime, '2026-03-02T10:01:00Z');
  t.equal(p.requeueAfterMs, 58_100, 'then at 10:02:00 + 100 ms');
  const again = planCronJob(cj({}, { lastScheduleTime: '2026-03-02T10:01:00Z' }), [], at + 5_000);
  t.notOk(again.create, 'a time already scheduled is not started twice');
  const lock = planCronJob(cj({}, { active: [{ name: `tick-${at / MIN}`, uid: 'x' }] }), [job(`tick-${at / MIN}`, { uid: 'x' })], at + 5_000);
  t.notOk(lock.create, 'nor when its Job is active');
});

t.test('concurrencyPolicy', async (t) => {
  const at = Date.parse('2026-03-02T10:02:00Z');
  const running = job('tick-1', { start: at - MIN });
  const status = { active: [ref(running)], lastScheduleTime: '2026-03-02T10:01:00Z' };
  const allow = planCronJob(cj({ concurrencyPolicy: 'Allow' }, status), [running], at + 1000);
  t.ok(allow.create, 'Allow: a second Job runs beside the first');
  const forbid = planCronJob(cj({ concurrencyPolicy: 'Forbid' }, status), [running], at + 1000);
  t.notOk(forbid.create, 'Forbid: skipped');
  t.same(reasons(forbid), ['JobAlreadyActive']);
  t.equal(forbid.status.lastScheduleTime, '2026-03-02T10:01:00Z', 'the skipped time is not recorded');
  const replace = planCronJob(cj({ concurrencyPolicy: 'Replace' }, status), [running], at + 1000);
  t.same(replace.replace, [{ name: 'tick-1', namespace: 'default', uid: 'uid-tick-1' }], 'Replace: the running Job is deleted');
  t.ok(replace.create, 'and the new one created');
});

t.test('startingDeadlineSeconds and missed schedules', async (t) => {
  const sched = cronJobSchedule('*/1 * * * *');
  const c = cj({}, { lastScheduleTime: '2026-03-02T10:01:00Z' });
  const few = mostRecentScheduleTime(c, Date.parse('2026-03-02T10:05:30Z'), sched, true);
  t.same(few, { earliest: Date.parse('2026-03-02T10:01:00Z'), mostRecent: Date.parse('2026-03-02T10:05:00Z'), missed: 'few' });
  const p = planCronJob(c, [], Date.parse('2026-03-02T10:05:30Z'));
  t.equal(p.create?.metadata.name, `tick-${Date.parse('2026-03-02T10:05:00Z') / MIN}`, 'a few missed: only the latest runs');
  t.same(reasons(p), []);
  const late = planCronJob(cj({ startingDeadlineSeconds: 10 }, { lastScheduleTime: '2026-03-02T10:01:00Z' }), [], Date.parse('2026-03-02T10:05:30Z'));
  t.notOk(late.create, 'more than startingDeadlineSeconds after the latest time: not started (kube looks only from now - startingDeadlineSeconds)');
  t.same(reasons(late), []);
  t.equal(late.requeueAfterMs, 30_100, 'next: 10:06:00');
  const inTime = planCronJob(cj({ startingDeadlineSeconds: 60 }, { lastScheduleTime: '2026-03-02T10:01:00Z' }), [], Date.parse('2026-03-02T10:05:30Z'));
  t.ok(inTime.create, 'within the deadline: started');
  const many = planCronJob(cj({}, { lastScheduleTime: '2026-03-02T07:00:00Z' }), [], Date.parse('2026-03-02T10:05:30Z'));
  t.same(reasons(many), ['TooManyMissedTimes'], '185 missed: the event');
  t.equal(many.events[0]!.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  t.equal(many.create?.metadata.name, `tick-${Date.parse('2026-03-02T10:05:00Z') / MIN}`, 'and the latest time starts');
  const bounded = planCronJob(cj({ startingDeadlineSeconds: 120 }, { lastScheduleTime: '2026-03-02T07:00:00Z' }), [], Date.parse('2026-03-02T10:05:30Z'));
  t.same(reasons(bounded), [], 'startingDeadlineSeconds bounds the count: no event');
  t.ok(bounded.create);
});

t.test('suspend, time zone, @hourly', async (t) => {
  t.notOk(planCronJob(cj({ suspend: true }), [], T0 + 10 * MIN).create, 'suspended');
  const paris = cj({ schedule: '0 9 * * *', timeZone: 'Europe/Paris' }, { lastScheduleTime: '2026-03-01T08:00:00Z' });
  const p = planCronJob(paris, [], Date.parse('2026-03-02T08:00:05Z'));
  t.equal(p.status.lastScheduleTime, '2026-03-02T08:00:00Z', '09:00 in Paris is 08:00 UTC in March');
  t.equal(p.create?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-03-02T09:00:00+01:00');
  const hourly = planCronJob(cj({ schedule: '@hourly' }), [], Date.parse('2026-03-02T11:00:01Z'));
  t.equal(hourly.status.lastScheduleTime, '2026-03-02T11:00:00Z');
});

t.test('active list upkeep, lastSuccessfulTime, history limits', async (t) => {
  const at = Date.parse('2026-03-02T10:30:20Z');
  const finished = job('tick-a', { done: 'Complete', start: at - 5 * MIN, end: at - 4 * MIN });
  const failed = job('tick-b', { done: 'Failed', start: at - 3 * MIN });
  const p = planCronJob(cj({}, { active: [ref(finished), ref(failed), { name: 'tick-gone', uid: 'gone', namespace: 'default' }], lastScheduleTime: '2026-03-02T10:30:00Z' }), [finished, failed], at, new Set(['gone']));
  t.same(reasons(p), ['SawCompletedJob', 'SawCompletedJob', 'MissingJob']);
  t.equal(p.events[0]!.message, 'Saw completed job: tick-a, condition: Complete');
  t.equal(p.events[2]!.message, 'Active job went missing: tick-gone');
  t.notOk(p.status.active, 'nothing active left');
  t.equal(p.status.lastSuccessfulTime, iso(at - 4 * MIN));
  const unexpected = planCronJob(cj({}, { lastScheduleTime: '2026-03-02T10:30:00Z' }), [job('manual', { start: at })], at);
  t.same(reasons(unexpected), ['UnexpectedJob'], 'a running Job it did not start (kubectl create job --from)');
  const done = [1, 2, 3, 4, 5].map((i) => job(`ok-${i}`, { done: 'Complete', start: T0 + i * MIN, end: T0 + i * MIN + 1000 }));
  const bad = [1, 2, 3].map((i) => job(`bad-${i}`, { done: 'Failed', start: T0 + i * MIN }));
  const h = planCronJob(cj({}, { lastScheduleTime: '2026-03-02T10:30:00Z' }), [...done, ...bad], at);
  t.same(h.prune.map((j) => j.metadata.name), ['ok-1', 'ok-2', 'bad-1', 'bad-2'], 'keeps 3 successful and 1 failed, oldest go first');
  const keepAll = planCronJob(cj({ successfulJobsHistoryLimit: 10, failedJobsHistoryLimit: 0 }, { lastScheduleTime: '2026-03-02T10:30:00Z' }), [...done, ...bad], at);
  t.same(keepAll.prune.map((j) => j.metadata.name), ['bad-1', 'bad-2', 'bad-3']);
});

t.test('bad schedule or zone stored before validation existed: events, no Job', async (t) => {
  const c = cj();
  c.spec.schedule = 'nope';
  t.same(reasons(planCronJob(c, [], T0 + 5 * MIN)), ['UnparseableSchedule']);
  const z = cj();
  z.spec.timeZone = 'Mars/Olympus';
  const p = planCronJob(z, [], T0 + 5 * MIN);
  t.same(reasons(p), ['UnknownTimeZone']);
  t.notOk(p.create);
});
