// The registry: kubectl name resolution, lookups, categories, discovery documents.

import t from 'tap';
import { registry } from '../../api/registry.js';

t.test('resolve what kubectl accepts', async (t) => {
  const rows: [string, string, string][] = [
    ['pods', '', 'Pod'],
    ['pod', '', 'Pod'],
    ['po', '', 'Pod'],
    ['Pod', '', 'Pod'],
    ['pods.v1', '', 'Pod'],
    ['svc', '', 'Service'],
    ['services', '', 'Service'],
    ['ns', '', 'Namespace'],
    ['ep', '', 'Endpoints'],
    ['cm', '', 'ConfigMap'],
    ['sa', '', 'ServiceAccount'],
    ['no', '', 'Node'],
    ['ev', '', 'Event'],
    ['secret', '', 'Secret'],
    ['deploy', 'apps', 'Deployment'],
    ['deployments.apps', 'apps', 'Deployment'],
    ['deployments.v1.apps', 'apps', 'Deployment'],
    ['Deployment', 'apps', 'Deployment'],
    ['rs', 'apps', 'ReplicaSet'],
    ['ds', 'apps', 'DaemonSet'],
    ['ing', 'networking.k8s.io', 'Ingress'],
    ['netpol', 'networking.k8s.io', 'NetworkPolicy'],
    ['ingressclass', 'networking.k8s.io', 'IngressClass'],
    ['lease', 'coordination.k8s.io', 'Lease'],
    ['endpointslices', 'discovery.k8s.io', 'EndpointSlice'],
    ['vs', 'networking.istio.io', 'VirtualService'],
    ['dr', 'networking.istio.io', 'DestinationRule'],
    ['gw', 'networking.istio.io', 'Gateway'],
    ['gateway', 'networking.istio.io', 'Gateway'],
    ['gateways.networking.istio.io', 'networking.istio.io', 'Gateway'],
    ['gtw', 'gateway.networking.k8s.io', 'Gateway'],
    ['gateways.gateway.networking.k8s.io', 'gateway.networking.k8s.io', 'Gateway'],
    ['httproute', 'gateway.networking.k8s.io', 'HTTPRoute'],
    ['gatewayclass', 'gateway.networking.k8s.io', 'GatewayClass'],
    ['pa', 'security.istio.io', 'PeerAuthentication'],
    ['peerauthentication', 'security.istio.io', 'PeerAuthentication'],
    ['ap', 'security.istio.io', 'AuthorizationPolicy'],
    ['authorizationpolicy', 'security.istio.io', 'AuthorizationPolicy'],
  ];
  for (const [name, group, kind] of rows) {
    const rt = registry.resolve(name);
    t.same(rt && [rt.group, rt.kind], [group, kind], name);
  }
  t.equal(registry.resolve('widgets'), undefined);
});

t.test('lookups', async (t) => {
  t.equal(registry.get('apps', 'v1', 'deployments')?.kind, 'Deployment');
  t.equal(registry.get('', 'v1', 'pods')?.kind, 'Pod');
  t.equal(registry.get('apps', 'v2', 'deployments'), undefined);
  t.equal(registry.byKind('networking.istio.io/v1', 'Gateway')?.plural, 'gateways');
  t.equal(registry.byKind('v1', 'Deployment'), undefined);
  t.equal(registry.byKind('apps/v1', 'Pod'), undefined);
  // every served version resolves to a view of the same kind, stored at the kind's storage version
  const vs3 = registry.byKind('networking.istio.io/v1alpha3', 'VirtualService')!;
  t.equal(vs3.version, 'v1alpha3');
  t.equal(vs3.storageVersion, 'v1');
  t.equal(vs3.plural, 'virtualservices');
  t.equal(registry.resolve('virtualservices.v1alpha3.networking.istio.io'), vs3);
  t.equal(registry.resolve('vs')?.version, 'v1', 'short names resolve to the preferred version');
  t.equal(registry.get('security.istio.io', 'v1beta1', 'authorizationpolicies')?.kind, 'AuthorizationPolicy');
  t.equal(registry.byKind('telemetry.istio.io/v1', 'Telemetry')?.storageVersion, 'v1alpha1');
  t.equal(registry.byKind('gateway.networking.k8s.io/v1', 'ReferenceGrant')?.storageVersion, 'v1beta1');
  t.equal(registry.byKind('gateway.networking.k8s.io/v1beta1', 'GRPCRoute'), undefined, 'GRPCRoute is served at v1 only');
  t.equal(registry.all().filter((r) => r.kind === 'VirtualService').length, 1, 'all() lists each kind once');
});

t.test('categories and subresources', async (t) => {
  t.same(registry.category('all').map((r) => r.plural).sort(), ['cronjobs', 'daemonsets', 'deployments', 'horizontalpodautoscalers', 'jobs', 'pods', 'replicasets', 'services', 'statefulsets']);
  t.same(registry.get('apps', 'v1', 'deployments')!.subresources.scale, { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' });
  t.equal(registry.get('apps', 'v1', 'daemonsets')!.subresources.scale, undefined);
  t.equal(registry.get('', 'v1', 'configmaps')!.subresources.status, undefined);
  t.equal(registry.get('', 'v1', 'pods')!.subresources.status, true);
  t.notOk(registry.get('', 'v1', 'namespaces')!.namespaced);
  t.ok(registry.get('', 'v1', 'pods')!.namespaced);
});

t.test('discovery', async (t) => {
  const groups = registry.groups();
  t.same(groups.map((g) => g.name), ['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'networking.k8s.io', 'networking.istio.io', 'security.istio.io', 'gateway.networking.k8s.io', 'telemetry.istio.io', 'authentication.k8s.io', 'authorization.k8s.io', 'rbac.authorization.k8s.io', 'autoscaling', 'metrics.k8s.io', 'shoal.io']);
  const istio = groups.find((g) => g.name === 'networking.istio.io')!;
  t.same(istio.versions.map((v) => v.version), ['v1', 'v1beta1', 'v1alpha3'], 'every served version, preferred first');
  t.same(groups.find((g) => g.name === 'gateway.networking.k8s.io')!.versions.map((v) => v.version), ['v1', 'v1beta1', 'v1alpha2']);
  t.same(groups.find((g) => g.name === 'telemetry.istio.io')!.preferredVersion.version, 'v1', 'preferred is the highest version, not the storage one');
  t.same(registry.resources('networking.istio.io', 'v1alpha3').map((r) => r.name).filter((n) => !n.includes('/')),
    ['virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'sidecars', 'workloadentries']);
  t.same(registry.resources('gateway.networking.k8s.io', 'v1alpha2').map((r) => r.name).filter((n) => !n.includes('/')), ['tcproutes', 'tlsroutes']);
  t.same(groups[0], { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
  t.same(registry.coreVersions(), ['v1']);
  const apps = registry.resources('apps', 'v1').map((r) => r.name);
  t.same(apps, ['deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale', 'daemonsets', 'daemonsets/status', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'controllerrevisions']);
  const pods = registry.resources('', 'v1').find((r) => r.name === 'pods')!;
  t.same(pods, {
    name: 'pods',
    singularName: 'pod',
    namespaced: true,
    kind: 'Pod',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['po'],
    categories: ['all'],
  });
});
