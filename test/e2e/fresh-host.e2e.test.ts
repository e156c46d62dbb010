// Issue 11, end to end: on a host that starts with net.ipv4.ip_forward=0 (.ci/run makes every CI run start
// so), `shoal up` switches the host settings on after its egress guard exists, and from inside a pod a
// Service name resolves through the cluster DNS at 10.96.0.10 and is fetched by name (pod → ClusterIP →
// pod, routed back out of the bridge: impossible without forwarding). After `shoal down` the host settings
// are what they were before, unless another cluster on the host still holds them.
// Root only (network namespaces); CI runs as root.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { liveHolders, realSysctls } from '../../node/agent/sandbox/sysctls.js';
import { waitFor } from '../wait.js';
import { spawnUp } from './shoal-up.js';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'main.js');
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, bridge, host sysctls); CI runs as root' : false;

const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
const names = { bridge: `sf${rand}br`, netnsPrefix: `shoalt-fresh-${rand}-`, cgroup: `shoalt-fresh-${rand}`, node: `shoalt-fresh-${rand}`, octet: 100 + ((parseInt(rand, 16) + 75) % 150) };
const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const FWD = 'net.ipv4.ip_forward';
const BNF = 'net.bridge.bridge-nf-call-iptables';

function sh(cmd: string, args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

const ready = (p: KubeObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

t.test('a pod reaches a Service by name on a host that started with forwarding off', { skip }, async (t) => {
  const holdersBefore = liveHolders();
  const before = { [FWD]: realSysctls.read(FWD), [BNF]: realSysctls.read(BNF) };
  t.comment(`host before: ${FWD}=${before[FWD]} ${BNF}=${before[BNF]}; other Shoal clusters holding them: ${holdersBefore.length ? holdersBefore.join(', ') : 'none'}`);
  if (before[FWD] !== '0') t.comment(`forwarding was already ${before[FWD]} (CI starts with 0 through .ci/run): the pod → Service path is still tested, the switch-on is not`);

  const home = mkdtempSync(join(tmpdir(), `shoalt-fresh-${rand}-`));
  const port = await freePort();
  const u = spawnUp(home, port, names, `10.244.${names.octet}.0/24`, ['--apply', join(root, 'samples', 'hello')]);
  const up = u.up;
  t.teardown(async () => {
    await u.stop();
    rmSync(home, { recursive: true, force: true });
  });
  await u.ready(90_000);
  t.equal(up.exitCode, null, `shoal up runs: ${u.out()}`);

  // up's progress says what it did to the host, after the guard (installed with the CNI config) is in place
  const hostLine = /✔ host: (.*)\n/.exec(u.out())?.[1] ?? '';
  // another cluster starting at the same time (CI runs two test files at once) may have switched it on first
  const othersAtUp = liveHolders().filter((h) => !h.startsWith(names.node));
  if (before[FWD] === '0' && !othersAtUp.length) t.match(hostLine, `${FWD} 0 → 1`, 'up reports switching forwarding on');
  else t.match(hostLine, new RegExp(`${FWD} (already 1|\\S+ → 1)`), `up reports forwarding (other holders: ${othersAtUp.join(', ') || 'none'})`);
  t.ok(u.out().indexOf('✔ CNI plugins') >= 0 && u.out().indexOf('✔ CNI plugins') < u.out().indexOf('✔ host:'), 'the guard is installed before the host forwards');
  t.equal(realSysctls.read(FWD), '1', 'forwarding on while the cluster runs');
  const guard = await sh('nft', ['list', 'table', 'inet', `shoal-guard-${names.bridge}`]);
  t.equal(guard.code, 0, 'the egress guard is in place');

  const api = KubeClient.fromKubeconfig(join(home, 'kubeconfig'));
  t.teardown(() => api.close());
  const kc = join(home, 'kubeconfig');
  const hello = await waitFor('3 hello pods ready', async () => {
    const ps = (await api.list(pods, { namespace: 'default', labelSelector: 'app=hello' })).items.filter(ready);
    return ps.length === 3 ? ps : undefined;
  }, 90_000);
  await waitFor('cluster DNS ready', async () => (await api.list(pods, { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.some(ready), 90_000);
  const svc = await api.get({ apiVersion: 'v1', plural: 'services', namespaced: true }, 'hello', { namespace: 'default' });
  const ips = hello.map((p) => p.status.podIP as string);
  const exec = (args: string[]) => sh(process.execPath, [cli, '--kubeconfig', kc, 'exec', hello[0]!.metadata.name!, '--', ...args], 90_000);

  // the three commands, from inside a pod
  const dig = await waitFor('dig through 10.96.0.10', async () => {
    const r = await exec(['dig', '+time=2', '+tries=2', '+short', '@10.96.0.10', 'hello.default.svc.cluster.local']);
    return r.code === 0 && r.stdout.trim() ? r : undefined;
  }, 20_000).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  t.equal(dig.stdout.trim(), svc.spec.clusterIP, `the Service name resolves through the DNS ClusterIP 10.96.0.10 (${dig.stderr.trim()})`);
  const curl = await exec(['curl', '-s', '-m', '5', 'http://hello/']);
  t.equal(curl.code, 0, `curl http://hello/ from a pod (exit ${curl.code}: ${curl.stderr})`);
  const answer = (() => {
    try {
      return JSON.parse(curl.stdout) as { ip?: string };
    } catch {
      return {};
    }
  })();
  t.ok(ips.includes(answer.ip ?? ''), `the Service by name lands on a hello pod (${curl.stdout.trim()})`);

  // shoal down restores the host: forwarding is what it was, unless another cluster still holds it
  const exited = new Promise<number | null>((r) => (up.exitCode !== null ? r(up.exitCode) : up.once('exit', (c) => r(c))));
  const down = await sh(process.execPath, [cli, 'down', '--home', home]);
  t.equal(down.code, 0, down.stderr);
  t.equal(await exited, 0);
  const others = liveHolders();
  if (others.length) {
    t.equal(realSysctls.read(FWD), '1', `left on: other clusters on this host hold it (${others.join(', ')})`);
  } else {
    t.equal(realSysctls.read(FWD), before[FWD], `${FWD} restored to ${before[FWD]}`);
    t.equal(realSysctls.read(BNF), before[BNF], `${BNF} restored to ${before[BNF]}`);
    if (before[FWD] === '0') t.match(u.out(), `${FWD} restored 1 → 0`, 'up reports the restore');
  }
  t.notOk(others.some((h) => h.startsWith(names.node)), 'our holder record is gone');
});
