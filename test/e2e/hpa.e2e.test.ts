// Resource metrics and autoscaling end to end, with the real kubectl against `shoal up` (its own home,
// bridge, netns prefix and cgroup name): bad HPAs are refused with 422 naming the field and nothing is
// stored; a Deployment whose pods burn CPU until a shared deadline is autoscaled by `kubectl autoscale`
// (autoscaling/v1, protobuf), `kubectl top pod|node` show the usage, the HPA scales the Deployment up,
// and after the load stops it scales back down (a 5 s scale-down window set through v2's behavior).
// Short periods through the environment: metrics scraped every 2 s, HPAs synced every 3 s.
// Root only (network namespaces, cgroups); CI runs as root.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../api/client/index.js';
import { waitFor } from '../wait.js';
import { spawnUp } from './shoal-up.js';
import { freePort } from '../../lib/serve/serve.js';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, bridge, cgroups); CI runs as root' : !existsSync('/usr/bin/kubectl') ? 'needs kubectl at /usr/bin/kubectl' : false;

const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const names = { bridge: `sh${rand}br`, netnsPrefix: `shoalt-hpa-${rand}-`, cgroup: `shoalt-hpa-${rand}`, node: `shoalt-hpa-${rand}`, octet: 100 + (parseInt(rand, 16) % 150) };
const hpas = { apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', namespaced: true };
const deployments = { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout: 60_000, env }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

const hpaYaml = (spec: string) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
${spec}`;

t.test('autoscaling on CPU from shoal up', { skip }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), `shoalt-hpa-${rand}-`));
  const port = await freePort();
  const u = spawnUp(home, port, names, `10.244.${names.octet}.0/24`, ['--no-dns'], { ...process.env, SHOAL_METRIC_RESOLUTION: '2s', SHOAL_HPA_SYNC_PERIOD: '3s' });
  t.teardown(async () => {
    await u.stop();
    rmSync(home, { recursive: true, force: true });
  });
  await u.ready(90_000);
  t.match(u.out(), /The cluster is up/, u.out());
  const kubeconfig = join(home, 'kubeconfig');
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const kubectl = (...args: string[]) => run('/usr/bin/kubectl', args, env);
  const api = KubeClient.fromKubeconfig(kubeconfig);
  t.teardown(() => api.close());

  // --- bad input: 422 naming the field, nothing stored
  const bad: [string, string, RegExp][] = [
    ['maxReplicas < minReplicas', '  minReplicas: 3\n  maxReplicas: 1', /spec\.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`/],
    ['minReplicas 0', '  minReplicas: 0\n  maxReplicas: 2', /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/],
    ['unknown metric type', '  maxReplicas: 2\n  metrics: [{type: Foo}]', /spec\.metrics\[0\]\.type: Unsupported value: "Foo"/],
    ['bad quantity', '  maxReplicas: 2\n  metrics: [{type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 12xyz}}}]', /spec\.metrics\[0\]\.resource\.target\.averageValue/],
    ['bad policy', '  maxReplicas: 2\n  behavior: {scaleDown: {policies: [{type: Pods, value: 0, periodSeconds: 15}]}}', /spec\.behavior\.scaleDown\.policies\[0\]\.value: Invalid value: 0: must be greater than zero/],
  ];
  for (const [name, spec, want] of bad) {
    const f = join(home, 'bad.yaml');
    writeFileSync(f, hpaYaml(spec));
    const r = await kubectl('apply', '-f', f);
    t.not(r.code, 0, `${name}: refused`);
    t.match(r.stderr, want, `${name}: ${r.stderr.trim()}`);
    t.match(r.stderr, /is invalid/, `${name}: an Invalid (422) status`);
  }
  const none = await kubectl('get', 'hpa', 'bad');
  t.match(none.stderr, /NotFound/, 'nothing was stored');

  // --- a Deployment whose pods burn CPU until a shared deadline (bounded load), then idle
  const burnSeconds = 45;
  const end = Math.floor(Date.now() / 1000) + burnSeconds;
  writeFileSync(join(home, 'burn.yaml'), `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      containers:
      - name: burn
        image: busybox
        command: [sh, -c, 'while [ $(date +%s) -lt ${end} ]; do :; done; exec sleep 3600']
        resources: {requests: {cpu: 100m}}
`);
  t.equal((await kubectl('apply', '-f', join(home, 'burn.yaml'))).code, 0, 'deployment created');
  const as = await kubectl('autoscale', 'deploy', 'burn', '--cpu-percent=50', '--min=1', '--max=3');
  t.equal(as.code, 0, `kubectl autoscale: ${as.stderr}`);
  t.match(as.stdout, /horizontalpodautoscaler.autoscaling\/burn autoscaled/);
  const v1 = await kubectl('get', 'horizontalpodautoscalers.v1.autoscaling', 'burn', '-o', 'jsonpath={.apiVersion} {.spec.targetCPUUtilizationPercentage}');
  t.equal(v1.stdout, 'autoscaling/v1 50', `read back through autoscaling/v1 ${v1.stderr}`);
  const patch = await kubectl('patch', 'hpa', 'burn', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":5}}}}');
  t.equal(patch.code, 0, `a 5 s scale-down window through v2: ${patch.stderr}`);
  const h0 = await api.get(hpas, 'burn', { namespace: 'default' });
  t.same(h0.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }], 'stored as v2');
  t.same(h0.spec.behavior.scaleUp.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], "kube's scale-up defaults filled in");

  // --- kubectl top shows the burn
  const top = await waitFor('kubectl top pod shows CPU', async () => {
    const r = await kubectl('top', 'pod', '-l', 'app=burn', '--no-headers');
    const m = /^burn-\S+\s+(\d+)m\s+(\d+)Mi/m.exec(r.stdout);
    return m && Number(m[1]) > 30 ? r.stdout : undefined;
  }, 40_000);
  t.pass(`kubectl top pod: ${top.trim()}`);
  const agentPort = JSON.parse(readFileSync(join(home, 'run', 'ports.json'), 'utf8')).agent;
  const res = await (await fetch(`http://127.0.0.1:${agentPort}/metrics/resource`)).text();
  t.match(res, /^container_cpu_usage_seconds_total\{container="burn",namespace="default",pod="burn-[^"]+"\} [\d.]+ \d{13}$/m, 'the agent serves kubelet\'s resource metrics');
  const summary = await (await fetch(`http://127.0.0.1:${agentPort}/stats/summary`)).json() as any;
  t.equal(summary.node.nodeName, names.node, 'and the summary API');
  t.ok(summary.pods.some((p: any) => p.podRef.name.startsWith('burn-') && p.containers[0].cpu.usageCoreNanoSeconds > 0), 'with the burning pod');
  const topNode = await kubectl('top', 'node', '--no-headers');
  t.match(topNode.stdout, new RegExp(`^${names.node}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'), `kubectl top node: ${topNode.stdout.trim()}`);

  // --- scale up
  const scaledUp = await waitFor('the HPA scales the deployment up', async () => {
    const d = await api.get(deployments, 'burn', { namespace: 'default' });
    return d.spec.replicas > 1 ? d.spec.replicas : undefined;
  }, 60_000);
  t.ok(scaledUp > 1 && scaledUp <= 3, `scaled up to ${scaledUp}`);
  const shown = await kubectl('get', 'hpa', 'burn', '--no-headers');
  t.match(shown.stdout, /^burn\s+Deployment\/burn\s+cpu: (\d+%|<unknown>)\/50%\s+1\s+3\s+\d+/, `kubectl get hpa: ${shown.stdout.trim()}`);
  const ev = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}');
  t.match(ev.stdout, /New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/, 'SuccessfulRescale event');
  const h1 = await api.get(hpas, 'burn', { namespace: 'default' });
  const conds = Object.fromEntries((h1.status.conditions ?? []).map((c: any) => [c.type, c.status]));
  t.same([conds.AbleToScale, conds.ScalingActive], ['True', 'True'], 'AbleToScale and ScalingActive');
  t.ok(h1.status.lastScaleTime, 'lastScaleTime set');

  // --- the load stops at the deadline; the HPA scales back down to minReplicas
  const down = await waitFor('the HPA scales back down', async () => {
    const d = await api.get(deployments, 'burn', { namespace: 'default' });
    return d.spec.replicas === 1 ? d : undefined;
  }, (end - Math.floor(Date.now() / 1000)) * 1000 + 60_000);
  t.equal(down.spec.replicas, 1, 'back to 1 replica');
  const ev2 = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}');
  t.match(ev2.stdout, /New size: 1; reason: All metrics below target/, 'scale-down event');
});
