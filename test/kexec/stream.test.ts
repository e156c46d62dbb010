// kubectl port-forward, attach and exec -t with the real kubectl 1.32 against the real API server (TLS,
// tokens) and the real node agent running a real pod (network, PID, UTS namespaces):
// - port-forward: kubectl tunnels SPDY/3.1 over a WebSocket; HTTP through the forward to shoal/hello in the
//   pod, two connections at once, and a port nobody listens on reported on the error stream;
// - attach: output the container writes after attaching;
// - exec -it under a pseudo-terminal (util-linux `script` gives kubectl a terminal): `tty`, the size kubectl
//   sends, and a raw-frame session checking resize messages (channel 4) reach the pty.
import t from 'tap';
import net from 'node:net';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { TestCluster } from '../client/fixture.js';
import { cs, rootSkip, startAgentEnv, waitPod } from '../agent/fixture.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  execFileSync('script', ['--version'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}
const skip = rootSkip() || (haveKubectl ? false : 'kubectl and util-linux script are needed');

const kenv = (c: TestCluster) => ({ ...process.env, HOME: c.home, KUBECACHEDIR: join(c.home, 'kcache') });

function kubectl(c: TestCluster, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { timeout: 20_000, env: kenv(c) }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }));
  });
}

/** A long-running kubectl; its output so far, stopped at teardown by its PID. */
function background(t: { teardown(fn: () => void): void }, c: TestCluster, args: string[]): { child: ChildProcess; out: () => string; err: () => string; waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray> } {
  const child = spawn('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { env: kenv(c), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const m = out.match(re) ?? err.match(re);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; stdout: ${out} stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, out: () => out, err: () => err, waitFor };
}

/** One HTTP/1.1 GET on a raw socket (so two can be held open at once). */
function rawGet(port: number): { sock: net.Socket; send: () => void; reply: Promise<string> } {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  const reply = new Promise<string>((resolve, reject) => {
    sock.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(buf)?.[1];
      if (i >= 0 && len && Buffer.byteLength(buf) >= i + 4 + Number(len)) resolve(buf.slice(i + 4));
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(buf.slice(buf.indexOf('\r\n\r\n') + 4)));
  });
  // HTTP/1.0: the answer is not chunked and ends with the connection
  return { sock, send: () => sock.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n'), reply };
}

t.test('port-forward, attach and exec -t with the real kubectl and a real pod', { skip }, async (t) => {
  const env = await startAgentEnv(t, 93);
  const c = env.cluster;
  await env.client.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: { nodeName: env.cfg.nodeName, terminationGracePeriodSeconds: 2, containers: [
      { name: 'app', image: 'shoal/hello', env: [{ name: 'PORT', value: '8080' }] },
      { name: 'talk', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'] },
    ] },
  } as any, { namespace: 'default' });
  await waitPod(env, 'web', (p) => cs(p, 0)?.state?.running && cs(p, 1)?.state?.running, 30_000);

  for (let i = 0; ; i++) {
    const logs = await kubectl(c, ['logs', 'web', '-c', 'app']);
    if (/listening/.test(logs.stdout)) break;
    if (i > 100) throw new Error(`shoal/hello did not start: ${logs.stdout} ${logs.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  t.test('kubectl port-forward to an HTTP server in the pod', async (t) => {
    const pf = background(t, c, ['port-forward', '--address', '127.0.0.1', 'pod/web', ':8080']);
    const m = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    const port = Number(m[1]);

    const r = await fetch(`http://127.0.0.1:${port}/`).catch((e) => {
      throw new Error(`${e.message}; kubectl said: ${pf.out()} ${pf.err()}`);
    });
    t.equal(r.status, 200);
    t.match(await r.json(), { pod: 'web' }, 'the pod answered through the forward');

    // two connections open at once through the one forward (two SPDY stream pairs), answered in reverse order
    const a = rawGet(port);
    const b = rawGet(port);
    await new Promise((res) => setTimeout(res, 300));
    b.send();
    t.match(JSON.parse(await b.reply), { pod: 'web' }, 'the second connection answered while the first is open');
    a.send();
    t.match(JSON.parse(await a.reply), { pod: 'web' }, 'the first connection still works');

    t.equal(pf.child.exitCode, null, 'the forward is still running');
  });

  t.test('kubectl port-forward to a port nobody listens on', async (t) => {
    const pf = background(t, c, ['port-forward', '--address', '127.0.0.1', 'pod/web', ':9']);
    const dead = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 9\b/))[1]);
    const refused = rawGet(dead);
    refused.send();
    await refused.reply.catch(() => '');
    const msg = await pf.waitFor(/error forwarding port 9 to pod web, uid [^:]+: dial tcp4 127\.0\.0\.1:9: connect: connection refused/);
    t.ok(msg, 'kubectl reports the refusal it read on the error stream');
    // kubectl 1.32 itself closes the session after an error on any stream ("lost connection to pod");
    // that the server keeps the session is checked with raw frames in port-forward.test.ts
  });

  t.test('kubectl port-forward svc/NAME and deploy/NAME (kubectl picks the pod and the target port)', async (t) => {
    await env.client.create({ apiVersion: 'v1', plural: 'services', namespaced: true }, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    } as any, { namespace: 'default' });
    // a Deployment object only for kubectl to read its selector (no controller runs in this fixture)
    await env.client.create({ apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true }, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'shoal/hello' }] } } },
    } as any, { namespace: 'default' });
    for (const [ref, remote] of [['svc/web', '80'], ['deploy/web', '8080']] as const) {
      const pf = background(t, c, ['port-forward', '--address', '127.0.0.1', ref, `:${remote}`]);
      const port = Number((await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/))[1]);
      const r = await fetch(`http://127.0.0.1:${port}/`);
      t.match(await r.json(), { pod: 'web' }, `${ref}: the pod answered`);
      pf.child.kill('SIGTERM');
    }
  });

  t.test('kubectl attach sees output written after attaching', async (t) => {
    const at = background(t, c, ['attach', 'web', '-c', 'talk']);
    const first = Number((await at.waitFor(/tick (\d+)/))[1]);
    const later = Number((await at.waitFor(new RegExp(`tick (${first + 3})`)))[1]);
    t.ok(later > first, `ticks go on while attached (${first} → ${later})`);
    const before = await kubectl(c, ['logs', 'web', '-c', 'talk']);
    t.ok(first > 5, `attached after some seconds of output: the first line seen is a late one (tick ${first})`);
    t.notMatch(at.out(), /^tick 1\n/m, 'earlier output is not replayed');
    t.match(before.stdout, /tick 1\n/);
  });

  t.test('kubectl exec -it under a pseudo-terminal', async (t) => {
    const cmd = `stty rows 33 cols 111; kubectl --kubeconfig ${c.kubeconfigPath} exec -it web -c talk -- sh`;
    const sc = spawn('script', ['-qfec', cmd, '/dev/null'], { env: kenv(c), stdio: ['pipe', 'pipe', 'pipe'] });
    t.teardown(() => {
      if (sc.exitCode === null) sc.kill('SIGKILL');
    });
    let out = '';
    sc.stdout.on('data', (d) => (out += d));
    const waitOut = async (re: RegExp) => {
      const end = Date.now() + 15_000;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}: ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out.match(re)!;
    };
    await new Promise((r) => setTimeout(r, 1000));
    sc.stdin.write('tty; stty size; echo "done $((40+2))"\r');
    await waitOut(/done 42/);
    t.match(out, /\/dev\/pts\/\d+/, 'tty names a pseudo-terminal');
    t.match(out, /33 111/, 'the terminal size kubectl sent');
    sc.stdin.write('exit 4\r');
    const code = await new Promise<number>((r) => sc.on('close', (c2) => r(c2 ?? -1)));
    t.equal(code, 4, `the exit code of the shell: ${JSON.stringify(out)}`);
  });

  t.test('raw frames: TTY exec with resize messages', async (t) => {
    const path = '/api/v1/namespaces/default/pods/web/exec?container=talk&stdin=true&stdout=true&tty=true&command=sh';
    const ws = new WebSocket(c.url.replace('https://', 'wss://') + path, ['v5.channel.k8s.io'], { ca: c.caPem, headers: { authorization: `Bearer ${c.token}` } });
    let stdout = '';
    let stderrFrames = 0;
    let status: any;
    ws.on('message', (d: Buffer) => {
      if (d[0] === 1) stdout += d.subarray(1).toString();
      if (d[0] === 2) stderrFrames++;
      if (d[0] === 3) status = JSON.parse(d.subarray(1).toString());
    });
    await new Promise((r, j) => ws.on('open', r).on('error', j));
    const send = (ch: number, s: string) => ws.send(Buffer.concat([Buffer.of(ch), Buffer.from(s)]));
    const wait = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(stdout)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}: ${JSON.stringify(stdout)}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    send(4, '{"Width":100,"Height":40}');
    send(0, 'stty size; echo "m$((1+1))"\n');
    await wait(/m2/);
    t.match(stdout, /40 100\r\n/, 'the first resize is the starting size');
    send(4, '{"Width":132,"Height":50}');
    await new Promise((r) => setTimeout(r, 200));
    send(0, 'stty size; echo "m$((1+2))"\n');
    await wait(/m3/);
    t.match(stdout, /50 132\r\n/, 'a later resize reaches the pty');
    send(0, 'echo oops >&2; echo "m$((1+3))"\n');
    await wait(/m4/);
    t.match(stdout, /oops/, 'stderr shares the terminal (channel 1)');
    t.equal(stderrFrames, 0, 'nothing on channel 2 under a TTY');
    send(0, 'exit 6\n');
    await new Promise((r) => ws.on('close', r));
    t.match(status, { status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '6' }] } }, stdout);
  });
});
