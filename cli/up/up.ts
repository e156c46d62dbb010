// `shoal up`, `shoal down`, `shoal status`: run a local cluster in the foreground under the supervisor,
// stop it, and report each component's health. Today the cluster is the API server on the embedded store
// (or etcd); later capabilities add their components to `components()`.

import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';
import { Supervisor, type ComponentSpec, type SupervisorEvent } from './supervisor.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { ensurePki } from '../../control-plane/apiserver/pki.js';

const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings of `shoal up`. */
export interface UpConfig {
  home: string;
  store?: string;
  port: number;
  apply: string[];
}

/** Parse `shoal up` flags; every problem is reported. */
export function parseUpFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: UpConfig; problems: string[] } {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { home: { type: 'string' }, store: { type: 'string' }, port: { type: 'string' }, apply: { type: 'string', multiple: true } },
      strict: true,
    }));
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const problems: string[] = [];
  const portText = (values.port as string | undefined) ?? '6443';
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) problems.push(`--port: must be an integer between 1 and 65535, got ${JSON.stringify(portText)}`);
  const apply = (values.apply as string[] | undefined) ?? [];
  for (const a of apply) if (!existsSync(a)) problems.push(`--apply: ${a}: no such file or directory`);
  if (problems.length) return { problems };
  return { config: { home: (values.home as string | undefined) ?? env.SHOAL_HOME ?? '/var/lib/shoal', ...(values.store ? { store: values.store as string } : {}), port: Number(portText), apply }, problems };
}

function pidFile(home: string): string {
  return join(home, 'run', 'up.pid');
}

function agentFor(home: string): Agent {
  return new Agent({ connect: { ca: ensurePki(home).caCertPem } });
}

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** Health ports: Kubernetes' defaults for the default API port, free ones otherwise (side-by-side runs). */
async function healthPorts(c: UpConfig): Promise<{ controllers: number; scheduler: number }> {
  if (c.port === 6443) return { controllers: 10257, scheduler: 10259 };
  return { controllers: await freePort(), scheduler: await freePort() };
}

const httpOk = async (url: string) => {
  const r = await request(url);
  await r.body.dump();
  return r.statusCode === 200;
};

/** The components of the cluster, in start order. */
function components(c: UpConfig, agent: Agent, kubeconfig: string, ports: { controllers: number; scheduler: number }): ComponentSpec[] {
  const url = `https://127.0.0.1:${c.port}`;
  const env = { ...process.env, SHOAL_HOME: c.home };
  return [
    {
      name: 'apiserver',
      command: process.execPath,
      args: [join(distRoot, 'control-plane', 'apiserver', 'main.js'), '--home', c.home, '--secure-port', String(c.port), ...(c.store ? ['--store', c.store] : [])],
      ready: async () => (await request(`${url}/readyz`, { dispatcher: agent })).statusCode === 200,
      readyTimeoutMs: 30_000,
    },
    {
      name: 'controller-manager',
      command: process.execPath,
      args: [join(distRoot, 'control-plane', 'controllers', 'main.js'), '--kubeconfig', kubeconfig, '--api-server-url', url, '--health-port', String(ports.controllers), '--bind-address', '127.0.0.1'],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.controllers}/healthz`),
    },
    {
      name: 'scheduler',
      command: process.execPath,
      args: [join(distRoot, 'control-plane', 'scheduler', 'main.js'), '--kubeconfig', kubeconfig, '--health-port', String(ports.scheduler), '--bind-address', '127.0.0.1'],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.scheduler}/healthz`),
    },
  ];
}

function report(e: SupervisorEvent, out: NodeJS.WritableStream): void {
  if (e.type === 'starting') out.write(`  … starting ${e.name}\n`);
  else if (e.type === 'ready') out.write(`  ✔ ${e.name} ready in ${(e.ms / 1000).toFixed(1)}s (pid ${e.pid})\n`);
  else if (e.type === 'exited') out.write(`  ✖ ${e.name} exited (${e.signal ?? `code ${e.code}`}); restarting in ${e.restartInMs / 1000}s\n`);
  else out.write(`  ■ ${e.name} stopped\n`);
}

/** `shoal up`: start, apply, print how to reach the cluster, run until SIGINT/SIGTERM. */
export async function runUp(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { config: c, problems } = parseUpFlags(argv);
  if (!c) {
    for (const p of problems) err.write(`shoal up: ${p}\n`);
    return 64;
  }
  mkdirSync(join(c.home, 'run'), { recursive: true });
  const pf = pidFile(c.home);
  if (existsSync(pf)) {
    const pid = Number(readFileSync(pf, 'utf8'));
    if (pid && isAlive(pid)) {
      err.write(`shoal up: a cluster is already running from ${c.home} (pid ${pid}); run 'shoal down' first\n`);
      return 1;
    }
  }
  writeFileSync(pf, String(process.pid));
  out.write(`Starting Shoal in ${c.home}\n`);
  ensurePki(c.home);
  const agent = agentFor(c.home);
  const sup = new Supervisor(join(c.home, 'logs'), (e) => report(e, out));
  let code = 0;
  const stop = new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
  });
  try {
    const kubeconfig = join(c.home, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml({ home: c.home, server: `https://127.0.0.1:${c.port}` }), { mode: 0o600 });
    const ports = await healthPorts(c);
    writeFileSync(join(c.home, 'run', 'ports.json'), JSON.stringify({ apiserver: c.port, ...ports }));
    for (const spec of components(c, agent, kubeconfig, ports)) await sup.start(spec);
    for (const dir of c.apply) {
      out.write(`  … applying ${dir}\n`);
      const rc = await runCli(['apply', '-R', '-f', dir, '--kubeconfig', kubeconfig], out, err);
      if (rc !== 0) {
        err.write(`shoal up: applying ${dir} failed\n`);
        code = 1;
      }
    }
    out.write(`\nThe cluster is up. Reach it with:\n  export KUBECONFIG=${kubeconfig}\n  shoal get all -A        (or kubectl get all -A)\nStop it with Ctrl-C or 'shoal down --home ${c.home}'. Logs: ${join(c.home, 'logs')}\n`);
    await stop;
    out.write('\nStopping…\n');
  } catch (e) {
    err.write(`shoal up: ${(e as Error).message}\n`);
    code = 1;
  } finally {
    await sup.stopAll();
    await agent.close();
    rmSync(pf, { force: true });
    rmSync(join(c.home, 'run', 'ports.json'), { force: true });
  }
  return code;
}

function runCli(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(distRoot, 'cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => out.write(`    ${String(d).trimEnd().replace(/\n/g, '\n    ')}\n`));
    child.stderr.on('data', (d) => err.write(d));
    child.on('exit', (code) => res(code ?? 1));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `shoal down`: stop the cluster started by `shoal up` from this state dir, by its recorded PID. */
export async function runDown(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { home: { type: 'string' } }, strict: true });
  const home = (values.home as string | undefined) ?? process.env.SHOAL_HOME ?? '/var/lib/shoal';
  const pf = pidFile(home);
  if (!existsSync(pf)) {
    out.write(`No cluster is running from ${home}.\n`);
    return 0;
  }
  const pid = Number(readFileSync(pf, 'utf8'));
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  if (!pid || !cmdline.includes('up')) {
    rmSync(pf, { force: true });
    out.write(`No cluster is running from ${home} (stale pid file removed).\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    err.write(`shoal down: pid ${pid} did not stop in 30s\n`);
    return 1;
  }
  out.write(`Stopped the cluster in ${home}.\n`);
  return 0;
}

/** `shoal status`: each component's health. */
export async function runStatus(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { home: { type: 'string' }, port: { type: 'string' } }, strict: true });
  const home = (values.home as string | undefined) ?? process.env.SHOAL_HOME ?? '/var/lib/shoal';
  const port = Number((values.port as string | undefined) ?? '6443');
  if (!existsSync(join(home, 'pki', 'ca.crt'))) {
    out.write(`No cluster state in ${home}.\n`);
    return 1;
  }
  const agent = agentFor(home);
  let healthy = true;
  const pf = join(home, 'run', 'ports.json');
  const ports = existsSync(pf) ? (JSON.parse(readFileSync(pf, 'utf8')) as Record<string, number>) : {};
  const checks: [string, string][] = [['apiserver', `https://127.0.0.1:${port}/readyz`]];
  if (ports.controllers) checks.push(['controller-manager', `http://127.0.0.1:${ports.controllers}/healthz`]);
  if (ports.scheduler) checks.push(['scheduler', `http://127.0.0.1:${ports.scheduler}/healthz`]);
  for (const [name, target] of checks) {
    let state: string;
    try {
      const r = await request(target, { dispatcher: agent, headersTimeout: 3000 });
      state = r.statusCode === 200 ? 'ok' : `unhealthy (${r.statusCode})`;
      await r.body.dump();
    } catch (e) {
      state = `down (${(e as Error).message})`;
    }
    if (state !== 'ok') healthy = false;
    out.write(`${name.padEnd(20)} ${state}\n`);
  }
  await agent.close();
  return healthy ? 0 : 1;
}
