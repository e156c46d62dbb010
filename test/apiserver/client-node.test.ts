// @kubernetes/client-node (the official JavaScript client) against the API server over HTTPS:
// list, informer-based watch, create, patch (merge and server-side apply), delete.
import t from 'tap';
import * as k8s from '@kubernetes/client-node';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let c: TlsCluster;
let kc: k8s.KubeConfig;
t.before(async () => {
  c = await tlsCluster();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
});
t.teardown(async () => c?.close());

t.test('create, list, patch, delete', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn1', labels: { from: 'client-node' } }, data: { a: '1' } } });
  t.equal(created.metadata?.name, 'cn1');
  t.ok(created.metadata?.uid);
  const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'from=client-node' });
  t.same(list.items.map((i) => i.metadata?.name), ['cn1']);
  const patched = await core.patchNamespacedConfigMap(
    { name: 'cn1', namespace: 'default', body: { data: { b: '2' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.same(patched.data, { a: '1', b: '2' });
  const objApi = k8s.KubernetesObjectApi.makeApiClient(kc);
  const applied = await objApi.patch(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cn2', namespace: 'default' }, data: { x: 'y' } } as any,
    undefined, undefined, 'client-node-test', true, k8s.PatchStrategy.ServerSideApply,
  );
  t.equal((applied as any).data.x, 'y');
  await core.deleteNamespacedConfigMap({ name: 'cn1', namespace: 'default' });
  await t.rejects(core.readNamespacedConfigMap({ name: 'cn1', namespace: 'default' }), { code: 404 });
});

t.test('informer sees add, update and delete', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/secrets', () => core.listNamespacedSecret({ namespace: 'default' }));
  const seen: string[] = [];
  informer.on('add', (o: any) => seen.push(`add ${o.metadata.name}`));
  informer.on('update', (o: any) => seen.push(`update ${o.metadata.name}`));
  informer.on('delete', (o: any) => seen.push(`delete ${o.metadata.name}`));
  await informer.start();
  t.teardown(() => informer.stop());
  await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's1' }, stringData: { k: 'v' } } });
  await core.patchNamespacedSecret({ name: 's1', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await core.deleteNamespacedSecret({ name: 's1', namespace: 'default' });
  const deadline = Date.now() + 5000;
  while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.same(seen, ['add s1', 'update s1', 'delete s1']);
});
