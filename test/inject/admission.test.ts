// The API server's injection step (control-plane/apiserver/admission/inject.ts) as a plugin: only Pods on
// CREATE (not UPDATE, not subresources), the Namespace's labels decide, the pod is mutated in place, bad
// capture annotations are a 422 with the field; and its place in a real API server's chain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { INJECTION_PLUGIN, sidecarInjectionPlugin } from '../../control-plane/apiserver/admission/inject.js';
import type { AdmissionRequest } from '../../control-plane/apiserver/admission/chain.js';
import { registry } from '../../control-plane/apiserver/api-adapter.js';
import { buildServer } from '../../control-plane/apiserver/server.js';
import { openStore } from '../../control-plane/store/open.js';

const pods = registry.get('', 'v1', 'pods')!;
const labels: Record<string, Record<string, string>> = { shop: { 'istio-injection': 'enabled' }, plain: {} };
const plugin = sidecarInjectionPlugin(async (ns) => labels[ns]);
const req = (o: Partial<AdmissionRequest> & { object?: any }): AdmissionRequest => ({
  operation: 'CREATE', resource: pods, subresource: '', namespace: 'shop', name: 'p', oldObject: undefined, dryRun: false,
  userInfo: { username: 'u', uid: '', groups: [] },
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: o.namespace ?? 'shop' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as any,
  ...o,
});
const injected = (r: AdmissionRequest) => (r.object as any).spec.initContainers?.map((c: any) => c.name) ?? [];

t.test('plugin', async (t) => {
  t.equal(plugin.name, INJECTION_PLUGIN);
  t.same(plugin.resources, ['pods']);
  const rows: { name: string; r: AdmissionRequest; want: string[] }[] = [
    { name: 'CREATE in a labelled namespace', r: req({}), want: ['istio-init', 'istio-proxy'] },
    { name: 'CREATE in an unlabelled namespace', r: req({ namespace: 'plain' }), want: [] },
    { name: 'CREATE in a namespace that does not exist', r: req({ namespace: 'ghost' }), want: [] },
    { name: 'UPDATE is never injected', r: req({ operation: 'UPDATE' }), want: [] },
    { name: 'a subresource is never injected', r: req({ subresource: 'status' }), want: [] },
    { name: 'dry run is injected too (no side effects)', r: req({ dryRun: true }), want: ['istio-init', 'istio-proxy'] },
  ];
  for (const row of rows) {
    t.same(await plugin.mutate!(row.r), { allowed: true }, `${row.name}: allowed`);
    t.same(injected(row.r), row.want, row.name);
  }
  const bad = req({});
  (bad.object as any).metadata.annotations = { 'traffic.sidecar.istio.io/excludeInboundPorts': '99999' };
  const r = await plugin.mutate!(bad);
  t.match(r, { allowed: false, code: 422, causes: [{ type: 'Invalid', field: 'metadata.annotations[traffic.sidecar.istio.io/excludeInboundPorts]', value: '99999' }] }, 'bad annotation: 422 with the field');
  t.same(injected(bad), [], 'and the pod is left as it was');
});

t.test('in a real API server\'s chain', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-inject-adm-'));
  const store = await openStore(join(dir, 'db.sqlite'));
  const server = buildServer({ store, logger: false, processMetrics: false });
  t.teardown(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.bootstrap();
  const names = server.admission.names();
  t.ok(names.indexOf(INJECTION_PLUGIN) >= 0, `registered (${names.join(', ')})`);
  const send = (method: string, url: string, payload: unknown) => server.app.inject({ method, url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
  await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } });
  const created = await send('POST', '/api/v1/namespaces/shop/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  t.equal(created.statusCode, 201, created.body);
  const pod = JSON.parse(created.body);
  t.same(pod.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy']);
  t.equal(pod.spec.initContainers[1].terminationMessagePath, '/dev/termination-log', 'the injected containers were defaulted after the step');
  const updated = await send('PUT', '/api/v1/namespaces/shop/pods/web', { ...pod, metadata: { ...pod.metadata, labels: { x: 'y' } } });
  t.equal(updated.statusCode, 200, updated.body);
  t.same(JSON.parse(updated.body).spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy'], 'an update keeps one copy');
});
