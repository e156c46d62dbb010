// Real pods through a real API server and agent: networking between pods and from the host, restarts
// and back-off, waiting reasons for bad input, probes, init containers. Root only.
import t from 'tap';
import { agentGet, createPod, cs, execIn, isReady, podEvents, rootSkip, startAgentEnv, waitPod } from './fixture.js';
import { realOs } from '../../node/agent/os.js';

const skip = rootSkip();

t.test('node agent e2e: pods', { skip }, async (t) => {
  const env = await startAgentEnv(t, 81);

  t.test('node registered with a lease', async (t) => {
    const node: any = await env.client.get({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, env.cfg.nodeName);
    t.equal(node.spec.podCIDR, env.subnet);
    t.ok(Number(node.status.capacity.cpu) >= 1, 'cpu capacity from the host');
    t.match(node.status.capacity.memory, /^\d+Ki$/);
    const lease: any = await env.client.get({ apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true }, env.cfg.nodeName, { namespace: 'kube-node-lease' });
    t.equal(lease.spec.holderIdentity, env.cfg.nodeName);
  });

  t.test('three pods: distinct IPs, pod to pod, host to pod', async (t) => {
    const names = ['net-a', 'net-b', 'net-c'];
    await Promise.all(names.map((n) => createPod(env, n, { containers: [{ name: 'app', image: 'shoal/hello:2', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] })));
    const pods = await Promise.all(names.map((n) => waitPod(env, n, isReady)));
    const ips = pods.map((p) => p.status.podIP);
    t.equal(new Set(ips).size, 3, `distinct IPs ${ips.join(' ')}`);
    for (const p of pods) t.ok(p.status.podIP.startsWith(env.subnet.split('.').slice(0, 3).join('.')), 'IP in the node subnet');
    const fromHost = await (await fetch(`http://${ips[1]}:8080/`)).json();
    t.same(fromHost, { pod: 'net-b', ip: ips[1], version: '2' });
    const code = `fetch('http://${ips[2]}:8080/').then(r=>r.text()).then(t=>process.stdout.write(t))`;
    const r = await execIn(env, 'net-a', 'app', [process.execPath, '-e', code]);
    t.equal(r.exitCode, 0, r.stderr);
    t.same(JSON.parse(r.stdout), { pod: 'net-c', ip: ips[2], version: '2' }, 'net-a reaches net-c');
    const hn = await execIn(env, 'net-a', 'app', ['hostname']);
    t.equal(hn.stdout.trim(), 'net-a', 'UTS namespace: hostname is the pod name');
    const ps = await execIn(env, 'net-a', 'app', ['sh', '-c', 'ls /proc | grep -c "^[0-9]"']);
    t.ok(Number(ps.stdout) < 10, `PID namespace: few processes (${ps.stdout.trim()})`);
    const resolv = await execIn(env, 'net-a', 'app', ['cat', '/etc/resolv.conf']);
    t.equal(resolv.stdout, 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
    const hosts = await execIn(env, 'net-a', 'app', ['cat', '/etc/hosts']);
    t.match(hosts.stdout, new RegExp(`${ips[0].replace(/\./g, '\\.')}\\tnet-a`));
    const unreach = await realOs.run('ip', ['route', 'get', env.cfg.serviceCidr.replace(/0\/24$/, '5')]);
    t.not(unreach.code, 0, 'service CIDR is unreachable from the host');
  });

  t.test('kill -9 of the container process: restarted, restartCount 1', async (t) => {
    await createPod(env, 'victim', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] });
    const p = await waitPod(env, 'victim', (p) => cs(p)?.state?.running);
    const pid = Number(cs(p).containerID.replace('shoal://', ''));
    t.ok(realOs.alive(pid));
    process.kill(pid, 'SIGKILL');
    const q = await waitPod(env, 'victim', (p) => cs(p)?.restartCount === 1 && cs(p)?.state?.running);
    t.equal(q.status.containerStatuses[0].lastState.terminated.exitCode, 137);
    t.not(cs(q).containerID, cs(p).containerID, 'a new process');
  });

  t.test('unknown image: ErrImagePull then ImagePullBackOff, with events', async (t) => {
    await createPod(env, 'noimage', { containers: [{ name: 'c', image: 'example.com/nope:9' }] });
    const p = await waitPod(env, 'noimage', (p) => ['ErrImagePull', 'ImagePullBackOff'].includes(cs(p)?.state?.waiting?.reason));
    t.equal(p.status.phase, 'Pending');
    await waitPod(env, 'noimage', (p) => cs(p)?.state?.waiting?.reason === 'ImagePullBackOff');
    const ev = await podEvents(env, 'noimage');
    t.ok(ev.some((e) => e.reason === 'Failed' && /Failed to pull image/.test(e.message)), 'Failed event');
  });

  t.test('missing secret: CreateContainerConfigError', async (t) => {
    await createPod(env, 'nosecret', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }] }] });
    const p = await waitPod(env, 'nosecret', (p) => cs(p)?.state?.waiting?.reason === 'CreateContainerConfigError');
    t.match(cs(p).state.waiting.message, /secret "absent" not found/);
    t.ok((await podEvents(env, 'nosecret')).some((e) => e.type === 'Warning' && /absent/.test(e.message)));
  });

  t.test('crash loop: CrashLoopBackOff', async (t) => {
    await createPod(env, 'crasher', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo dying; exit 3'] }] });
    const p = await waitPod(env, 'crasher', (p) => cs(p)?.state?.waiting?.reason === 'CrashLoopBackOff');
    t.equal(cs(p).lastState.terminated.exitCode, 3);
    t.ok(cs(p).restartCount >= 1);
    t.match(cs(p).state.waiting.message, /back-off 10s restarting failed container=c/);
    const logs = await agentGet(env, '/containerLogs/default/crasher/c?previous=true');
    t.equal(logs.text, 'dying\n', 'previous logs');
  });

  t.test('restartPolicy Never: Failed; OnFailure success: Succeeded', async (t) => {
    await createPod(env, 'once-bad', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 2'] }] });
    await createPod(env, 'once-good', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] });
    const bad = await waitPod(env, 'once-bad', (p) => p?.status?.phase === 'Failed');
    t.equal(cs(bad).state.terminated.exitCode, 2);
    t.equal(cs(bad).restartCount, 0);
    const good = await waitPod(env, 'once-good', (p) => p?.status?.phase === 'Succeeded');
    t.equal(cs(good).state.terminated.reason, 'Completed');
  });

  t.test('probes: readiness failing → not Ready; liveness failing → restarted', async (t) => {
    await createPod(env, 'unready', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'], readinessProbe: { exec: { command: ['test', '-e', '/nonexistent'] }, periodSeconds: 1, failureThreshold: 1 } }] });
    await createPod(env, 'unlive', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'], livenessProbe: { tcpSocket: { port: 9 }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 1 } }] });
    const u = await waitPod(env, 'unready', (p) => cs(p)?.state?.running && p.status.phase === 'Running');
    await new Promise((r) => setTimeout(r, 1500));
    const u2 = await waitPod(env, 'unready', () => true);
    t.notOk(isReady(u2), 'Ready=False');
    t.equal(cs(u2).ready, false);
    t.equal(u.status.conditions.find((c: any) => c.type === 'ContainersReady').status, 'False');
    const l = await waitPod(env, 'unlive', (p) => cs(p)?.restartCount >= 1);
    t.ok(cs(l).restartCount >= 1, 'liveness restarted the container');
    t.ok((await podEvents(env, 'unlive')).some((e) => /Liveness probe failed/.test(e.message)));
  });

  t.test('init containers in order, then the app', async (t) => {
    await createPod(env, 'inits', {
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        { name: 'one', image: 'busybox', command: ['sh', '-c', 'echo one >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        { name: 'two', image: 'busybox', command: ['sh', '-c', 'sleep 0.2; echo two >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      ],
      containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'cat /work/order; sleep 600'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    });
    const p = await waitPod(env, 'inits', (p) => cs(p)?.state?.running);
    t.equal(p.status.conditions.find((c: any) => c.type === 'Initialized').status, 'True');
    t.same(p.status.initContainerStatuses.map((c: any) => c.state.terminated?.reason), ['Completed', 'Completed']);
    await new Promise((r) => setTimeout(r, 200));
    t.equal((await agentGet(env, '/containerLogs/default/inits/app')).text, 'one\ntwo\n');
  });
});
