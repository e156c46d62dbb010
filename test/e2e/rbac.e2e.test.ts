// RBAC on a real cluster (`shoal up`, root only): every component runs as its own user with only its role
// (none of their logs has a 403, cluster DNS comes up as ServiceAccount coredns, each component's
// kubeconfig is refused what its role lacks), and a pod's ServiceAccount token, read from inside the pod,
// is denied until a RoleBinding grants it, then allowed exactly that.
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../wait.js';
import { rootSkip, shoalUp } from './shoal-up.js';

t.test('RBAC on a real cluster', { skip: rootSkip }, async (t) => {
  const c = await shoalUp('rbac', 20 + Math.floor(Math.random() * 70));
  t.teardown(() => c.close());
  const dns = await c.kubectl('rollout', 'status', 'deployment/coredns', '-n', 'kube-system', '--timeout=120s');
  t.equal(dns.code, 0, `cluster DNS is up as ServiceAccount coredns: ${dns.stdout}${dns.stderr}`);

  const app = `apiVersion: v1
kind: ServiceAccount
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  serviceAccountName: app
  terminationGracePeriodSeconds: 1
  containers:
  - {name: hello, image: shoal/hello:1}
`;
  writeFileSync(join(c.home, 'app.yaml'), app);
  const applied = await c.kubectl('apply', '-f', join(c.home, 'app.yaml'));
  t.equal(applied.code, 0, applied.stderr);
  const w = await c.kubectl('wait', '--for=condition=Ready', 'pod/reader', '--timeout=120s');
  t.equal(w.code, 0, w.stdout + w.stderr);
  const tok = await c.kubectl('exec', 'reader', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token');
  t.equal(tok.code, 0, tok.stderr);
  const token = tok.stdout.trim();
  const asPod = (...args: string[]) => c.kubectl('--token', token, ...args);
  const denied = await asPod('get', 'pods');
  t.match(denied.stderr, 'pods is forbidden: User "system:serviceaccount:default:app" cannot list resource "pods" in API group "" in the namespace "default"');
  t.equal((await c.kubectl('create', 'rolebinding', 'app-view', '--clusterrole=view', '--serviceaccount=default:app')).code, 0);
  await waitFor('the binding applies', async () => (await asPod('auth', 'can-i', 'list', 'pods')).stdout.trim() === 'yes', 10_000);
  const allowed = await asPod('get', 'pods');
  t.equal(allowed.code, 0, allowed.stderr);
  t.match(allowed.stdout, /^reader\s+1\/1\s+Running/m);
  t.equal((await asPod('auth', 'can-i', 'delete', 'pods')).stdout.trim(), 'no', 'view only');
  t.equal((await asPod('auth', 'can-i', 'get', 'secrets')).stdout.trim(), 'no', 'view reads no secrets');

  // each component is its own user, refused what its role lacks
  const as = (component: string, ...args: string[]) => c.kubectl('--kubeconfig', join(c.home, 'kubeconfigs', `${component}.kubeconfig`), ...args);
  const whoami = async (component: string) => JSON.parse((await as(component, 'auth', 'whoami', '-o', 'json')).stdout).status.userInfo.username;
  t.equal(await whoami('scheduler'), 'system:kube-scheduler');
  t.equal(await whoami('controller-manager'), 'system:kube-controller-manager');
  t.match(await whoami('node-agent'), /^system:node:shoalt-rbac-/);
  t.equal(await whoami('service-proxy'), 'system:kube-proxy');
  const schedSecrets = await as('scheduler', 'get', 'secrets', '-A');
  t.match(schedSecrets.stderr, 'secrets is forbidden: User "system:kube-scheduler" cannot list resource "secrets" in API group "" at the cluster scope');
  const proxyWrite = await as('service-proxy', 'delete', 'service', 'kubernetes');
  t.match(proxyWrite.stderr, 'services "kubernetes" is forbidden: User "system:kube-proxy" cannot delete resource "services" in API group "" in the namespace "default"');
  const nodeRbac = await as('node-agent', 'create', 'clusterrolebinding', 'x', '--clusterrole=cluster-admin', '--user=me');
  t.match(nodeRbac.stderr, /is forbidden: User "system:node:shoalt-rbac-[^"]+" cannot create resource "clusterrolebindings"/);
  t.equal((await as('controller-manager', 'auth', 'can-i', 'escalate', 'clusterroles')).stdout.trim(), 'no', 'the controller manager cannot escalate');

  // nothing the components did was refused
  const logs = join(c.home, 'logs');
  const refused = readdirSync(logs).flatMap((f) => readFileSync(join(logs, f), 'utf8').split('\n').filter((l) => /forbidden/i.test(l)).map((l) => `${f}: ${l}`));
  t.same(refused, [], 'no component met a 403');
});
