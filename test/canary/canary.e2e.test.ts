// Progressive delivery end to end on a real cluster (`shoal up`, its own home, bridge and pod /24): a meshed
// app `hello` (shoal/hello, v1) behind a Service, a DestinationRule and a VirtualService with fields of
// its own, and a load pod in the mesh calling it ~15 times a second and logging each answer's version and
// code. `shoal canary start` to v2 (healthy) goes 20 → 50 → 100 % and promotes: the Deployment runs v2,
// the canary Deployment is gone, the route is back to 100 % primary with its other fields untouched.
// Then v3, whose pods fail 20 % of requests (hello's FAIL_RATE/FAIL_VERSION), is rolled back at its
// first step on its own: weight back to 0, canary removed, every later request answered by v2, and the
// clients saw only v3's errors during that first step. Root only; ~2 min.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, rootSkip, sh, shoalUp } from '../e2e/shoal-up.js';
import { waitFor } from '../wait.js';

const NS = 'cnry';
const R = {
  deployments: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  vs: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  canaries: { apiVersion: 'shoal.io/v1alpha1', plural: 'canaries', namespaced: true },
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
} as const;

const app = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello, version: v1}}
  template:
    metadata: {labels: {app: hello, version: v1}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: shoal/hello:v1
        env: [{name: FAIL_RATE, value: "0.2"}, {name: FAIL_VERSION, value: v3}]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: ${NS}}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hello, namespace: ${NS}}
spec:
  host: hello
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello, namespace: ${NS}}
spec:
  hosts: [hello]
  http:
  - name: admin
    match: [{uri: {prefix: /admin}}]
    route: [{destination: {host: other, port: {number: 80}}}]
  - name: main
    timeout: 5s
    route: [{destination: {host: hello, subset: v1}, weight: 100}]
---
apiVersion: v1
kind: Pod
metadata: {name: load, namespace: ${NS}, labels: {app: load}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: shoal/shell
    args: ["i=0; while [ $i -lt 20000 ]; do i=$((i+1)); curl -s --max-time 2 -w ' code=%{http_code}\\\\n' http://hello:8080/ | tr -d '\\\\n'; echo; sleep 0.04; done"]
`;

/** Each answer the load pod logged: the version that answered ('' for none) and the code. */
function answers(log: string): { version: string; code: string; line: string }[] {
  return log.split('\n').filter((l) => l.includes('code=')).map((l) => ({ version: /"version":"([^"]*)"/.exec(l)?.[1] ?? '', code: /code=(\d+)/.exec(l)?.[1] ?? '000', line: l }));
}

t.test('shoal canary: a healthy canary is promoted, a failing one rolled back', { skip: rootSkip, timeout: 400_000 }, async (t) => {
  const c = await shoalUp('cnry', 20 + Math.floor(Math.random() * 200));
  t.teardown(() => c.close());
  const shoal = (...a: string[]) => sh(process.execPath, [cli, '--kubeconfig', c.kubeconfig, ...a], { timeout: 180_000 });
  const f = join(c.home, 'app.yaml');
  writeFileSync(f, app);
  const ap = await shoal('apply', '-f', f);
  t.equal(ap.code, 0, `applied: ${ap.stdout}${ap.stderr}`);
  const logs = async () => (await shoal('logs', '-n', NS, 'load', '-c', 'c')).stdout;
  await waitFor('the load pod reaching hello v1', async () => answers(await logs()).filter((a) => a.code === '200').length > 20, 120_000, 1000);

  // --- bad input: named by field path, nothing created
  const bad = await shoal('canary', 'start', 'hello', '--image', 'shoal/hello:v2', '--steps', '20,10', '--max-error-rate', 'lots', '-n', NS);
  t.not(bad.code, 0, 'bad steps and error rate are refused');
  t.match(bad.stderr, /spec\.steps\[1\]: Invalid value: 10: must be greater than the step before it/, bad.stderr);
  t.match(bad.stderr, /spec\.maxErrorRate: Invalid value: "lots"/, 'every bad field named');

  // --- a healthy canary: 20 → 50 → 100, promoted
  const t0 = Date.now();
  const startAt = answers(await logs()).length; // the answers before (hello starting up) do not count
  const start = await shoal('canary', 'start', 'hello', '--image', 'shoal/hello:v2', '--steps', '20,50,100', '--interval', '4s', '--min-requests', '5', '-n', NS);
  t.equal(start.code, 0, start.stdout + start.stderr);
  const watch = await shoal('canary', 'status', 'hello', '--watch', '--timeout', '150s', '-n', NS);
  t.comment(watch.stdout);
  t.equal(watch.code, 0, `status --watch ended with the canary promoted (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  for (const w of [20, 50, 100]) t.match(watch.stdout, new RegExp(`Progressing\\s+weight ${w}%`), `went through ${w}%`);
  let cn = await c.api.get(R.canaries, 'hello', { namespace: NS });
  t.equal(cn.status?.phase, 'Succeeded', cn.status?.message);
  t.equal(cn.status?.canaryWeight, 0, 'weight back on the primary');
  t.ok(cn.status?.conditions?.some((x: any) => x.type === 'Promoted' && x.status === 'True'), 'condition Promoted=True');
  const dep = await c.api.get(R.deployments, 'hello', { namespace: NS });
  t.equal(dep.spec.template.spec.containers[0].image, 'shoal/hello:v2', 'the primary runs the new image');
  await waitFor('the canary Deployment gone', async () => c.api.get(R.deployments, 'hello-canary', { namespace: NS }).then(() => false, () => true), 20_000);
  let vs = await c.api.get(R.vs, 'hello', { namespace: NS });
  t.same(vs.spec.http[0], { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'other', port: { number: 80 } } }] }, 'the other rule is untouched');
  t.equal(vs.spec.http[1].timeout, '5s', "the managed rule keeps its own fields");
  t.same(vs.spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 100], ['canary', 0]], 'all traffic on the primary subset');
  let seen = answers(await logs());
  t.ok(seen.some((a) => a.version === 'v2'), 'clients were answered by v2 during the canary');
  t.comment(`before the canary: ${startAt} requests, ${seen.slice(0, startAt).filter((a) => a.code !== '200').length} errors (hello starting); during: ${seen.length - startAt}`);
  t.same(seen.slice(startAt).flatMap((a, i) => (a.code !== '200' ? [`#${i}: ${a.line}`] : [])), [], 'no client saw an error during the healthy canary');
  const ev = await shoal('get', 'events', '-n', NS);
  t.match(ev.stdout, /AnalysisPassed/, 'events of the analysis');

  // --- a failing canary (v3 fails 20 %): rolled back on its own at the first step
  const before = seen.length;
  const weights: number[] = [];
  const start2 = await shoal('canary', 'start', 'hello', '--image', 'shoal/hello:v3', '--steps', '20,50,100', '--interval', '4s', '--min-requests', '5', '-n', NS);
  t.equal(start2.code, 0, start2.stdout + start2.stderr);
  cn = await waitFor('the failing canary to end', async () => {
    const x = await c.api.get(R.canaries, 'hello', { namespace: NS });
    if (typeof x.status?.canaryWeight === 'number') weights.push(x.status.canaryWeight);
    return x.status?.phase === 'Failed' || x.status?.phase === 'Succeeded' ? x : undefined;
  }, 120_000, 300);
  t.equal(cn.status.phase, 'Failed', cn.status.message);
  t.match(cn.status.message, /rolled back at weight 20%: error rate/, cn.status.message);
  t.equal(Math.max(...weights), 20, `the canary never went past its first step (weights seen: ${[...new Set(weights)]})`);
  t.ok(cn.status.lastAnalysis.errorRate > 0.01, `the analysis saw ${cn.status.lastAnalysis.errorRate} errors over ${cn.status.lastAnalysis.requests} requests`);
  const atRollback = answers(await logs()).length;
  vs = await c.api.get(R.vs, 'hello', { namespace: NS });
  t.same(vs.spec.http[1].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 100], ['canary', 0]], 'traffic back fully on the primary');
  t.equal((await c.api.get(R.deployments, 'hello', { namespace: NS })).spec.template.spec.containers[0].image, 'shoal/hello:v2', 'the primary still runs v2');
  await waitFor('the canary Deployment gone', async () => c.api.get(R.deployments, 'hello-canary', { namespace: NS }).then(() => false, () => true), 20_000);
  await new Promise((r) => setTimeout(r, 5000));
  seen = answers(await logs());
  const during = seen.slice(before, atRollback);
  const after = seen.slice(atRollback + 10); // a moment for the sidecar to get the new weights
  const errors = during.filter((a) => a.code !== '200');
  const v3 = during.filter((a) => a.version === 'v3');
  t.comment(`during the failing canary: ${during.length} requests, ${v3.length} answered by v3, ${errors.length} errors; after: ${after.length} requests`);
  t.ok(errors.length > 0 && errors.every((a) => a.version === 'v3'), `the clients saw errors, all from v3: ${errors.map((a) => a.line).join(' | ')}`);
  t.ok(v3.length / during.length <= 0.3, `v3 got at most its 20% step (${(v3.length / during.length * 100).toFixed(1)}% of the requests)`);
  t.ok(errors.length / during.length <= 0.2 * 0.2 * 1.5, `errors within what one 20% step of a 20%-failing version allows (${(errors.length / during.length * 100).toFixed(1)}% ≤ 6%)`);
  t.ok(after.length >= 20 && after.every((a) => a.version === 'v2' && a.code === '200'), `every request after the rollback answered by v2 with 200 (${after.length})`);
  const st = await shoal('canary', 'status', 'hello', '-n', NS);
  t.match(st.stdout, /hello {2}Failed {2}weight 0%/, st.stdout);
});
