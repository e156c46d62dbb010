// Pod status with native sidecars (pure: node/agent/pods/status.ts): sidecars never decide the phase,
// count as initialized once started, and their readiness counts for Ready / ContainersReady.
import t from 'tap';
import { podPhase, podStatus, type ContainerStatus, type PodSnapshot } from '../../node/agent/pods/status.js';
import type { Pod } from '../../node/agent/pods/types.js';

const pod = (restartPolicy: 'Always' | 'Never' | 'OnFailure'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: { restartPolicy, initContainers: [{ name: 'istio-init' }, { name: 'istio-proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
});
const st = (name: string, state: ContainerStatus['state'], o: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name, image: '', imageID: '', state, lastState: {}, ready: false, started: false, restartCount: 0, ...o,
});
const running = { running: { startedAt: 'x' } };
const done = (exitCode: number) => ({ terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', finishedAt: 'x' } });
const snap = (init: ContainerStatus[], app: ContainerStatus[], initialized: boolean): PodSnapshot => ({ hostIP: '1.2.3.4', podIPs: ['10.0.0.2'], initStatuses: init, statuses: app, initialized });

t.test('phase', async (t) => {
  const rows: { name: string; policy: 'Always' | 'Never' | 'OnFailure'; s: PodSnapshot; want: string }[] = [
    { name: 'sidecar crashed before init finished, Never: still Pending (it restarts)', policy: 'Never', s: snap([st('istio-init', done(0)), st('istio-proxy', { waiting: { reason: 'CrashLoopBackOff' } }, { lastState: done(1) })], [st('app', { waiting: { reason: 'PodInitializing' } })], false), want: 'Pending' },
    { name: 'plain init container failed, Never: Failed', policy: 'Never', s: snap([st('istio-init', done(2)), st('istio-proxy', { waiting: { reason: 'PodInitializing' } })], [st('app', { waiting: { reason: 'PodInitializing' } })], false), want: 'Failed' },
    { name: 'app done 0, sidecar still running, Never: Succeeded', policy: 'Never', s: snap([st('istio-init', done(0)), st('istio-proxy', running)], [st('app', done(0))], true), want: 'Succeeded' },
    { name: 'app done 1, sidecar stopped, Never: Failed', policy: 'Never', s: snap([st('istio-init', done(0)), st('istio-proxy', done(143))], [st('app', done(1))], true), want: 'Failed' },
    { name: 'app running, sidecar restarting: Running', policy: 'Always', s: snap([st('istio-init', done(0)), st('istio-proxy', { waiting: { reason: 'CrashLoopBackOff' } }, { lastState: done(1) })], [st('app', running, { ready: true })], true), want: 'Running' },
  ];
  for (const r of rows) t.equal(podPhase(pod(r.policy), r.s), r.want, r.name);
});

t.test('conditions', async (t) => {
  const cond = (s: Record<string, any>, type: string) => s.conditions.find((c: any) => c.type === type);
  const notStarted = podStatus(pod('Always'), snap([st('istio-init', done(0)), st('istio-proxy', running)], [st('app', { waiting: { reason: 'PodInitializing' } })], false), new Date());
  t.match(cond(notStarted, 'Initialized'), { status: 'False', message: 'containers with incomplete status: [istio-proxy]' }, 'a sidecar not yet started keeps the pod uninitialized');
  const unready = podStatus(pod('Always'), snap([st('istio-init', done(0)), st('istio-proxy', running, { started: true, ready: false })], [st('app', running, { ready: true, started: true })], true), new Date());
  t.match(cond(unready, 'Ready'), { status: 'False', message: 'containers with unready status: [istio-proxy]' }, 'sidecar readiness counts for Ready');
  t.match(cond(unready, 'ContainersReady'), { status: 'False' });
  const all = podStatus(pod('Always'), snap([st('istio-init', done(0)), st('istio-proxy', running, { started: true, ready: true })], [st('app', running, { ready: true, started: true })], true), new Date());
  t.match(cond(all, 'Ready'), { status: 'True' });
  t.same(all.initContainerStatuses.map((c: any) => [c.name, c.started, c.ready]), [['istio-init', false, false], ['istio-proxy', true, true]], 'started/ready reported for the sidecar');
});
