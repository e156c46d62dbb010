// batch/v1 Job end to end: `shoal up` (real node agent, pods in network namespaces) and the real kubectl
// 1.32. `kubectl create job` + `kubectl wait --for=condition=complete`; backoffLimit with failing pods
// (restartPolicy Never) and kube's 10 s back-off between them; OnFailure restarting in place; Indexed
// mode (JOB_COMPLETION_INDEX, hostname <job>-<index>); podFailurePolicy FailJob; activeDeadlineSeconds;
// ttlSecondsAfterFinished deleting the Job and its pods; Kubernetes' error for restartPolicy Always.
// CronJob: `kubectl create cronjob` with `*/1 * * * *` runs once within 75 s (started first, checked
// last, so the wait overlaps the Job checks), and `kubectl create job --from=cronjob/…`. Root only.
import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { waitFor } from '../wait.js';
import { rootSkip, shoalUp } from './shoal-up.js';

const jobs = { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true };
const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const ns = 'default';

function jobManifest(name: string, spec: Record<string, any>, podSpec: Record<string, any>): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { ...spec, template: { spec: { terminationGracePeriodSeconds: 1, ...podSpec } } } };
}
const cond = (j: KubeObject, type: string) => (j.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');

t.test('Jobs on a real cluster', { skip: rootSkip }, async (t) => {
  const c = await shoalUp('job', 20 + Math.floor(Math.random() * 70));
  t.teardown(() => c.close());
  const { api } = c;
  const podsOf = async (job: string) => (await api.list(pods, { namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;

  // everything at once; each is checked below
  const cronStart = Date.now();
  const cron = await c.kubectl('create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'sh', '-c', 'echo tick');
  t.equal(cron.code, 0, `kubectl create cronjob: ${cron.stderr}`);
  const created = await c.kubectl('create', 'job', 'j1', '--image=busybox', '--', 'sh', '-c', 'exit 0');
  t.equal(created.code, 0, `kubectl create job: ${created.stderr}`);
  t.match(created.stdout, /job.batch\/j1 created/);
  await api.create(jobs, jobManifest('flaky', { backoffLimit: 1 }, { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 3'] }] }), { namespace: ns });
  await api.create(jobs, jobManifest('retry', {}, {
    restartPolicy: 'OnFailure', volumes: [{ name: 'd', emptyDir: {} }],
    containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'if [ -f /d/once ]; then exit 0; fi; touch /d/once; exit 1'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
  }), { namespace: ns });
  await api.create(jobs, jobManifest('idx', { completionMode: 'Indexed', completions: 3, parallelism: 3 }, {
    restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo index=$JOB_COMPLETION_INDEX host=$(hostname)'] }],
  }), { namespace: ns });
  await api.create(jobs, jobManifest('pfp', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } }] } }, {
    restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 42'] }],
  }), { namespace: ns });
  await api.create(jobs, jobManifest('slow', { activeDeadlineSeconds: 3 }, { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] }), { namespace: ns });
  await api.create(jobs, jobManifest('ttl', { ttlSecondsAfterFinished: 2 }, { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }), { namespace: ns });

  t.test('kubectl create job, kubectl wait --for=condition=complete', async (t) => {
    const w = await c.kubectl('wait', '--for=condition=complete', 'job/j1', '--timeout=90s');
    t.equal(w.code, 0, `kubectl wait: ${w.stdout}${w.stderr}`);
    t.match(w.stdout, /job.batch\/j1 condition met/);
    const j = await api.get(jobs, 'j1', { namespace: ns });
    t.ok(cond(j, 'SuccessCriteriaMet') && cond(j, 'Complete'), 'SuccessCriteriaMet and Complete');
    t.match(j.status, { succeeded: 1, ready: 0, terminating: 0 });
    t.ok(j.status.startTime && j.status.completionTime, 'startTime and completionTime');
    t.equal(j.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], j.metadata.uid, 'generated selector');
    t.equal(j.metadata.labels?.['batch.kubernetes.io/job-name'], 'j1', 'the Job carries its template labels');
    const [p] = await podsOf('j1');
    t.equal(p!.status.phase, 'Succeeded', 'the pod ran to completion in the agent');
    t.equal(p!.metadata.labels?.['controller-uid'], j.metadata.uid);
    t.match(p!.metadata.ownerReferences, [{ kind: 'Job', name: 'j1', controller: true }]);
    const desc = await c.kubectl('describe', 'job', 'j1');
    t.equal(desc.code, 0, desc.stderr);
    t.match(desc.stdout, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/, 'kubectl describe job');
    t.match(desc.stdout, /Normal\s+SuccessfulCreate\s+.*job-controller\s+Created pod: j1-/, 'with the controller\'s events');
    const get = await c.kubectl('get', 'job', 'j1');
    t.match(get.stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nj1\s+Complete\s+1\/1\s+\d+s\s+\d+s\n$/, get.stdout);
  });

  t.test('backoffLimit: two failed pods, kube\'s back-off between them, then Failed', async (t) => {
    const w = await c.kubectl('wait', '--for=condition=failed', 'job/flaky', '--timeout=120s');
    t.equal(w.code, 0, w.stdout + w.stderr);
    const j = await api.get(jobs, 'flaky', { namespace: ns });
    t.match(cond(j, 'Failed'), { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    t.ok(cond(j, 'FailureTarget'), 'FailureTarget came first');
    t.equal(j.status.failed, 2, 'backoffLimit 1: the second failure fails the Job');
    const ps = (await podsOf('flaky')).sort((a, b) => Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!));
    t.equal(ps.length, 2);
    t.ok(ps.every((p) => p.status.phase === 'Failed' && p.status.containerStatuses[0].state.terminated.exitCode === 3), 'both pods Failed with exit code 3');
    const firstDone = Date.parse(ps[0]!.status.containerStatuses[0].state.terminated.finishedAt);
    const secondMade = Date.parse(ps[1]!.metadata.creationTimestamp!);
    t.ok(secondMade - firstDone >= 9_000, `the replacement waited the 10 s back-off (${secondMade - firstDone} ms)`);
    const ev = await c.kubectl('get', 'events', '--field-selector', 'involvedObject.name=flaky', '-o', 'jsonpath={.items[*].reason}');
    t.match(ev.stdout, /BackoffLimitExceeded/);
  });

  t.test('restartPolicy OnFailure restarts in place and completes', async (t) => {
    const j = await waitFor('retry complete', async () => {
      const x = await api.get(jobs, 'retry', { namespace: ns });
      return cond(x, 'Complete') ? x : undefined;
    }, 60_000);
    t.notOk(j.status.failed, 'no failed pods');
    const [p] = await podsOf('retry');
    t.equal(p!.status.phase, 'Succeeded');
    t.equal(p!.status.containerStatuses[0].restartCount, 1, 'one restart in the same pod');
  });

  t.test('Indexed: index env, label, hostname <job>-<index>', async (t) => {
    const w = await c.kubectl('wait', '--for=condition=complete', 'job/idx', '--timeout=90s');
    t.equal(w.code, 0, w.stdout + w.stderr);
    const j = await api.get(jobs, 'idx', { namespace: ns });
    t.equal(j.status.completedIndexes, '0-2');
    t.equal(j.status.succeeded, 3);
    const ps = await podsOf('idx');
    const seen: string[] = [];
    for (const p of ps) {
      const ix = p.metadata.labels?.['batch.kubernetes.io/job-completion-index'];
      t.equal(p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], ix);
      t.match(p.metadata.name, new RegExp(`^idx-${ix}-`));
      const log = await c.kubectl('logs', p.metadata.name!);
      seen.push(log.stdout.trim());
    }
    t.same(seen.sort(), ['index=0 host=idx-0', 'index=1 host=idx-1', 'index=2 host=idx-2']);
  });

  t.test('podFailurePolicy FailJob on exit code 42', async (t) => {
    const j = await waitFor('pfp failed', async () => {
      const x = await api.get(jobs, 'pfp', { namespace: ns });
      return cond(x, 'Failed') ? x : undefined;
    }, 60_000);
    t.equal(cond(j, 'Failed').reason, 'PodFailurePolicy');
    t.match(cond(j, 'Failed').message, /^Container c for pod default\/pfp-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
    t.equal((await podsOf('pfp')).length, 1, 'no retry despite backoffLimit 6');
  });

  t.test('activeDeadlineSeconds stops a running Job', async (t) => {
    const j = await waitFor('slow failed', async () => {
      const x = await api.get(jobs, 'slow', { namespace: ns });
      return cond(x, 'Failed') ? x : undefined;
    }, 60_000);
    t.match(cond(j, 'Failed'), { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    await waitFor('its pod is gone', async () => (await podsOf('slow')).length === 0, 30_000);
    const get = await c.kubectl('get', 'job', 'slow', '--no-headers');
    t.match(get.stdout, /^slow\s+Failed\s+0\/1\s/);
  });

  t.test('ttlSecondsAfterFinished deletes the Job and its pods', async (t) => {
    await waitFor('ttl job gone', async () => {
      try {
        await api.get(jobs, 'ttl', { namespace: ns });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 60_000);
    await waitFor('its pods gone', async () => (await podsOf('ttl')).length === 0, 30_000);
    t.pass('deleted after it finished');
  });

  t.test('restartPolicy Always is refused with the field path', async (t) => {
    const r = await api.create(jobs, jobManifest('bad', {}, { containers: [{ name: 'c', image: 'busybox' }] }), { namespace: ns }).then(() => undefined, (e) => e as Error);
    t.match(r?.message, /spec\.template\.spec\.restartPolicy: Required value: valid values: "OnFailure", "Never"/);
  });

  t.test('CronJob: kubectl create job --from, and one scheduled run within 75 s', async (t) => {
    const from = await c.kubectl('create', 'job', 'tick-now', '--from=cronjob/tick');
    t.equal(from.code, 0, from.stderr);
    const w = await c.kubectl('wait', '--for=condition=complete', 'job/tick-now', '--timeout=60s');
    t.equal(w.code, 0, w.stdout + w.stderr);
    const [p] = await podsOf('tick-now');
    t.equal((await c.kubectl('logs', p!.metadata.name!)).stdout, 'tick\n', 'the manual run printed');
    const cj = await waitFor('a scheduled run completed', async () => {
      const x = await api.get({ apiVersion: 'batch/v1', plural: 'cronjobs', namespaced: true }, 'tick', { namespace: ns });
      if (!x.status?.lastScheduleTime || x.status.active?.length) return undefined;
      const run = await api.get(jobs, `tick-${Date.parse(x.status.lastScheduleTime) / 60_000}`, { namespace: ns });
      return cond(run, 'Complete') ? x : undefined;
    }, Math.max(1000, cronStart + 75_000 - Date.now()));
    t.ok(Date.now() - cronStart <= 75_000, `within 75 s (${Date.now() - cronStart} ms)`);
    const last = Date.parse(cj.status.lastScheduleTime);
    t.equal(last % 60_000, 0, 'scheduled on a minute boundary');
    const run = await api.get(jobs, `tick-${last / 60_000}`, { namespace: ns });
    t.ok(cond(run, 'Complete'), `the Job tick-${last / 60_000} completed`);
    t.equal(run.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], cj.status.lastScheduleTime);
    const get = await c.kubectl('get', 'cronjob', 'tick', '--no-headers');
    t.match(get.stdout, /^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d\s+\d+s\s+\d+s\n$/, get.stdout);
  });
});
