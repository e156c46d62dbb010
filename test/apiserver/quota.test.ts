// ResourceQuota and LimitRange with the real kubectl against a real API server: status.used kept, a quota
// refusal with kube's text, compute quotas needing requests, a LimitRange default written into a pod,
// min/max refusals, validation errors with field paths, and the counts released after a delete.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

async function eventually(fn: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

const pod = (name: string, resources = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers:
  - name: app
    image: shoal/hello:1
${resources}`;

t.test('ResourceQuota and LimitRange with kubectl', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  t.before(async () => {
    c = await tlsCluster();
  });
  t.teardown(async () => c?.close());
  const usedOf = async (ns: string, q: string) => JSON.parse((await c.kubectl(['get', 'quota', q, '-n', ns, '-o', 'json'])).stdout).status?.used ?? {};

  t.test('counts: status.used, a refusal, released after a delete', async (t) => {
    t.equal((await c.kubectl(['create', 'namespace', 'q1'])).code, 0);
    const cr = await c.kubectl(['create', 'quota', 'q', '-n', 'q1', '--hard=pods=2,configmaps=3,count/deployments.apps=1']);
    t.equal(cr.code, 0, cr.stderr);
    t.ok(await eventually(async () => (await usedOf('q1', 'q')).pods === '0'), 'the keeper fills status.used');
    t.same(await usedOf('q1', 'q'), { configmaps: '0', 'count/deployments.apps': '0', pods: '0' });
    for (const n of ['p1', 'p2']) t.equal((await c.kubectl(['apply', '-n', 'q1', '-f', '-'], pod(n))).code, 0);
    t.equal((await usedOf('q1', 'q')).pods, '2', 'admission charged both creates');
    const over = await c.kubectl(['apply', '-n', 'q1', '-f', '-'], pod('p3'));
    t.not(over.code, 0);
    t.match(over.stderr, 'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    t.equal((await c.kubectl(['get', 'pod', 'p3', '-n', 'q1'])).code, 1, 'nothing was stored');
    t.equal((await c.kubectl(['create', 'deployment', 'd1', '-n', 'q1', '--image=shoal/hello:1'])).code, 0);
    const d2 = await c.kubectl(['create', 'deployment', 'd2', '-n', 'q1', '--image=shoal/hello:1']);
    t.match(d2.stderr, 'deployments.apps "d2" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1');
    const get = await c.kubectl(['get', 'quota', '-n', 'q1']);
    t.match(get.stdout, /^q\s+\S+\s+configmaps: 0\/3, count\/deployments\.apps: 1\/1, pods: 2\/2\s*$/m);
    const describe = await c.kubectl(['describe', 'quota', 'q', '-n', 'q1']);
    t.match(describe.stdout, /pods\s+2\s+2/);
    // a pod deleted gives its count back (grace 0: no node agent here)
    t.equal((await c.kubectl(['delete', 'pod', 'p1', '-n', 'q1', '--grace-period=0', '--force'])).code, 0);
    t.ok(await eventually(async () => (await usedOf('q1', 'q')).pods === '1'), 'recounted after the delete');
    t.equal((await c.kubectl(['apply', '-n', 'q1', '-f', '-'], pod('p3'))).code, 0, 'room again');
  });

  t.test('compute: requests required and summed', async (t) => {
    t.equal((await c.kubectl(['create', 'namespace', 'q2'])).code, 0);
    t.equal((await c.kubectl(['create', 'quota', 'compute', '-n', 'q2', '--hard=requests.cpu=1,limits.memory=1Gi'])).code, 0);
    t.ok(await eventually(async () => (await usedOf('q2', 'compute'))['requests.cpu'] === '0'));
    const bare = await c.kubectl(['apply', '-n', 'q2', '-f', '-'], pod('bare'));
    t.match(bare.stderr, 'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: app; requests.cpu for: app');
    const res = (cpu: string) => `    resources:\n      requests: {cpu: ${cpu}}\n      limits: {cpu: ${cpu}, memory: 256Mi}\n`;
    t.equal((await c.kubectl(['apply', '-n', 'q2', '-f', '-'], pod('a', res('600m')))).code, 0);
    t.same(await usedOf('q2', 'compute'), { 'limits.memory': '256Mi', 'requests.cpu': '600m' });
    const big = await c.kubectl(['apply', '-n', 'q2', '-f', '-'], pod('b', res('500m')));
    t.match(big.stderr, 'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
  });

  t.test('LimitRange: defaults written into the pod, min/max refused', async (t) => {
    t.equal((await c.kubectl(['create', 'namespace', 'lr'])).code, 0);
    const lr = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], `apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
    min: {cpu: 50m}
`);
    t.equal(lr.code, 0, lr.stderr);
    // SetDefaults_LimitRangeItem: defaultRequest.memory from default.memory
    t.equal((await c.kubectl(['get', 'limitrange', 'limits', '-n', 'lr', '-o', 'jsonpath={.spec.limits[0].defaultRequest.memory}'])).stdout, '256Mi');
    t.equal((await c.kubectl(['apply', '-n', 'lr', '-f', '-'], pod('d'))).code, 0);
    const got = JSON.parse((await c.kubectl(['get', 'pod', 'd', '-n', 'lr', '-o', 'json'])).stdout);
    t.same(got.spec.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    t.equal(got.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app');
    const tooBig = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], pod('big', '    resources:\n      limits: {cpu: "2"}\n'));
    t.match(tooBig.stderr, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
    const tooSmall = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], pod('small', '    resources:\n      requests: {cpu: 10m}\n'));
    t.match(tooSmall.stderr, 'pods "small" is forbidden: minimum cpu usage per Container is 50m, but request is 10m');
    const bad = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], `apiVersion: v1
kind: LimitRange
metadata: {name: bad}
spec:
  limits:
  - type: Container
    min: {cpu: "2"}
    max: {cpu: "1"}
  - type: Pod
    default: {cpu: "1"}
`);
    t.match(bad.stderr, 'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1');
    t.match(bad.stderr, "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'");
    const badQuota = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], 'apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: neg}\nspec:\n  hard: {pods: "-1"}\n');
    t.match(badQuota.stderr, 'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0');
  });
});
