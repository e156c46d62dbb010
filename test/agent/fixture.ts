// A real API server plus a real node agent in-process, for the root-only agent tests: CNI plugins
// installed into a temp dir (shim against this checkout, conflist with a per-test bridge, subnet and
// IPAM data dir), the agent's embedded CNI daemon on a temp socket, netns/cgroup names with a
// per-test prefix. `close()` (registered with t.teardown) stops every pod and removes all of it.

import { waitFor } from '../wait.js';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { startCluster, type TestCluster } from '../client/fixture.js';
import { installCni } from '../../cni/install.js';
import { startAgent, type Agent, type AgentSeams } from '../../node/agent/agent.js';
import type { AgentConfig } from '../../node/agent/config.js';
import { realOs } from '../../node/agent/os.js';
import type { KubeClient } from '../../api/client/client.js';

/** Whether the root-only tests can run, or why not. */
export function rootSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, CNI, cgroups, mounts); CI runs as root';
  return false;
}

export const rand4 = () => Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');

/** Where each run records what it made, so a later run can remove what a killed run left behind. */
const OWNERS = '/run/shoal/test-owners';

/** Records a host object (`netns-prefix X`, `link X`, `nft-table X`) made by this process's run `tag`. */
export function recordOwned(tag: string, what: string): void {
  mkdirSync(OWNERS, { recursive: true });
  appendFileSync(join(OWNERS, `agent-${tag}`), `${what}\n`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes what earlier runs of this fixture left when they were killed before their teardown (a tap
 * timeout, SIGKILL): for each owner record whose process is gone, the processes inside its network
 * namespaces (its own pods), the namespaces, its links and nftables tables, then the record.
 */
async function sweepDeadRuns(): Promise<void> {
  let files: string[] = [];
  try {
    files = readdirSync(OWNERS).filter((f) => f.startsWith('agent-'));
  } catch {
    return;
  }
  const netns = (await realOs.run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  for (const f of files) {
    const lines = readFileSync(join(OWNERS, f), 'utf8').split('\n').filter(Boolean);
    const pid = Number(lines.find((l) => l.startsWith('pid '))?.slice(4));
    if (!pid || alive(pid)) continue;
    for (const l of lines) {
      const [kind, name] = l.split(' ') as [string, string];
      if (kind === 'netns-prefix') {
        for (const n of netns.filter((x) => x.startsWith(name))) {
          for (const p of (await realOs.run('ip', ['netns', 'pids', n])).stdout.split('\n').filter(Boolean)) {
            try {
              process.kill(Number(p), 'SIGKILL');
            } catch {
              /* gone */
            }
          }
          await realOs.run('ip', ['netns', 'del', n]);
        }
      } else if (kind === 'link') await realOs.run('ip', ['link', 'del', name]);
      else if (kind === 'nft-table') await realOs.run('nft', ['delete', 'table', 'ip', name]);
    }
    rmSync(join(OWNERS, f), { force: true });
  }
}

/** Everything one test file uses. */
export interface AgentEnv {
  cluster: TestCluster;
  client: KubeClient;
  agent: Agent;
  cfg: AgentConfig;
  tag: string;
  dir: string;
  bridge: string;
  subnet: string;
  ipamDir: string;
  restart(seams?: AgentSeams): Promise<Agent>;
}

/** Starts server + agent; `octet` picks the 10.<octet>.x.0/24 family of this file's subnets. */
export async function startAgentEnv(t: Test, octet: number, seams: AgentSeams = {}): Promise<AgentEnv> {
  await sweepDeadRuns();
  const tag = rand4();
  const third = Math.floor(Math.random() * 250) + 1;
  recordOwned(tag, `pid ${process.pid}`);
  recordOwned(tag, `netns-prefix shoalt-agent-${tag}-`);
  recordOwned(tag, `link sta${tag}`);
  t.teardown(() => rmSync(join(OWNERS, `agent-${tag}`), { force: true }));
  const cluster = await startCluster(`shoalt-agent-${tag}-`);
  t.teardown(() => cluster.close());
  const dir = mkdtempSync(join(tmpdir(), `shoalt-agent-${tag}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const conf = join(dir, 'net.d');
  const socket = join(dir, 'cni.sock');
  const ipamDir = join(dir, 'ipam');
  installCni({ binDir: bin, confDir: conf, socket, ipMasq: false });
  const bridge = `sta${tag}`;
  const subnet = `10.${octet}.${third}.0/24`;
  // our own conflist (IPAM data under the temp dir), replacing the installed default
  for (const f of readdirSync(conf)) rmSync(join(conf, f));
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, '10-test.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: `shoalt${tag}`,
    plugins: [
      { type: 'shoal-bridge', bridge, isGateway: true, isDefaultGateway: true, hairpinMode: true, ipMasq: false, ipam: { type: 'shoal-ipam', dataDir: ipamDir, ranges: [[{ subnet }]] } },
      { type: 'portmap', snat: false, capabilities: { portMappings: true } },
    ],
  }));
  t.teardown(() => realOs.run('ip', ['link', 'del', bridge]).then(() => undefined));
  const cfg: AgentConfig = {
    kubeconfig: cluster.kubeconfigPath, nodeName: `node-${tag}`, nodeIP: '127.0.0.1', home: join(dir, 'home'),
    cniConfDir: conf, cniBinDirs: [bin, '/usr/lib/cni'], cniSocket: socket,
    clusterDns: ['10.96.0.10'], clusterDomain: 'cluster.local', podCidr: subnet,
    clusterCidr: `10.${octet + 1}.${third}.0/24`, serviceCidr: `10.${octet + 2}.${third}.0/24`,
    netnsPrefix: `shoalt-agent-${tag}-`, bindAddress: '127.0.0.1', port: 0, cgroupName: `shoalt-agent-${tag}`, hostRoutes: true,
  };
  const env: AgentEnv = {
    cluster, client: cluster.client(), cfg, tag, dir, bridge, subnet, ipamDir, agent: undefined as unknown as Agent,
    async restart(s = seams) {
      await env.agent.close();
      env.agent = await startAgent(cfg, { log: () => undefined, ...s });
      return env.agent;
    },
  };
  env.agent = await startAgent(cfg, { log: () => undefined, ...seams });
  // runs before the cluster's teardown (tap runs teardowns in reverse order)
  t.teardown(async () => {
    await env.agent.close({ stopPods: true, removeHostRoutes: true });
    for (const n of (await realOs.run('ip', ['netns', 'list'])).stdout.split('\n')) {
      const name = n.split(' ')[0];
      if (name.startsWith(cfg.netnsPrefix)) await realOs.run('ip', ['netns', 'del', name]);
    }
    for (const ctl of ['memory', 'cpu', '']) {
      const root = join('/sys/fs/cgroup', ctl, cfg.cgroupName);
      try {
        for (const pod of readdirSync(root, { withFileTypes: true })) {
          if (!pod.isDirectory()) continue;
          for (const c of readdirSync(join(root, pod.name), { withFileTypes: true })) if (c.isDirectory()) rmSync(join(root, pod.name, c.name), { recursive: false, force: true });
        }
      } catch {
        /* absent */
      }
      await realOs.run('sh', ['-c', `[ -d ${root} ] && find ${root} -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
    }
  });
  return env;
}

const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;

/** Creates a pod bound to the test node. */
export async function createPod(env: AgentEnv, name: string, spec: Record<string, any>, namespace = 'default'): Promise<any> {
  return env.client.create(podsRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName: env.cfg.nodeName, terminationGracePeriodSeconds: 2, ...spec } } as any, { namespace });
}

/** Polls the pod until `pred` holds; returns it (throws with the last status after `ms`). */
export async function waitPod(env: AgentEnv, name: string, pred: (p: any) => boolean, ms = 15000, namespace = 'default'): Promise<any> {
  let last: any;
  const found = await waitFor(`pod ${name}`, async () => {
    try {
      last = await env.client.get(podsRef, name, { namespace });
      return pred(last) && { pod: last };
    } catch (e) {
      last = { error: (e as Error).message };
      return pred(undefined) && { pod: undefined };
    }
  }, ms).catch(() => {
    throw new Error(`pod ${name}: condition not met in ${ms} ms; last: ${JSON.stringify(last?.status ?? last)}`);
  });
  return found.pod;
}

/** Whether the pod's Ready condition is True. */
export const isReady = (p: any) => !!p?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/** The first container status. */
export const cs = (p: any, i = 0) => p?.status?.containerStatuses?.[i];

/** Events about a pod. */
export async function podEvents(env: AgentEnv, name: string): Promise<any[]> {
  const l = await env.client.list({ apiVersion: 'v1', plural: 'events', namespaced: true }, { namespace: 'default' });
  return (l.items as any[]).filter((e) => e.involvedObject?.name === name);
}

/** GET/POST on the agent's server. */
export async function agentGet(env: AgentEnv, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(env.agent.url + path);
  return { status: r.status, text: await r.text() };
}

/** Runs a command in a container through the agent's exec endpoint. */
export async function execIn(env: AgentEnv, pod: string, container: string, cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const q = cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const r = await fetch(`${env.agent.url}/exec/default/${pod}/${container}?${q}`, { method: 'POST' });
  const j = await r.json() as any;
  if (r.status !== 200) throw new Error(`exec: ${r.status} ${j.message}`);
  return j;
}
