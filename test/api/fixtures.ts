// One valid, realistic manifest per kind, shared by the api tests. Each test clones what it uses.

import type { KubeObject } from '../../api/meta.js';

const md = (name: string, ns: string | null = 'default', labels?: Record<string, string>) => ({
  name,
  ...(ns ? { namespace: ns } : {}),
  ...(labels ? { labels } : {}),
  creationTimestamp: '2024-01-01T00:00:00Z',
});

const podSpec = () => ({
  initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }],
  containers: [
    {
      name: 'web',
      image: 'nginx:1.25',
      ports: [{ name: 'http', containerPort: 80 }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
      envFrom: [{ configMapRef: { name: 'settings' } }],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 3 },
      readinessProbe: { tcpSocket: { port: 80 } },
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'config', mountPath: '/etc/app', readOnly: true }],
      securityContext: { runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } },
      lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
    },
  ],
  volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }, { name: 'config', configMap: { name: 'settings' } }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } },
      ],
    },
  },
});

const template = (labels: Record<string, string>) => ({ metadata: { labels }, spec: podSpec() });

/** A valid object per kind, keyed by `group/Kind`. */
export const fixtures: Record<string, KubeObject> = {
  '/Pod': { apiVersion: 'v1', kind: 'Pod', metadata: md('web-1', 'default', { app: 'web' }), spec: podSpec() },
  '/Service': {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: md('web'),
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090 }] },
  },
  '/Endpoints': {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: md('web'),
    subsets: [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }], ports: [{ name: 'http', port: 80 }] }],
  },
  '/Namespace': { apiVersion: 'v1', kind: 'Namespace', metadata: md('team-a', null, { 'istio-injection': 'enabled' }) },
  '/Node': {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: md('node-1', null, { 'node-role.kubernetes.io/control-plane': '' }),
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'node-1' }],
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.31.0-shoal', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'shoal://0.1.0' },
    },
  },
  '/Event': {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: md('web-1.17a'),
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', fieldPath: 'spec.containers{web}' },
    reason: 'Started',
    message: 'Started container web',
    type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    count: 1,
    firstTimestamp: '2024-01-01T00:00:00Z',
    lastTimestamp: '2024-01-01T00:00:00Z',
  },
  '/Secret': { apiVersion: 'v1', kind: 'Secret', metadata: md('db'), data: { password: 'c2VjcmV0' }, stringData: { user: 'admin' } },
  '/ConfigMap': { apiVersion: 'v1', kind: 'ConfigMap', metadata: md('settings'), data: { 'app.conf': 'x=1', LOG_LEVEL: 'info' } },
  '/ServiceAccount': { apiVersion: 'v1', kind: 'ServiceAccount', metadata: md('reviews'), imagePullSecrets: [{ name: 'regcred' }] },
  'apps/Deployment': {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: md('web', 'default', { app: 'web' }),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', version: 'v1' }) },
  },
  'apps/ReplicaSet': {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: md('web-5d4f'),
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }, template: template({ app: 'web', tier: 'front' }) },
  },
  'apps/DaemonSet': {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: md('agent', 'kube-system'),
    spec: { selector: { matchLabels: { app: 'agent' } }, template: template({ app: 'agent' }) },
  },
  'coordination.k8s.io/Lease': {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: md('node-1', 'kube-node-lease'),
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-01-01T00:00:00.000000Z' },
  },
  'discovery.k8s.io/EndpointSlice': {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: md('web-abc12', 'default', { 'kubernetes.io/service-name': 'web' }),
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ name: 'http', port: 80 }],
  },
  'networking.k8s.io/Ingress': {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: md('web'),
    spec: {
      ingressClassName: 'shoal',
      tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
      rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
  },
  'networking.k8s.io/IngressClass': {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: md('shoal', null),
    spec: { controller: 'shoal.io/ingress-controller' },
  },
  'networking.k8s.io/NetworkPolicy': {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: md('allow-front'),
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { role: 'front' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
          ports: [{ port: 80 }, { port: 8000, endPort: 8080 }],
        },
      ],
    },
  },
  'networking.istio.io/VirtualService': {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: md('reviews'),
    spec: {
      hosts: ['reviews'],
      http: [
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } }, uri: { prefix: '/reviews' } }],
          route: [{ destination: { host: 'reviews', subset: 'v2' } }],
          fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } },
        },
        {
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
            { destination: { host: 'reviews', subset: 'v3', port: { number: 9080 } }, weight: 10 },
          ],
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,connect-failure' },
          timeout: '10s',
          mirror: { host: 'reviews-shadow' },
          mirrorPercentage: { value: 5 },
        },
      ],
    },
  },
  'networking.istio.io/DestinationRule': {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: md('reviews'),
    spec: {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'LEAST_REQUEST' },
        connectionPool: { tcp: { maxConnections: 100, connectTimeout: '30ms' }, http: { http1MaxPendingRequests: 10, maxRequestsPerConnection: 1 } },
        outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
        tls: { mode: 'ISTIO_MUTUAL' },
      },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } },
      ],
    },
  },
  'networking.istio.io/Gateway': {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: md('bookinfo-gateway'),
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [
        { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] },
        { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['bookinfo.example.com'], tls: { mode: 'SIMPLE', credentialName: 'bookinfo-cert' } },
      ],
    },
  },
  'security.istio.io/PeerAuthentication': {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: md('default'),
    spec: { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } },
  },
  'security.istio.io/AuthorizationPolicy': {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: md('reviews-viewer'),
    spec: {
      selector: { matchLabels: { app: 'reviews' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }],
          to: [{ operation: { methods: ['GET'], ports: ['9080'] } }],
          when: [{ key: 'request.headers[version]', values: ['v1', 'v2'] }],
        },
      ],
    },
  },
  'gateway.networking.k8s.io/GatewayClass': {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: md('shoal', null),
    spec: { controllerName: 'shoal.io/gateway-controller' },
  },
  'gateway.networking.k8s.io/Gateway': {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: md('web'),
    spec: {
      gatewayClassName: 'shoal',
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP' },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'web-tls' }] } },
      ],
    },
  },
  'gateway.networking.k8s.io/HTTPRoute': {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: md('reviews'),
    spec: {
      parentRefs: [{ name: 'web' }],
      hostnames: ['reviews.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'true' }] }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-via', value: 'shoal' }] } }],
          backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 90 }, { name: 'reviews-v2', port: 9080, weight: 10 }],
          timeouts: { request: '10s' },
        },
      ],
    },
  },
};

/** A deep copy of the fixture for `key`. */
export function fixture(key: string): KubeObject {
  const f = fixtures[key];
  if (!f) throw new Error(`no fixture ${key}`);
  return structuredClone(f);
}
