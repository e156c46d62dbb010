// `shoal up --apply samples/hello`, `shoal status`, `shoal down`: the quick start's main job, run for
// real as child processes on a free loopback port with a temporary state dir.
import t from 'tap';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'main.js');

function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(process.execPath, [cli, ...args], { timeout: 60_000 }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

/**
 * `shoal up <args>` in its own process group: at teardown `beforeKill` runs, then the group is SIGKILLed if
 * still there and the home removed. Resolves once it prints `The cluster is up`, exits, or 60 s pass.
 */
async function startUp(t: { teardown(fn: () => unknown): void }, home: string, args: string[], beforeKill = () => {}): Promise<{ up: ChildProcess; out: () => string }> {
  const up = spawn(process.execPath, [cli, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.teardown(async () => {
    beforeKill();
    if (up.exitCode === null) {
      try {
        process.kill(-up.pid!, 'SIGKILL'); // the group we started: up and its components
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    rmSync(home, { recursive: true, force: true });
  });
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!out.includes('The cluster is up') && up.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return { up, out: () => out };
}

for (const split of [false, true]) t.test(`up, status, down${split ? ' (--split-processes)' : ' (grouped processes)'}`, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-up-'));
  const port = await freePort();
  // --no-agent: this test is about the CLI and the control plane (the node is covered by test/e2e)
  const { up, out: printed } = await startUp(t, home, ['--no-agent', '--home', home, '--port', String(port), '--apply', join(root, 'samples', 'hello'), ...(split ? ['--split-processes'] : [])]);
  const out = printed();
  t.match(out, /✔ apiserver ready/);
  t.match(out, /✔ controller-manager ready/);
  t.match(out, /✔ scheduler ready/);
  t.match(out, /✔ mesh-control ready/);
  t.match(out, /✔ dashboard ready/);
  const pids = ['apiserver', 'controller-manager', 'scheduler', 'mesh-control', 'dashboard'].map((n) => new RegExp(`✔ ${n} ready in [0-9.]+s \\(pid (\\d+)`).exec(out)?.[1]);
  t.equal(new Set(pids).size, split ? 5 : 1, split ? 'one process per component' : 'the control plane runs in one process');
  if (!split) t.match(out, /\(pid \d+, process control-plane\)/);
  t.match(out, /deployment.apps\/hello created/);
  t.match(out, /service\/hello created/);
  t.match(out, /The cluster is up/);

  const kc = join(home, 'kubeconfig');
  const g = await shoal(['--kubeconfig', kc, 'get', 'deploy', 'hello', '-o', 'name']);
  t.equal(g.stdout.trim(), 'deployment.apps/hello', g.stderr);
  const st = await shoal(['status', '--home', home, '--port', String(port)]);
  t.equal(st.code, 0, st.stdout);
  t.match(st.stdout, /apiserver\s+ok/);
  t.match(st.stdout, /controller-manager\s+ok/);
  t.match(st.stdout, /scheduler\s+ok/);
  t.match(st.stdout, /mesh-control\s+ok/);
  t.match(st.stdout, /dashboard\s+ok/);
  const dash = await shoal(['--home', home, 'dashboard', '--no-open']);
  t.match(dash.stdout, /^Dashboard: http:\/\/127\.0\.0\.1:\d+\/\n$/, `shoal dashboard: ${dash.stdout}${dash.stderr}`);
  const graph = await fetch(`${dash.stdout.trim().split(' ')[1]}api/graph`).then((r) => r.json()) as { nodes: unknown[]; error: string };
  t.same([graph.nodes, graph.error], [[], ''], 'the dashboard answers: no sidecars yet, the API listed fine');
  // the controllers act: the Deployment gets a ReplicaSet and three Pods (Pending until a node agent runs)
  let rs = '';
  for (let i = 0; i < 100 && !rs.includes('hello-'); i++) {
    rs = (await shoal(['--kubeconfig', kc, 'get', 'rs', '-o', 'name'])).stdout;
    if (!rs.includes('hello-')) await new Promise((r) => setTimeout(r, 100));
  }
  t.match(rs, /replicaset.apps\/hello-[a-z0-9]+/);
  const svc = await shoal(['--kubeconfig', kc, 'get', 'svc', 'kubernetes', '-o', 'name']);
  t.equal(svc.stdout.trim(), 'service/kubernetes', 'the kubernetes Service exists');
  const again = await shoal(['up', '--home', home, '--port', String(port)]);
  t.equal(again.code, 1, 'a second up on the same state dir refuses');
  t.match(again.stderr, /already running/);

  const exited = new Promise<number | null>((r) => up.once('exit', (c) => r(c)));
  const down = await shoal(['down', '--home', home]);
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout, /Stopped the cluster/);
  t.equal(await exited, 0, 'shoal up exits cleanly');
  t.notOk(existsSync(join(home, 'run', 'up.pid')), 'pid file removed');
  const after = await shoal(['status', '--home', home, '--port', String(port)]);
  t.equal(after.code, 1, 'status reports the cluster down');
});

t.test('bad flags exit 64 and name every problem', async (t) => {
  const r = await shoal(['up', '--port', '0', '--apply', '/nonexistent-shoalt']);
  t.equal(r.code, 64);
  t.match(r.stderr, /--port: must be an integer between 1 and 65535/);
  t.match(r.stderr, /--apply: \/nonexistent-shoalt: no such file or directory/);
});

t.test('group processes: argv split per component, every bad flag named with its component', async (t) => {
  const { parseGroup, splitGroupArgs } = await import('../../cli/up/group.js');
  t.same(splitGroupArgs(['a', '--x', '1', '---', 'b', '---', '---', 'c', '-y']), [['a', '--x', '1'], ['b'], ['c', '-y']]);
  const ok = parseGroup(['scheduler', '--health-port', '0', '---', 'network-policy', '--node-name', 'n1', '--health-port', '0']);
  t.same(ok.components?.map((c) => c.name), ['scheduler', 'network-policy']);
  const bad = parseGroup(['scheduler', '--nope', '---', 'kubelet', '---', 'network-policy', '--table-suffix', 'BAD']);
  t.equal(bad.components, undefined);
  t.match(bad.problems[0], /^scheduler: .*nope/);
  t.match(bad.problems[1], /^unknown component "kubelet"; one of: apiserver, controller-manager, scheduler, mesh-control, dashboard, node-agent, service-proxy, network-policy$/);
  t.match(bad.problems[2], /^network-policy: --table-suffix:/);
  t.same(parseGroup([]).problems, ['no component given; one of: apiserver, controller-manager, scheduler, mesh-control, dashboard, node-agent, service-proxy, network-policy']);
  const r = await new Promise<{ code: number; stderr: string }>((res) => execFile(process.execPath, [join(root, 'dist', 'cli', 'up', 'group-main.js'), 'kubelet'], (err, _o, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stderr })));
  t.equal(r.code, 64, 'bad group flags exit 64');
  t.match(r.stderr, /shoal group: unknown component "kubelet"/);
});

t.test('shoal kubeconfig polled from other shells while up starts: one CA, and up comes up', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-up-kc-'));
  const port = await freePort();
  let polling = true;
  const printed: string[] = [];
  let refusals = 0;
  // three shells polling `shoal kubeconfig` from before `up` starts (issue 11: a second CA, up never ready)
  const pollers = [0, 1, 2].map(async () => {
    while (polling) {
      const r = await shoal(['kubeconfig', '--home', home, '--server', `https://127.0.0.1:${port}`]);
      if (r.code === 0) printed.push(r.stdout);
      else refusals++;
    }
  });
  // `up` starts only after a poller has been refused (each `shoal` run takes seconds on a loaded machine)
  const refusedBy = Date.now() + 30_000;
  while (refusals === 0 && Date.now() < refusedBy) await new Promise((r) => setTimeout(r, 50));
  const { up, out } = await startUp(t, home, ['--no-agent', '--home', home, '--port', String(port)], () => (polling = false));
  await new Promise((r) => setTimeout(r, 1000));
  polling = false;
  await Promise.all(pollers);
  t.match(out(), /The cluster is up/, out());
  t.ok(refusals > 0, `kubeconfig refused while there was no cluster yet (${refusals} times), creating nothing`);
  t.ok(printed.length > 0, `kubeconfig printed ${printed.length} times once the cluster was starting`);
  const { readFileSync } = await import('node:fs');
  const ca = readFileSync(join(home, 'pki', 'ca.crt'), 'utf8');
  const cas = new Set(printed.map((k) => Buffer.from(/certificate-authority-data: (\S+)/.exec(k)?.[1] ?? '', 'base64').toString('utf8')));
  t.same([...cas], [ca], 'every printed kubeconfig has the one CA of the cluster');
  const kc = join(home, 'printed-kubeconfig');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(kc, printed[printed.length - 1]!);
  const g = await shoal(['--kubeconfig', kc, 'get', 'ns', 'default', '-o', 'name']);
  t.equal(g.stdout.trim(), 'namespace/default', `the printed kubeconfig works (${g.stderr})`);
  const exited = new Promise<number | null>((r) => up.once('exit', (c) => r(c)));
  t.equal((await shoal(['down', '--home', home])).code, 0);
  t.equal(await exited, 0);
});
