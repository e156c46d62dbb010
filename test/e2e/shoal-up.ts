// A whole cluster for an end-to-end test: `shoal up` as a process with its own home, port, bridge,
// netns prefix, cgroup name, node name and pod /24 (so it runs beside other clusters), kubectl and
// shoal wrappers bound to its kubeconfig, and a teardown (registered by the caller with t.teardown)
// that runs `shoal down` and, if that fails, stops the process group it started.

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../api/client/index.js';
import { waitFor } from '../wait.js';
import { freePort } from '../../lib/serve/serve.js';

const root = new URL('../../..', import.meta.url).pathname;
export const cli = join(root, 'dist', 'cli', 'main.js');

/** Skip reason when not root. */
export const rootSkip = process.getuid?.() !== 0 ? 'needs root (network namespaces, bridge, cgroups); CI runs as root' : false;

/** Run a command; never throws. */
export function sh(cmd: string, args: string[], o: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => execFile(cmd, args, { timeout: o.timeout ?? 60_000, env: o.env ?? process.env }, (err, stdout, stderr) => res({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })));
}

/** A running cluster. */
export interface UpCluster {
  home: string;
  kubeconfig: string;
  api: KubeClient;
  out(): string;
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** Leftovers of an earlier run of this test that died before its teardown: `shoal down` them (only homes older than 15 min, so a concurrent run is left alone). */
async function clearLeftovers(tag: string): Promise<void> {
  for (const d of readdirSync(tmpdir())) {
    if (!d.startsWith(`shoalt-${tag}-`)) continue;
    const home = join(tmpdir(), d);
    try {
      if (Date.now() - statSync(home).mtimeMs < 15 * 60_000) continue;
    } catch {
      continue;
    }
    await sh(process.execPath, [cli, 'down', '--home', home]);
    rmSync(home, { recursive: true, force: true });
  }
}

/** Start `shoal up` with names derived from `tag` (short, lowercase) and a pod /24 at 10.244.`octet`.0. */
export async function shoalUp(tag: string, octet: number, extra: string[] = []): Promise<UpCluster> {
  await clearLeftovers(tag);
  const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const names = { bridge: `s${tag.slice(0, 3)}${rand}b`, netnsPrefix: `shoalt-${tag}-${rand}-`, cgroup: `shoalt-${tag}-${rand}`, node: `shoalt-${tag}-${rand}` };
  const home = mkdtempSync(join(tmpdir(), `shoalt-${tag}-${rand}-`));
  const port = await freePort();
  const up = spawn(process.execPath, [
    cli, 'up', '--home', home, '--port', String(port),
    '--bridge', names.bridge, '--netns-prefix', names.netnsPrefix, '--cgroup-name', names.cgroup, '--node-name', names.node,
    '--pod-cidr', `10.244.${octet}.0/24`, ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  up.stdout.on('data', (d) => (out += d));
  up.stderr.on('data', (d) => (out += d));
  const opened: KubeClient[] = [];
  const close = async () => {
    for (const a of opened) await a.close();
    if (up.exitCode === null) await sh(process.execPath, [cli, 'down', '--home', home]);
    if (up.exitCode === null) {
      try {
        process.kill(-up.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 500));
      await sh(process.execPath, [cli, 'down', '--home', home]);
    }
    if (process.env.SHOAL_E2E_KEEP_LOGS) await sh('cp', ['-r', join(home, 'logs'), `${process.env.SHOAL_E2E_KEEP_LOGS}-${tag}`]);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitFor('shoal up', async () => out.includes('The cluster is up') || up.exitCode !== null, 90_000);
    if (up.exitCode !== null) throw new Error(`shoal up exited ${up.exitCode}: ${out}`);
  } catch (e) {
    await close();
    throw e;
  }
  const kubeconfig = join(home, 'kubeconfig');
  const api = KubeClient.fromKubeconfig(kubeconfig);
  opened.push(api);
  const env = { ...process.env, HOME: home, KUBECACHEDIR: join(home, 'kcache') };
  return {
    home, kubeconfig, api, out: () => out, close,
    kubectl: (...args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, timeout: 120_000 }),
  };
}
