// `kubectl debug` and `kubectl attach -i` on a real cluster (`shoal up`, root only): an ephemeral container
// added to a running pod through pods/ephemeralcontainers is started by the node agent inside the pod (same
// hostname and network as the app), runs once, reports ephemeralContainerStatuses, and its output is
// readable with `kubectl logs -c`; the app container is not disturbed. A `stdin: true` container reads what
// `kubectl attach -i` sends, and `kubectl debug -i` drives a shell in the pod.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../wait.js';
import { rootSkip, sh, shoalUp } from './shoal-up.js';

const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };

t.test('kubectl debug on a real cluster', { skip: rootSkip }, async (t) => {
  const c = await shoalUp('dbg', 20 + Math.floor(Math.random() * 70));
  t.teardown(() => c.close());
  t.equal((await c.kubectl('run', 'web', '--image=shoal/hello:1')).code, 0);
  const w = await c.kubectl('wait', '--for=condition=Ready', 'pod/web', '--timeout=120s');
  t.equal(w.code, 0, w.stdout + w.stderr);
  const d = await c.kubectl('debug', 'web', '--image=busybox', '--target=web', '--profile=general', '--', 'sh', '-c', 'echo from-debug; hostname; cat /proc/net/route | wc -l');
  t.equal(d.code, 0, d.stderr);
  const name = /debug container name to (debugger-[a-z0-9]+)/.exec(d.stdout)?.[1];
  t.ok(name, d.stdout);
  let pod: any;
  await waitFor('the ephemeral container ran', async () => {
    pod = await c.api.get(pods, 'web', { namespace: 'default' });
    return !!pod.status?.ephemeralContainerStatuses?.[0]?.state?.terminated;
  }, 60_000);
  const st = pod.status.ephemeralContainerStatuses[0];
  t.equal(st.name, name);
  t.equal(st.state.terminated.exitCode, 0);
  t.equal(st.restartCount, 0, 'runs once');
  const logs = await c.kubectl('logs', 'web', '-c', name!);
  t.equal(logs.code, 0, logs.stderr);
  t.match(logs.stdout, /^from-debug\nweb\n/, 'in the pod (its hostname)');
  t.equal(pod.status.phase, 'Running');
  t.equal(pod.status.containerStatuses[0].restartCount, 0, 'the app container was not disturbed');
  // still there (never restarted) a little later, and the pod's own updates keep it
  t.equal((await c.kubectl('label', 'pod', 'web', 'debugged=yes')).code, 0);
  await new Promise((r) => setTimeout(r, 2000));
  const later: any = await c.api.get(pods, 'web', { namespace: 'default' });
  t.equal(later.spec.ephemeralContainers.length, 1);
  t.equal(later.status.ephemeralContainerStatuses[0].restartCount, 0);

  // attach -i: the container's stdin
  writeFileSync(join(c.home, 'shell.yaml'), `apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: sh, image: busybox, command: [sh], stdin: true}
`);
  t.equal((await c.kubectl('apply', '-f', join(c.home, 'shell.yaml'))).code, 0);
  t.equal((await c.kubectl('wait', '--for=condition=Ready', 'pod/shell', '--timeout=120s')).code, 0);
  const env = { ...process.env, HOME: c.home, KUBECACHEDIR: join(c.home, 'kcache') };
  const kubectlIn = (input: string, ...args: string[]) => sh('sh', ['-c', `printf '${input}' | kubectl --kubeconfig ${c.kubeconfig} "$@"`, 'sh', ...args], { env, timeout: 60_000 });
  const att = await kubectlIn('echo hello-from-stdin; hostname; exit 3\n', 'attach', '-i', 'shell');
  t.match(att.stdout, /hello-from-stdin\nshell\n/, `attach -i: ${att.stdout}${att.stderr}`);
  await waitFor('the shell exited 3', async () => (await c.api.get(pods, 'shell', { namespace: 'default' }) as any).status?.containerStatuses?.[0]?.state?.terminated?.exitCode === 3, 30_000);

  // debug -i: a shell in the web pod, driven over stdin
  const dbg = await kubectlIn('echo in-debug; hostname; exit 0\n', 'debug', 'web', '-i', '--image=busybox', '--profile=general', '-c', 'dbgsh', '--', 'sh');
  t.match(dbg.stdout, /in-debug\nweb\n/, `debug -i: ${dbg.stdout}${dbg.stderr}`);
});
