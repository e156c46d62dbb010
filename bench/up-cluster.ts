// A cluster from `shoal up` for benchmarks: its own state dir, loopback port, bridge, netns prefix, cgroup
// and pod /24, started in its own process group; `stop()` runs `shoal down` and, if that fails, stops the
// whole group and lets `down` clean the host from the recorded scope. Root only.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../api/client/index.js';
export { freePort } from '../lib/serve/serve.js';
import { freePort } from '../lib/serve/serve.js';

const root = new URL('../..', import.meta.url).pathname;
/** The compiled CLI. */
export const cli = join(root, 'dist', 'cli', 'main.js');

/** A running cluster. */
export interface UpCluster {
  home: string;
  api: KubeClient;
  up: ChildProcess;
  /** what `shoal up` printed so far */
  output(): string;
  stop(): Promise<void>;
}

/** Start `shoal up` with `extra` flags; `octet` picks the pod range 10.244.<octet>.0/24. */
export async function upCluster(name: string, octet: number, extra: string[] = []): Promise<UpCluster> {
  const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const home = mkdtempSync(join(tmpdir(), `shoalb-${name}-${tag}-`));
  const port = await freePort();
  const up = spawn(process.execPath, [
    cli, 'up', '--home', home, '--port', String(port), '--bridge', `sb${tag}br`, '--netns-prefix', `shoalb-${tag}-`,
    '--cgroup-name', `shoalb-${tag}`, '--node-name', `shoalb-${tag}`, '--pod-cidr', `10.244.${octet}.0/24`, ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    try {
      execFileSync(process.execPath, [cli, 'down', '--home', home], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      /* handled below */
    }
    if (up.exitCode === null) {
      try {
        process.kill(-up.pid!, 'SIGKILL'); // the group we started
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 300));
      execFileSync(process.execPath, [cli, 'down', '--home', home], { stdio: 'ignore' });
    }
    rmSync(home, { recursive: true, force: true });
  };
  const end = Date.now() + 60_000;
  while (!out.includes('The cluster is up') && up.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  if (!out.includes('The cluster is up')) {
    await stop();
    throw new Error(`shoal up failed:\n${out}`);
  }
  const api = KubeClient.fromKubeconfig(join(home, 'kubeconfig'));
  return {
    home, api, up, output: () => out,
    async stop() {
      await api.close().catch(() => undefined);
      await stop();
    },
  };
}
