// decodeKubeProtobuf on hand-built byte sequences, one row per kind: every field family the tables cover
// (ObjectMeta in full, maps, bytes → base64, Time → RFC 3339, IntOrString, Quantity, FieldsV1, inlined
// structs, pointers vs omitempty), checked against the JSON Kubernetes would print for the same object.
import t from 'tap';
import { decodeKubeProtobuf } from '../../control-plane/apiserver/protobuf/index.js';
import {
  bool, bytes, bytesMap, envelope, int, intOrString, msg, named, quantityMap, str, stringMap, time, varint,
} from './encoder.js';

// 2024-05-06T07:08:09Z
const T = Date.UTC(2024, 4, 6, 7, 8, 9) / 1000;
const TS = '2024-05-06T07:08:09Z';

const fullMeta = msg(
  1,
  str(1, 'web'),
  str(2, 'web-'),
  str(3, 'prod'),
  str(4, '/api/v1/x'),
  str(5, '0b3f-uid'),
  str(6, '42'),
  int(7, 3),
  time(8, T, 123),
  time(9, T + 60),
  int(10, 30),
  stringMap(11, { b: '2', a: '1' }),
  stringMap(12, { note: 'hi' }),
  msg(13, str(5, 'apps/v1'), str(1, 'ReplicaSet'), str(3, 'rs'), str(4, 'u1'), bool(6, true), bool(7, false)),
  str(14, 'example.com/f1'),
  str(14, 'example.com/f2'),
  msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'v1'), time(4, T), str(6, 'FieldsV1'), msg(7, bytes(1, '{"f:data":{".":{}}}'))),
);
const fullMetaJson = {
  name: 'web',
  generateName: 'web-',
  namespace: 'prod',
  selfLink: '/api/v1/x',
  uid: '0b3f-uid',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: TS,
  deletionTimestamp: '2024-05-06T07:09:09Z',
  deletionGracePeriodSeconds: 30,
  labels: { a: '1', b: '2' },
  annotations: { note: 'hi' },
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true, blockOwnerDeletion: false }],
  finalizers: ['example.com/f1', 'example.com/f2'],
  managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: TS, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {} } } }],
};

// Go's gogo encoder writes every non-pointer field, empty or not; these must all vanish again.
const emptyMeta = msg(1, str(1, 'e'), str(2, ''), str(3, ''), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8));

const container = msg(
  2,
  str(1, 'app'),
  str(2, 'shoal/hello:1'),
  str(3, '/bin/app'),
  str(4, '--port'),
  str(4, '8080'),
  str(5, '/srv'),
  msg(6, str(1, 'http'), int(3, 8080), str(4, 'TCP')),
  msg(19, str(1, 'CFG_'), msg(2, msg(1, str(1, 'settings')), bool(2, true))),
  msg(7, str(1, 'MODE'), str(2, 'prod')),
  msg(7, str(1, 'PASSWORD'), msg(3, msg(4, msg(1, str(1, 'db')), str(2, 'pw')))),
  msg(7, str(1, 'NODE'), msg(3, msg(1, str(1, 'v1'), str(2, 'spec.nodeName')))),
  msg(8, quantityMap(1, { cpu: '500m', memory: '128Mi' }), quantityMap(2, { cpu: '100m' })),
  msg(9, str(1, 'cfg'), bool(2, true), str(3, '/etc/app')),
  msg(10, msg(1, msg(2, str(1, '/healthz'), intOrString(2, 'http'), str(4, 'HTTP'), msg(5, str(1, 'X-A'), str(2, 'b')))), int(2, 5), int(4, 10)),
  msg(11, msg(1, msg(3, intOrString(1, 8080))), int(6, 3)),
  msg(22, msg(1, msg(1, str(1, 'cat'), str(1, '/tmp/ready')))),
  msg(12, msg(2, msg(4, int(1, 5)))),
  str(14, 'IfNotPresent'),
  msg(15, msg(1, str(2, 'ALL')), bool(6, true), bool(7, false), int(4, 1000)),
);

const podSpec = msg(
  2,
  msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'settings')), msg(2, str(1, 'k'), str(2, 'k.conf')), int(3, 420)))),
  msg(1, str(1, 'scratch'), msg(2, msg(2, str(1, 'Memory'), msg(2, str(1, '64Mi'))))),
  msg(1, str(1, 'tls'), msg(2, msg(6, str(1, 'web-tls')))),
  container,
  str(3, 'Always'),
  int(4, 30),
  str(6, 'ClusterFirst'),
  stringMap(7, { 'kubernetes.io/os': 'linux' }),
  str(8, 'web-sa'),
  bool(11, false),
  msg(14, int(2, 1000), bool(3, true), bytes(4, Buffer.concat([varint(10), varint(20)])), int(4, 30), int(5, 2000)),
  msg(15, str(1, 'regcred')),
  msg(22, str(1, 'node.kubernetes.io/not-ready'), str(2, 'Exists'), str(4, 'NoExecute'), int(5, 300)),
  int(25, -5),
);

const containerJson = {
  name: 'app',
  image: 'shoal/hello:1',
  command: ['/bin/app'],
  args: ['--port', '8080'],
  workingDir: '/srv',
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings', optional: true } }],
  env: [
    { name: 'MODE', value: 'prod' },
    { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } },
    { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
  ],
  resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
  volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/etc/app' }],
  livenessProbe: {
    httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-A', value: 'b' }] },
    initialDelaySeconds: 5,
    periodSeconds: 10,
  },
  readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 3 },
  startupProbe: { exec: { command: ['cat', '/tmp/ready'] } },
  lifecycle: { preStop: { sleep: { seconds: 5 } } },
  imagePullPolicy: 'IfNotPresent',
  securityContext: { capabilities: { drop: ['ALL'] }, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
};

const podSpecJson = {
  volumes: [
    { name: 'cfg', configMap: { name: 'settings', items: [{ key: 'k', path: 'k.conf' }], defaultMode: 420 } },
    { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    { name: 'tls', secret: { secretName: 'web-tls' } },
  ],
  containers: [containerJson],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  serviceAccountName: 'web-sa',
  securityContext: { runAsUser: 1000, runAsNonRoot: true, supplementalGroups: [10, 20, 30], fsGroup: 2000 },
  imagePullSecrets: [{ name: 'regcred' }],
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  priority: -5,
};

interface Row {
  name: string;
  body: Buffer;
  want: Record<string, unknown>;
}

const rows: Row[] = [
  {
    name: 'Namespace with full ObjectMeta, finalizers and status',
    body: envelope('v1', 'Namespace', Buffer.concat([
      fullMeta,
      msg(2, str(1, 'kubernetes')),
      msg(3, str(1, 'Terminating'), msg(2, str(1, 'NamespaceDeletionContentFailure'), str(2, 'False'), time(4, 0), str(5, 'OK'))),
    ])),
    want: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: fullMetaJson,
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating', conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '1970-01-01T00:00:00Z', reason: 'OK' }] },
    },
  },
  {
    name: 'Namespace as gogo writes it: empty non-pointer fields vanish, plain structs stay',
    body: envelope('v1', 'Namespace', Buffer.concat([emptyMeta, msg(2), msg(3, str(1, ''))])),
    want: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'e' }, spec: {}, status: {} },
  },
  {
    name: 'ConfigMap: data, binaryData as base64, immutable',
    body: envelope('v1', 'ConfigMap', Buffer.concat([
      named('cm'),
      stringMap(2, { 'app.conf': 'x=1\n', empty: '' }),
      bytesMap(3, { 'blob.bin': Buffer.from([0, 1, 2, 0xff]) }),
      bool(4, true),
    ])),
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, immutable: true, data: { 'app.conf': 'x=1\n', empty: '' }, binaryData: { 'blob.bin': 'AAEC/w==' } },
  },
  {
    name: 'Secret: data bytes as base64, stringData, type, immutable false kept (pointer)',
    body: envelope('v1', 'Secret', Buffer.concat([
      named('s'),
      bytesMap(2, { password: Buffer.from('s3cr3t'), empty: Buffer.alloc(0) }),
      stringMap(4, { user: 'admin' }),
      str(3, 'Opaque'),
      bool(5, false),
    ])),
    want: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, immutable: false, data: { password: 'czNjcjN0', empty: '' }, stringData: { user: 'admin' }, type: 'Opaque' },
  },
  {
    name: 'ServiceAccount: secrets, imagePullSecrets, automount',
    body: envelope('v1', 'ServiceAccount', Buffer.concat([
      named('sa'),
      msg(2, str(1, 'Secret'), str(3, 'sa-token'), str(2, '')),
      msg(3, str(1, 'regcred')),
      bool(4, false),
    ])),
    want: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, secrets: [{ kind: 'Secret', name: 'sa-token' }], imagePullSecrets: [{ name: 'regcred' }], automountServiceAccountToken: false },
  },
  {
    name: 'Service: ports with int and named targetPort, clusterIPs, affinity, families, status',
    body: envelope('v1', 'Service', Buffer.concat([
      named('web'),
      msg(2,
        msg(1, str(1, 'http'), str(2, 'TCP'), int(3, 80), intOrString(4, 8080), int(5, 30080)),
        msg(1, str(1, 'grpc'), str(2, 'TCP'), str(6, 'kubernetes.io/h2c'), int(3, 9090), intOrString(4, 'grpc')),
        stringMap(2, { app: 'web' }),
        str(3, '10.96.0.20'),
        str(18, '10.96.0.20'),
        str(4, 'NodePort'),
        str(5, '192.0.2.1'),
        str(7, 'ClientIP'),
        str(11, 'Local'),
        int(12, 0),
        bool(13, true),
        msg(14, msg(1, int(1, 10800))),
        str(19, 'IPv4'),
        str(17, 'SingleStack'),
        str(22, 'Cluster'),
      ),
      msg(3, msg(1, msg(1, str(1, '203.0.113.9'), msg(4, int(1, 80), str(2, 'TCP'))))),
    ])),
    want: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
          { name: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c', port: 9090, targetPort: 'grpc' },
        ],
        selector: { app: 'web' },
        clusterIP: '10.96.0.20',
        clusterIPs: ['10.96.0.20'],
        type: 'NodePort',
        externalIPs: ['192.0.2.1'],
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        publishNotReadyAddresses: true,
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.9', ports: [{ port: 80, protocol: 'TCP' }] }] } },
    },
  },
  {
    name: 'Service ExternalName; a port without targetPort prints 0 as Go does',
    body: envelope('v1', 'Service', Buffer.concat([named('db'), msg(2, msg(1, int(3, 5432)), str(4, 'ExternalName'), str(10, 'db.example.com'))])),
    want: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { ports: [{ port: 5432, targetPort: 0 }], type: 'ExternalName', externalName: 'db.example.com' }, status: { loadBalancer: {} } },
  },
  {
    name: 'Deployment with full pod template, strategy and selector expressions',
    body: envelope('apps/v1', 'Deployment', Buffer.concat([
      named('web'),
      msg(2,
        int(1, 3),
        msg(2, stringMap(1, { app: 'web' }), msg(2, str(1, 'tier'), str(2, 'In'), str(3, 'fe'), str(3, 'be'))),
        msg(3, msg(1, stringMap(11, { app: 'web' }), msg(8)), podSpec),
        msg(4, str(1, 'RollingUpdate'), msg(2, intOrString(1, '25%'), intOrString(2, 1))),
        int(5, 0),
        int(6, 10),
        int(9, 600),
      ),
      msg(3, int(1, 2), int(2, 3), int(7, 3), msg(6, str(1, 'Available'), str(2, 'True'), time(6, T), time(7, T), str(4, 'MinimumReplicasAvailable'))),
    ])),
    want: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] },
        template: { metadata: { labels: { app: 'web' } }, spec: podSpecJson },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: 2,
        replicas: 3,
        readyReplicas: 3,
        conditions: [{ type: 'Available', status: 'True', lastUpdateTime: TS, lastTransitionTime: TS, reason: 'MinimumReplicasAvailable' }],
      },
    },
  },
  {
    name: 'Deployment with replicas 0 (pointer: kept) and no template (plain struct: printed)',
    body: envelope('apps/v1', 'Deployment', Buffer.concat([named('zero'), msg(2, int(1, 0))])),
    want: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'zero' }, spec: { replicas: 0, template: { metadata: {}, spec: {} }, strategy: {} }, status: {} },
  },
  {
    name: 'Ingress with class, default resource backend, named port, TLS',
    body: envelope('networking.k8s.io/v1', 'Ingress', Buffer.concat([
      named('ing'),
      msg(2,
        str(4, 'shoal'),
        msg(1, msg(3, str(1, 'k8s.example.com'), str(2, 'StorageBucket'), str(3, 'static'))),
        msg(2, str(1, 'a.example.com'), str(1, 'b.example.com'), str(2, 'ab-tls')),
        msg(3, str(1, 'a.example.com'), msg(2, msg(1,
          msg(1, str(1, '/'), str(3, 'Prefix'), msg(2, msg(4, str(1, 'web'), msg(2, str(1, 'http'))))),
          msg(1, str(3, 'ImplementationSpecific'), msg(2, msg(4, str(1, 'api'), msg(2, int(2, 8080))))),
        ))),
        msg(3, str(1, 'empty.example.com')),
      ),
    ])),
    want: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'ing' },
      spec: {
        ingressClassName: 'shoal',
        defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } },
        tls: [{ hosts: ['a.example.com', 'b.example.com'], secretName: 'ab-tls' }],
        rules: [
          {
            host: 'a.example.com',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } },
                { pathType: 'ImplementationSpecific', backend: { service: { name: 'api', port: { number: 8080 } } } },
              ],
            },
          },
          { host: 'empty.example.com' },
        ],
      },
      status: { loadBalancer: {} },
    },
  },
  {
    name: 'DeleteOptions under any apiVersion: gracePeriodSeconds 0 kept, preconditions, propagation',
    body: envelope('apps/v1', 'DeleteOptions', Buffer.concat([int(1, 0), msg(2, str(1, 'u-1'), str(2, '7')), str(4, 'Foreground'), str(5, 'All')])),
    want: { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'u-1', resourceVersion: '7' }, propagationPolicy: 'Foreground', dryRun: ['All'] },
  },
  {
    name: 'CronJob with job template, limits and status',
    body: envelope('batch/v1', 'CronJob', Buffer.concat([
      named('nightly'),
      msg(2,
        str(1, '0 3 * * *'),
        str(8, 'Etc/UTC'),
        str(3, 'Forbid'),
        bool(4, false),
        msg(5, msg(1), msg(2, int(1, 2), int(2, 4), int(7, 6), int(8, 100), str(9, 'Indexed'), msg(6, msg(2, msg(2, str(1, 'c'), str(2, 'busybox')), str(3, 'OnFailure'))))),
        int(6, 3),
        int(7, 1),
      ),
      msg(3, msg(1, str(1, 'Job'), str(3, 'nightly-1')), time(4, T)),
    ])),
    want: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly' },
      spec: {
        schedule: '0 3 * * *',
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        suspend: false,
        jobTemplate: {
          metadata: {},
          spec: {
            parallelism: 2,
            completions: 4,
            backoffLimit: 6,
            template: { metadata: {}, spec: { containers: [{ name: 'c', image: 'busybox', resources: {} }], restartPolicy: 'OnFailure' } },
            ttlSecondsAfterFinished: 100,
            completionMode: 'Indexed',
          },
        },
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
      },
      status: { active: [{ kind: 'Job', name: 'nightly-1' }], lastScheduleTime: TS },
    },
  },
  {
    name: 'Pod: spec and basic status',
    body: envelope('v1', 'Pod', Buffer.concat([named('p'), msg(2, msg(2, str(1, 'c'), str(2, 'busybox'))), msg(3, str(1, 'Running'), str(6, '10.244.0.5'), time(7, T))])),
    want: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', resources: {} }] }, status: { phase: 'Running', podIP: '10.244.0.5', startTime: TS } },
  },
];

t.test('each kind decodes to the JSON Kubernetes would print', async (t) => {
  for (const r of rows) t.strictSame(decodeKubeProtobuf(r.body), r.want, r.name);
});

// Protobuf rules the decoder must honour whatever the kind.
const semantics: Row[] = [
  {
    name: 'unknown fields of every wire type are skipped',
    body: envelope('v1', 'ConfigMap', Buffer.concat([
      int(99, 7), Buffer.from([0xa1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]), bytes(101, 'zz'), Buffer.from([0xb5, 0x06, 1, 2, 3, 4]),
      named('cm'),
    ]), str(9, 'unknown envelope field')),
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
  },
  {
    name: 'a message field sent twice merges; a scalar sent twice keeps the last',
    body: envelope('v1', 'ConfigMap', Buffer.concat([msg(1, str(1, 'first'), stringMap(11, { a: '1' })), msg(1, str(1, 'second'), stringMap(11, { b: '2' }))])),
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second', labels: { a: '1', b: '2' } } },
  },
  {
    name: 'a map key sent twice keeps the last value; keys come out sorted',
    body: envelope('v1', 'ConfigMap', Buffer.concat([named('cm'), stringMap(2, { z: '1' }), stringMap(2, { a: '2' }), stringMap(2, { z: '3' })])),
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '2', z: '3' } },
  },
  {
    name: 'an empty Time is the zero time (absent); negative int32 sign-extends',
    body: envelope('v1', 'Namespace', Buffer.concat([msg(1, str(1, 'n'), msg(8), int(10, -1))])),
    want: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', deletionGracePeriodSeconds: -1 }, spec: {}, status: {} },
  },
  {
    name: 'an empty raw object still prints its plain structs',
    body: envelope('v1', 'Service', Buffer.alloc(0)),
    want: { apiVersion: 'v1', kind: 'Service', metadata: {}, spec: {}, status: { loadBalancer: {} } },
  },
];

t.test('protobuf semantics', async (t) => {
  for (const r of semantics) t.strictSame(decodeKubeProtobuf(r.body), r.want, r.name);
  t.strictSame(JSON.stringify(Object.keys(decodeKubeProtobuf(semantics[2]!.body).data)), '["a","z"]', 'map keys sorted');
});
