// `shoal analyze` as a child process against a real API server: what admission accepts but Istio's
// analyzers report (an unknown subset, conflicting mesh VirtualServices, a missing host, an HTTPRoute whose
// Service parent is missing), istioctl's line format, exit 79 on errors, 0 when clean; and admission
// rejecting what it must (weights ≠ 100) with the field path.
import t from 'tap';
import { R, startApi } from './fixture.js';
import { shoal } from './shoal-cli.js';

const VS = { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true };
const DR = { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true };
const HR = { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true };


const route = (subsets: [string, number][]) => [{ route: subsets.map(([s, w]) => ({ destination: { host: 'reviews', subset: s }, weight: w })) }];

t.test('shoal analyze', async (t) => {
  const api = await startApi('shoalt-analyze-');
  t.teardown(() => api.close());
  const kc = ['--kubeconfig', api.kubeconfigPath];
  for (const ns of ['shop', 'clean']) await api.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as any);
  const create = (ref: any, ns: string, o: any) => api.client.create(ref, o, { namespace: ns });
  await create(R.services, 'shop', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'shop' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } });
  await create(R.services, 'clean', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'clean' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } });
  await create(DR, 'shop', { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'shop' }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } });
  await create(DR, 'clean', { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'clean' }, spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } });
  await create(VS, 'clean', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'clean' }, spec: { hosts: ['reviews'], http: route([['v1', 90], ['v2', 10]]) } });

  // Admission: weights ≠ 100 are rejected with the path; an unknown subset is accepted (cross-object).
  const bad = await create(VS, 'shop', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'bad', namespace: 'shop' }, spec: { hosts: ['reviews'], http: route([['v1', 90], ['v2', 20]]) } }).catch((e) => e);
  t.equal(bad.status?.code, 422);
  t.same(bad.status.details.causes.map((c: any) => [c.field, c.message]), [['spec.http[0].route', 'Invalid value: 110: total destination weight 110 != 100']]);
  await create(VS, 'shop', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'shop' }, spec: { hosts: ['reviews'], http: route([['v1', 90], ['v3', 10]]) } });
  await new Promise((r) => setTimeout(r, 1100)); // a later creationTimestamp (seconds) for the second one
  await create(VS, 'shop', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews-canary', namespace: 'shop' }, spec: { hosts: ['reviews.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'ratings' } }] }] } });
  await create(HR, 'shop', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'split', namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviewz', port: 9080 }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] } });

  const r = await shoal([...kc, 'analyze', '-n', 'shop']);
  t.equal(r.code, 79, r.err);
  t.same(r.out.trim().split('\n'), [
    'Error [IST0101] (HTTPRoute shop/split) Referenced service not found: "reviewz.shop"',
    'Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule not found: "reviews+v3"',
    'Error [IST0109] (VirtualService shop/reviews) The VirtualServices shop/reviews,shop/reviews-canary associated with mesh gateway define the same host "reviews.shop.svc.cluster.local" which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
    'Error [IST0101] (VirtualService shop/reviews-canary) Referenced host not found: "ratings"',
    'Error [IST0109] (VirtualService shop/reviews-canary) The VirtualServices shop/reviews,shop/reviews-canary associated with mesh gateway define the same host "reviews.shop.svc.cluster.local" which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
  ]);
  const clean = await shoal([...kc, 'analyze', '-n', 'clean']);
  t.same([clean.code, clean.out], [0, '✔ No validation issues found when analyzing namespace: clean.\n'], clean.err);
  const all = await shoal([...kc, 'analyze', '-A', '-o', 'json']);
  t.equal(all.code, 79);
  const msgs = JSON.parse(all.out);
  t.equal(msgs.length, 5);
  t.ok(msgs.every((m: any) => m.origin.includes(' shop/')), 'the clean namespace reports nothing');
  t.same(msgs.find((m: any) => m.code === 'IST0101' && m.origin === 'VirtualService shop/reviews').field, 'spec.http[0].route[1].destination.subset');
  const extra = await shoal([...kc, 'analyze', 'x']);
  t.equal(extra.code, 1);
  t.match(extra.err, /unexpected argument "x"/);
});
