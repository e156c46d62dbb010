// The Job controller's decisions as pure functions (plan.ts): counting, the two-step terminal
// conditions of Kubernetes 1.31+, backoffLimit (Never and OnFailure), the pod back-off schedule,
// activeDeadlineSeconds, suspend/resume, podFailurePolicy (FailJob, Ignore, Count) and Indexed mode.
// Time is a number passed in, so nothing sleeps.

import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { backoffRemaining, jobPodTemplate, planJob, type JobPlan } from '../../control-plane/controllers/job/plan.js';
import { formatIndexes, parseIndexes } from '../../control-plane/controllers/job/indexes.js';
import { expiresAt } from '../../control-plane/controllers/job/ttl.js';
import { job as jobKind } from '../../api/kinds/batch/job.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function mkJob(spec: Record<string, any> = {}, status?: Record<string, any>): KubeObject {
  const j: KubeObject = {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default', uid: 'u-1', creationTimestamp: iso(T0) },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  };
  jobKind.applyDefaults(j);
  if (status) j.status = status;
  return j;
}
let n = 0;
function pod(phase: string, o: { exit?: number; at?: number; index?: number; deleting?: boolean; restarts?: number; ready?: boolean; conditions?: any[] } = {}): KubeObject {
  const at = o.at ?? T0;
  const term = phase === 'Succeeded' || phase === 'Failed';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `p${n++}`, namespace: 'default', creationTimestamp: iso(T0),
      ...(o.index !== undefined ? { labels: { 'batch.kubernetes.io/job-completion-index': String(o.index) } } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(at) } : {}),
    },
    status: {
      phase,
      conditions: [...(o.ready ? [{ type: 'Ready', status: 'True' }] : []), ...(o.conditions ?? [])],
      containerStatuses: [{
        name: 'c', restartCount: o.restarts ?? 0,
        state: term ? { terminated: { exitCode: o.exit ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: iso(at) } } : { running: {} },
      }],
    },
  };
}
const conds = (p: JobPlan) => (p.status.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => `${c.type}:${c.reason}`);

t.test('a one-pod job: create, then SuccessCriteriaMet and Complete', async (t) => {
  const j = mkJob();
  const p1 = planJob(j, [], T0);
  t.same(p1.create, [{}], 'one pod');
  t.same(p1.status, { startTime: iso(T0), ready: 0, terminating: 0, uncountedTerminatedPods: {} });
  const running = planJob({ ...j, status: p1.status }, [pod('Running', { ready: true })], T0 + 1000);
  t.same(running.create, [], 'nothing more while it runs');
  t.match(running.status, { active: 1, ready: 1 });
  const done = planJob({ ...j, status: running.status }, [pod('Succeeded', { at: T0 + 2000 })], T0 + 3000);
  t.same(conds(done), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  t.equal(done.status.conditions[1].message, 'Reached expected number of succeeded pods');
  t.match(done.status, { succeeded: 1, completionTime: iso(T0 + 3000), startTime: iso(T0) });
  t.notOk('active' in done.status, 'active 0 is omitted, as kube (omitempty)');
  t.same(done.events.map((e) => e.reason), ['Completed']);
});

t.test('completions and parallelism', async (t) => {
  const j = mkJob({ completions: 5, parallelism: 2 });
  t.equal(planJob(j, [], T0).create.length, 2, 'parallelism bounds the first wave');
  t.equal(planJob(j, [pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Running')], T0).create.length, 0, 'only 1 completion left and 1 running');
  t.equal(planJob(j, [pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Running')], T0).create.length, 1);
  const many = planJob(mkJob({ completions: 2, parallelism: 4 }), [], T0);
  t.equal(many.create.length, 2, 'never more pods than completions left');
  const queue = planJob(mkJob({ completions: null, parallelism: 3 }), [pod('Succeeded'), pod('Running')], T0);
  t.equal(queue.create.length, 0, 'work queue: no new pod once one succeeded');
  t.same(conds(queue), [], 'and not complete while one still runs');
});

t.test('backoffLimit with restartPolicy Never: failed pods count, the limit is exceeded at limit+1', async (t) => {
  const j = mkJob({ backoffLimit: 2 });
  const two = planJob(j, [pod('Failed', { at: T0 }), pod('Failed', { at: T0 + 10_000 })], T0 + 10_000);
  t.same(conds(two), [], '2 failures with backoffLimit 2: not yet');
  t.equal(two.status.failed, 2);
  const three = planJob(j, [pod('Failed'), pod('Failed'), pod('Failed')], T0 + 100_000);
  t.same(conds(three), ['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded']);
  t.equal(three.status.conditions[0].message, 'Job has reached the specified backoff limit');
  t.notOk(three.status.completionTime, 'a failed Job has no completionTime');
  t.same(three.events, [{ type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]);
  const zero = planJob(mkJob({ backoffLimit: 0 }), [pod('Failed'), pod('Running')], T0);
  t.same(conds(zero), ['FailureTarget:BackoffLimitExceeded'], 'backoffLimit 0: the first failure; Failed waits for the running pod');
  t.equal(zero.delete.length, 1, 'the running pod is deleted');
  t.match(zero.status, { terminating: 1 });
});

t.test('backoffLimit with restartPolicy OnFailure counts container restarts', async (t) => {
  const j = mkJob({ backoffLimit: 3, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } });
  t.same(conds(planJob(j, [pod('Running', { restarts: 2 })], T0)), []);
  const p = planJob(j, [pod('Running', { restarts: 3 })], T0);
  t.same(conds(p), ['FailureTarget:BackoffLimitExceeded']);
  t.equal(p.delete.length, 1);
});

t.test('replacement pods wait kube\'s back-off: 10 s doubling per failure, capped at 6 min', async (t) => {
  const rows = [[1, 10_000], [2, 20_000], [3, 40_000], [4, 80_000], [5, 160_000], [6, 320_000], [7, 360_000], [12, 360_000]];
  for (const [f, want] of rows) t.equal(backoffRemaining(f!, T0, T0), want, `${f} failures → ${want} ms`);
  t.equal(backoffRemaining(2, T0, T0 + 15_000), 5_000, 'counted from the last failure');
  t.equal(backoffRemaining(0, T0, T0), 0);
  const j = mkJob({ backoffLimit: 6 });
  const waiting = planJob(j, [pod('Failed', { at: T0 }), pod('Failed', { at: T0 + 5_000 })], T0 + 6_000);
  t.same(waiting.create, [], 'no replacement yet');
  t.equal(waiting.requeueAfterMs, 19_000, '20 s after the second failure');
  t.equal(planJob(j, [pod('Failed', { at: T0 }), pod('Failed', { at: T0 + 5_000 })], T0 + 25_000).create.length, 1, 'then one');
  const afterSuccess = planJob(mkJob({ completions: 3 }), [pod('Failed', { at: T0 }), pod('Succeeded', { at: T0 + 1000 })], T0 + 1000);
  t.equal(afterSuccess.create.length, 1, 'a success resets the failure count');
});

t.test('activeDeadlineSeconds', async (t) => {
  const j = mkJob({ activeDeadlineSeconds: 30 }, { startTime: iso(T0) });
  const before = planJob(j, [pod('Running')], T0 + 10_000);
  t.equal(before.requeueAfterMs, 20_000, 'looks again at the deadline');
  const after = planJob(j, [pod('Running')], T0 + 30_000);
  t.same(conds(after), ['FailureTarget:DeadlineExceeded']);
  t.equal(after.status.conditions[0].message, 'Job was active longer than specified deadline');
  t.equal(after.delete.length, 1);
  const gone = planJob({ ...j, status: after.status }, [], T0 + 31_000);
  t.same(conds(gone), ['FailureTarget:DeadlineExceeded', 'Failed:DeadlineExceeded'], 'Failed once the pod is gone');
});

t.test('suspend and resume', async (t) => {
  const j = mkJob({ suspend: true });
  const s = planJob(j, [], T0);
  t.same(s.create, []);
  t.notOk(s.status.startTime, 'a Job created suspended has not started');
  t.same(conds(s), ['Suspended:JobSuspended']);
  const withPod = planJob(mkJob({ suspend: true }, { startTime: iso(T0) }), [pod('Running')], T0);
  t.equal(withPod.delete.length, 1, 'suspending deletes active pods');
  const resumed = planJob(mkJob({ suspend: false }, s.status), [], T0 + 60_000);
  t.same(resumed.create, [{}]);
  t.equal(resumed.status.startTime, iso(T0 + 60_000), 'resuming resets startTime');
  t.match(resumed.status.conditions.find((c: any) => c.type === 'Suspended'), { status: 'False', reason: 'JobResumed' });
  t.same(resumed.events.map((e) => e.reason), ['Resumed']);
});

t.test('podFailurePolicy: FailJob, Ignore, Count', async (t) => {
  const pfp = { rules: [
    { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } },
  ] };
  const j = mkJob({ backoffLimit: 1, podFailurePolicy: pfp });
  const fail = planJob(j, [pod('Failed', { exit: 42 })], T0);
  t.same(conds(fail), ['FailureTarget:PodFailurePolicy', 'Failed:PodFailurePolicy']);
  t.equal(fail.status.conditions[0].message, 'Container c for pod default/p' + (n - 1) + ' failed with exit code 42 matching FailJob rule at index 0');
  const ignored = planJob(j, [pod('Failed', { exit: 137, conditions: [{ type: 'DisruptionTarget', status: 'True' }] }), pod('Failed', { exit: 137, conditions: [{ type: 'DisruptionTarget', status: 'True' }] })], T0 + 1000);
  t.same(conds(ignored), [], 'ignored failures do not count toward backoffLimit');
  t.notOk(ignored.status.failed, 'nor in status.failed');
  t.equal(ignored.create.length, 1, 'and are replaced without back-off');
  const counted = planJob(j, [pod('Failed', { exit: 3 }), pod('Failed', { exit: 3 })], T0 + 100_000);
  t.same(conds(counted), ['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded'], 'Count rule: two failures exceed backoffLimit 1');
});

t.test('Indexed: one pod per index, completedIndexes, pod template', async (t) => {
  const j = mkJob({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
  t.same(planJob(j, [], T0).create, [{ index: 0 }, { index: 1 }]);
  const p = planJob(j, [pod('Succeeded', { index: 0 }), pod('Running', { index: 1 }), pod('Failed', { index: 2, at: T0 - 60_000 })], T0);
  t.same(p.create, [{ index: 2 }], 'the lowest missing index');
  t.equal(p.status.completedIndexes, '0');
  const dup = planJob(j, [pod('Running', { index: 1 }), pod('Running', { index: 1 })], T0);
  t.equal(dup.delete.length, 1, 'a duplicate index is deleted');
  const done = planJob(j, [0, 1, 2, 3].map((index) => pod('Succeeded', { index })), T0);
  t.same(conds(done), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  t.equal(done.status.completedIndexes, '0-3');
  t.equal(done.status.succeeded, 4);
  const { template, generateName } = jobPodTemplate({ ...j, metadata: { ...j.metadata, name: 'sum' } }, 3);
  t.equal(generateName, 'sum-3-');
  t.equal(template.spec.hostname, 'sum-3');
  t.equal(template.metadata.labels['batch.kubernetes.io/job-completion-index'], '3');
  t.equal(template.metadata.annotations['batch.kubernetes.io/job-completion-index'], '3');
  t.same(template.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
  t.same(formatIndexes([0, 1, 2, 5, 7, 8]), '0-2,5,7,8');
  t.same([...parseIndexes('0-2,5,7,8', 8)], [0, 1, 2, 5, 7], 'indexes past completions are dropped');
});

t.test('finished jobs are left alone; TTL expiry', async (t) => {
  const done = mkJob({ ttlSecondsAfterFinished: 100 }, { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(T0) }], completionTime: iso(T0) });
  const p = planJob(done, [pod('Running')], T0);
  t.same([p.create, p.delete, p.events], [[], [], []]);
  t.equal(expiresAt(done), T0 + 100_000);
  t.equal(expiresAt(mkJob({ ttlSecondsAfterFinished: 5 }, { conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: iso(T0) }] })), T0 + 5_000, 'failed: from the Failed condition');
  t.equal(expiresAt(mkJob({}, done.status)), undefined, 'no TTL');
  t.equal(expiresAt(mkJob({ ttlSecondsAfterFinished: 5 })), undefined, 'not finished');
});
