// The enforcer end to end (root): a real API server and node agent with three real pods (a, b, c) in
// netns on a bridge, the enforcer in-process on a per-test table. Default-deny ingress isolates every
// pod; an allow-from-b policy opens a ← b only; relabelling c as b opens a ← c without touching any
// policy; the node itself (readiness probes, host → pod) always gets through.
import { waitFor } from '../wait.js';
import t from 'tap';
import { createPod, execIn, isReady, rootSkip, startAgentEnv, waitPod, type AgentEnv } from '../agent/fixture.js';
import { startEnforcer, type Enforcer } from '../../node/policy/enforcer.js';
import { realHost } from '../../lib/host/sysctl.js';
import { tableName } from '../../node/policy/nftables/rules.js';

const podsRef = { apiVersion: 'v1', plural: 'pods', namespaced: true } as const;
const npRef = { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true } as const;

/** TCP connect from `pod` to ip:8080 with a short timeout: 'ok' or 'deny'. */
async function probe(env: AgentEnv, pod: string, ip: string): Promise<'ok' | 'deny'> {
  const code = `const s=require('net').connect({host:'${ip}',port:8080});const k=setTimeout(()=>{s.destroy();process.stdout.write('deny')},600);
s.on('connect',()=>{clearTimeout(k);s.destroy();process.stdout.write('ok')});s.on('error',()=>{clearTimeout(k);process.stdout.write('deny')})`;
  const r = await execIn(env, pod, 'app', [process.execPath, '-e', code]);
  return r.stdout === 'ok' ? 'ok' : 'deny';
}

/** Waits until the enforcer's applied model satisfies `pred` (bounded), asking for a sync between looks. */
const until = (enf: Enforcer, what: string, pred: () => boolean, ms = 10000) =>
  waitFor(`enforcer: ${what}`, async () => pred() || (await enf.synced(), pred()), ms, 20);

t.test('enforcer: default-deny ingress, then allow from one pod', { skip: rootSkip() }, async (t) => {
  const env = await startAgentEnv(t, 85);
  const names = ['a', 'b', 'c'];
  await Promise.all(names.map((n) => createPod(env, n, { containers: [{ name: 'app', image: 'shoal/hello', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] })));
  for (const n of names) await env.client.patch(podsRef, n, { metadata: { labels: { app: n } } }, { type: 'merge', namespace: 'default' });
  const ip: Record<string, string> = {};
  for (const n of names) ip[n] = (await waitPod(env, n, isReady, 30000)).status.podIP;

  const suffix = `t${env.tag}`;
  t.teardown(() => realHost.run('nft', ['delete', 'table', 'inet', tableName(suffix)]).then(() => undefined));
  const enf = await startEnforcer(env.cluster.client(), realHost, { nodeName: env.cfg.nodeName, tableSuffix: suffix, minSyncMs: 10, maxSyncMs: 30000, retryMs: 500, log: () => undefined });
  t.teardown(() => enf.close({ removeTable: true }));

  t.same([await probe(env, 'b', ip.a!), await probe(env, 'c', ip.a!)], ['ok', 'ok'], 'no policy: open');

  const w0 = performance.now();
  await env.client.create(npRef, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {} } } as any, { namespace: 'default' });
  await until(enf, 'default-deny', () => enf.model().filter((p) => p.ingress).length === 3);
  t.comment(`policy write → table applied: ${Math.round(performance.now() - w0)} ms`);
  t.same([await probe(env, 'b', ip.a!), await probe(env, 'c', ip.a!), await probe(env, 'a', ip.b!)], ['deny', 'deny', 'deny'], 'default-deny ingress isolates every pod');

  await env.client.create(npRef, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-b', namespace: 'default' },
    spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 8080 }] }] } } as any, { namespace: 'default' });
  await until(enf, 'allow-b', () => (enf.model().find((p) => p.key === 'default/a')?.ingress ?? []).length === 1);
  t.same([await probe(env, 'b', ip.a!), await probe(env, 'c', ip.a!)], ['ok', 'deny'], 'a accepts b only');

  await env.client.patch(podsRef, 'c', { metadata: { labels: { app: 'b' } } }, { type: 'merge', namespace: 'default' });
  await until(enf, 'relabel', () => JSON.stringify(enf.model().find((p) => p.key === 'default/a')?.ingress).includes(ip.c!));
  t.equal(await probe(env, 'c', ip.a!), 'ok', 'relabelled c now allowed, no policy touched');

  const fromHost = await fetch(`http://${ip.a}:8080/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
  t.equal(fromHost, 200, 'the node reaches an isolated pod');
  t.ok(isReady(await waitPod(env, 'a', () => true)), 'readiness probes still pass under default-deny');
});
