// The whole cluster, end to end, as a user runs it: `shoal up --apply samples/hello` as a process (API
// server, controller manager, scheduler, node agent with real network namespaces and shoal-cni), then the
// issue's scenarios against it, then `shoal down` and a before/after comparison of the host.
// Root only (network namespaces); CI runs as root.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { waitFor } from '../wait.js';
import { spawnUp } from './shoal-up.js';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'main.js');
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, bridge, cgroups); CI runs as root' : false;

const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const names = { bridge: `se${rand}br`, netnsPrefix: `shoalt-e2e-${rand}-`, cgroup: `shoalt-e2e-${rand}`, node: `shoalt-e2e-${rand}`, octet: 100 + (parseInt(rand, 16) % 150) };
const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const deployments = { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true };

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

/** What of ours is on the host: netns, links, cgroups, mounts. */
async function hostState(home: string): Promise<Record<string, string[]>> {
  const netns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(names.netnsPrefix));
  const links = (await sh('ip', ['-o', 'link'])).stdout.split('\n').filter((l) => l.includes(names.bridge) || l.includes(names.netnsPrefix));
  const cgroups = ['memory', 'cpu', 'pids', 'unified', ''].map((h) => join('/sys/fs/cgroup', h, names.cgroup)).filter((p) => existsSync(p));
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(home) || l.includes(names.netnsPrefix));
  const nft = (await sh('nft', ['list', 'tables'])).stdout.split('\n').filter((l) => l.includes(names.bridge));
  const vips = (await sh('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout.split('\n').filter((l) => l.includes(`shp-${names.bridge}`.slice(0, 12)));
  return { netns, links, cgroups, mounts, nft, vips };
}

const ready = (p: KubeObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

t.test('a cluster from shoal up', { skip }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), `shoalt-e2e-${rand}-`));
  const port = await freePort();
  const before = await hostState(home);
  const u = spawnUp(home, port, names, `10.244.${names.octet}.0/24`, ['--apply', join(root, 'samples', 'hello')]);
  const up = u.up;
  t.teardown(async () => {
    await u.stop();
    rmSync(home, { recursive: true, force: true });
  });
  await u.ready(60_000);
  t.match(u.out(), /✔ node-agent ready/, u.out());
  t.match(u.out(), /✔ network-policy ready/, 'the NetworkPolicy enforcer runs as part of the node');
  const api = KubeClient.fromKubeconfig(join(home, 'kubeconfig'));
  t.teardown(() => api.close());
  const ns = 'default';
  const listHello = async () => (await api.list(pods, { namespace: ns, labelSelector: 'app=hello' })).items;

  // 1. three pods Running with distinct IPs that reach each other and are reached from the host
  const three = await waitFor('3 hello pods ready', async () => {
    const ps = (await listHello()).filter(ready);
    return ps.length === 3 ? ps : undefined;
  }, 60_000);
  const ips = three.map((p) => p.status.podIP as string);
  t.equal(new Set(ips).size, 3, `distinct IPs ${ips}`);
  for (const ip of ips) t.match(ip, new RegExp(`^10\\.244\\.${names.octet}\\.`));
  const fromHost = await fetch(`http://${ips[0]}:8080/`).then((r) => r.json() as Promise<{ pod: string; ip: string }>);
  t.equal(fromHost.ip, ips[0], 'the host reaches a pod');
  const netnsOf = (p: KubeObject) => `${names.netnsPrefix}${p.metadata.uid!.replace(/-/g, '').slice(0, 12)}`;
  const podToPod = await sh('ip', ['netns', 'exec', netnsOf(three[0]!), process.execPath, '-e', `fetch('http://${ips[1]}:8080/').then(r=>r.text()).then(t=>process.stdout.write(t))`]);
  t.match(podToPod.stdout, new RegExp(`"ip":"${ips[1]!.replace(/\./g, '\\.')}"`), 'a pod reaches another pod');

  // pod egress stays on the machine: the guard drops forwarded traffic from the bridge to other ranges
  const guard = await sh('nft', ['list', 'table', 'inet', `shoal-guard-${names.bridge}`]);
  t.match(guard.stdout, new RegExp(`iifname "${names.bridge}" ip daddr != \\{ 10\\.96\\.0\\.0/12, 10\\.244\\.0\\.0/16 \\}.* drop`), 'the egress guard is in place');

  // exec and logs through the API server
  const kc = join(home, 'kubeconfig');
  const ex = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[2]!.metadata.name!, '--', 'sh', '-c', 'hostname; exit 3']);
  t.equal(ex.code, 3, 'shoal exec passes the exit code through');
  t.equal(ex.stdout.trim(), three[2]!.metadata.name, 'the pod has its own UTS namespace (hostname = pod name)');
  const ic = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[2]!.metadata.name!, '--', 'sh', '-c', 'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; head -c 3 /var/run/secrets/kubernetes.io/serviceaccount/token']);
  t.equal(ic.stdout, '10.96.0.1:443\ndefault\neyJ', 'in-cluster config: the kubernetes Service env and the ServiceAccount token are in the container');
  const lg = await sh(process.execPath, [cli, '--kubeconfig', kc, 'logs', three[2]!.metadata.name!]);
  t.match(lg.stdout, /hello 1 listening on :8080/, 'shoal logs reads the container log');

  // service networking: the cluster DNS answers at 10.96.0.10 and pods reach each other by service name
  await waitFor('cluster DNS ready', async () => (await api.list(pods, { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.some(ready), 60_000);
  const helloSvc = await api.get({ apiVersion: 'v1', plural: 'services', namespaced: true }, 'hello', { namespace: ns });
  const byName = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[0]!.metadata.name!, '--', 'sh', '-c', 'getent hosts hello | cut -d" " -f1']);
  t.equal(byName.stdout.trim(), helloSvc.spec.clusterIP, 'a short service name resolves from a pod (resolv.conf search path)');
  const viaSvc = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[0]!.metadata.name!, '--', process.execPath, '-e', "fetch('http://hello.default/').then(r=>r.json()).then(j=>console.log(j.ip))"]);
  t.ok(ips.includes(viaSvc.stdout.trim()), `http://hello.default from a pod lands on a ready backend (${viaSvc.stdout.trim()})`);
  const srv = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[0]!.metadata.name!, '--', 'dig', '+short', '@10.96.0.10', '_http._tcp.hello.default.svc.cluster.local', 'SRV']);
  t.equal(srv.stdout.trim(), '0 100 80 hello.default.svc.cluster.local.', 'SRV for the named port, from a pod');
  const nx = await sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', three[0]!.metadata.name!, '--', 'dig', '@10.96.0.10', 'nope.default.svc.cluster.local']);
  t.match(nx.stdout, /status: NXDOMAIN/, 'unknown names in the zone are NXDOMAIN');
  const hostToVip = await fetch(`http://${helloSvc.spec.clusterIP}/`).then((r) => r.json() as Promise<{ ip: string }>);
  t.ok(ips.includes(hostToVip.ip), 'the host reaches the ClusterIP');

  // NetworkPolicy, as samples/netpol/README.md shows it: only role=frontend reaches hello, relabelling takes effect
  const ap = await sh(process.execPath, [cli, '--kubeconfig', kc, 'apply', '-f', join(root, 'samples', 'netpol')]);
  t.equal(ap.code, 0, ap.stderr);
  await waitFor('sample client pods ready', async () => {
    const ps = await Promise.all(['frontend', 'other'].map((n) => api.get(pods, n, { namespace: ns })));
    return ps.every(ready);
  }, 30_000);
  const curlFrom = (pod: string) => sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', pod, '--', 'curl', '-s', '-m', '1', 'http://hello/']);
  const allowedNow = async (pod: string) => (await curlFrom(pod)).code === 0;
  t.ok(await waitFor('frontend allowed', () => allowedNow('frontend'), 10_000), 'samples/netpol: frontend reaches hello by service name');
  const denied = await curlFrom('other');
  t.equal(denied.code, 28, `samples/netpol: other is dropped (curl timeout, exit 28): ${denied.stdout}${denied.stderr}`);
  await sh(process.execPath, [cli, '--kubeconfig', kc, 'label', 'pod', 'other', 'role=frontend', '--overwrite']);
  t.ok(await waitFor('relabelled pod allowed', () => allowedNow('other'), 10_000), 'samples/netpol: relabelling other lets it in, policy untouched');
  const policyTable = await sh('nft', ['list', 'table', 'inet', `shoal-policy-${names.bridge}`]);
  t.match(policyTable.stdout, /hook forward/, 'the enforcer programs its own table for this node');
  const del = await sh(process.execPath, [cli, '--kubeconfig', kc, 'delete', '-f', join(root, 'samples', 'netpol'), '--grace-period', '0']);
  t.equal(del.code, 0, del.stderr);

  // 2. kill -9 of a container process: restarted, restartCount 1
  const victim = three[0]!;
  const pids = (await sh('ip', ['netns', 'pids', netnsOf(victim)])).stdout.split('\n').filter(Boolean);
  const appPid = pids.find((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[0] === process.execPath && argv.some((a) => a.endsWith('hello.mjs')); // the app itself, not its nsenter wrapper
    } catch {
      return false;
    }
  });
  t.ok(appPid, 'found the app process in the pod');
  process.kill(Number(appPid), 'SIGKILL');
  const restarted = await waitFor('restartCount 1', async () => {
    const p = await api.get(pods, victim.metadata.name!, { namespace: ns });
    return p.status?.containerStatuses?.[0]?.restartCount === 1 && ready(p) ? p : undefined;
  });
  t.equal(restarted.status.containerStatuses[0].lastState.terminated.exitCode, 137);

  // 3. a deleted pod is replaced
  await api.delete(pods, three[1]!.metadata.name!, { namespace: ns });
  await waitFor('a replacement pod', async () => {
    const ps = (await listHello()).filter(ready);
    return ps.length === 3 && !ps.some((p) => p.metadata.name === three[1]!.metadata.name) ? ps : undefined;
  }, 60_000);
  t.pass('the deleted pod was replaced');

  // 4. a rolling update keeps replicas - maxUnavailable (3 - 0) pods Ready throughout; rollout undo goes back
  let minReady = 3;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const all = await listHello();
      const n = all.filter(ready).length;
      if (n < minReady) t.comment(`ready dipped to ${n}: ${all.map((p) => `${p.metadata.name}:${p.status?.phase}:${ready(p)}:${p.metadata.deletionTimestamp ? 'del' : ''}:${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}:${JSON.stringify((p.status?.conditions ?? []).find((c: any) => c.type === 'Ready'))}`).join(' ')}`);
      minReady = Math.min(minReady, n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await api.patch(deployments, 'hello', { spec: { template: { spec: { containers: [{ name: 'hello', image: 'shoal/hello:2' }] } } } }, { namespace: ns, type: 'strategic' });
  await waitFor('rollout to :2', async () => {
    const d = await api.get(deployments, 'hello', { namespace: ns });
    const ps = (await listHello()).filter(ready);
    return d.status?.updatedReplicas === 3 && d.status?.availableReplicas === 3 && d.status?.replicas === 3 && ps.length === 3 && ps.every((p) => p.spec.containers[0].image === 'shoal/hello:2');
  }, 90_000);
  polling = false;
  await poll;
  t.equal(minReady, 3, `never fewer than replicas - maxUnavailable Ready pods during the rollout (min seen: ${minReady})`);
  const undo = await sh(process.execPath, [cli, '--kubeconfig', join(home, 'kubeconfig'), 'rollout', 'undo', 'deployment/hello']);
  t.equal(undo.code, 0, undo.stderr);
  await waitFor('undo back to :1', async () => {
    const ps = (await listHello()).filter(ready);
    return ps.length === 3 && ps.every((p) => p.spec.containers[0].image === 'shoal/hello:1');
  }, 90_000);
  t.pass('rollout undo went back to shoal/hello:1');

  // 5. a failing readiness probe takes the pod out of the Endpoints
  const flag = join(home, 'ready-flag');
  writeFileSync(flag, '');
  await api.create(pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', labels: { app: 'hello' } },
    spec: { containers: [{ name: 'hello', image: 'shoal/hello:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 1 } }] },
  }, { namespace: ns });
  const probeIp = await waitFor('probe pod ready', async () => {
    const p = await api.get(pods, 'probe', { namespace: ns });
    return ready(p) ? (p.status.podIP as string) : undefined;
  });
  const inEndpoints = async () => {
    const ep = await api.get({ apiVersion: 'v1', plural: 'endpoints', namespaced: true }, 'hello', { namespace: ns });
    return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip)).includes(probeIp);
  };
  await waitFor('probe pod in the Endpoints', inEndpoints);
  unlinkSync(flag);
  await waitFor('probe pod out of the Endpoints', async () => !(await inEndpoints()));
  t.pass('a failing readiness probe removed the pod from the Endpoints');
  await api.delete(pods, 'probe', { namespace: ns, gracePeriodSeconds: 0 });

  // 6. restarting the agent keeps running pods (same PIDs)
  // the node agent runs in the `node` process with the service proxy and the policy enforcer (cli/up/group.ts)
  const agentPid = Number(/✔ node-agent ready in [0-9.]+s \(pid (\d+), process node\)/.exec(u.out())?.[1] ?? 0);
  const keep = (await listHello()).filter(ready)[0]!;
  const pidsBefore = (await sh('ip', ['netns', 'pids', netnsOf(keep)])).stdout.trim();
  t.ok(agentPid > 0, 'found the agent started by shoal up');
  process.kill(agentPid, 'SIGKILL');
  await waitFor('agent restarted by the supervisor', async () => /✖ node exited/.test(u.out()));
  await new Promise((r) => setTimeout(r, 2500));
  const after = await api.get(pods, keep.metadata.name!, { namespace: ns });
  t.ok(ready(after), 'the pod is still Ready after the agent restart');
  t.equal(after.status.containerStatuses[0].restartCount, keep.status.containerStatuses[0].restartCount, 'not restarted');
  t.equal((await sh('ip', ['netns', 'pids', netnsOf(keep)])).stdout.trim(), pidsBefore, 'same processes');

  // 7. deleting a namespace cleans it up
  await api.create({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  await api.create(deployments, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'shoal/pause' }] } } },
  }, { namespace: 'doomed' });
  const doomedPod = await waitFor('doomed pod running', async () => (await api.list(pods, { namespace: 'doomed' })).items.find(ready));
  await api.delete({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, 'doomed');
  await waitFor('namespace gone', async () => {
    try {
      await api.get({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, 'doomed');
      return false;
    } catch (e) {
      return (e as { code?: number }).code === 404;
    }
  }, 60_000);
  t.notOk((await sh('ip', ['netns', 'list'])).stdout.includes(netnsOf(doomedPod)), 'its pod network namespace is gone');

  // 8. shoal down leaves nothing behind
  const exited = new Promise<number | null>((r) => (up.exitCode !== null ? r(up.exitCode) : up.once('exit', (c) => r(c))));
  const down = await sh(process.execPath, [cli, 'down', '--home', home]);
  t.equal(down.code, 0, down.stderr);
  t.equal(await exited, 0);
  t.same(await hostState(home), before, 'no netns, link, cgroup, mount or nftables table of ours is left');
});
