// A real etcd for tests: starts `/usr/bin/etcd` (Debian's etcd-server) on free 127.0.0.1 ports with a
// temporary data dir, waits until it answers /health, and in teardown kills it by its PID and removes the
// dir. Exported for every test that needs etcd (the store's, the API server's).
//
//   const etcd = await startEtcd(t);          // skips nothing itself: check etcdMissing() first
//   const store = openEtcdStore(etcd.hosts);

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
export { freePort } from '../../lib/serve/serve.js';
import { freePort } from '../../lib/serve/serve.js';

/** Where the etcd binary is looked for; SHOAL_ETCD overrides. */
export const ETCD_BIN = process.env.SHOAL_ETCD ?? '/usr/bin/etcd';

/** A running etcd. */
export interface EtcdFixture {
  /** 'http://127.0.0.1:<port>' */
  endpoint: string;
  /** [endpoint], as openEtcdStore takes it */
  hosts: string[];
  /** the `--store` flag value naming it: 'etcd://127.0.0.1:<port>' */
  spec: string;
  /** the running etcd's PID (changes on restart) */
  readonly pid: number;
  dataDir: string;
  /** Kill etcd (by PID) and remove its data dir. Idempotent. */
  stop(): Promise<void>;
  /** Kill etcd with SIGKILL and start it again on the same ports and data dir; resolves when healthy. */
  restart(): Promise<void>;
}

/** Null when etcd can run here, else why not (for `t.skip`-style messages). */
export function etcdMissing(): string | null {
  try {
    accessSync(ETCD_BIN, constants.X_OK);
    return null;
  } catch {
    return `etcd not found at ${ETCD_BIN} (apt-get install etcd-server, or set SHOAL_ETCD); skipping etcd tests`;
  }
}

/** Minimal teardown registrar (tap's `t` fits). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Start etcd and register its removal with `t.teardown` (when given). Rejects, having cleaned up, if it
 * does not answer within `timeoutMs`.
 */
export async function startEtcd(t?: Teardown, opts: { timeoutMs?: number } = {}): Promise<EtcdFixture> {
  const name = `shoalt-store-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    `--initial-cluster-state=new`,
    '--logger=zap',
    '--log-level=error',
  ];
  let stderr = '';
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = () => {
    child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const c = child;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  const waitHealthy = async () => {
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    throw new Error(`etcd on ${endpoint} did not become healthy (exit ${child.exitCode ?? child.signalCode}); stderr: ${stderr}`);
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
  };
  launch();
  t?.teardown(stop);
  const fixture: EtcdFixture = {
    endpoint,
    hosts: [endpoint],
    spec: `etcd://127.0.0.1:${clientPort}`,
    get pid() {
      return child.pid ?? -1;
    },
    dataDir,
    stop,
    async restart() {
      await kill();
      launch();
      await waitHealthy();
    },
  };
  await waitHealthy();
  return fixture;
}
