// bench/pods/deploy: the issue's measurement, through the whole cluster. `shoal up` runs twice, once with
// shoal-cni and once with the reference bridge + host-local; each applies Deployments of 1, 10 and 50
// replicas and measures, per pod, the time from the pod's creation (seen on a watch) to Ready, and the
// time from applying the Deployment to all Ready; then the RSS of the control plane plus agent (the four
// supervised processes) with 50 pods. Root only. Not a test.
//   node dist/bench/pods/deploy.js [maxReplicas=50]

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { upCluster } from '../up-cluster.js';
import type { KubeObject } from '../../api/meta.js';

const max = Number(process.argv[2] ?? 50);
const sizes = [1, 10, 50].filter((n) => n <= max);
const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const deployments = { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true };

const pct = (a: number[], p: number) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)]! : NaN);
const ready = (p: KubeObject) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

interface Row { cni: string; n: number; p50: number; p99: number; all: number }

async function run(cni: 'shoal' | 'reference', octet: number): Promise<{ rows: Row[]; rss: number }> {
  const c = await upCluster('pods', octet, ['--cni', cni, '--no-dns']);
  const api = c.api;
  try {
    const created = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const ctrl = new AbortController();
    const watching = (async () => {
      for await (const ev of api.watch(pods, { namespace: 'default', signal: ctrl.signal })) {
        const p = ev.object as KubeObject;
        const name = p.metadata?.name;
        if (!name) continue;
        if (!created.has(name)) created.set(name, performance.now());
        if (ready(p) && !readyAt.has(name)) readyAt.set(name, performance.now());
      }
    })().catch(() => undefined);
    const rows: Row[] = [];
    let rss = 0;
    const rounds: [string, number][] = [['warm', 1], ...sizes.map((n): [string, number] => [`d${n}`, n])];
    for (const [name, n] of rounds) {
      const t0 = performance.now();
      await api.create(deployments, {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
        spec: { replicas: n, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'shoal/pause' }] } } },
      }, { namespace: 'default' });
      const deadline = Date.now() + 120_000;
      let mine: string[] = [];
      while (Date.now() < deadline) {
        mine = [...created.keys()].filter((k) => k.startsWith(`${name}-`));
        if (mine.length >= n && mine.filter((k) => readyAt.has(k)).length >= n) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const all = Math.max(...mine.map((k) => readyAt.get(k) ?? Infinity)) - t0;
      const lat = mine.map((k) => (readyAt.get(k) ?? Infinity) - created.get(k)!);
      if (name !== 'warm') rows.push({ cni, n, p50: pct(lat, 50), p99: pct(lat, 99), all });
      if (n === sizes[sizes.length - 1] && name !== 'warm') {
        const kids = execFileSync('pgrep', ['-P', String(c.up.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
        rss = kids.reduce((s, pid) => s + rssMb(pid), 0);
      }
      await api.delete(deployments, name, { namespace: 'default', propagationPolicy: 'Foreground' } as any);
      const gone = Date.now() + 60_000;
      while (Date.now() < gone && (await api.list(pods, { namespace: 'default', labelSelector: `app=${name}` })).items.length) await new Promise((r) => setTimeout(r, 100));
    }
    ctrl.abort();
    await watching;
    return { rows, rss };
  } catch (e) {
    process.stderr.write(`bench/pods/deploy (${cni}) failed: ${(e as Error).message}\n--- shoal up said:\n${c.output()}\n`);
    throw e;
  } finally {
    await c.stop();
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench/pods/deploy: needs root (pods run in network namespaces)');
  process.exit(1);
}
const shoal = await run('shoal', 180);
const ref = await run('reference', 181);
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
console.log('Deployment of N replicas of shoal/pause, per-pod creation→Ready (ms) and apply→all Ready (ms)');
console.log('replicas  shoal-cni p50/p99  reference p50/p99  shoal all  reference all  ratio p99 (shoal/ref)');
for (let i = 0; i < shoal.rows.length; i++) {
  const a = shoal.rows[i]!;
  const b = ref.rows[i]!;
  console.log(`${String(a.n).padEnd(10)}${`${f(a.p50)}/${f(a.p99)}`.padEnd(19)}${`${f(b.p50)}/${f(b.p99)}`.padEnd(19)}${f(a.all).padEnd(11)}${f(b.all).padEnd(15)}${(a.p99 / b.p99).toFixed(2)}`);
}
console.log(`control plane + agent RSS with ${sizes[sizes.length - 1]} pods: shoal-cni ${shoal.rss.toFixed(0)} MB, reference ${ref.rss.toFixed(0)} MB (target ≤ 250 MB; p99 target ≤ 1000 ms; 50 pods target ≤ 15000 ms)`);
