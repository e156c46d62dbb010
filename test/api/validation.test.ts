// Validation per kind: table rows of {kind, tweak to a valid fixture, wantErrors} where wantErrors
// are the exact formatted field errors (every error collected, with its path).

import t from 'tap';
import { errorsOf } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const PORT = 'must be between 1 and 65535, inclusive';

type Row = { name: string; key: string; mutate: (o: any) => void; want: string[] };

const rows: Row[] = [
  // ---- Pod
  {
    name: 'pod: bad container port deep in the list, duplicate container name, missing image',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].ports[1].containerPort = 70000;
      o.spec.containers.push({ name: 'web' });
    },
    want: [`spec.containers[0].ports[1].containerPort: Invalid value: 70000: ${PORT}`, 'spec.containers[1].name: Duplicate value: "web"', 'spec.containers[1].image: Required value'],
  },
  { name: 'pod: no containers', key: '/Pod', mutate: (o) => (o.spec.containers = []), want: ['spec.containers: Required value'] },
  {
    name: 'pod: wrong types are reported, semantic checks skipped',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].ports[0].containerPort = '80';
      o.spec.hostNetwork = 'yes';
    },
    want: ['spec.containers[0].ports[0].containerPort: Invalid value: "80": must be of type integer', 'spec.hostNetwork: Invalid value: "yes": must be of type boolean'],
  },
  {
    name: 'pod: enums',
    key: '/Pod',
    mutate: (o) => {
      o.spec.restartPolicy = 'Sometimes';
      o.spec.containers[0].ports[0].protocol = 'HTTP';
    },
    want: [
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ],
  },
  {
    name: 'pod: mount of unknown volume, duplicate volume, two sources',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].volumeMounts[0].name = 'nope';
      o.spec.volumes.push({ name: 'config', emptyDir: {}, hostPath: { path: '/x' } });
    },
    want: [
      'spec.volumes[2].name: Duplicate value: "config"',
      'spec.volumes[2].hostPath: Forbidden: may not specify more than 1 volume type',
      'spec.containers[0].volumeMounts[0].name: Not found: "nope"',
    ],
  },
  {
    name: 'pod: bad container name, env with both value and valueFrom',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].name = 'Web_1';
      o.spec.containers[0].env[1].value = 'x';
    },
    want: [`spec.containers[0].name: Invalid value: "Web_1": ${DNS1123_LABEL}`, 'spec.containers[0].env[1].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
  },
  {
    name: 'pod: probes without handler, liveness successThreshold',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].readinessProbe = { periodSeconds: 5 };
      o.spec.containers[0].livenessProbe.successThreshold = 2;
    },
    want: ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1', 'spec.containers[0].readinessProbe: Required value: must specify a handler type'],
  },
  {
    name: 'pod: requests above limits, bad quantity',
    key: '/Pod',
    mutate: (o) => {
      o.spec.containers[0].resources.requests.cpu = '2';
      o.spec.containers[0].resources.limits.memory = '1 Gi';
    },
    want: [
      "spec.containers[0].resources.limits[memory]: Invalid value: \"1 Gi\": must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 500m',
    ],
  },
  {
    name: 'pod: requests above limits',
    key: '/Pod',
    mutate: (o) => (o.spec.containers[0].resources.requests.cpu = '2'),
    want: ['spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 500m'],
  },
  {
    name: 'pod: tolerations and affinity',
    key: '/Pod',
    mutate: (o) => {
      o.spec.tolerations.push({ operator: 'Equal', value: 'x' }, { key: 'a', operator: 'Exists', value: 'b', tolerationSeconds: 5, effect: 'NoSchedule' });
      o.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight = 0;
      o.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey = '';
    },
    want: [
      'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      'spec.tolerations[2].operator: Invalid value: "b": value must be empty when `operator` is \'Exists\'',
      'spec.tolerations[2].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set',
      'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
      'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Required value: can not be empty',
    ],
  },
  {
    name: 'pod: dnsPolicy None requires dnsConfig; bad label value in nodeSelector',
    key: '/Pod',
    mutate: (o) => {
      o.spec.dnsPolicy = 'None';
      o.spec.nodeSelector.zone = 'a b';
    },
    want: [
      "spec.nodeSelector[zone]: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None',
    ],
  },
  {
    name: 'pod: metadata name and namespace',
    key: '/Pod',
    mutate: (o) => {
      o.metadata.name = 'Web!';
      delete o.metadata.namespace;
    },
    want: [
      "metadata.name: Invalid value: \"Web!\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      'metadata.namespace: Required value',
    ],
  },
  // ---- Service
  {
    name: 'service: unnamed ports when several, duplicate port, bad targetPort name, nodePort on ClusterIP',
    key: '/Service',
    mutate: (o) => {
      delete o.spec.ports[1].name;
      o.spec.ports.push({ name: 'http2', port: 80, targetPort: 'Not_A_Name', nodePort: 30080 });
    },
    want: [
      'spec.ports[1].name: Required value',
      'spec.ports[2].targetPort: Invalid value: "Not_A_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ports[2].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'',
      'spec.ports[2]: Duplicate value: "80/TCP"',
    ],
  },
  {
    name: 'service: name is a DNS-1035 label; bad type; bad clusterIP',
    key: '/Service',
    mutate: (o) => {
      o.metadata.name = '1web';
      o.spec.type = 'Internal';
      o.spec.clusterIP = '10.96.0.300';
    },
    want: [
      `metadata.name: Invalid value: "1web": ${DNS1035}`,
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"',
      'spec.clusterIP: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: 'service: bad clusterIP, port out of range, no ports',
    key: '/Service',
    mutate: (o) => {
      o.spec.clusterIP = '10.96.0.300';
      o.spec.ports[0].port = 0;
    },
    want: ['spec.clusterIP: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', `spec.ports[0].port: Invalid value: 0: ${PORT}`],
  },
  { name: 'service: ports required', key: '/Service', mutate: (o) => (o.spec.ports = []), want: ['spec.ports: Required value'] },
  { name: 'service: headless without ports is fine', key: '/Service', mutate: (o) => ((o.spec.ports = []), (o.spec.clusterIP = 'None')), want: [] },
  {
    name: 'service: ExternalName needs externalName',
    key: '/Service',
    mutate: (o) => ((o.spec = { type: 'ExternalName' })),
    want: ['spec.externalName: Required value'],
  },
  // ---- Deployment / ReplicaSet / DaemonSet
  {
    name: 'deployment: selector does not match template labels; bad restartPolicy; deep port error',
    key: 'apps/Deployment',
    mutate: (o) => {
      o.spec.selector.matchLabels.app = 'other';
      o.spec.template.spec.restartPolicy = 'Never';
      o.spec.template.spec.containers[0].ports[1].containerPort = 0;
    },
    want: [
      'spec.template.metadata.labels: Invalid value: {"app":"web","version":"v1"}: `selector` does not match template `labels`',
      `spec.template.spec.containers[0].ports[1].containerPort: Invalid value: 0: ${PORT}`,
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ],
  },
  { name: 'deployment: selector required', key: 'apps/Deployment', mutate: (o) => delete o.spec.selector, want: ['spec.selector: Required value'] },
  {
    name: 'deployment: empty selector, negative replicas',
    key: 'apps/Deployment',
    mutate: (o) => ((o.spec.selector = {}), (o.spec.replicas = -1)),
    want: ['spec.selector: Invalid value: {}: empty selector is invalid for deployment', 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
  },
  {
    name: 'deployment: strategy rules',
    key: 'apps/Deployment',
    mutate: (o) => (o.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } }),
    want: ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
  },
  {
    name: 'deployment: Recreate with rollingUpdate, bad percent',
    key: 'apps/Deployment',
    mutate: (o) => (o.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: '25' } }),
    want: ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
  },
  {
    name: 'deployment: progressDeadlineSeconds must exceed minReadySeconds',
    key: 'apps/Deployment',
    mutate: (o) => ((o.spec.minReadySeconds = 700), (o.spec.progressDeadlineSeconds = 600)),
    want: ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'],
  },
  {
    name: 'replicaset: matchExpressions operator and values',
    key: 'apps/ReplicaSet',
    mutate: (o) => (o.spec.selector.matchExpressions = [{ key: 'tier', operator: 'In' }, { key: 'x', operator: 'Exists', values: ['a'] }, { key: 'y', operator: 'Has' }]),
    want: [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Unsupported value: "Has": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    ],
  },
  {
    name: 'daemonset: OnDelete with rollingUpdate',
    key: 'apps/DaemonSet',
    mutate: (o) => (o.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { maxUnavailable: 1 } }),
    want: ["spec.updateStrategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'OnDelete'"],
  },
  // ---- Namespace, Secret, ConfigMap, Node, Event, Endpoints
  {
    name: 'namespace: label-form name, no namespace allowed',
    key: '/Namespace',
    mutate: (o) => ((o.metadata.name = 'team.a'), (o.metadata.namespace = 'default')),
    want: [`metadata.name: Invalid value: "team.a": ${DNS1123_LABEL}`, 'metadata.namespace: Forbidden: not allowed on this type'],
  },
  {
    name: 'secret: bad key, not base64, tls keys missing',
    key: '/Secret',
    mutate: (o) => ((o.data = { 'bad key': 'c2VjcmV0', ok: 'not base64!' }), (o.type = 'kubernetes.io/tls')),
    want: [
      "data: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[ok]: Invalid value: "<secret contents redacted>": must be base64-encoded',
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ],
  },
  {
    name: 'configmap: key in both data and binaryData',
    key: '/ConfigMap',
    mutate: (o) => (o.binaryData = { LOG_LEVEL: 'aGk=' }),
    want: ['binaryData: Invalid value: "LOG_LEVEL": duplicate of key present in other data field'],
  },
  {
    name: 'node: bad podCIDR and taint',
    key: '/Node',
    mutate: (o) => ((o.spec.podCIDR = '10.244.0.0/33'), (o.spec.taints = [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoSchedule' }])),
    want: ['spec.podCIDR: Invalid value: "10.244.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)', 'spec.taints[1]: Duplicate value: "a:NoSchedule"'],
  },
  {
    name: 'event: type and involvedObject namespace',
    key: '/Event',
    mutate: (o) => ((o.type = 'Info'), (o.involvedObject.namespace = 'other')),
    want: ['involvedObject.namespace: Invalid value: "other": does not match event.namespace', 'type: Invalid value: "Info": has invalid value: should be either Normal or Warning'],
  },
  {
    name: 'endpoints: bad ip',
    key: '/Endpoints',
    mutate: (o) => (o.subsets[0].addresses[1].ip = 'ten'),
    want: ['subsets[0].addresses[1].ip: Invalid value: "ten": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
  },
  // ---- networking.k8s.io
  {
    name: 'networkpolicy: except outside cidr, endPort below port, peer with ipBlock and selector',
    key: 'networking.k8s.io/NetworkPolicy',
    mutate: (o) => {
      o.spec.ingress[0].from[1].ipBlock.except = ['192.168.0.0/16', '10.0.0.0/8'];
      o.spec.ingress[0].ports[1].endPort = 7000;
      o.spec.ingress[0].from.push({ ipBlock: { cidr: '10.0.0.0/24' }, podSelector: {} });
    },
    want: [
      'spec.ingress[0].ports[1].endPort: Invalid value: 7000: must be greater than or equal to `port`',
      'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'spec.ingress[0].from[2]: Forbidden: may not specify both ipBlock and another peer',
    ],
  },
  {
    name: 'networkpolicy: IPv6 cidr ok, bad cidr, empty peer, named port with endPort',
    key: 'networking.k8s.io/NetworkPolicy',
    mutate: (o) => {
      o.spec.egress = [{ to: [{ ipBlock: { cidr: 'fd00::/8', except: ['fd00:1::/32'] } }, { ipBlock: { cidr: '10.0.0.0' } }, {}], ports: [{ port: 'dns', endPort: 60 }] }];
    },
    want: [
      'spec.egress[0].ports[0].port: Required value: must be specified when endPort is specified',
      'spec.egress[0].to[1].ipBlock.cidr: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.egress[0].to[2]: Required value: must specify a peer',
    ],
  },
  {
    name: 'ingress: pathType required, backend port both, host is IP',
    key: 'networking.k8s.io/Ingress',
    mutate: (o) => {
      delete o.spec.rules[0].http.paths[0].pathType;
      o.spec.rules[0].http.paths[0].backend.service.port.name = 'http';
      o.spec.rules.push({ host: '10.0.0.1', http: { paths: [{ path: 'api', pathType: 'Exact', backend: { service: { name: 'api', port: { number: 0 } } } }] } });
    },
    want: [
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[0].backend.service.port: Invalid value: {"number":80,"name":"http"}: cannot set both port name & port number',
      'spec.rules[1].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[1].http.paths[0].path: Invalid value: "api": must be an absolute path',
      `spec.rules[1].http.paths[0].backend.service.port.number: Invalid value: 0: ${PORT}`,
    ],
  },
  {
    name: 'ingressclass: controller must be domain-prefixed',
    key: 'networking.k8s.io/IngressClass',
    mutate: (o) => (o.spec.controller = 'nginx'),
    want: ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")'],
  },
  {
    name: 'lease: duration positive',
    key: 'coordination.k8s.io/Lease',
    mutate: (o) => (o.spec.leaseDurationSeconds = 0),
    want: ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0'],
  },
  {
    name: 'endpointslice: address family and enum',
    key: 'discovery.k8s.io/EndpointSlice',
    mutate: (o) => (o.endpoints[0].addresses = ['fd00::1']),
    want: ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'],
  },
  // ---- Istio
  {
    name: 'virtualservice: weights must sum to 100; bad timeout; abort status',
    key: 'networking.istio.io/VirtualService',
    mutate: (o) => {
      o.spec.http[1].route[1].weight = 20;
      o.spec.http[1].timeout = '10 seconds';
      o.spec.http[0].fault = { abort: { httpStatus: 700 } };
    },
    want: [
      'spec.http[0].fault.abort.httpStatus: Invalid value: 700: must be in range 200..599',
      'spec.http[1].route: Invalid value: 110: total destination weight 110 != 100',
      'spec.http[1].timeout: Invalid value: "10 seconds": must be a duration such as "1s", "500ms" or "1h30m"',
    ],
  },
  {
    name: 'virtualservice: route and redirect, destination host missing',
    key: 'networking.istio.io/VirtualService',
    mutate: (o) => {
      o.spec.http[0].redirect = { uri: '/x' };
      o.spec.http[1].route[0].destination = { subset: 'v1' };
    },
    want: [
      'spec.http[1].route[0].destination.host: Required value',
      'spec.http[0]: Invalid value: "route,redirect": only one of route, redirect, directResponse or delegate may be set',
    ],
  },
  {
    name: 'destinationrule: duplicate subset, maxEjectionPercent, lb enum',
    key: 'networking.istio.io/DestinationRule',
    mutate: (o) => {
      o.spec.subsets.push({ name: 'v1' });
      o.spec.trafficPolicy.outlierDetection.maxEjectionPercent = 150;
      o.spec.trafficPolicy.loadBalancer.simple = 'FASTEST';
    },
    want: [
      'spec.trafficPolicy.loadBalancer.simple: Unsupported value: "FASTEST": supported values: "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"',
      'spec.trafficPolicy.outlierDetection.maxEjectionPercent: Invalid value: 150: must be in range [0, 100]',
      'spec.subsets[2].name: Duplicate value: "v1"',
    ],
  },
  {
    name: 'destinationrule: duplicate subset, maxEjectionPercent (no enum error)',
    key: 'networking.istio.io/DestinationRule',
    mutate: (o) => {
      o.spec.subsets.push({ name: 'v1' });
      o.spec.trafficPolicy.outlierDetection.maxEjectionPercent = 150;
    },
    want: ['spec.trafficPolicy.outlierDetection.maxEjectionPercent: Invalid value: 150: must be in range [0, 100]', 'spec.subsets[2].name: Duplicate value: "v1"'],
  },
  {
    name: 'istio gateway: HTTPS without tls, bad port',
    key: 'networking.istio.io/Gateway',
    mutate: (o) => {
      delete o.spec.servers[1].tls;
      o.spec.servers[0].port.number = 0;
    },
    want: [`spec.servers[0].port.number: Invalid value: 0: ${PORT}`, 'spec.servers[1].tls: Required value: server must have TLS settings for HTTPS/TLS protocols'],
  },
  {
    name: 'peerauthentication: mode enum, port-level needs selector',
    key: 'security.istio.io/PeerAuthentication',
    mutate: (o) => {
      delete o.spec.selector;
      o.spec.portLevelMtls['http'] = { mode: 'STRICT' };
    },
    want: ['spec.portLevelMtls: Forbidden: port level mTLS settings require a non-empty workload selector', 'spec.portLevelMtls: Invalid value: "http": port must be a number'],
  },
  {
    name: 'peerauthentication: mode enum',
    key: 'security.istio.io/PeerAuthentication',
    mutate: (o) => (o.spec.mtls.mode = 'ON'),
    want: ['spec.mtls.mode: Unsupported value: "ON": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"'],
  },
  {
    name: 'authorizationpolicy: CUSTOM needs provider; bad port; empty when',
    key: 'security.istio.io/AuthorizationPolicy',
    mutate: (o) => {
      o.spec.action = 'CUSTOM';
      o.spec.rules[0].to[0].operation.ports = ['http'];
      o.spec.rules[0].when[0].values = [];
    },
    want: [
      'spec.provider.name: Required value: must specify a provider for CUSTOM action',
      'spec.rules[0].to[0].operation.ports[0]: Invalid value: "http": port must be a number',
      'spec.rules[0].when[0].values: Required value: at least one of values or notValues must be set',
    ],
  },
  // ---- Gateway API
  {
    name: 'httproute: negative weight, missing port, path not absolute, redirect with rewrite',
    key: 'gateway.networking.k8s.io/HTTPRoute',
    mutate: (o) => {
      o.spec.rules[0].backendRefs[0].weight = -1;
      delete o.spec.rules[0].backendRefs[1].port;
      o.spec.rules[0].matches[0].path.value = 'api';
      o.spec.rules[0].filters.push({ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }, { type: 'URLRewrite', urlRewrite: { hostname: 'x' } });
    },
    want: [
      "spec.rules[0].matches[0].path.value: Invalid value: \"api\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
      'spec.rules[0].filters: Invalid value: ["RequestHeaderModifier","RequestRedirect","URLRewrite"]: may specify either RequestRedirect or URLRewrite, but not both',
      'spec.rules[0].backendRefs[0].weight: Invalid value: -1: must be between 0 and 1000000',
      'spec.rules[0].backendRefs[1].port: Required value: Must have port for Service reference',
    ],
  },
  {
    name: 'httproute: filter type without its field',
    key: 'gateway.networking.k8s.io/HTTPRoute',
    mutate: (o) => (o.spec.rules[0].filters = [{ type: 'RequestMirror', requestHeaderModifier: { remove: ['x'] } }]),
    want: [
      'spec.rules[0].filters[0].requestHeaderModifier: Forbidden: filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier',
      'spec.rules[0].filters[0].requestMirror: Required value: filter.requestMirror must be specified for RequestMirror filter.type',
    ],
  },
  {
    name: 'gateway: duplicate listener, HTTPS without tls, bad protocol',
    key: 'gateway.networking.k8s.io/Gateway',
    mutate: (o) => {
      delete o.spec.listeners[1].tls;
      o.spec.listeners.push({ name: 'http', port: 8080, protocol: 'QUIC' });
    },
    want: [
      "spec.listeners[1].tls: Required value: tls must be specified for protocols ['HTTPS', 'TLS']",
      'spec.listeners[2].name: Duplicate value: "http"',
      'spec.listeners[2].protocol: Unsupported value: "QUIC": supported values: "HTTP", "HTTPS", "TLS", "TCP", "UDP", "<domain>/<protocol>"',
    ],
  },
  {
    name: 'gatewayclass: controllerName required',
    key: 'gateway.networking.k8s.io/GatewayClass',
    mutate: (o) => delete o.spec.controllerName,
    want: ['spec.controllerName: Required value'],
  },
];

t.test('validation rows', async (t) => {
  for (const row of rows) {
    const o = fixture(row.key);
    row.mutate(o);
    t.same(errorsOf(o), row.want, row.name);
  }
});
