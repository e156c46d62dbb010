// Two "pods" in real network namespaces for the sidecar tests: A (client) and B (server) joined by a veth
// (10.213.<k>.2 ⇄ .3, the pod network), each with a /30 link to the root namespace (where the test, its
// CA and its plaintext/garbage clients live), the capture table from the inject helper's generator
// (sidecar/init), and sidecar processes run as UID 1337 with `ip netns exec … setpriv`. Every namespace,
// link, process and file is removed in teardown, and the prefix's leftovers at start.
/** Anything that runs cleanups at the end (a tap Test, or the benchmark's own list). */
export interface Teardown { teardown(fn: () => unknown): void }
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseInitFlags } from '../../sidecar/init/flags.js';
import { captureRuleset } from '../../sidecar/init/rules.js';
import type { AuthzPolicy, StaticConfigFile } from '../../proxy/config/types.js';
import { startCaServer, makeCa, type CaServer } from './ca.js';
import { waitFor } from '../wait.js';

/** A test pod. */
export interface Pod {
  ns: string;
  /** Address on the pod network (A ⇄ B). */
  ip: string;
  /** Pod-side address of its link to the root namespace (reachable from the test). */
  rootIp: string;
  /** Root-side address of that link (the CA, as the pod sees it). */
  hostIp: string;
}

/** Both pods and the CA. */
export interface MeshNet {
  a: Pod;
  b: Pod;
  ca: CaServer;
  dir: string;
  rootFile: string;
  tokenFile(sa: string): string;
}

export const isRoot = process.getuid?.() === 0;
export const rootSkip = isRoot ? false : 'needs root (network namespaces, nftables)';
const REPO = resolve(import.meta.dirname, '..', '..', '..');

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
function quiet(cmd: string, args: string[]): void {
  try { sh(cmd, args); } catch { /* cleanup of what may not exist */ }
}

/** Removes every namespace and root link named with `prefix`. */
export function cleanPrefix(prefix: string): void {
  for (const line of sh('ip', ['netns', 'list']).split('\n')) {
    const n = line.split(' ')[0];
    if (n && n.startsWith(`${prefix}-`)) quiet('ip', ['netns', 'del', n]);
  }
  for (const line of sh('ip', ['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+: ([^:@]+)/.exec(line);
    if (m && m[1].startsWith(`${prefix}-`)) quiet('ip', ['link', 'del', m[1]]);
  }
}

/** The capture table of the contract (-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020), plus excluded ports. */
export function captureText(excludePorts: number[] = []): string {
  const ex = excludePorts.length ? [',' + excludePorts.join(','), ['-o', excludePorts.join(',')]] as const : ['', []] as const;
  const { flags, errors } = parseInitFlags(['-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', `15090,15021,15020${ex[0]}`, ...ex[1]]);
  if (!flags) throw new Error(errors.join('; '));
  return captureRuleset(flags.settings);
}

/** Builds the two pods (subnet index k: 10.213.k.0/24 pod network, 10.214.k.0/29 root links) and the CA. */
export async function meshNet(t: Teardown, prefix: string, k: number, opts: { capture?: boolean; excludePorts?: number[] } = {}): Promise<MeshNet> {
  cleanPrefix(prefix);
  t.teardown(() => cleanPrefix(prefix));
  const a: Pod = { ns: `${prefix}-a`, ip: `10.213.${k}.2`, rootIp: `10.214.${k}.2`, hostIp: `10.214.${k}.1` };
  const b: Pod = { ns: `${prefix}-b`, ip: `10.213.${k}.3`, rootIp: `10.214.${k}.6`, hostIp: `10.214.${k}.5` };
  for (const p of [a, b]) {
    sh('ip', ['netns', 'add', p.ns]);
    sh('ip', ['-n', p.ns, 'link', 'set', 'lo', 'up']);
  }
  sh('ip', ['link', 'add', `${prefix}-pa`, 'netns', a.ns, 'type', 'veth', 'peer', 'name', `${prefix}-pb`, 'netns', b.ns]);
  for (const [p, dev] of [[a, `${prefix}-pa`], [b, `${prefix}-pb`]] as const) {
    sh('ip', ['-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', dev]);
    sh('ip', ['-n', p.ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', p.ns, 'route', 'add', 'default', 'dev', dev]);
    const host = `${prefix}-h${p === a ? 'a' : 'b'}`;
    sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', `${prefix}-r`, 'netns', p.ns]);
    sh('ip', ['addr', 'add', `${p.hostIp}/30`, 'dev', host]);
    sh('ip', ['link', 'set', host, 'up']);
    sh('ip', ['-n', p.ns, 'addr', 'add', `${p.rootIp}/30`, 'dev', `${prefix}-r`]);
    sh('ip', ['-n', p.ns, 'link', 'set', `${prefix}-r`, 'up']);
    if (opts.capture !== false) sh('ip', ['netns', 'exec', p.ns, 'nft', '-f', '-'], captureText(opts.excludePorts));
  }
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeCa();
  const rootFile = join(dir, 'root-cert.pem');
  writeFileSync(rootFile, ca.certPem, { mode: 0o644 });
  const tokens: Record<string, string> = {};
  for (const sa of ['client', 'server', 'other']) tokens[`token-${sa}`] = `spiffe://cluster.local/ns/foo/sa/${sa}`;
  const server = await startCaServer(ca, [a.hostIp, b.hostIp], tokens);
  t.teardown(() => server.close());
  return {
    a, b, ca: server, dir, rootFile,
    tokenFile(sa: string) {
      const f = join(dir, `token-${sa}`);
      writeFileSync(f, `token-${sa}`, { mode: 0o644 });
      return f;
    },
  };
}

/** A process in a pod; killed (by its PID) in teardown. */
export interface PodProcess {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs `args` in `pod`'s namespace (as UID 1337 when `uid1337`). */
export function runInPod(t: Teardown, pod: Pod, args: string[], opts: { uid1337?: boolean; env?: NodeJS.ProcessEnv; ulimitN?: number; stdin?: boolean } = {}): PodProcess {
  let cmd = ['ip', 'netns', 'exec', pod.ns];
  if (opts.ulimitN) cmd = [...cmd, 'prlimit', `--nofile=${opts.ulimitN}:${opts.ulimitN}`, '--'];
  if (opts.uid1337) cmd = [...cmd, 'setpriv', '--reuid=1337', '--regid=1337', '--clear-groups', '--'];
  // Not tap's NODE_OPTIONS (its process-info hook writes under .tap/, which UID 1337 cannot).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TAP')));
  const proc = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd: REPO, env: { ...env, ...opts.env }, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; if (process.env.SHOAL_DEBUG) process.stderr.write(d); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  t.teardown(stop);
  return { proc, out: () => out, err: () => err, exited, stop };
}

/** Waits until `fn` returns truthy (polling), or throws after `ms`: test/wait.ts's `waitFor`. */
export const until = waitFor;

/** GET http://host:port/path from the root namespace → {status, body}. */
export async function httpGet(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/** Options of a test sidecar. */
export interface SidecarOpts {
  sa: 'client' | 'server' | 'other';
  config: StaticConfigFile;
  tunnel?: 'hbone' | 'tls';
  ttl?: string;
  ulimitN?: number;
  fdReserve?: number;
  name?: string;
  /** the build to run (default `dist`; the benchmark's before/after mode passes another build's dist) */
  dist?: string;
  /** node flags (default `--max-semi-space-size=2`, as the shoal/sidecar image) */
  nodeArgs?: string[];
  /** extra environment (e.g. POD_NAME, ISTIO_META_WORKLOAD_NAME as the injector sets them) */
  env?: NodeJS.ProcessEnv;
}

/** A running test sidecar. */
export interface TestSidecar extends PodProcess {
  configFile: string;
  setConfig(c: StaticConfigFile): void;
}

/** Starts a sidecar in `pod` (UID 1337, static config file, the test CA) and waits until it is ready. */
export async function startTestSidecar(t: Teardown, net: MeshNet, pod: Pod, o: SidecarOpts): Promise<TestSidecar> {
  const configFile = join(net.dir, `${o.name ?? pod.ns}.json`);
  const setConfig = (c: StaticConfigFile): void => {
    writeFileSync(`${configFile}.tmp`, JSON.stringify(c), { mode: 0o644 });
    execFileSync('mv', [`${configFile}.tmp`, configFile]);
  };
  setConfig(o.config);
  // as the shoal/sidecar image runs it (MESH-CONTRACT.md)
  const p = runInPod(t, pod, [process.execPath, ...(o.nodeArgs ?? ['--max-semi-space-size=2']), `${o.dist ?? 'dist'}/sidecar/main.js`, '--config-file', configFile,
    '--root-cert-file', net.rootFile, '--token-file', net.tokenFile(o.sa), '--ca-addr', `${pod.hostIp}:${net.ca.port}`,
    ...(o.fdReserve !== undefined ? ['--fd-reserve', String(o.fdReserve)] : [])], {
    uid1337: true, ulimitN: o.ulimitN,
    env: { POD_NAME: `${o.sa}-0`, POD_NAMESPACE: 'foo', SERVICE_ACCOUNT: o.sa, INSTANCE_IP: pod.ip, SHOAL_TUNNEL: o.tunnel ?? 'hbone', SHOAL_CERT_TTL: o.ttl ?? '1h', ...o.env },
  });
  await Promise.race([
    until(`sidecar in ${pod.ns} ready`, async () => (await httpGet(pod.rootIp, 15021, '/healthz/ready')).status === 200),
    p.exited.then((c) => { throw new Error(`sidecar exited ${c}: ${p.err()}`); }),
  ]);
  return { ...p, configFile, setConfig };
}

/** Static config: `server` Service (VIP 10.215.<k>.10:80 → B:9000, mesh or not) seen from either side. */
export function meshConfig(net: MeshNet, k: number, self: 'a' | 'b', o: { serverMesh?: boolean; mode?: string; portModes?: Record<string, string>; authorization?: AuthzPolicy[] } = {}): StaticConfigFile {
  const me = self === 'a' ? net.a : net.b;
  const sa = self === 'a' ? 'client' : 'server';
  return {
    services: [{ name: 'server', namespace: 'foo', hostname: 'server.foo.svc.cluster.local', vips: [`10.215.${k}.10`], ports: [{ name: 'tcp-echo', port: 80, targetPort: 9000, protocol: 'TCP', appProtocol: '' }] }],
    endpoints: [{ service: 'foo/server', endpoints: [{
      address: net.b.ip, ports: [{ name: 'tcp-echo', port: 9000 }], podName: 'server-0', namespace: 'foo', serviceAccount: 'server',
      identity: 'spiffe://cluster.local/ns/foo/sa/server', mesh: o.serverMesh !== false, labels: { app: 'server' }, ready: true,
    }] }],
    workload: {
      name: `${sa}-0`, namespace: 'foo', serviceAccount: sa, identity: `spiffe://cluster.local/ns/foo/sa/${sa}`, ip: me.ip, labels: { app: sa },
      peerAuthentication: { mode: o.mode ?? 'STRICT', portModes: o.portModes ?? {}, sources: [] },
      authorization: o.authorization ?? [],
    },
  };
}

/** An echo app on `port` in `pod` (replies to each chunk with the same bytes); `bulk` port sends N bytes on "BULK n\n". */
export function startEchoApp(t: Teardown, pod: Pod, port: number): PodProcess {
  const code = `const net=require('net');net.createServer({allowHalfOpen:true},s=>{s.on('error',()=>{});s.pipe(s)}).listen(${port},'0.0.0.0',()=>console.log('up'))`;
  return runInPod(t, pod, [process.execPath, '-e', code]);
}
