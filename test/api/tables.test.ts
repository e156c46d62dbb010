// kubectl Table columns and cells per kind, as kubectl prints them.

import t from 'tap';
import { registry } from '../../api/registry.js';
import { defaulted } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

const now = new Date('2024-01-01T00:05:00Z');

function table(key: string, mutate?: (o: any) => void): { header: string[]; wide: string[]; row: unknown[] } {
  const o = defaulted(fixture(key));
  mutate?.(o);
  const rt = registry.byKind(o.apiVersion, o.kind)!;
  return {
    header: rt.columns.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase()),
    wide: rt.columns.filter((c) => c.priority === 1).map((c) => c.name.toUpperCase()),
    row: rt.cells(o, now),
  };
}

const rows: { key: string; mutate?: (o: any) => void; header: string[]; wide: string[]; row: unknown[] }[] = [
  {
    key: '/Pod',
    mutate: (o) => {
      o.spec.nodeName = 'node-1';
      o.status = {
        phase: 'Running',
        podIP: '10.244.0.5',
        conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
        initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed' } }, restartCount: 0, ready: false }],
        containerStatuses: [{ name: 'web', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: '2024-01-01T00:04:00Z' } } }],
      };
    },
    header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: ['web-1', '1/1', 'Running', '2 (60s ago)', '5m', '10.244.0.5', 'node-1', '<none>', '<none>'],
  },
  {
    key: '/Pod',
    mutate: (o) => (o.status = { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { waiting: { reason: 'PodInitializing' } } }], containerStatuses: [] }),
    header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: ['web-1', '0/1', 'Init:0/1', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
  },
  {
    key: '/Pod',
    mutate: (o) => (o.status = { phase: 'Running', containerStatuses: [{ name: 'web', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
    header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: ['web-1', '0/1', 'CrashLoopBackOff', '5', '5m', '<none>', '<none>', '<none>', '<none>'],
  },
  {
    key: '/Service',
    mutate: (o) => (o.spec.clusterIP = '10.96.0.20'),
    header: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row: ['web', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP,9090/TCP', '5m', 'app=web'],
  },
  {
    key: '/Service',
    mutate: (o) => ((o.spec.type = 'LoadBalancer'), (o.spec.clusterIP = '10.96.0.21'), (o.spec.ports[0].nodePort = 30080)),
    header: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row: ['web', 'LoadBalancer', '10.96.0.21', '<pending>', '80:30080/TCP,9090/TCP', '5m', 'app=web'],
  },
  {
    key: 'apps/Deployment',
    mutate: (o) => (o.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 }),
    header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: ['web', '2/3', 3, 2, '5m', 'web', 'nginx:1.25', 'app=web'],
  },
  {
    key: 'apps/ReplicaSet',
    mutate: (o) => (o.status = { replicas: 2, readyReplicas: 1 }),
    header: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: ['web-5d4f', 2, 2, 1, '5m', 'web', 'nginx:1.25', 'app=web,tier in (front)'],
  },
  {
    key: 'apps/DaemonSet',
    mutate: (o) => (o.status = { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 }),
    header: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: ['agent', 1, 1, 1, 1, 1, 'kubernetes.io/os=linux', '5m', 'web', 'nginx:1.25', 'app=agent'],
  },
  { key: '/Namespace', header: ['NAME', 'STATUS', 'AGE'], wide: [], row: ['team-a', 'Active', '5m'] },
  {
    key: '/Endpoints',
    mutate: (o) => o.subsets[0].addresses.push({ ip: '10.244.0.7' }, { ip: '10.244.0.8' }),
    header: ['NAME', 'ENDPOINTS', 'AGE'],
    wide: [],
    row: ['web', '10.244.0.5:80,10.244.0.6:80,10.244.0.7:80 + 1 more...', '5m'],
  },
  {
    key: '/Node',
    header: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: ['node-1', 'Ready', 'control-plane', '5m', 'v1.31.0-shoal', '192.168.1.10', '<none>', 'Debian GNU/Linux 12', '6.1.0', 'shoal://0.1.0'],
  },
  {
    key: '/Event',
    mutate: (o) => ((o.count = 3), (o.lastTimestamp = '2024-01-01T00:04:00Z')),
    header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: ['SUBOBJECT', 'SOURCE', 'FIRST SEEN', 'COUNT', 'NAME'],
    row: ['60s (x3 over 5m)', 'Normal', 'Started', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1', 'Started container web', '5m', '3', 'web-1.17a'],
  },
  { key: '/Secret', header: ['NAME', 'TYPE', 'DATA', 'AGE'], wide: [], row: ['db', 'Opaque', 1, '5m'] },
  { key: '/ConfigMap', header: ['NAME', 'DATA', 'AGE'], wide: [], row: ['settings', 2, '5m'] },
  { key: '/ServiceAccount', header: ['NAME', 'SECRETS', 'AGE'], wide: [], row: ['reviews', 0, '5m'] },
  { key: 'coordination.k8s.io/Lease', header: ['NAME', 'HOLDER', 'AGE'], wide: [], row: ['node-1', 'node-1', '5m'] },
  { key: 'discovery.k8s.io/EndpointSlice', header: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], wide: [], row: ['web-abc12', 'IPv4', '80', '10.244.0.5', '5m'] },
  {
    key: 'networking.k8s.io/Ingress',
    mutate: (o) => (o.status = { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } }),
    header: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
    wide: [],
    row: ['web', 'shoal', 'web.example.com', '127.0.0.1', '80, 443', '5m'],
  },
  { key: 'networking.k8s.io/IngressClass', header: ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'], wide: [], row: ['shoal', 'shoal.io/ingress-controller', '<none>', '5m'] },
  { key: 'networking.k8s.io/NetworkPolicy', header: ['NAME', 'POD-SELECTOR', 'AGE'], wide: [], row: ['allow-front', 'app=web', '5m'] },
  { key: 'networking.istio.io/VirtualService', header: ['NAME', 'GATEWAYS', 'HOSTS', 'AGE'], wide: [], row: ['reviews', '', '["reviews"]', '5m'] },
  { key: 'networking.istio.io/DestinationRule', header: ['NAME', 'HOST', 'AGE'], wide: [], row: ['reviews', 'reviews', '5m'] },
  { key: 'networking.istio.io/Gateway', header: ['NAME', 'AGE'], wide: [], row: ['bookinfo-gateway', '5m'] },
  { key: 'security.istio.io/PeerAuthentication', header: ['NAME', 'MODE', 'AGE'], wide: [], row: ['default', 'STRICT', '5m'] },
  { key: 'security.istio.io/AuthorizationPolicy', header: ['NAME', 'ACTION', 'AGE'], wide: [], row: ['reviews-viewer', 'ALLOW', '5m'] },
  {
    key: 'gateway.networking.k8s.io/GatewayClass',
    mutate: (o) => (o.status = { conditions: [{ type: 'Accepted', status: 'True' }] }),
    header: ['NAME', 'CONTROLLER', 'ACCEPTED', 'AGE'],
    wide: ['DESCRIPTION'],
    row: ['shoal', 'shoal.io/gateway-controller', 'True', '5m', ''],
  },
  {
    key: 'gateway.networking.k8s.io/Gateway',
    mutate: (o) => (o.status = { addresses: [{ type: 'IPAddress', value: '127.0.0.1' }], conditions: [{ type: 'Programmed', status: 'True' }] }),
    header: ['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE'],
    wide: [],
    row: ['web', 'shoal', '127.0.0.1', 'True', '5m'],
  },
  { key: 'gateway.networking.k8s.io/HTTPRoute', header: ['NAME', 'HOSTNAMES', 'AGE'], wide: [], row: ['reviews', '["reviews.example.com"]', '5m'] },
];

t.test('table columns and cells', async (t) => {
  for (const r of rows) {
    const got = table(r.key, r.mutate);
    t.same(got.header, r.header, `${r.key} header`);
    t.same(got.wide, r.wide, `${r.key} wide columns`);
    t.same(got.row, r.row, `${r.key} cells`);
  }
});

t.test('every kind has as many cells as columns', async (t) => {
  for (const rt of registry.all()) {
    const o = defaulted(fixture(`${rt.group}/${rt.kind}`));
    t.equal(rt.cells(o, now).length, rt.columns.length, rt.kind);
  }
});

t.test('terminating pod', async (t) => {
  const { row } = table('/Pod', (o) => (o.metadata.deletionTimestamp = '2024-01-01T00:04:00Z'));
  t.equal(row[2], 'Terminating');
});
