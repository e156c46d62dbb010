// Defaults per kind, as Kubernetes, Istio and the Gateway API document them: table rows of
// {kind, input tweak, want: path -> value}.

import t from 'tap';
import { defaultPullPolicy } from '../../api/kinds/core/pod-spec.js';
import { defaulted, get } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

const rows: { name: string; key: string; mutate?: (o: any) => void; want: Record<string, unknown> }[] = [
  {
    name: 'Pod spec and containers',
    key: '/Pod',
    want: {
      'spec.restartPolicy': 'Always',
      'spec.dnsPolicy': 'ClusterFirst',
      'spec.schedulerName': 'default-scheduler',
      'spec.terminationGracePeriodSeconds': 30,
      'spec.serviceAccountName': 'default',
      'spec.enableServiceLinks': true,
      'spec.securityContext': {},
      'spec.containers[0].imagePullPolicy': 'IfNotPresent',
      'spec.containers[0].terminationMessagePath': '/dev/termination-log',
      'spec.containers[0].terminationMessagePolicy': 'File',
      'spec.containers[0].ports[0].protocol': 'TCP',
      'spec.containers[0].livenessProbe.timeoutSeconds': 1,
      'spec.containers[0].livenessProbe.periodSeconds': 10,
      'spec.containers[0].livenessProbe.successThreshold': 1,
      'spec.containers[0].livenessProbe.failureThreshold': 3,
      'spec.containers[0].livenessProbe.initialDelaySeconds': 3,
      'spec.containers[0].livenessProbe.httpGet.scheme': 'HTTP',
      'spec.containers[0].env[1].valueFrom.fieldRef.apiVersion': 'v1',
      'spec.volumes[1].configMap.defaultMode': 420,
      'spec.initContainers[0].imagePullPolicy': 'IfNotPresent',
    },
  },
  {
    name: 'Pod: requests default to limits; volume without source gets emptyDir; hostNetwork hostPort',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].resources = { limits: { cpu: '1', memory: '1Gi' } };
      o.spec.volumes.push({ name: 'scratch' });
      o.spec.hostNetwork = true;
    },
    want: {
      'spec.containers[0].resources.requests': { cpu: '1', memory: '1Gi' },
      'spec.volumes[2].emptyDir': {},
      'spec.containers[0].ports[0].hostPort': 80,
    },
  },
  {
    name: 'Service',
    key: '/Service',
    want: {
      'spec.type': 'ClusterIP',
      'spec.sessionAffinity': 'None',
      'spec.ports[0].protocol': 'TCP',
      'spec.ports[0].targetPort': 'http',
      'spec.ports[1].targetPort': 9090,
      'spec.internalTrafficPolicy': 'Cluster',
      'spec.ipFamilyPolicy': 'SingleStack',
      'spec.ipFamilies': ['IPv4'],
      'spec.externalTrafficPolicy': undefined,
    },
  },
  {
    name: 'Service NodePort with ClientIP affinity',
    key: '/Service',
    mutate: (o) => {
      o.spec.type = 'LoadBalancer';
      o.spec.sessionAffinity = 'ClientIP';
    },
    want: {
      'spec.externalTrafficPolicy': 'Cluster',
      'spec.allocateLoadBalancerNodePorts': true,
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds': 10800,
    },
  },
  {
    name: 'Deployment',
    key: 'apps/Deployment',
    mutate: (o) => delete o.spec.replicas,
    want: {
      'spec.replicas': 1,
      'spec.strategy.type': 'RollingUpdate',
      'spec.strategy.rollingUpdate.maxUnavailable': '25%',
      'spec.strategy.rollingUpdate.maxSurge': '25%',
      'spec.revisionHistoryLimit': 10,
      'spec.progressDeadlineSeconds': 600,
      'spec.template.spec.restartPolicy': 'Always',
      'spec.template.spec.containers[0].imagePullPolicy': 'IfNotPresent',
      'spec.template.spec.serviceAccountName': undefined,
    },
  },
  {
    name: 'Deployment Recreate gets no rollingUpdate',
    key: 'apps/Deployment',
    mutate: (o) => (o.spec.strategy = { type: 'Recreate' }),
    want: { 'spec.strategy': { type: 'Recreate' } },
  },
  { name: 'ReplicaSet', key: 'apps/ReplicaSet', mutate: (o) => delete o.spec.replicas, want: { 'spec.replicas': 1, 'spec.template.spec.dnsPolicy': 'ClusterFirst' } },
  {
    name: 'DaemonSet',
    key: 'apps/DaemonSet',
    want: {
      'spec.updateStrategy.type': 'RollingUpdate',
      'spec.updateStrategy.rollingUpdate.maxUnavailable': 1,
      'spec.updateStrategy.rollingUpdate.maxSurge': 0,
      'spec.revisionHistoryLimit': 10,
    },
  },
  {
    name: 'Namespace',
    key: '/Namespace',
    want: {
      'metadata.labels': { 'istio-injection': 'enabled', 'kubernetes.io/metadata.name': 'team-a' },
      'spec.finalizers': ['kubernetes'],
      'status.phase': 'Active',
    },
  },
  { name: 'NetworkPolicy ingress only', key: 'networking.k8s.io/NetworkPolicy', want: { 'spec.policyTypes': ['Ingress'], 'spec.ingress[0].ports[0].protocol': 'TCP' } },
  {
    name: 'NetworkPolicy with egress',
    key: 'networking.k8s.io/NetworkPolicy',
    mutate: (o) => (o.spec.egress = [{ to: [{ namespaceSelector: {} }] }]),
    want: { 'spec.policyTypes': ['Ingress', 'Egress'] },
  },
  {
    name: 'NetworkPolicy explicit policyTypes kept',
    key: 'networking.k8s.io/NetworkPolicy',
    mutate: (o) => (o.spec.policyTypes = ['Egress']),
    want: { 'spec.policyTypes': ['Egress'] },
  },
  { name: 'Secret type', key: '/Secret', want: { type: 'Opaque' } },
  { name: 'Endpoints port protocol', key: '/Endpoints', want: { 'subsets[0].ports[0].protocol': 'TCP' } },
  { name: 'EndpointSlice port protocol', key: 'discovery.k8s.io/EndpointSlice', want: { 'ports[0].protocol': 'TCP' } },
  {
    name: 'HTTPRoute',
    key: 'gateway.networking.k8s.io/HTTPRoute',
    want: {
      'spec.parentRefs[0].group': 'gateway.networking.k8s.io',
      'spec.parentRefs[0].kind': 'Gateway',
      'spec.rules[0].matches[0].headers[0].type': 'Exact',
      'spec.rules[0].backendRefs[0].kind': 'Service',
      'spec.rules[0].backendRefs[0].group': '',
      'spec.rules[0].backendRefs[0].weight': 90,
    },
  },
  {
    name: 'HTTPRoute without rules or weights',
    key: 'gateway.networking.k8s.io/HTTPRoute',
    mutate: (o) => {
      o.spec.rules = [{ backendRefs: [{ name: 'a', port: 80 }] }];
    },
    want: { 'spec.rules[0].matches': [{ path: { type: 'PathPrefix', value: '/' } }], 'spec.rules[0].backendRefs[0].weight': 1 },
  },
  {
    name: 'Gateway listeners',
    key: 'gateway.networking.k8s.io/Gateway',
    want: {
      'spec.listeners[0].allowedRoutes.namespaces.from': 'Same',
      'spec.listeners[1].tls.mode': 'Terminate',
      'spec.listeners[1].tls.certificateRefs[0].kind': 'Secret',
    },
  },
];

t.test('defaults by kind', async (t) => {
  for (const row of rows) {
    const o = fixture(row.key);
    row.mutate?.(o);
    defaulted(o);
    for (const [path, want] of Object.entries(row.want)) t.same(get(o, path), want, `${row.name}: ${path}`);
  }
});

t.test('imagePullPolicy by tag', async (t) => {
  const rows: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['registry:5000/app', 'Always'],
    ['registry:5000/app:v2', 'IfNotPresent'],
    ['nginx@sha256:abc', 'IfNotPresent'],
  ];
  for (const [image, want] of rows) t.equal(defaultPullPolicy(image), want, image);
});

t.test('explicit values are never overwritten', async (t) => {
  const o = fixture('apps/Deployment');
  o.spec.revisionHistoryLimit = 2;
  o.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } };
  o.spec.template.spec.restartPolicy = 'Always';
  o.spec.template.spec.containers[0].imagePullPolicy = 'Never';
  defaulted(o);
  t.equal(o.spec.revisionHistoryLimit, 2);
  t.same(o.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: '25%' });
  t.equal(o.spec.template.spec.containers[0].imagePullPolicy, 'Never');
});
