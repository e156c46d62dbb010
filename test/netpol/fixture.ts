// The cluster of the NetworkPolicy truth-table e2e: one `shoal up` (bench/up-cluster.ts), namespaces x, y, z
// (label ns=<name>), pods a, b, c in each (label pod=<name>, image shoal/agnhost serving TCP and UDP 80 and
// 81 under the named ports serve-80-tcp …), and one Service per pod with the same four ports. Every pod probes
// every pod BY SERVICE NAME (`a.x.svc.cluster.local`) through `pods/exec` on the API server (the prober
// then runs in the pod's own network, mount and UTS namespaces, so it uses the pod's resolv.conf); the
// observed tables are compared with the model (node/policy/model/policy.ts) fed with what the API holds.
// If `shoal up` does not run the enforcer (component `network-policy`), the fixture starts it itself.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { upCluster, type UpCluster } from '../../bench/up-cluster.js';
import type { KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { waitFor as poll } from '../wait.js';
import { allowed, computePolicy, namespaceInfo, podInfo } from '../../node/policy/model/policy.js';
import { CASES, caseKey, makeTables, mismatchReport, type Detail, type Tables } from './grid.js';

const root = new URL('../../..', import.meta.url).pathname;
const agnhost = join(root, 'node', 'images', 'agnhost.mjs');

/** Resource references the suite uses. */
export const R = {
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  endpoints: { apiVersion: 'v1', plural: 'endpoints', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  events: { apiVersion: 'v1', plural: 'events', namespaced: true },
  policies: { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
} as const;

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
/** The 9 pods as `ns/name`, rows and columns of every table. */
export const PODS: readonly string[] = NAMESPACES.flatMap((n) => POD_NAMES.map((p) => `${n}/${p}`));

/** A probe's bound; a denied pair costs this much per round. */
export const PROBE_TIMEOUT_MS = Number(process.env.SHOAL_NETPOL_PROBE_MS ?? 1000);
/** How long a changed policy may take to show in every table. */
export const CONVERGE_MS = Number(process.env.SHOAL_NETPOL_CONVERGE_MS ?? 10_000);

/** One probe's result as agnhost prints it. */
interface ProbeResult {
  host: string;
  protocol: string;
  port: number;
  ok: boolean;
  ip?: string;
  reply?: string;
  error?: string;
  ms: number;
}

const sh = (cmd: string, args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) => execFile(cmd, args, { timeout: 30_000 }, (e, stdout, stderr) => res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ready = (p: KubeObject) => p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Poll `f` until it returns a truthy value or `ms` (default 60 s here) pass; the error names `what`. */
export const waitFor = <T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => poll(what, f, ms);

/** A NetworkPolicy object in `ns`. */
export const netpol = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });

/** The outcome of polling until the observed tables equal the model's. */
export interface Converged {
  ok: boolean;
  rounds: number;
  ms: number;
  expected: Tables;
  report: string;
}

/** The running suite cluster. */
export class Fixture {
  /** pod `ns/name` → IP */
  ips: Record<string, string> = {};
  nodeName = '';
  /** how the enforcer runs: 'shoal up' or 'started by the test' */
  enforcer = '';
  private ownEnforcer?: ChildProcess;
  /** the table of an enforcer the fixture started itself */
  ownTable?: string;

  private constructor(readonly cluster: UpCluster, readonly api: KubeClient, readonly podCidr: string) {}

  /** Start the cluster, the workload and (if `shoal up` lacks it) the enforcer; `close()` undoes all of it. */
  static async start(log: (s: string) => void): Promise<Fixture> {
    const octet = 100 + Math.floor(Math.random() * 150);
    const cluster = await upCluster('netpol', octet);
    const f = new Fixture(cluster, cluster.api, `10.244.${octet}.0/24`);
    try {
      await f.setUp(log);
    } catch (e) {
      await f.close();
      throw e;
    }
    return f;
  }

  /** What shoal up recorded about the node's host state (netns prefix, bridge, proxy table). */
  scope(): { netnsPrefix: string; bridge: string; proxyTable: string } {
    return JSON.parse(readFileSync(join(this.cluster.home, 'run', 'scope.json'), 'utf8'));
  }

  private async setUp(log: (s: string) => void): Promise<void> {
    const api = this.api;
    const node = await waitFor('the node', async () => (await api.list({ apiVersion: 'v1', plural: 'nodes', namespaced: false })).items[0]);
    this.nodeName = node.metadata.name!;
    if (/network-policy/.test(this.cluster.output())) this.enforcer = 'shoal up';
    else await this.startEnforcer(log);
    for (const ns of NAMESPACES) await api.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } });
    for (const ns of NAMESPACES) {
      for (const pod of POD_NAMES) {
        await api.create(R.pods, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { pod } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'agnhost', image: 'shoal/agnhost',
              ports: CASES.map((c) => ({ name: `serve-${c.port}-${c.protocol.toLowerCase()}`, containerPort: c.port, protocol: c.protocol })),
            }],
          },
        }, { namespace: ns });
        await api.create(R.services, {
          apiVersion: 'v1', kind: 'Service', metadata: { name: pod },
          spec: { selector: { pod }, ports: CASES.map((c) => ({ name: `${c.protocol.toLowerCase()}-${c.port}`, port: c.port, targetPort: c.port, protocol: c.protocol })) },
        }, { namespace: ns });
      }
    }
    const pods = await waitFor('9 agnhost pods ready', async () => {
      const ps = (await api.list(R.pods)).items.filter((p) => NAMESPACES.includes(p.metadata.namespace as never) && ready(p));
      return ps.length === 9 ? ps : undefined;
    }, 90_000);
    for (const p of pods) this.ips[`${p.metadata.namespace}/${p.metadata.name}`] = p.status.podIP;
    await waitFor('every Service has its endpoint', async () => {
      for (const key of PODS) {
        const [ns, name] = key.split('/') as [string, string];
        const ep = await api.get(R.endpoints, name, { namespace: ns });
        if (!(ep.subsets ?? []).some((s: any) => (s.addresses ?? []).some((a: any) => a.ip === this.ips[key]) && (s.ports ?? []).length === 4)) return false;
      }
      return true;
    });
    await waitFor('cluster DNS ready', async () => (await api.list(R.pods, { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.some(ready), 60_000);
  }

  private async startEnforcer(log: (s: string) => void): Promise<void> {
    const suffix = `ntp${Math.floor(Math.random() * 0xffffff).toString(16)}`;
    this.ownTable = `shoal-policy-${suffix}`;
    const child = spawn(process.execPath, [
      join(root, 'dist', 'node', 'policy', 'main.js'), '--kubeconfig', join(this.cluster.home, 'kubeconfig'), '--node-name', this.nodeName,
      '--table-suffix', suffix, '--cleanup-on-exit',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.ownEnforcer = child;
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    await waitFor('the policy enforcer', async () => {
      if (child.exitCode !== null) throw new Error(`enforcer exited ${child.exitCode}: ${err}`);
      return err.includes('policy enforcer ready');
    }, 20_000);
    this.enforcer = `started by the test (pid ${child.pid}, table ${this.ownTable})`;
    log(`shoal up does not run network-policy yet: ${this.enforcer}`);
  }

  /** The model's tables for what the API holds now: pods, namespaces and policies read back. */
  async expected(): Promise<Tables> {
    const [pods, nss, nps] = await Promise.all([this.api.list(R.pods), this.api.list(R.namespaces), this.api.list(R.policies)]);
    const model = computePolicy(pods.items.map(podInfo), nss.items.map(namespaceInfo), nps.items);
    return makeTables(PODS, (c, from, to) => allowed(model, this.ips[from]!, this.ips[to]!, c.protocol, c.port));
  }

  /** Every pod probes every pod's Service on every case, all in parallel; one round. */
  async observe(timeoutMs = PROBE_TIMEOUT_MS): Promise<{ tables: Tables; detail: Detail; lookupFailures: number }> {
    const targets = PODS.flatMap((to) => CASES.map((c) => ({ to, host: `${to.split('/')[1]}.${to.split('/')[0]}.svc.cluster.local`, protocol: c.protocol, port: c.port })));
    const seen = new Map<string, { ok: boolean; why: string }>();
    await Promise.all(PODS.map(async (from) => {
      const [ns, name] = from.split('/') as [string, string];
      let results: ProbeResult[];
      try {
        const r = await this.api.request<{ exitCode: number; stdout: string; stderr: string }>('POST', `/api/v1/namespaces/${ns}/pods/${name}/exec`, {
          query: { command: [process.execPath, agnhost, 'probe', '--timeout-ms', String(timeoutMs), JSON.stringify(targets.map(({ to: _to, ...t }) => t))] },
          body: '', contentType: 'application/octet-stream',
        });
        if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr.trim()}`);
        results = JSON.parse(r.stdout) as ProbeResult[];
      } catch (e) {
        for (const t of targets) seen.set(`${t.protocol}/${t.port} ${from} ${t.to}`, { ok: false, why: `probe from ${from} failed: ${(e as Error).message}` });
        return;
      }
      targets.forEach((t, i) => {
        const r = results[i]!;
        const want = t.to.split('/')[1];
        // an answer from the wrong pod is a routing fault, not an allowed pair
        const ok = r.ok && r.reply === want;
        const why = r.ok ? (ok ? `${r.ms} ms` : `answered by ${r.reply}, not ${want}`) : `${r.error} after ${r.ms} ms${r.ip ? ` to ${r.ip}` : ''}`;
        seen.set(`${t.protocol}/${t.port} ${from} ${t.to}`, { ok, why });
      });
    }));
    const tables = makeTables(PODS, (c, from, to) => seen.get(`${caseKey(c)} ${from} ${to}`)?.ok ?? false);
    const lookupFailures = [...seen.values()].filter((v) => v.why.startsWith('lookup:')).length;
    return { tables, detail: (c, from, to) => seen.get(`${c} ${from} ${to}`)?.why ?? 'not probed', lookupFailures };
  }

  /** Probe rounds until the observed tables equal the model's, or `deadlineMs` passes. */
  async converge(deadlineMs = CONVERGE_MS): Promise<Converged> {
    const start = Date.now();
    let rounds = 0;
    for (;;) {
      const expected = await this.expected();
      const { tables, detail, lookupFailures } = await this.observe();
      rounds++;
      let report = mismatchReport(PODS, expected, tables, detail);
      // a name that does not resolve is no policy verdict: say where to look
      if (report && lookupFailures) report = `${lookupFailures} probes could not resolve the Service name. The cluster DNS VIP 10.96.0.10 and ClusterIPs are not scoped per cluster: another \`shoal up\` on this host (a parallel test or bench) can answer in its place.\n\n${report}`;
      if (!report || Date.now() - start >= deadlineMs) return { ok: !report, rounds, ms: Date.now() - start, expected, report };
    }
  }

  /** Create (or replace) policies. */
  async apply(policies: any[]): Promise<void> {
    for (const p of policies) {
      const ns = p.metadata.namespace as string;
      try {
        const old = await this.api.get(R.policies, p.metadata.name, { namespace: ns });
        await this.api.update(R.policies, { ...p, metadata: { ...p.metadata, resourceVersion: old.metadata.resourceVersion } }, { namespace: ns });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
        await this.api.create(R.policies, p, { namespace: ns });
      }
    }
  }

  /** Delete policies by namespace/name. */
  async remove(ns: string, name: string): Promise<void> {
    await this.api.delete(R.policies, name, { namespace: ns });
  }

  /** Label patch (merge: `null` removes a key) on a pod `ns/name` or a namespace `name`. */
  async label(target: string, labels: Record<string, string | null>): Promise<void> {
    const [a, b] = target.split('/');
    if (b) await this.api.patch(R.pods, b, { metadata: { labels } }, { namespace: a, type: 'merge' });
    else await this.api.patch(R.namespaces, a!, { metadata: { labels } }, { type: 'merge' });
  }

  /** Back to the start: no policies in x, y, z, and only the canonical labels. */
  async reset(): Promise<void> {
    for (const ns of NAMESPACES) {
      for (const p of (await this.api.list(R.policies, { namespace: ns })).items) await this.remove(ns, p.metadata.name!);
      const n = await this.api.get(R.namespaces, ns);
      const extra = Object.keys(n.metadata.labels ?? {}).filter((k) => k !== 'ns' && k !== 'kubernetes.io/metadata.name');
      if (extra.length || n.metadata.labels?.ns !== ns) await this.label(ns, { ns, ...Object.fromEntries(extra.map((k) => [k, null])) });
      for (const pod of POD_NAMES) {
        const p = await this.api.get(R.pods, pod, { namespace: ns });
        const extraP = Object.keys(p.metadata.labels ?? {}).filter((k) => k !== 'pod');
        if (extraP.length || p.metadata.labels?.pod !== pod) await this.label(`${ns}/${pod}`, { pod, ...Object.fromEntries(extraP.map((k) => [k, null])) });
      }
    }
  }

  /** Warning Events the enforcer wrote (sync failures). */
  async enforcerWarnings(): Promise<KubeObject[]> {
    return (await this.api.list(R.events)).items.filter((e: any) => e.type === 'Warning' && (e.source?.component === 'shoal-policy' || e.reason === 'SyncNetworkPolicyFailed'));
  }

  /** Stop our enforcer (by its PID), `shoal down` (which releases its hold on the host settings), remove our table. */
  async close(): Promise<void> {
    const child = this.ownEnforcer;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await this.cluster.stop();
    if (this.ownTable && (await sh('nft', ['list', 'table', 'inet', this.ownTable])).code === 0) await sh('nft', ['delete', 'table', 'inet', this.ownTable]);
  }
}

/** What of the cluster's is on the host, by the names shoal up recorded: must be empty after close. */
export async function leftovers(scope: { netnsPrefix: string; bridge: string; proxyTable: string }, table?: string): Promise<string[]> {
  const netns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(scope.netnsPrefix));
  const links = (await sh('ip', ['-o', 'link'])).stdout.split('\n').filter((l) => l.includes(scope.bridge) || l.includes(scope.netnsPrefix));
  const suffix = scope.bridge.toLowerCase().replace(/[^a-z0-9]/g, '');
  const nft = (await sh('nft', ['list', 'tables'])).stdout.split('\n').filter((l) => l.includes(scope.bridge) || l.includes(scope.proxyTable) || l.includes(suffix) || (table && l.includes(table)));
  return [...netns, ...links, ...nft];
}
