// Real pods: env and volumes inside the pod (not on the host), cgroup limits, logs and exec endpoints,
// graceful deletion with full cleanup (compared before/after), adoption by a restarted agent. Root only.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { agentGet, createPod, cs, execIn, isReady, rootSkip, startAgentEnv, waitPod } from './fixture.js';
import { realOs } from '../../node/agent/os.js';

const skip = rootSkip();

async function hostState(env: any) {
  const netns = (await realOs.run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(env.cfg.netnsPrefix)).sort();
  const veths = (await realOs.run('ip', ['-o', 'link', 'show', 'master', env.bridge])).stdout.split('\n').filter(Boolean).length;
  let ipam: string[] = [];
  try {
    ipam = readdirSync(join(env.ipamDir, `shoalt${env.tag}`)).filter((f) => /^\d/.test(f)).sort();
  } catch {
    /* none yet */
  }
  const cg = existsSync(`/sys/fs/cgroup/memory/${env.cfg.cgroupName}`) ? readdirSync(`/sys/fs/cgroup/memory/${env.cfg.cgroupName}`).filter((f) => f.startsWith('pod')).sort() : [];
  const pods = existsSync(join(env.cfg.home, 'pods')) ? readdirSync(join(env.cfg.home, 'pods')).sort() : [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(env.cfg.home)).length;
  return { netns, veths, ipam, cg, pods, mounts };
}

t.test('node agent e2e: lifecycle', { skip }, async (t) => {
  const env = await startAgentEnv(t, 91);
  const ns = { apiVersion: 'v1', namespaced: true } as const;
  await env.client.create({ ...ns, plural: 'secrets' }, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } } as any, { namespace: 'default' });
  await env.client.create({ ...ns, plural: 'configmaps' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'app.conf': 'mode=fast\n', LEVEL: 'debug' } } as any, { namespace: 'default' });
  const mountDir = `/shoalt-agent-${env.tag}`;

  t.test('env, volumes, limits, logs, exec', async (t) => {
    const before = await hostState(env);
    await createPod(env, 'full', {
      volumes: [
        { name: 'conf', configMap: { name: 'cfg' } }, { name: 'sec', secret: { secretName: 'creds' } }, { name: 'scratch', emptyDir: {} },
        { name: 'host', hostPath: { path: env.dir, type: 'Directory' } },
      ],
      containers: [{
        name: 'main', image: 'busybox', workingDir: '/tmp',
        command: ['sh', '-c', 'trap "echo got TERM > /host/term; exit 0" TERM; echo started $MY_POD; while true; do sleep 0.1; done'],
        env: [
          { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'GREETING', value: 'hi $(MY_POD)' },
        ],
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CM_' }],
        resources: { limits: { memory: '64Mi', cpu: '500m' } },
        volumeMounts: [
          { name: 'conf', mountPath: `${mountDir}/conf`, readOnly: true }, { name: 'sec', mountPath: `${mountDir}/sec` },
          { name: 'scratch', mountPath: `${mountDir}/scratch` }, { name: 'host', mountPath: '/host' },
        ],
      }],
    });
    const p = await waitPod(env, 'full', isReady);
    const envOut = (await execIn(env, 'full', 'main', ['env'])).stdout.split('\n');
    for (const want of ['MY_POD=full', `MY_IP=${p.status.podIP}`, 'PASS=s3cret', 'MEM=64', 'GREETING=hi full', 'CM_LEVEL=debug', 'HOSTNAME=full']) t.ok(envOut.includes(want), want);
    t.equal((await execIn(env, 'full', 'main', ['pwd'])).stdout.trim(), '/tmp', 'workingDir');
    t.equal((await execIn(env, 'full', 'main', ['cat', `${mountDir}/conf/app.conf`])).stdout, 'mode=fast\n', 'configMap volume inside');
    t.equal((await execIn(env, 'full', 'main', ['cat', `${mountDir}/sec/password`])).stdout, 's3cret', 'secret volume inside');
    t.not((await execIn(env, 'full', 'main', ['touch', `${mountDir}/conf/x`])).exitCode, 0, 'readOnly mount');
    t.equal((await execIn(env, 'full', 'main', ['sh', '-c', `echo data > ${mountDir}/scratch/f && cat ${mountDir}/scratch/f`])).stdout, 'data\n');
    t.notOk(existsSync(`${mountDir}/conf/app.conf`), 'configMap not visible on the host');
    t.notOk(existsSync(`${mountDir}/scratch/f`), 'emptyDir content not at the mount path on the host');
    const limitFile = env.agent.cgroups.memoryLimitFile(p.metadata.uid, 'main');
    t.ok(limitFile, 'a memory cgroup exists');
    t.equal(readFileSync(limitFile!, 'utf8').trim(), String(64 * 1024 * 1024), 'memory limit written');
    const pid = cs(p).containerID.replace('shoal://', '');
    t.ok(readFileSync(limitFile!.replace(/[^/]+$/, 'cgroup.procs'), 'utf8').split('\n').includes(pid), 'container process in its cgroup');
    const logs = await agentGet(env, '/containerLogs/default/full/main?tailLines=1');
    t.equal(logs.text, 'started full\n');
    t.equal((await agentGet(env, '/containerLogs/default/full/nope')).status, 404);
    t.equal((await agentGet(env, '/containerLogs/default/full/main?previous=true')).status, 400);
    const list = JSON.parse((await agentGet(env, '/pods')).text);
    t.ok(list.items.some((x: any) => x.metadata.name === 'full'));
    t.equal((await agentGet(env, '/healthz')).text, 'ok');

    // follow: a streaming read sees a line written after it started
    const ac = new AbortController();
    const res = await fetch(`${env.agent.url}/containerLogs/default/full/main?follow=true`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let seen = '';
    void execIn(env, 'full', 'main', ['sh', '-c', 'echo later > /proc/1/fd/1 || true']);
    const t0 = Date.now();
    while (!seen.includes('started full') && Date.now() - t0 < 3000) seen += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    t.match(seen, /started full/, 'follow streams the log');

    // graceful delete: SIGTERM seen by the app, then nothing left
    const mid = await hostState(env);
    t.equal(mid.netns.length, before.netns.length + 1, 'one netns while running');
    await env.client.delete({ ...ns, plural: 'pods' }, 'full', { namespace: 'default' });
    await waitPod(env, 'full', (p) => p === undefined, 15000);
    t.equal(readFileSync(join(env.dir, 'term'), 'utf8'), 'got TERM\n', 'the app got SIGTERM');
    t.same(await hostState(env), before, 'no netns, veth, IPAM file, cgroup, pod state or mount left');
    t.notOk(existsSync(mountDir), 'mount point dirs removed');
    t.notOk(realOs.alive(Number(pid)), 'process gone');
  });

  t.test('agent restart adopts running pods (same PIDs); dead ones are restarted', async (t) => {
    await createPod(env, 'keep', { containers: [{ name: 'c', image: 'shoal/hello:3' }] });
    await createPod(env, 'die', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'] }] });
    const keep = await waitPod(env, 'keep', isReady);
    const die = await waitPod(env, 'die', isReady);
    await env.agent.close();
    process.kill(Number(cs(die).containerID.replace('shoal://', '')), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    await env.restart();
    const die2 = await waitPod(env, 'die', (p) => cs(p)?.restartCount === 1 && cs(p)?.state?.running);
    t.equal(cs(die2).lastState.terminated.reason, 'ContainerStatusUnknown');
    const keep2 = await waitPod(env, 'keep', isReady);
    t.equal(cs(keep2).containerID, cs(keep).containerID, 'same PID');
    t.equal(cs(keep2).restartCount, 0);
    t.equal(keep2.status.podIP, keep.status.podIP);
    const r = (await (await fetch(`http://${keep2.status.podIP}:8080/`)).json()) as { version: string };
    t.equal(r.version, '3');
    const sleeps = (await realOs.run('pgrep', ['-f', 'hello.mjs'])).stdout.trim().split('\n').filter(Boolean);
    t.ok(sleeps.includes(cs(keep).containerID.replace('shoal://', '')), 'the original process still runs');
  });

  t.test('hostNetwork pod runs in the host netns without CNI', async (t) => {
    await createPod(env, 'hostnet', { hostNetwork: true, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'] }] });
    const p = await waitPod(env, 'hostnet', isReady);
    t.equal(p.status.podIP, '127.0.0.1');
    const inside = (await execIn(env, 'hostnet', 'c', ['readlink', '/proc/1/ns/net'])).stdout.trim();
    const host = (await realOs.run('readlink', ['/proc/self/ns/net'])).stdout.trim();
    t.equal(inside, host, 'same network namespace as the host');
  });
});
