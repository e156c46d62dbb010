// Shared helpers of the root-only CNI tests: a per-test prefix, async process runs (the daemon
// under test lives in the same event loop, so nothing may block it), namespaces that clean
// themselves up, the plugins installed into a temp dir, and snapshots of host network state.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { installCni } from '../../cni/install.js';
import { startCniDaemon } from '../../cni/daemon/server.js';

/** Whether the root-only tests can run, or why not. */
export function rootSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, links, nftables); CI runs as root';
  return false;
}

/** A short random tag for names (interface names are at most 15 characters). */
export function rand4(): string {
  return Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function sh(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Creates a netns removed at teardown; returns its name and path. */
export async function netns(t: Test, name: string): Promise<{ name: string; path: string }> {
  const r = await sh('ip', ['netns', 'add', name]);
  if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  t.teardown(() => sh('ip', ['netns', 'del', name]).then(() => undefined));
  return { name, path: `/run/netns/${name}` };
}

/** Deletes a host link at teardown (bridges the plugins create). */
export function removeLinkAtEnd(t: Test, name: string): void {
  t.teardown(() => sh('ip', ['link', 'del', name]).then(() => undefined));
}

/** A temp dir with the plugins installed (shim built against this checkout) and a daemon socket path. */
export function installTmp(t: Test, prefix: string): { dir: string; bin: string; socket: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const socket = join(dir, 'cni.sock');
  installCni({ binDir: bin, confDir: join(dir, 'net.d'), socket, ipMasq: false });
  return { dir, bin, socket, data: join(dir, 'data') };
}

/** Starts the daemon on `socket` for the duration of the test. */
export async function daemon(t: Test, socket: string): Promise<void> {
  const d = await startCniDaemon(socket);
  t.teardown(() => d.close());
}

/** Runs an installed plugin executable the way a runtime does. */
export async function cni(
  file: string,
  cmd: string,
  conf: object | string,
  env: Record<string, string>,
): Promise<{ code: number; json: any; stderr: string }> {
  const r = await sh(file, [], {
    input: typeof conf === 'string' ? conf : JSON.stringify(conf),
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: cmd, ...env },
  });
  let json: any;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = { unparsable: r.stdout };
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** Host network state that a pod's wiring could leave behind. */
export async function snapshot(dataDirs: string[] = []): Promise<Record<string, string[]>> {
  const lines = async (cmd: string, args: string[]) => (await sh(cmd, args)).stdout.split('\n').map((l) => l.replace(/\s+$/, '')).filter(Boolean);
  const files: string[] = [];
  for (const d of dataDirs) {
    try {
      for (const n of readdirSync(d, { recursive: true }) as string[]) files.push(join(d, n));
    } catch {
      /* absent */
    }
  }
  return {
    links: (await lines('ip', ['-o', 'link'])).map((l) => l.replace(/^\d+: /, '').split(' ')[0]),
    addrs: (await lines('ip', ['-o', 'addr'])).map((l) => l.replace(/^\d+: /, '').replace(/\s+valid_lft.*$/, '')),
    routes: [...(await lines('ip', ['route'])), ...(await lines('ip', ['-6', 'route']))],
    nft: await lines('nft', ['list', 'ruleset']),
    files: files.sort(),
  };
}

/** A TCP echo server inside a netns (a child process stopped by pid at teardown). */
export async function echoServer(t: Test, ns: string, ip: string, port: number): Promise<void> {
  const code = `require('net').createServer(s=>s.pipe(s)).listen(${port},'${ip}',()=>console.log('up'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null && child.pid) process.kill(child.pid);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`echo server in ${ns} exited with ${c}`)));
  });
}

/** Connects from inside a netns (or from the host when ns is '') and returns what came back. */
export async function echoClient(ns: string, ip: string, port: number, msg: string): Promise<string> {
  const code = `const s=require('net').connect(${port},'${ip}',()=>s.end('${msg}'));let b='';s.on('data',d=>b+=d);s.on('close',()=>{process.stdout.write(b);process.exit(0)});s.on('error',e=>{console.error(e.message);process.exit(2)});setTimeout(()=>process.exit(3),3000).unref()`;
  const r = ns ? await sh('ip', ['netns', 'exec', ns, process.execPath, '-e', code]) : await sh(process.execPath, ['-e', code]);
  return r.code === 0 ? r.stdout : `failed(${r.code}): ${r.stderr.trim()}`;
}
