// kubectl's streaming commands against `shoal up` (the whole stack as a user starts it) with the real
// kubectl 1.32: port-forward to a Deployment's pod (SPDY tunnelled in a WebSocket) with curl on 127.0.0.1,
// attach to a pod that keeps printing, and `exec -it` under a pseudo-terminal (util-linux `script`).
// The detailed protocol checks are in test/kexec/stream.test.ts and test/kexec/port-forward.test.ts.
import t from 'tap';
import { spawn } from 'node:child_process';
import { waitFor } from '../wait.js';
import { rootSkip, sh, shoalUp } from './shoal-up.js';

t.test('kubectl port-forward, attach and exec -it on shoal up', { skip: rootSkip }, async (t) => {
  const c = await shoalUp('strm', 20 + Math.floor(Math.random() * 70));
  t.teardown(() => c.close());
  const env = { ...process.env, HOME: c.home, KUBECACHEDIR: `${c.home}/kcache` };
  const created = await c.kubectl('create', 'deployment', 'hello', '--image=shoal/hello', '--port=8080');
  t.equal(created.code, 0, created.stderr);
  const run = await c.kubectl('run', 'talk', '--image=busybox', '--', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done');
  t.equal(run.code, 0, run.stderr);
  const ready = await c.kubectl('wait', '--for=condition=ready', 'pod', '-l', 'app=hello', '--timeout=90s');
  t.equal(ready.code, 0, ready.stderr);
  t.equal((await c.kubectl('wait', '--for=condition=ready', 'pod/talk', '--timeout=90s')).code, 0);

  // the pod is ready as soon as it runs (no probe): wait until the server listens, since kubectl 1.32 ends
  // the whole forward on the first refused connection
  await waitFor('hello to listen', async () => /listening/.test((await c.kubectl('logs', 'deploy/hello')).stdout), 30_000);
  // port-forward deploy/hello to a free local port; curl it on loopback
  const pf = spawn('kubectl', ['--kubeconfig', c.kubeconfig, 'port-forward', '--address', '127.0.0.1', 'deploy/hello', ':8080'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (pf.exitCode === null) pf.kill('SIGKILL');
  });
  let pfOut = '';
  pf.stdout.on('data', (d) => (pfOut += d));
  pf.stderr.on('data', (d) => (pfOut += d));
  await waitFor('port-forward to listen', async () => /Forwarding from 127\.0\.0\.1:\d+/.test(pfOut), 20_000);
  const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pfOut)![1];
  let body = '';
  await waitFor('curl through the forward', async () => {
    const r = await sh('curl', ['-s', '-m', '3', `http://127.0.0.1:${port}/`]);
    body = r.stdout;
    return r.code === 0 && body.includes('"pod"');
  }, 20_000).catch(() => undefined);
  t.match(JSON.parse(body || '{}'), { pod: /^hello-/ }, `a hello pod answered through kubectl port-forward (${pfOut})`);

  // attach: later ticks arrive
  const at = spawn('kubectl', ['--kubeconfig', c.kubeconfig, 'attach', 'talk'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (at.exitCode === null) at.kill('SIGKILL');
  });
  let atOut = '';
  at.stdout.on('data', (d) => (atOut += d));
  await waitFor('attach output', async () => (atOut.match(/tick \d+/g) ?? []).length >= 3, 20_000).catch(() => undefined);
  t.ok((atOut.match(/tick \d+/g) ?? []).length >= 3, `kubectl attach streams the output (${JSON.stringify(atOut.slice(0, 200))})`);

  // exec -it under a pseudo-terminal
  const sc = spawn('script', ['-qfec', `stty rows 24 cols 90; kubectl --kubeconfig ${c.kubeconfig} exec -it talk -- sh`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (sc.exitCode === null) sc.kill('SIGKILL');
  });
  let scOut = '';
  sc.stdout.on('data', (d) => (scOut += d));
  await new Promise((r) => setTimeout(r, 1500));
  sc.stdin.write('tty; stty size; echo "end $((6*7))"\r');
  await waitFor('exec -it output', async () => /end 42/.test(scOut), 20_000).catch(() => undefined);
  t.match(scOut, /\/dev\/pts\/\d+/, 'a pseudo-terminal in the pod');
  t.match(scOut, /24 90/, 'with the terminal size kubectl sent');
  sc.stdin.write('exit 3\r');
  const code = await new Promise<number>((r) => sc.on('close', (x) => r(x ?? -1)));
  t.equal(code, 3, 'the shell\'s exit code');
});
