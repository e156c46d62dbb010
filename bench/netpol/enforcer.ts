// bench/netpol/enforcer: the fallback when `shoal up` does not run the policy enforcer (component
// `network-policy`) — start node/policy's main.js against the bench cluster ourselves, with its own table
// suffix and --cleanup-on-exit; stop it by the pid we started and delete its table even if it died.

import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;

/** A policy enforcer process started by the bench. */
export interface Enforcer {
  table: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the enforcer for `node`; resolves once it logged that it is ready (or rejects with its log). */
export async function startOwnEnforcer(kubeconfig: string, node: string): Promise<Enforcer> {
  const suffix = `nb${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
  const table = `shoal-policy-${suffix}`;
  const child = spawn(process.execPath, [join(root, 'dist', 'node', 'policy', 'main.js'), '--kubeconfig', kubeconfig, '--node-name', node, '--table-suffix', suffix, '--cleanup-on-exit'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    try {
      execFileSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
    } catch {
      /* already removed by --cleanup-on-exit */
    }
  };
  const end = Date.now() + 30_000;
  while (!log.includes('policy enforcer ready') && child.exitCode === null && Date.now() < end) await sleep(50);
  if (!log.includes('policy enforcer ready')) {
    await stop();
    throw new Error(`node/policy did not start:\n${log}`);
  }
  return { table, stop };
}
