// ServiceEntry/WorkloadEntry → mesh Services and Endpoints (model/registry.ts) and the Sidecar resource's
// scope (model/sidecar-scope.ts, compile.ts visibleFor + the Workload's outboundTrafficPolicy), as pure
// functions over cached objects.
import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { compileServices, compileWorkload, spiffeId, visibleFor, type ClusterView } from '../../control-plane/mesh/model/compile.js';
import { serviceEntryEndpoints, serviceEntryServices } from '../../control-plane/mesh/model/registry.js';
import { applicableSidecar, egressFilter, outboundPolicy } from '../../control-plane/mesh/model/sidecar-scope.js';

const o = (kind: string, ns: string, name: string, spec: unknown, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'networking.istio.io/v1', kind, metadata: { namespace: ns, name, creationTimestamp: '2026-01-01T00:00:00Z', ...extra }, spec } as any);

const se = o('ServiceEntry', 'shop', 'payments', {
  hosts: ['pay.example.test'], addresses: ['10.216.0.20', '10.217.0.0/24'], location: 'MESH_EXTERNAL', resolution: 'STATIC',
  ports: [{ number: 80, name: 'http', protocol: 'HTTP' }, { number: 443, name: 'tls', protocol: 'TLS', targetPort: 8443 }],
  endpoints: [{ address: '10.213.30.3', labels: { version: 'v1' }, ports: { http: 9001 } }, { address: '10.213.30.4', labels: { version: 'v2' } }],
});
const selected = o('ServiceEntry', 'shop', 'vms', {
  hosts: ['vm.shop.internal'], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 8080, name: 'http' }], workloadSelector: { labels: { app: 'vm' } },
});
const we = o('WorkloadEntry', 'shop', 'vm-1', { address: '10.213.30.9', labels: { app: 'vm', version: 'v1' }, serviceAccount: 'vm-sa' });
const podVm = { metadata: { namespace: 'shop', name: 'vm-pod', labels: { app: 'vm' } }, spec: { serviceAccountName: 'vm2', containers: [{ name: 'a' }, { name: 'istio-proxy' }] }, status: { podIP: '10.244.0.30', conditions: [{ type: 'Ready', status: 'True' }] } } as any;

t.test('ServiceEntry hosts become Services with their addresses and ports', async (t) => {
  const view = { serviceEntries: () => [se, selected], workloadEntries: () => [we], pods: () => [podVm] };
  const svcs = serviceEntryServices(view);
  t.same(svcs.map((r) => r.name), ['shop/pay.example.test', 'shop/vm.shop.internal']);
  t.same(svcs[0].service, {
    name: 'pay.example.test', namespace: 'shop', hostname: 'pay.example.test', vips: ['10.216.0.20'],
    ports: [{ name: 'http', port: 80, targetPort: 80, targetPortName: '', protocol: 'TCP', appProtocol: 'http' },
      { name: 'tls', port: 443, targetPort: 8443, targetPortName: '', protocol: 'TCP', appProtocol: 'tls' }],
  }, 'IP addresses are VIPs (a CIDR is not); the port protocol becomes appProtocol');
  const eps = serviceEntryEndpoints(view, spiffeId);
  const pay = eps.find((r) => r.name === 'shop/pay.example.test')!.endpoints!.endpoints;
  t.same(pay.map((e) => [e.address, e.ports, e.mesh, e.labels]), [
    ['10.213.30.3', [{ name: 'http', port: 9001 }, { name: 'tls', port: 8443 }], false, { version: 'v1' }],
    ['10.213.30.4', [{ name: 'http', port: 80 }, { name: 'tls', port: 8443 }], false, { version: 'v2' }],
  ], 'STATIC endpoints with per-port overrides; MESH_EXTERNAL never speaks HBONE');
  const vm = eps.find((r) => r.name === 'shop/vm.shop.internal')!.endpoints!.endpoints;
  t.same(vm.map((e) => [e.address, e.mesh, e.identity]), [
    ['10.213.30.9', false, 'spiffe://cluster.local/ns/shop/sa/vm-sa'],
    ['10.244.0.30', true, 'spiffe://cluster.local/ns/shop/sa/vm2'],
  ], 'workloadSelector: the WorkloadEntry and the pod with a sidecar (MESH_INTERNAL → HBONE to the pod)');
});

t.test('Sidecar: selection, egress hosts, outboundTrafficPolicy', async (t) => {
  const nsDefault = o('Sidecar', 'shop', 'default', { egress: [{ hosts: ['./*', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }, { creationTimestamp: '2026-01-02T00:00:00Z' });
  const forWeb = o('Sidecar', 'shop', 'web', { workloadSelector: { labels: { app: 'web' } }, egress: [{ hosts: ['*/pay.example.test', 'other/db'] }] });
  const root = o('Sidecar', 'istio-system', 'default', { egress: [{ hosts: ['*/*'] }] });
  t.equal(applicableSidecar('shop', { app: 'web' }, [nsDefault, forWeb, root])?.metadata.name, 'web', 'workloadSelector first');
  t.equal(applicableSidecar('shop', { app: 'api' }, [nsDefault, forWeb, root])?.metadata.name, 'default', 'then the namespace default');
  t.equal(applicableSidecar('other', {}, [nsDefault, forWeb, root])?.metadata.namespace, 'istio-system', 'then the root namespace');
  t.equal(applicableSidecar('other', {}, [nsDefault, forWeb]), undefined);
  const f = egressFilter(nsDefault, 'shop');
  t.ok(f('shop', 'web.shop.svc.cluster.local'), './* sees its own namespace');
  t.notOk(f('other', 'db.other.svc.cluster.local'), 'not another namespace');
  t.ok(f('istio-system', 'istiod.istio-system.svc.cluster.local'));
  const g = egressFilter(forWeb, 'shop');
  t.ok(g('shop', 'pay.example.test') && g('other', 'db.other.svc.cluster.local'), 'named hosts, FQDN or short name');
  t.notOk(g('shop', 'web.shop.svc.cluster.local'));
  t.equal(outboundPolicy(nsDefault), 'REGISTRY_ONLY');
  t.equal(outboundPolicy(forWeb), 'ALLOW_ANY', "Istio's default");
  t.notOk(egressFilter(o('Sidecar', 'shop', 'x', { egress: [{ hosts: ['~/*'] }] }), 'shop')('shop', 'a.shop.svc.cluster.local'), '~ matches nothing');

  const svc = (ns: string, name: string) => ({ metadata: { namespace: ns, name }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } });
  const view: ClusterView = {
    services: () => [svc('shop', 'web'), svc('other', 'db'), svc('istio-system', 'istiod')] as any, service: () => undefined, endpointSlices: () => [],
    pod: (ns, n) => (ns === 'shop' && n === 'web-1' ? { metadata: { namespace: 'shop', name: 'web-1', labels: { app: 'api' } }, spec: {} } as any : undefined),
    peerAuthentications: () => [], authorizationPolicies: () => [], virtualServices: () => [], destinationRules: () => [], httpRoutes: () => [], grpcRoutes: () => [],
    serviceEntries: () => [se], workloadEntries: () => [], pods: () => [], sidecars: () => [nsDefault, forWeb],
    requestAuthentications: () => [], jwks: () => ({ jwks: '', error: '' }),
  };
  const vis = visibleFor(view, { podName: 'web-1', namespace: 'shop' })!;
  t.same(compileServices(view).filter(vis).map((r) => r.name), ['istio-system/istiod', 'shop/pay.example.test', 'shop/web'], "the proxy sees its namespace's Services, the ServiceEntry host and istio-system's");
  t.same(compileServices(view).filter((r) => vis({ name: r.name })).map((r) => r.name), ['istio-system/istiod', 'shop/pay.example.test', 'shop/web'], 'Endpoints resources by name alike');
  const w = compileWorkload(view, { podName: 'web-1', namespace: 'shop' }).workload!;
  t.equal(w.outboundTrafficPolicy, 'REGISTRY_ONLY');
  t.equal(w.sidecar, 'shop/default');
  t.equal(visibleFor({ ...view, sidecars: () => [] }, { podName: 'web-1', namespace: 'shop' }), undefined, 'no Sidecar: everything');
});
