// Interactive `pods/exec` over WebSocket, end to end with the real kubectl (1.32 speaks v5.channel.k8s.io)
// and with `shoal exec`, which streams the same way:
// 1. everywhere: the real API server (TLS, tokens) in front of a stand-in node agent that mounts the real
//    streaming endpoint (node/agent/server/exec-stream.ts) but runs commands on the host, so framing,
//    negotiation, relaying and errors are tested without root;
// 2. as root: the real agent with a real pod (network/PID/UTS namespaces), so the command runs inside it.
import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startCluster, type TestCluster } from '../client/fixture.js';
import { attachExecStream, type ExecTarget } from '../../node/agent/server/exec-stream.js';
import { createPod, cs, rootSkip, startAgentEnv, waitPod } from '../agent/fixture.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}
const noKubectl = haveKubectl ? false : 'kubectl is not installed';

type Run = { code: number; stdout: string; stderr: string };
function kubectl(c: TestCluster, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', c.kubeconfigPath, ...args], { timeout: 20_000, env: { ...process.env, HOME: c.home, KUBECACHEDIR: join(c.home, 'kcache') } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

/** A raw WebSocket session: every message as [channel, text], and how it closed. */
interface Session {
  protocol: string;
  frames: [number, string][];
  status?: any;
  closeCode?: number;
}
function wsExec(c: TestCluster, path: string, protocols: string[], send: (ws: WebSocket) => void = () => undefined): Promise<Session | { status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(c.url.replace('https://', 'wss://') + path, protocols, { ca: c.caPem, headers: { authorization: `Bearer ${c.token}` } });
    const s: Session = { protocol: '', frames: [] };
    ws.on('open', () => {
      s.protocol = ws.protocol;
      send(ws);
    });
    ws.on('message', (d: Buffer) => {
      s.frames.push([d[0]!, d.subarray(1).toString('utf8')]);
      if (d[0] === 3) s.status = JSON.parse(d.subarray(1).toString('utf8'));
    });
    ws.on('close', (code) => resolve({ ...s, closeCode: code }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
    });
    ws.on('error', reject);
  });
}
const text = (s: Session, ch: number) => s.frames.filter(([c]) => c === ch).map(([, x]) => x).join('');

t.test('exec over WebSocket through the API server (stand-in agent, host commands)', async (t) => {
  const c = await startCluster('shoalt-kexec-');
  t.teardown(() => c.close());
  const spawned: number[] = [];
  const agent = http.createServer((_req, res) => res.writeHead(404).end());
  const stopStreams = attachExecStream(agent, {
    find(_ns, pod, container): ExecTarget {
      if (pod !== 'web') throw Object.assign(new Error(`pods "${pod}" not found`), { code: 404, reason: 'NotFound' });
      return { holderPid: 0, env: { SHOAL_CONTAINER: container } };
    },
    spawn(argv, target) {
      const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...target.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      if (child.pid) spawned.push(child.pid);
      return child;
    },
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    stopStreams();
    agent.close();
    for (const pid of spawned) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* ended */
      }
    }
  });
  const port = (agent.address() as { port: number }).port;
  const client = c.client();
  await client.create({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'kexec-n1' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  });
  await client.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'kexec-n1', containers: [{ name: 'app', image: 'busybox' }, { name: 'side', image: 'busybox' }] },
  }, { namespace: 'default' });
  await client.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ghost', namespace: 'default' },
    spec: { nodeName: 'kexec-n1', containers: [{ name: 'app', image: 'busybox' }] },
  }, { namespace: 'default' });

  t.test('kubectl exec', { skip: noKubectl }, async (t) => {
    const cases: { name: string; args: string[]; input?: string; code: number; stdout: string | RegExp; stderr: RegExp }[] = [
      { name: 'stdout and stderr apart, exit code 3', args: ['exec', 'web', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], code: 3, stdout: 'out\n', stderr: /^err\n(.|\n)*command terminated with exit code 3/ },
      { name: 'stdin to cat (v5 close of stdin)', args: ['exec', '-i', 'web', '-c', 'app', '--', 'cat'], input: 'hello\n', code: 0, stdout: 'hello\n', stderr: /^$/ },
      { name: '-c picks the container', args: ['exec', 'web', '-c', 'side', '--', 'sh', '-c', 'echo $SHOAL_CONTAINER'], code: 0, stdout: 'side\n', stderr: /^$/ },
      { name: 'unknown pod', args: ['exec', 'nope', '--', 'true'], code: 1, stdout: '', stderr: /Error from server \(NotFound\): pods "nope" not found/ },
      { name: 'unknown container', args: ['exec', 'web', '-c', 'nope', '--', 'true'], code: 1, stdout: '', stderr: /container nope is not valid for pod web/ },
      { name: 'the agent refuses (pod gone from the node)', args: ['exec', 'ghost', '--', 'true'], code: 1, stdout: '', stderr: /pods "ghost" not found/ },
    ];
    for (const k of cases) {
      const r = await kubectl(c, k.args, k.input);
      t.equal(r.code, k.code, `${k.name}: exit code (stderr: ${r.stderr})`);
      if (typeof k.stdout === 'string') t.equal(r.stdout, k.stdout, `${k.name}: stdout`);
      else t.match(r.stdout, k.stdout, `${k.name}: stdout`);
      t.match(r.stderr, k.stderr, `${k.name}: stderr`);
    }
  });

  t.test('framing seen by a WebSocket client', async (t) => {
    const q = (cmd: string[], extra = '') => `/api/v1/namespaces/default/pods/web/exec?container=app&stdout=true&stderr=true${extra}&${cmd.map((x) => `command=${encodeURIComponent(x)}`).join('&')}`;
    const v4 = await wsExec(c, q(['sh', '-c', 'printf a; printf b >&2; exit 7']), ['v4.channel.k8s.io']) as Session;
    t.equal(v4.protocol, 'v4.channel.k8s.io', 'v4 negotiated when it is all the client offers');
    t.equal(text(v4, 1), 'a');
    t.equal(text(v4, 2), 'b');
    t.match(v4.status, { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
    t.match(v4.status.message, /non-zero exit code/);
    t.equal(v4.frames[v4.frames.length - 1]![0], 3, 'the status is the last message');
    t.equal(v4.closeCode, 1000, 'normal close after the status');

    const v5 = await wsExec(c, q(['cat'], '&stdin=true'), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.of(0), Buffer.from('ping\n')]));
      ws.send(Buffer.of(4, ...Buffer.from('{"Width":80,"Height":24}')));
      ws.send(Buffer.of(255, 0));
    }) as Session;
    t.equal(v5.protocol, 'v5.channel.k8s.io', 'v5 preferred');
    t.equal(text(v5, 1), 'ping\n', 'stdin echoed; [255,0] ended it');
    t.same(v5.status, { metadata: {}, status: 'Success' });

    const killed = await wsExec(c, q(['sh', '-c', 'kill -9 $$']), ['v5.channel.k8s.io']) as Session;
    t.same(killed.status.details.causes, [{ reason: 'ExitCode', message: '137' }], 'a signal is 128+n');

    const errs: { name: string; path: string; protocols: string[]; status: number; reason: string; field?: string; message: RegExp }[] = [
      { name: 'no supported subprotocol', path: q(['true']), protocols: ['v3.channel.k8s.io'], status: 400, reason: 'BadRequest', field: 'Sec-WebSocket-Protocol', message: /supported values: v5.channel.k8s.io, v4.channel.k8s.io/ },
      { name: 'missing command', path: '/api/v1/namespaces/default/pods/web/exec?container=app&stdout=true', protocols: ['v5.channel.k8s.io'], status: 400, reason: 'BadRequest', field: 'command', message: /command: Required value/ },
      { name: 'unknown container', path: q(['true']).replace('container=app', 'container=zz'), protocols: ['v5.channel.k8s.io'], status: 400, reason: 'BadRequest', field: 'container', message: /container zz is not valid for pod web/ },
      { name: 'unknown pod', path: '/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true', protocols: ['v5.channel.k8s.io'], status: 404, reason: 'NotFound', message: /pods "nope" not found/ },
    ];
    for (const e of errs) {
      const r = await wsExec(c, e.path, e.protocols) as { status: number; body: any };
      t.equal(r.status, e.status, `${e.name}: HTTP status`);
      t.equal(r.body.kind, 'Status');
      t.equal(r.body.reason, e.reason, `${e.name}: reason`);
      t.match(r.body.message, e.message, `${e.name}: message`);
      if (e.field) t.equal(r.body.details?.causes?.[0]?.field, e.field, `${e.name}: names the field`);
    }

    const anon = await new Promise<number>((resolve) => {
      const ws = new WebSocket(c.url.replace('https://', 'wss://') + q(['true']), ['v5.channel.k8s.io'], { ca: c.caPem });
      ws.on('unexpected-response', (_r, res) => resolve(res.statusCode!));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    t.equal(anon, 401, 'upgrades are authenticated like any request');

    const spdy = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = https.request(c.url + q(['true']), { method: 'POST', ca: c.caPem, headers: { authorization: `Bearer ${c.token}`, connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
      });
      req.on('upgrade', () => reject(new Error('SPDY upgrade accepted')));
      req.on('error', reject);
      req.end();
    });
    t.equal(spdy.status, 400, 'SPDY is answered with a Status, not dropped');
    t.match(spdy.body.message, /WebSocket only/);

    const agentDown = await wsExec(c, '/api/v1/namespaces/default/pods/ghost/exec?command=true&stdout=true', ['v5.channel.k8s.io']) as Session;
    t.match(agentDown.status, { status: 'Failure', reason: 'NotFound', message: 'pods "ghost" not found' }, 'an agent refusal arrives on the error channel');
  });

  // `shoal exec` streams like kubectl exec (issue 11): output as it comes, no 30 s request timeout, Ctrl-C ends it
  const shoalCli = new URL('../../cli/main.js', import.meta.url).pathname;
  const shoalExec = (args: string[]) => {
    const child = spawn(process.execPath, [shoalCli, '--kubeconfig', c.kubeconfigPath, 'exec', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const r = { t0: Date.now(), out: [] as { at: number; text: string }[], err: '', code: undefined as number | null | undefined };
    child.stdout!.on('data', (d) => r.out.push({ at: Date.now() - r.t0, text: String(d) }));
    child.stderr!.on('data', (d) => (r.err += d));
    const ended = new Promise<typeof r>((res) => child.on('close', (code) => res(Object.assign(r, { code }))));
    return { child, r, ended };
  };

  t.test('shoal exec streams the output as it comes', async (t) => {
    const { r, ended } = shoalExec(['web', '-c', 'app', '--', 'sh', '-c', 'echo first; sleep 4; echo second; echo bye >&2; exit 4']);
    await ended;
    const took = Date.now() - r.t0;
    t.equal(r.code, 4, `the command's exit code is ours (stderr: ${r.err})`);
    t.equal(r.out.map((o) => o.text).join(''), 'first\nsecond\n');
    t.equal(r.err, 'bye\n', 'stderr apart');
    t.ok(r.out[0] && r.out[0].at < took - 3_000, `the first line arrived as it was written (${r.out[0]?.at} ms), not when the command ended (${took} ms)`);
  });

  t.test('shoal exec: -i passes stdin; unknown pod; Ctrl-C ends the stream and the command', async (t) => {
    const cat = shoalExec(['-i', 'web', '-c', 'app', '--', 'cat']);
    cat.child.stdin!.end('from stdin\n');
    const rc = await cat.ended;
    t.same([rc.code, rc.out.map((o) => o.text).join('')], [0, 'from stdin\n'], `stdin reached the command (${rc.err})`);
    const none = await shoalExec(['nope', '--', 'true']).ended;
    t.equal(none.code, 1);
    t.match(none.err, /pods "nope" not found/);
    const before = spawned.length;
    const long = shoalExec(['web', '-c', 'app', '--', 'sh', '-c', 'echo started; sleep 120']);
    await Promise.race([new Promise<void>((res) => long.child.stdout!.once('data', () => res())), long.ended]);
    const pid = spawned[spawned.length - 1]!;
    t.ok(spawned.length > before, 'the stand-in agent started the command');
    long.child.kill('SIGINT');
    const timer = setTimeout(() => long.child.kill('SIGKILL'), 20_000);
    const ended = await long.ended;
    clearTimeout(timer);
    t.ok(ended.code !== null && Date.now() - ended.t0 < 20_000, `Ctrl-C ended shoal exec at once (exit ${ended.code}, ${ended.err})`);
    const gone = async () => {
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(-pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    t.ok(await gone(), 'and the agent killed the command (its process group is gone)');
  });
});

t.test('kubectl exec into a real pod (real agent, namespaces)', { skip: rootSkip() || noKubectl }, async (t) => {
  const env = await startAgentEnv(t, 91);
  await createPod(env, 'shell', { containers: [{ name: 'a', image: 'busybox', command: ['sleep', '600'] }, { name: 'b', image: 'busybox', command: ['sleep', '600'], workingDir: '/tmp' }] });
  await waitPod(env, 'shell', (p) => cs(p, 0)?.state?.running && cs(p, 1)?.state?.running);
  const c = env.cluster;
  const node = await env.client.get({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, env.cfg.nodeName);
  t.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, env.agent.port, 'the Node advertises the port the agent bound (--port 0)');
  const sep = await kubectl(c, ['exec', 'shell', '-c', 'a', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.equal(sep.code, 3, sep.stderr);
  t.equal(sep.stdout, 'out\n');
  t.match(sep.stderr, /^err\n/);
  const cat = await kubectl(c, ['exec', '-i', 'shell', '-c', 'a', '--', 'cat'], 'hello\n');
  t.equal(cat.code, 0, cat.stderr);
  t.equal(cat.stdout, 'hello\n');
  const inside = await kubectl(c, ['exec', 'shell', '-c', 'b', '--', 'sh', '-c', 'hostname; pwd']);
  t.equal(inside.code, 0, inside.stderr);
  t.equal(inside.stdout, 'shell\n/tmp\n', 'UTS namespace of the pod, workingDir of container b');
  const plain = await c.server.app.inject({ method: 'POST', url: '/api/v1/namespaces/default/pods/shell/exec?container=a&command=hostname', headers: { authorization: `Bearer ${c.token}` } });
  t.same(JSON.parse(plain.body), { exitCode: 0, stdout: 'shell\n', stderr: '' }, 'the non-interactive exec (shoal exec) still works');
  const nf = await kubectl(c, ['exec', 'absent', '--', 'true']);
  t.match(nf.stderr, /NotFound/);
});

t.test('shoal exec into a real pod: a command longer than 30 s completes, output streamed', { skip: rootSkip() }, async (t) => {
  const env = await startAgentEnv(t, 93);
  await createPod(env, 'long', { containers: [{ name: 'a', image: 'busybox', command: ['sleep', '600'] }] });
  await waitPod(env, 'long', (p) => cs(p, 0)?.state?.running);
  const cli = new URL('../../cli/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, '--kubeconfig', env.cluster.kubeconfigPath, 'exec', 'long', '--', 'sh', '-c', 'hostname; sleep 31; echo late'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = Date.now();
  let firstAt = -1;
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    if (firstAt < 0) firstAt = Date.now() - t0;
    out += d;
  });
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const took = Date.now() - t0;
  t.equal(code, 0, `no UND_ERR_HEADERS_TIMEOUT after 30 s (stderr: ${err})`);
  t.equal(out, 'long\nlate\n', 'the whole output, from inside the pod');
  t.ok(took >= 31_000 && firstAt >= 0 && firstAt < took - 25_000, `the first line came at ${firstAt} ms, the command ended at ${took} ms`);
});
