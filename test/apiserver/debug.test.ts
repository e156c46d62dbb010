// pods/ephemeralcontainers with the real kubectl: `kubectl debug POD --image=… --target=…` adds an ephemeral
// container through the subresource; one can be added but never removed or changed (kube's 422); an update
// of the pod itself keeps them.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { registry } from '../../control-plane/apiserver/api-adapter.js';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

t.test('kubectl debug: ephemeral containers', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  const c: TlsCluster = await tlsCluster();
  t.teardown(() => c.close());
  const ctx = () => ({ user: { username: 'admin', uid: '', groups: ['system:masters'] }, dryRun: false, fieldManager: 't', now: new Date() });
  const pods = registry.get('', 'v1', 'pods')!;

  t.equal((await c.kubectl(['run', 'web', '--image=shoal/hello:1'])).code, 0);
  const d = await c.kubectl(['debug', 'web', '--image=busybox', '--target=web', '--profile=general', '--', 'sh', '-c', 'echo hi']);
  t.equal(d.code, 0, d.stderr);
  t.match(d.stdout, /Targeting container "web"\. If you don't see processes from this container it may be because the container runtime doesn't support this feature\./);
  t.match(d.stdout, /Defaulting debug container name to (debugger-[a-z0-9]+)\./);
  const name = /debug container name to (debugger-[a-z0-9]+)/.exec(d.stdout)![1]!;
  const pod: any = await c.server.objects.get(pods, 'default', 'web');
  t.match(pod.spec.ephemeralContainers, [{ name, image: 'busybox', targetContainerName: 'web', command: ['sh', '-c', 'echo hi'] }]);

  // a second one is added beside the first
  const d2 = await c.kubectl(['debug', 'web', '--image=busybox', '-c', 'dbg2', '--profile=general']);
  t.equal(d2.code, 0, d2.stderr);
  const two: any = await c.server.objects.get(pods, 'default', 'web');
  t.same(two.spec.ephemeralContainers.map((e: any) => e.name), [name, 'dbg2']);

  // never removed or changed through the subresource
  const removed = { ...two, spec: { ...two.spec, ephemeralContainers: [two.spec.ephemeralContainers[1]] } };
  await t.rejects(c.server.writer.update(pods, 'default', 'web', 'ephemeralcontainers', removed, ctx()), {
    message: `Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "${name}" may not be removed\n`,
  });
  const changed = structuredClone(two);
  changed.spec.ephemeralContainers[1].image = 'shoal/shell';
  await t.rejects(c.server.writer.update(pods, 'default', 'web', 'ephemeralcontainers', changed, ctx()), { message: /spec\.ephemeralContainers\[1\]: Forbidden: existing ephemeral containers "dbg2" may not be changed/ });
  const dup = structuredClone(two);
  dup.spec.ephemeralContainers.push({ name: 'web', image: 'busybox' });
  await t.rejects(c.server.writer.update(pods, 'default', 'web', 'ephemeralcontainers', dup, ctx()), { message: /spec\.ephemeralContainers\[2\]\.name: Duplicate value: "web"/ });

  // the pod's own updates keep them (and cannot add any)
  t.equal((await c.kubectl(['label', 'pod', 'web', 'x=y'])).code, 0);
  const labelled: any = await c.server.objects.get(pods, 'default', 'web');
  t.equal(labelled.spec.ephemeralContainers.length, 2);
  const sneaky = structuredClone(labelled);
  sneaky.spec.ephemeralContainers.push({ name: 'sneaky', image: 'busybox' });
  await c.server.writer.update(pods, 'default', 'web', '', sneaky, ctx());
  t.equal(((await c.server.objects.get(pods, 'default', 'web')) as any).spec.ephemeralContainers.length, 2, 'not through the pod itself');
});
