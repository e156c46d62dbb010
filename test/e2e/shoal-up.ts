// A whole cluster for an end-to-end test: `shoal up` as a process with its own home, port, bridge,
// netns prefix, cgroup name, node name and pod /24 (so it runs beside other clusters), kubectl and
// shoal wrappers bound to its kubeconfig, and a teardown (registered by the caller with t.teardown)
// that runs `shoal down` and, if that fails, stops the process group it started.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
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

/** The per-test names a cluster runs under (beside other clusters on the host). */
export interface UpNames {
  bridge: string;
  netnsPrefix: string;
  cgroup: string;
  node: string;
}

/** A `shoal up` process. */
export interface UpProcess {
  up: ChildProcess;
  /** what it printed so far (stdout and stderr) */
  out(): string;
  /** waits for `The cluster is up` (or its exit) */
  ready(ms: number): Promise<void>;
  /** `shoal down`; if the process is still there, kills its process group and runs `shoal down` again (it reads run/scope.json) */
  stop(downTimeoutMs?: number): Promise<void>;
}

/** Starts `shoal up` in its own process group (so a failed teardown can stop all of it) under `names`. */
export function spawnUp(home: string, port: number, names: UpNames, podCidr: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): UpProcess {
  const up = spawn(process.execPath, [
    cli, 'up', '--home', home, '--port', String(port),
    '--bridge', names.bridge, '--netns-prefix', names.netnsPrefix, '--cgroup-name', names.cgroup, '--node-name', names.node,
    '--pod-cidr', podCidr, ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  return {
    up,
    out: () => out,
    ready: async (ms) => void (await waitFor('shoal up', async () => out.includes('The cluster is up') || up.exitCode !== null, ms)),
    async stop(downTimeoutMs = 60_000) {
      if (up.exitCode === null) await sh(process.execPath, [cli, 'down', '--home', home], { timeout: downTimeoutMs });
      if (up.exitCode === null) {
        try {
          process.kill(-up.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        await new Promise((r) => setTimeout(r, 500));
        await sh(process.execPath, [cli, 'down', '--home', home], { timeout: downTimeoutMs });
      }
    },
  };
}

/** Start `shoal up` with names derived from `tag` (short, lowercase) and a pod /24 at 10.244.`octet`.0. */
export async function shoalUp(tag: string, octet: number, extra: string[] = []): Promise<UpCluster> {
  await clearLeftovers(tag);
  const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  const names = { bridge: `s${tag.slice(0, 3)}${rand}b`, netnsPrefix: `shoalt-${tag}-${rand}-`, cgroup: `shoalt-${tag}-${rand}`, node: `shoalt-${tag}-${rand}` };
  const home = mkdtempSync(join(tmpdir(), `shoalt-${tag}-${rand}-`));
  const port = await freePort();
  const u = spawnUp(home, port, names, `10.244.${octet}.0/24`, extra);
  const opened: KubeClient[] = [];
  const close = async () => {
    for (const a of opened) await a.close();
    await u.stop();
    if (process.env.SHOAL_E2E_KEEP_LOGS) await sh('cp', ['-r', join(home, 'logs'), `${process.env.SHOAL_E2E_KEEP_LOGS}-${tag}`]);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await u.ready(90_000);
    if (u.up.exitCode !== null) throw new Error(`shoal up exited ${u.up.exitCode}: ${u.out()}`);
  } catch (e) {
    await close();
    throw e;
  }
  const kubeconfig = join(home, 'kubeconfig');
  const api = KubeClient.fromKubeconfig(kubeconfig);
  opened.push(api);
  const env = { ...process.env, HOME: home, KUBECACHEDIR: join(home, 'kcache') };
  return {
    home, kubeconfig, api, out: u.out, close,
    kubectl: (...args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, timeout: 120_000 }),
  };
}

/**
 * Moves the cluster's ingress (kube-system/shoal-ingress, host network) to free host ports, so that tests
 * running clusters side by side never reach another cluster's ingress on :80; resolves with the ports once
 * an ingress pod on them is Ready.
 */
export async function moveIngress(api: UpCluster['api'], free: () => Promise<number>, waitFor: <T>(what: string, fn: () => Promise<T | undefined | false>, ms: number) => Promise<T>): Promise<{ http: number; https: number }> {
  const [http, https, health] = [await free(), await free(), await free()];
  const base = '/spec/template/spec/containers/0';
  await api.patch({ apiVersion: 'apps/v1', plural: 'deployments', namespaced: true }, 'shoal-ingress', [
    { op: 'replace', path: `${base}/args`, value: ['--http-port', String(http), '--https-port', String(https), '--health-port', String(health)] },
    { op: 'replace', path: `${base}/ports`, value: [{ name: 'http', containerPort: http, protocol: 'TCP' }, { name: 'https', containerPort: https, protocol: 'TCP' }] },
    { op: 'replace', path: `${base}/readinessProbe/httpGet/port`, value: health },
    { op: 'replace', path: `${base}/livenessProbe/httpGet/port`, value: health },
  ] as any, { namespace: 'kube-system', type: 'json' });
  const ready = (p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
  await waitFor('ingress pod ready on its new ports', async () => (await api.list({ apiVersion: 'v1', plural: 'pods', namespaced: true }, { namespace: 'kube-system', labelSelector: 'app.kubernetes.io/name=shoal-ingress' })).items
    .find((p) => ready(p) && JSON.stringify((p as any).spec.containers[0].args).includes(String(http))), 120_000);
  return { http, https };
}
