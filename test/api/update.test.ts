// Immutability on update: table rows of {kind, change from old to new, wantErrors}.

import t from 'tap';
import { patchAllocatedValues } from '../../api/kinds/core/service.js';
import { errorsOf } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

const POD_MSG =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const rows: { name: string; key: string; old?: (o: any) => void; change: (o: any) => void; want: string[] }[] = [
  { name: 'pod: image may change', key: '/Pod', change: (o) => (o.spec.containers[0].image = 'nginx:1.27'), want: [] },
  { name: 'pod: init image may change', key: '/Pod', change: (o) => (o.spec.initContainers[0].image = 'busybox:1.37'), want: [] },
  { name: 'pod: tolerations may be added', key: '/Pod', change: (o) => o.spec.tolerations.push({ key: 'x', operator: 'Exists' }), want: [] },
  { name: 'pod: activeDeadlineSeconds may be set', key: '/Pod', change: (o) => (o.spec.activeDeadlineSeconds = 60), want: [] },
  {
    name: 'pod: activeDeadlineSeconds may not grow',
    key: '/Pod',
    old: (o) => (o.spec.activeDeadlineSeconds = 60),
    change: (o) => (o.spec.activeDeadlineSeconds = 120),
    want: ['spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value'],
  },
  { name: 'pod: ports may not change', key: '/Pod', change: (o) => (o.spec.containers[0].ports[0].containerPort = 81), want: [POD_MSG] },
  { name: 'pod: containers may not be added', key: '/Pod', change: (o) => o.spec.containers.push({ name: 'side', image: 'envoy' }), want: [POD_MSG] },
  {
    name: 'pod: tolerations may not be removed',
    key: '/Pod',
    change: (o) => (o.spec.tolerations = []),
    want: ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds'],
  },
  {
    name: 'service: clusterIP is immutable once set',
    key: '/Service',
    old: (o) => ((o.spec.clusterIP = '10.96.0.20'), (o.spec.clusterIPs = ['10.96.0.20'])),
    change: (o) => ((o.spec.clusterIP = '10.96.0.21'), (o.spec.clusterIPs = ['10.96.0.21'])),
    want: ['spec.clusterIP: Invalid value: "10.96.0.21": field is immutable', 'spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set'],
  },
  {
    name: 'service: clusterIP kept, ports changed is fine',
    key: '/Service',
    old: (o) => (o.spec.clusterIP = '10.96.0.20'),
    change: (o) => ((o.spec.clusterIP = '10.96.0.20'), (o.spec.ports[0].port = 8080)),
    want: [],
  },
  {
    name: 'deployment: selector is immutable',
    key: 'apps/Deployment',
    change: (o) => ((o.spec.selector.matchLabels.version = 'v1')),
    want: ['spec.selector: Invalid value: {"matchLabels":{"app":"web","version":"v1"}}: field is immutable'],
  },
  { name: 'deployment: replicas and image may change', key: 'apps/Deployment', change: (o) => ((o.spec.replicas = 5), (o.spec.template.spec.containers[0].image = 'nginx:2')), want: [] },
  {
    name: 'replicaset: selector is immutable',
    key: 'apps/ReplicaSet',
    change: (o) => (o.spec.selector.matchExpressions = []),
    want: ['spec.selector: Invalid value: {"matchLabels":{"app":"web"},"matchExpressions":[]}: field is immutable'],
  },
  {
    name: 'daemonset: selector is immutable',
    key: 'apps/DaemonSet',
    change: (o) => ((o.spec.selector.matchLabels = { app: 'agent2' }), (o.spec.template.metadata.labels = { app: 'agent2' })),
    want: ['spec.selector: Invalid value: {"matchLabels":{"app":"agent2"}}: field is immutable'],
  },
  {
    name: 'configmap: data frozen when immutable',
    key: '/ConfigMap',
    old: (o) => (o.immutable = true),
    change: (o) => ((o.immutable = true), (o.data.LOG_LEVEL = 'debug')),
    want: ['data: Forbidden: field is immutable when `immutable` is set'],
  },
  {
    name: 'secret: immutable may not be unset',
    key: '/Secret',
    old: (o) => (o.immutable = true),
    change: (o) => (o.immutable = false),
    want: ['immutable: Forbidden: field is immutable when `immutable` is set'],
  },
  { name: 'secret: type is immutable', key: '/Secret', change: (o) => (o.type = 'kubernetes.io/basic-auth'), want: ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable'] },
  { name: 'metadata: name is immutable', key: '/ConfigMap', change: (o) => (o.metadata.name = 'other'), want: ['metadata.name: Invalid value: "other": field is immutable'] },
  {
    name: 'ingressclass: controller is immutable',
    key: 'networking.k8s.io/IngressClass',
    change: (o) => (o.spec.controller = 'example.com/other'),
    want: ['spec.controller: Invalid value: "example.com/other": field is immutable'],
  },
  {
    name: 'gatewayclass: controllerName is immutable',
    key: 'gateway.networking.k8s.io/GatewayClass',
    change: (o) => (o.spec.controllerName = 'example.com/other'),
    want: ['spec.controllerName: Invalid value: "example.com/other": field is immutable'],
  },
  {
    name: 'endpointslice: addressType is immutable',
    key: 'discovery.k8s.io/EndpointSlice',
    change: (o) => ((o.addressType = 'FQDN'), (o.endpoints[0].addresses = ['web.example.com'])),
    want: ['addressType: Invalid value: "FQDN": field is immutable'],
  },
];

t.test('update rows', async (t) => {
  for (const row of rows) {
    const old = fixture(row.key);
    row.old?.(old);
    const o = structuredClone(old);
    row.change(o);
    t.same(errorsOf(o, old), row.want, row.name);
  }
});

t.test('service PUT without allocated values keeps them', async (t) => {
  const old = fixture('/Service');
  old.spec.type = 'NodePort';
  old.spec.clusterIP = '10.96.0.20';
  old.spec.clusterIPs = ['10.96.0.20'];
  old.spec.ports[0].nodePort = 30080;
  old.spec.ports[0].protocol = 'TCP';
  const put = fixture('/Service');
  put.spec.type = 'NodePort';
  patchAllocatedValues(put, old);
  t.equal(put.spec.clusterIP, '10.96.0.20');
  t.same(put.spec.clusterIPs, ['10.96.0.20']);
  t.equal(put.spec.ports[0].nodePort, 30080);
  t.equal(put.spec.ports[1].nodePort, undefined, 'no allocated port to keep');
  t.same(errorsOf(put, old), []);
  const other = fixture('/Service');
  other.spec.clusterIP = '10.96.0.99';
  patchAllocatedValues(other, old);
  t.equal(other.spec.clusterIP, '10.96.0.99', 'an explicit change is kept (and then rejected by validation)');
});
