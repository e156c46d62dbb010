// Pod start-up benchmark (root): time from Pod create to Ready for 1, 10 and 50 pods, with Shoal's CNI
// (shoal-bridge through the agent's embedded daemon) and with the reference bridge + host-local plugins,
// side by side in one run, plus the RSS of this process (API server + agent in-process) with 50 pods.
// Usage: node dist/bench/pods/run.js [maxPods=50]. Not part of the test suite.

import { writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import tap from 'tap';
import { createPod, isReady, startAgentEnv, type AgentEnv } from '../../test/agent/fixture.js';

const max = Number(process.argv[2] ?? 50);
const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;

async function round(env: AgentEnv, n: number, tag: string): Promise<number[]> {
  const names = Array.from({ length: n }, (_, i) => `b-${tag}-${i}`);
  const t0 = new Map<string, number>();
  const done = new Map<string, number>();
  await Promise.all(names.map(async (name) => {
    t0.set(name, Date.now());
    await createPod(env, name, { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'shoal/pause' }] });
  }));
  const end = Date.now() + 60_000;
  while (done.size < n && Date.now() < end) {
    const l = await env.client.list(podsRef, { namespace: 'default' });
    for (const p of l.items as any[]) if (t0.has(p.metadata.name) && !done.has(p.metadata.name) && isReady(p)) done.set(p.metadata.name, Date.now());
    await new Promise((r) => setTimeout(r, 20));
  }
  const lat = names.map((nm) => (done.get(nm) ?? Infinity) - t0.get(nm)!).sort((a, b) => a - b);
  return lat;
}

async function cleanup(env: AgentEnv): Promise<void> {
  await env.client.deleteCollection(podsRef, { namespace: 'default', gracePeriodSeconds: 0 } as any).catch(() => undefined);
  for (const w of [...env.agent.pods.workers.values()]) await w.terminate(0);
  const end = Date.now() + 30_000;
  while (env.agent.pods.workers.size && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

const pct = (a: number[], p: number) => a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)];

tap.test('bench', async (t) => {
  const rows: string[] = [];
  let rss = 0;
  for (const plugin of ['shoal-bridge', 'bridge']) {
    const env = await startAgentEnv(t, plugin === 'bridge' ? 101 : 97);
    if (plugin === 'bridge') {
      const conf = env.cfg.cniConfDir;
      const f = join(conf, readdirSync(conf)[0]);
      writeFileSync(f, JSON.stringify({ cniVersion: '1.0.0', name: `shoalt${env.tag}`, plugins: [
        { type: 'bridge', bridge: env.bridge, isGateway: true, isDefaultGateway: true, ipMasq: false, ipam: { type: 'host-local', dataDir: env.ipamDir, ranges: [[{ subnet: env.subnet }]] } },
        { type: 'portmap', snat: false, capabilities: { portMappings: true } },
      ] }));
      t.teardown(() => rmSync(env.ipamDir, { recursive: true, force: true }));
    }
    await round(env, 1, 'warm');
    await cleanup(env);
    for (const n of [1, 10, 50].filter((x) => x <= max)) {
      const lat = await round(env, n, String(n));
      if (n === max && plugin === 'shoal-bridge') rss = process.memoryUsage().rss;
      rows.push(`| ${plugin} | ${n} | ${pct(lat, 50)} | ${pct(lat, 99)} | ${lat[lat.length - 1]} |`);
      await cleanup(env);
    }
  }
  const table = ['| CNI | pods | p50 ms | p99 ms | max ms |', '|---|---|---|---|---|', ...rows].join('\n');
  console.log(`\n${table}\n\nRSS of API server + agent (one process) with ${max} pods: ${(rss / 2 ** 20).toFixed(0)} MB`);
  t.pass('benchmark ran');
});
