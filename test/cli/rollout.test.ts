// `shoal rollout` against a real API server with the controllers and a fake kubelet in-process: status
// waits for the rollout, history lists revisions, undo goes back, pause/resume/restart edit the spec.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startControllerCluster, waitFor } from '../controllers/fixture.js';

const cli = join(new URL('../../..', import.meta.url).pathname, 'dist', 'cli', 'main.js');

t.test('shoal rollout', async (t) => {
  const c = await startControllerCluster('shoalt-rollout-');
  t.teardown(() => c.close());
  const shoal = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
    execFile(process.execPath, [cli, '--kubeconfig', c.kubeconfigPath, ...args], { timeout: 60_000 }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
  const dep = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n`;
  const { writeFileSync } = await import('node:fs');
  const f = join(c.home, 'web.yaml');
  writeFileSync(f, dep('shoal/hello:1'));
  t.equal((await shoal(['apply', '-f', f])).code, 0);
  const st = await shoal(['rollout', 'status', 'deployment/web', '--timeout', '30s']);
  t.equal(st.code, 0, st.stderr);
  t.match(st.stdout, /deployment "web" successfully rolled out/);
  writeFileSync(f, dep('shoal/hello:2'));
  t.equal((await shoal(['apply', '-f', f])).code, 0);
  const st2 = await shoal(['rollout', 'status', 'deploy/web', '--timeout', '30s']);
  t.equal(st2.code, 0, st2.stderr);
  const h = await shoal(['rollout', 'history', 'deployment/web']);
  t.match(h.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  const u = await shoal(['rollout', 'undo', 'deployment/web']);
  t.equal(u.code, 0, u.stderr);
  t.match(u.stdout, /deployment.apps\/web rolled back/);
  await waitFor('image back to :1', async () => {
    const g = await shoal(['get', 'deploy', 'web', '-o', 'json']);
    return JSON.parse(g.stdout).spec.template.spec.containers[0].image === 'shoal/hello:1';
  });
  const p = await shoal(['rollout', 'pause', 'deployment/web']);
  t.match(p.stdout, /deployment.apps\/web paused/);
  const r = await shoal(['rollout', 'resume', 'deployment/web']);
  t.match(r.stdout, /deployment.apps\/web resumed/);
  const rs = await shoal(['rollout', 'restart', 'deployment/web']);
  t.match(rs.stdout, /deployment.apps\/web restarted/);
  const bad = await shoal(['rollout', 'status', 'daemonset/x']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /only deployments are supported/);
});
