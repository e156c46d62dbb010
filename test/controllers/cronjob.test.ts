// CronJobs through a real API server with the Job and CronJob controllers in-process on a fake clock,
// and a stand-in kubelet that runs every pod to success: scheduled Jobs appear when the fake clock
// passes a schedule time (named <cronjob>-<minutes>), complete, leave status.active, set
// lastSuccessfulTime and are trimmed to the history limit. Then the real kubectl 1.32: `create cronjob`,
// an invalid schedule refused with the field path, `create job --from=cronjob/…`, and `get cronjobs`.

import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startCluster } from '../client/fixture.js';
import { Informer, isNotFound } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { type Clock, realClock } from '../../lib/time/clock.js';
import { InformerFactory } from '../../control-plane/controllers/informers.js';
import { makeContext } from '../../control-plane/controllers/context.js';
import { jobController } from '../../control-plane/controllers/job/job.js';
import { cronJobController } from '../../control-plane/controllers/cronjob/cronjob.js';
import { waitFor } from './fixture.js';

const jobsRef = { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true };
const cronRef = { apiVersion: 'batch/v1', plural: 'cronjobs', namespaced: true };
const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true };

let hasKubectl = true;
try {
  await new Promise<void>((res, rej) => execFile('kubectl', ['version', '--client'], (e) => (e ? rej(e) : res())));
} catch {
  hasKubectl = false;
}

const c = await startCluster('shoalt-cronjob-');
t.teardown(() => c.close());
const api = c.client();

// the fake clock the controllers read (its timers are real: the test moves "now" and enqueues)
let fakeNow = Date.now();
const clock: Clock = { ...realClock, now: () => fakeNow };
const informers = new InformerFactory(c.client());
const ctx = { ...makeContext(c.client(), informers), now: () => fakeNow };
const jobs = jobController(ctx);
const crons = cronJobController(ctx, { clock });

// a stand-in kubelet: every new pod succeeds
const pods = new Informer(c.client(), podsRef, { namespace: '' });
pods.addEventHandler({
  onAdd: (p: KubeObject) => {
    if (p.status?.phase === 'Succeeded') return;
    const ts = new Date(fakeNow).toISOString().replace(/\.\d{3}Z$/, 'Z');
    void api.updateStatus(podsRef, { ...structuredClone(p), status: { phase: 'Succeeded', containerStatuses: [{ name: 'c', restartCount: 0, ready: false, image: 'busybox', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: ts } } }] } })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  },
});
pods.start();
informers.start();
await informers.waitForSync();
jobs.start();
crons.start();
t.teardown(async () => {
  await crons.stop();
  await jobs.stop();
  await pods.stop();
  await informers.stop();
  await Promise.all([...ctx.recorders.values()].map((r) => r.flush()));
});

const kubectl = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
  execFile('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { timeout: 30_000, env: { ...process.env, HOME: c.home, KUBECACHEDIR: join(c.home, 'kcache') } }, (e, stdout, stderr) => res({ code: e ? ((e as any).code ?? 1) : 0, stdout, stderr })));
const childJobs = async (cj: string) => (await api.list(jobsRef, { namespace: 'default' })).items.filter((j) => j.metadata.ownerReferences?.some((r: any) => r.kind === 'CronJob' && r.name === cj));

t.test('scheduled runs on a fake clock', async (t) => {
  await api.create(cronRef, {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
    spec: { schedule: '*/1 * * * *', successfulJobsHistoryLimit: 2, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  }, { namespace: 'default' });
  const created = Date.parse((await api.get(cronRef, 'tick', { namespace: 'default' })).metadata.creationTimestamp!);
  const minute = (k: number) => (Math.floor(created / 60_000) + k) * 60_000; // the k-th minute boundary after creation
  const names: string[] = [];
  for (let k = 1; k <= 4; k++) {
    fakeNow = minute(k) + 5_000;
    crons.enqueue('default/tick');
    const want = `tick-${minute(k) / 60_000}`;
    names.push(want);
    await waitFor(`job ${want} complete`, async () => {
      const j = await api.get(jobsRef, want, { namespace: 'default' }).catch(() => undefined);
      return j && (j.status?.conditions ?? []).some((x: any) => x.type === 'Complete' && x.status === 'True');
    });
    const cj = await waitFor('status caught up', async () => {
      crons.enqueue('default/tick');
      const x = await api.get(cronRef, 'tick', { namespace: 'default' });
      return !x.status?.active && x.status?.lastSuccessfulTime ? x : undefined;
    });
    t.equal(cj.status.lastScheduleTime, new Date(minute(k)).toISOString().replace('.000Z', 'Z'), `run ${k}: lastScheduleTime`);
  }
  const left = await waitFor('history trimmed to 2', async () => {
    crons.enqueue('default/tick');
    const js = (await childJobs('tick')).filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name).sort();
    return js.length === 2 ? js : undefined;
  });
  t.same(left, names.slice(2).sort(), 'successfulJobsHistoryLimit 2 keeps the newest two');
  const j = await api.get(jobsRef, names[3]!, { namespace: 'default' });
  t.equal(j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(minute(4)).toISOString().replace('.000Z', 'Z'));
  const ev = (await api.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default', fieldSelector: 'involvedObject.name=tick' })).items.map((e) => e.reason);
  for (const r of ['SuccessfulCreate', 'SawCompletedJob', 'SuccessfulDelete']) t.ok(ev.includes(r), `event ${r}`);
});

t.test('Forbid skips a time while a run is active', async (t) => {
  // the template is suspended, so its Job creates no pod and stays active
  fakeNow = Date.now(); // back to the present, before the CronJob exists
  await api.create(cronRef, {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'solo' },
    spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid', jobTemplate: { spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  }, { namespace: 'default' });
  const created = Date.parse((await api.get(cronRef, 'solo', { namespace: 'default' })).metadata.creationTimestamp!);
  const minute = (k: number) => (Math.floor(created / 60_000) + k) * 60_000;
  fakeNow = minute(1) + 1000;
  crons.enqueue('default/solo');
  await waitFor('first run active (in the controllers\' cache)', async () => informers.for(cronRef).get('default/solo')?.status?.active?.length === 1);
  fakeNow = minute(2) + 1000;
  crons.enqueue('default/solo');
  await waitFor('JobAlreadyActive event', async () => (await api.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default', fieldSelector: 'involvedObject.name=solo' })).items.some((e) => e.reason === 'JobAlreadyActive'));
  t.equal((await childJobs('solo')).length, 1, 'no second Job');
  const ev = (await api.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default', fieldSelector: 'involvedObject.name=solo' })).items.map((e) => e.reason);
  t.notOk(ev.includes('UnexpectedJob'), 'its own Job is not "unexpected" while the cache lags (the CronJob is read again first)');
});

t.test('kubectl create cronjob, invalid schedule, create job --from, get', { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
  const mk = await kubectl('create', 'cronjob', 'hello', '--image=busybox', '--schedule=@hourly', '--', 'echo', 'hi');
  t.equal(mk.code, 0, mk.stderr);
  t.match(mk.stdout, /cronjob.batch\/hello created/);
  const bad = await kubectl('create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *');
  t.not(bad.code, 0);
  t.match(bad.stderr, /^error: failed to create cronjob: CronJob\.batch "bad" is invalid: spec\.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61\n$/);
  const from = await kubectl('create', 'job', 'hello-manual', '--from=cronjob/hello');
  t.equal(from.code, 0, from.stderr);
  const manual = await api.get(jobsRef, 'hello-manual', { namespace: 'default' });
  t.equal(manual.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual', 'kubectl marks it manual');
  t.match(manual.metadata.ownerReferences, [{ kind: 'CronJob', name: 'hello' }]);
  await waitFor('the manual job completes', async () => ((await api.get(jobsRef, 'hello-manual', { namespace: 'default' })).status?.conditions ?? []).some((x: any) => x.type === 'Complete'));
  const w = await kubectl('wait', '--for=condition=complete', 'job/hello-manual', '--timeout=20s');
  t.equal(w.code, 0, w.stderr);
  const get = await kubectl('get', 'cronjob', 'hello');
  t.match(get.stdout, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nhello\s+@hourly\s+<none>\s+False\s+0\s+<none>\s+\d+s\n$/, get.stdout);
});
