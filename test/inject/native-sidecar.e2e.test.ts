// Native sidecars in the node agent (init containers with restartPolicy Always, as Kubernetes 1.29+):
// start order gated by the sidecar's startupProbe, restart on exit even under restartPolicy Never,
// readiness feeding the pod's Ready, termination after the app containers, Job-style completion with a
// sidecar still running, and runAsUser/runAsGroup. Real API server + agent + pods (test/agent fixture);
// the containers are plain shell commands writing to a hostPath log. Root only.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { agentGet, createPod, execIn, isReady, rootSkip, startAgentEnv, waitPod, type AgentEnv } from '../agent/fixture.js';

const skip = rootSkip();
const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;

/** Lines of the shared log, as [name, event] in write order. */
function events(env: AgentEnv, file: string): string[] {
  try {
    return readFileSync(join(env.dir, file), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const host = (env: AgentEnv) => [{ name: 'host', hostPath: { path: env.dir, type: 'Directory' } }];
const mount = [{ name: 'host', mountPath: '/host' }];
const sh = (name: string, script: string, extra: Record<string, any> = {}) => ({ name, image: 'busybox', command: ['sh', '-c', script], volumeMounts: mount, ...extra });
const initStatus = (p: any, name: string) => p?.status?.initContainerStatuses?.find((c: any) => c.name === name);

t.test('native sidecars', { skip }, async (t) => {
  const env = await startAgentEnv(t, 93);

  t.test('order: the next init container and the app wait for the sidecar\'s startupProbe', async (t) => {
    await createPod(env, 'order', {
      volumes: host(env),
      initContainers: [
        sh('first', 'echo first >> /host/order.log'),
        sh('proxy', 'echo proxy-start >> /host/order.log; sleep 1.5; touch /host/proxy-ready; echo proxy-ready >> /host/order.log; exec sleep 1000', {
          restartPolicy: 'Always', startupProbe: { exec: { command: ['test', '-f', '/host/proxy-ready'] }, periodSeconds: 1, failureThreshold: 30 },
        }),
        sh('second', 'echo second >> /host/order.log'),
      ],
      containers: [sh('app', 'echo app >> /host/order.log; exec sleep 1000')],
    });
    const p = await waitPod(env, 'order', isReady, 30000);
    t.same(events(env, 'order.log'), ['first', 'proxy-start', 'proxy-ready', 'second', 'app'], 'init containers in order; sidecar started (probe passed) before the next');
    const s = initStatus(p, 'proxy');
    t.ok(s.state.running, 'sidecar running in initContainerStatuses');
    t.equal(s.started, true);
    t.equal(s.ready, true, 'no readinessProbe: ready once started');
    t.ok(initStatus(p, 'first').state.terminated, 'plain init container completed');
    t.equal(p.status.phase, 'Running');
  });

  t.test('readiness of the sidecar feeds the pod\'s Ready; restart on exit under restartPolicy Never', async (t) => {
    await createPod(env, 'flaky', {
      restartPolicy: 'Never',
      volumes: host(env),
      initContainers: [sh('proxy', 'echo run >> /host/flaky-runs.log; sleep 1; exit 3', {
        restartPolicy: 'Always', readinessProbe: { exec: { command: ['test', '-f', '/host/flaky-ready'] }, periodSeconds: 1 },
      })],
      containers: [sh('app', 'exec sleep 1000')],
    });
    const p = await waitPod(env, 'flaky', (x) => initStatus(x, 'proxy')?.restartCount >= 1 && x.status.containerStatuses?.[0]?.state?.running, 20000);
    t.equal(p.status.phase, 'Running', 'the app runs while the sidecar restarts');
    t.notOk(isReady(p), 'sidecar not ready → pod not Ready');
    const cond = p.status.conditions.find((c: any) => c.type === 'ContainersReady');
    t.match(cond.message, /proxy/, 'the unready sidecar is named');
    t.ok(initStatus(p, 'proxy').lastState.terminated?.exitCode === 3, 'last exit 3 recorded');
    t.ok(events(env, 'flaky-runs.log').length >= 2, 'started again after exiting');
    writeFileSync(join(env.dir, 'flaky-ready'), '');
    // the sidecar keeps dying every second and backs off, so Ready may only hold between its runs
    const ok = await waitPod(env, 'flaky', (x) => isReady(x) || initStatus(x, 'proxy')?.ready === true, 20000).then(() => true, () => false);
    t.ok(ok, 'readiness probe passing → the sidecar is ready');
    await env.client.delete(podsRef, 'flaky', { namespace: 'default' });
    await waitPod(env, 'flaky', (x) => x === undefined, 20000);
  });

  t.test('termination: app containers stop first, the sidecar after them', async (t) => {
    await createPod(env, 'term', {
      terminationGracePeriodSeconds: 10,
      volumes: host(env),
      initContainers: [sh('proxy', 'trap "echo proxy-term >> /host/term.log; exit 0" TERM; while true; do sleep 0.1; done', { restartPolicy: 'Always' })],
      containers: [
        sh('app', 'trap "echo app-term >> /host/term.log; sleep 1; echo app-exit >> /host/term.log; exit 0" TERM; while true; do sleep 0.1; done'),
        sh('app2', 'trap "echo app2-exit >> /host/term.log; exit 0" TERM; while true; do sleep 0.1; done'),
      ],
    });
    await waitPod(env, 'term', isReady, 20000);
    await env.client.delete(podsRef, 'term', { namespace: 'default' });
    await waitPod(env, 'term', (x) => x === undefined, 30000);
    const ev = events(env, 'term.log');
    t.ok(ev.includes('proxy-term'), `sidecar got SIGTERM (${ev.join(',')})`);
    t.equal(ev[ev.length - 1], 'proxy-term', 'the sidecar is stopped last');
    t.ok(ev.indexOf('app-exit') >= 0 && ev.indexOf('app-exit') < ev.indexOf('proxy-term'), 'after the slow app exited');
  });

  t.test('Job-style completion with a sidecar still running', async (t) => {
    for (const [name, code, phase] of [['job-ok', 0, 'Succeeded'], ['job-fail', 1, 'Failed']] as const) {
      await createPod(env, name, {
        restartPolicy: 'Never',
        volumes: host(env),
        initContainers: [sh('proxy', `trap "echo ${name}-proxy-term >> /host/job.log; exit 0" TERM; while true; do sleep 0.1; done`, { restartPolicy: 'Always' })],
        containers: [sh('work', `sleep 0.5; echo ${name}-done >> /host/job.log; exit ${code}`)],
      });
      const p = await waitPod(env, name, (x) => x?.status?.phase === phase && initStatus(x, 'proxy')?.state?.terminated, 20000);
      t.equal(p.status.phase, phase, `${name}: ${phase} when the app container finishes`);
      t.equal(p.status.containerStatuses[0].state.terminated.exitCode, code);
      t.equal(initStatus(p, 'proxy').state.terminated.exitCode, 0, 'the sidecar was stopped (SIGTERM, exit 0)');
      t.equal(initStatus(p, 'proxy').restartCount, 0, 'and not restarted');
      t.same(events(env, 'job.log').filter((l) => l.startsWith(name)), [`${name}-done`, `${name}-proxy-term`], 'sidecar terminated after the app finished');
    }
  });

  t.test('a restarted agent adopts running sidecars and does not revive a completed pod\'s', async (t) => {
    await createPod(env, 'adopted', {
      initContainers: [{ name: 'proxy', image: 'busybox', command: ['sh', '-c', 'while true; do sleep 0.2; done'], restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'while true; do sleep 0.2; done'] }],
    });
    await createPod(env, 'completed', {
      restartPolicy: 'Never',
      initContainers: [{ name: 'proxy', image: 'busybox', command: ['sh', '-c', 'while true; do sleep 0.2; done'], restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: 'busybox', command: ['true'] }],
    });
    const before = await waitPod(env, 'adopted', isReady, 20000);
    await waitPod(env, 'completed', (x) => x?.status?.phase === 'Succeeded' && initStatus(x, 'proxy')?.state?.terminated, 20000);
    await env.restart();
    await new Promise((r) => setTimeout(r, 3000));
    const after = await waitPod(env, 'adopted', isReady, 20000);
    t.equal(initStatus(after, 'proxy').containerID, initStatus(before, 'proxy').containerID, 'same sidecar process');
    t.equal(initStatus(after, 'proxy').restartCount, 0);
    t.equal(after.status.containerStatuses[0].containerID, before.status.containerStatuses[0].containerID, 'same app process');
    const done = await waitPod(env, 'completed', (x) => !!x?.status, 5000);
    t.equal(done.status.phase, 'Succeeded', 'the completed pod stays completed');
    t.ok(initStatus(done, 'proxy').state.terminated, 'its sidecar is not started again');
  });

  t.test('runAsUser / runAsGroup, pod and container level; runAsNonRoot', async (t) => {
    await createPod(env, 'users', {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] },
      initContainers: [{ name: 'proxy', image: 'busybox', command: ['sh', '-c', 'echo $(id -u) $(id -g); exec sleep 1000'], restartPolicy: 'Always', securityContext: { runAsUser: 1337, runAsGroup: 1337 } }],
      containers: [
        { name: 'pod-level', image: 'busybox', command: ['sh', '-c', 'echo $(id -u) $(id -g) $(id -G)'] },
        { name: 'uid-only', image: 'busybox', command: ['sh', '-c', 'echo $(id -u) $(id -g) $(id -G)'], securityContext: { runAsUser: 2000, runAsGroup: 0 } },
      ],
    });
    const done = await waitPod(env, 'users', (x) => x?.status?.phase === 'Succeeded' || x?.status?.phase === 'Failed', 20000);
    t.equal(done.status.phase, 'Succeeded');
    const log = async (c: string) => (await agentGet(env, `/containerLogs/default/users/${c}`)).text.trim();
    t.equal(await log('proxy'), '1337 1337', 'sidecar: container-level user and group');
    t.equal(await log('pod-level'), '1000 3000 3000 4000', 'pod-level user, group and supplementalGroups');
    t.equal(await log('uid-only'), '2000 0 0 4000', 'container overrides the pod');
    await createPod(env, 'exec-user', { securityContext: { runAsUser: 1234, runAsGroup: 5678 }, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'] }] });
    await waitPod(env, 'exec-user', isReady, 15000);
    t.equal((await execIn(env, 'exec-user', 'c', ['sh', '-c', 'echo $(id -u) $(id -g)'])).stdout.trim(), '1234 5678', 'exec runs as the container\'s user');
    await createPod(env, 'nonroot', { securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'] }] });
    const p = await waitPod(env, 'nonroot', (x) => x?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError', 15000);
    t.match(p.status.containerStatuses[0].state.waiting.message, 'container has runAsNonRoot and image will run as root');
  });
});
