// Strategic merge patch: merge keys per kind, every directive, ordering, errors, and the patches
// `kubectl apply` (client-side) really sends.
import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { hasStrategicMergeRules, strategicMergePatch } from '../../control-plane/apiserver/patch/index.js';

/** Run `fn` and return the ApiError it throws, or a string saying what happened instead. */
function apiErrorOf(fn: () => unknown): ApiError | string {
  try {
    fn();
    return 'did not throw';
  } catch (e) {
    return e instanceof ApiError ? e : `threw a non-ApiError: ${String(e)}`;
  }
}


const pod = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers, ...extra },
});

interface Row {
  name: string;
  kind?: string;
  target: unknown;
  patch: unknown;
  want?: unknown;
  wantError?: { code: number; message: RegExp };
}

const rows: Row[] = [
  {
    name: 'containers merge by name',
    target: pod([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }]),
    patch: { spec: { containers: [{ name: 'b', image: 'b:2' }] } },
    want: pod([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:2' }]),
  },
  {
    name: 'a new container without $setElementOrder goes first (apimachinery ordering)',
    target: pod([{ name: 'a', image: 'a:1' }]),
    patch: { spec: { containers: [{ name: 'c', image: 'c:1' }] } },
    want: pod([{ name: 'c', image: 'c:1' }, { name: 'a', image: 'a:1' }]),
  },
  {
    name: 'ports merge by containerPort, env by name, volumeMounts by mountPath',
    target: pod([{ name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], volumeMounts: [{ mountPath: '/d', name: 'd' }] }]),
    patch: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'web' }], env: [{ name: 'Y', value: '3' }], volumeMounts: [{ mountPath: '/d', readOnly: true }] }] } },
    want: pod([{ name: 'a', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }], env: [{ name: 'X', value: '1' }, { name: 'Y', value: '3' }], volumeMounts: [{ mountPath: '/d', name: 'd', readOnly: true }] }]),
  },
  {
    name: '$patch: delete removes a container',
    target: pod([{ name: 'a' }, { name: 'b' }]),
    patch: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
    want: pod([{ name: 'b' }]),
  },
  {
    name: '$patch: replace in a list replaces the whole list',
    target: pod([{ name: 'a' }, { name: 'b' }]),
    patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'z', image: 'z' }] } },
    want: pod([{ name: 'z', image: 'z' }]),
  },
  {
    name: '$patch: replace on a map replaces the map',
    target: { kind: 'Pod', metadata: { labels: { a: '1', b: '2' } } },
    patch: { metadata: { labels: { $patch: 'replace', c: '3' } } },
    want: { kind: 'Pod', metadata: { labels: { c: '3' } } },
  },
  {
    name: '$patch: delete on a map empties it',
    target: { kind: 'Pod', metadata: { labels: { a: '1' } } },
    patch: { metadata: { labels: { $patch: 'delete' } } },
    want: { kind: 'Pod', metadata: { labels: {} } },
  },
  {
    name: '$retainKeys clears the other keys (Deployment strategy RollingUpdate -> Recreate)',
    kind: 'Deployment',
    target: { kind: 'Deployment', spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
    want: { kind: 'Deployment', spec: { replicas: 2, strategy: { type: 'Recreate' } } },
  },
  {
    name: '$retainKeys on a volume switches its source',
    target: pod([], { volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }] }),
    patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } },
    want: pod([], { volumes: [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }] }),
  },
  {
    name: '$setElementOrder orders patch items and interleaves server-only ones',
    target: pod([{ name: '1', x: 'a' }, { name: '2', value: '2' }, { name: '9' }, { name: '3', value: '3' }, { name: '4', value: '4' }]),
    patch: { spec: { '$setElementOrder/containers': [{ name: '2' }, { name: '1' }, { name: '4' }, { name: '3' }] } },
    want: pod([{ name: '2', value: '2' }, { name: '1', x: 'a' }, { name: '9' }, { name: '4', value: '4' }, { name: '3', value: '3' }]),
  },
  {
    name: '$setElementOrder puts a new item where the order says',
    target: pod([{ name: 'a' }, { name: 'b' }]),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }], containers: [{ name: 'c', image: 'c' }] } },
    want: pod([{ name: 'a' }, { name: 'b' }, { name: 'c', image: 'c' }]),
  },
  {
    name: '$setElementOrder on a primitive merge list (finalizers) with a server-only item',
    target: { kind: 'Pod', metadata: { finalizers: ['1', '2', '4'] } },
    patch: { metadata: { '$setElementOrder/finalizers': ['1', '2', '3'], finalizers: ['3'] } },
    want: { kind: 'Pod', metadata: { finalizers: ['1', '2', '3', '4'] } },
  },
  {
    name: '$deleteFromPrimitiveList removes finalizers',
    target: { kind: 'Pod', metadata: { finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zz'] } },
    want: { kind: 'Pod', metadata: { finalizers: ['a', 'c'] } },
  },
  {
    name: '$deleteFromPrimitiveList on a missing list adds nothing',
    target: { kind: 'Pod', metadata: {} },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
    want: { kind: 'Pod', metadata: {} },
  },
  {
    name: 'finalizers merge as a set',
    target: { kind: 'Pod', metadata: { finalizers: ['a', 'b'] } },
    patch: { metadata: { finalizers: ['b', 'c'] } },
    want: { kind: 'Pod', metadata: { finalizers: ['a', 'b', 'c'] } },
  },
  {
    name: 'ownerReferences merge by uid',
    target: { kind: 'Pod', metadata: { ownerReferences: [{ uid: 'u1', name: 'rs1' }] } },
    patch: { metadata: { ownerReferences: [{ uid: 'u2', name: 'rs2' }, { uid: 'u1', controller: true }] } },
    want: { kind: 'Pod', metadata: { ownerReferences: [{ uid: 'u2', name: 'rs2' }, { uid: 'u1', name: 'rs1', controller: true }] } },
  },
  {
    name: 'atomic lists are replaced: tolerations, args, imagePullSecrets merge by name',
    target: pod([{ name: 'a', args: ['x', 'y'] }], { tolerations: [{ key: 'k1' }], imagePullSecrets: [{ name: 's1' }] }),
    patch: { spec: { tolerations: [{ key: 'k2' }], containers: [{ name: 'a', args: ['z'] }], imagePullSecrets: [{ name: 's2' }] } },
    want: pod([{ name: 'a', args: ['z'] }], { tolerations: [{ key: 'k2' }], imagePullSecrets: [{ name: 's2' }, { name: 's1' }] }),
  },
  {
    name: 'nulls delete fields; nulls for absent fields are ignored',
    target: pod([{ name: 'a', image: 'a', imagePullPolicy: 'Always' }], { nodeName: 'n1' }),
    patch: { spec: { nodeName: null, hostname: null, containers: [{ name: 'a', imagePullPolicy: null }], newField: { x: null, y: 1 } } },
    want: pod([{ name: 'a', image: 'a' }], { newField: { y: 1 } }),
  },
  {
    name: 'Service ports merge by port',
    kind: 'Service',
    target: { kind: 'Service', spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }], selector: { app: 'a' } } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }], selector: { tier: 'web' } } },
    want: { kind: 'Service', spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }], selector: { app: 'a', tier: 'web' } } },
  },
  {
    name: 'Deployment template.spec merges as a PodSpec; status conditions by type',
    kind: 'apps/v1/Deployment',
    target: { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b' }] } } }, status: { conditions: [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'True' }] } },
    patch: { spec: { template: { spec: { containers: [{ name: 'a', image: 'a:2' }] } } }, status: { conditions: [{ type: 'Available', status: 'True' }] } },
    want: { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', image: 'a:2' }, { name: 'b' }] } } }, status: { conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] } },
  },
  {
    name: 'Endpoints subsets are replaced',
    kind: 'Endpoints',
    target: { kind: 'Endpoints', subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
    patch: { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] },
    want: { kind: 'Endpoints', subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] },
  },
  {
    name: 'a kind without rules: lists are replaced',
    kind: 'VirtualService',
    target: { kind: 'VirtualService', spec: { hosts: ['a'], http: [{ name: 'r1' }] } },
    patch: { spec: { http: [{ name: 'r2' }] } },
    want: { kind: 'VirtualService', spec: { hosts: ['a'], http: [{ name: 'r2' }] } },
  },
  {
    name: 'directives inside new values are stripped',
    target: { kind: 'Pod', spec: {} },
    patch: { spec: { containers: [{ name: 'a', env: [{ name: 'x', $patch: 'delete' }, { name: 'y', value: null }] }], '$setElementOrder/containers': [{ name: 'a' }] } },
    want: { kind: 'Pod', spec: { containers: [{ name: 'a', env: [{ name: 'y' }] }] } },
  },
  {
    name: 'kubectl apply 3-way patch: change image, drop a container, drop a label, keep order',
    kind: 'Deployment',
    target: {
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web', old: 'x' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":1}' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.24' }, { name: 'sidecar', image: 's' }, { name: 'injected', image: 'i' }] } } },
    },
    patch: {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}' }, labels: { old: null } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.25', name: 'nginx' }, { $patch: 'delete', name: 'sidecar' }] } } },
    },
    want: {
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'injected', image: 'i' }] } } },
    },
  },
  // errors
  {
    name: 'a list item without its merge key is 400',
    target: pod([{ name: 'a' }]),
    patch: { spec: { containers: [{ image: 'x' }] } },
    wantError: { code: 400, message: /spec\.containers\[0\]: map \{"image":"x"\} does not contain declared merge key: name/ },
  },
  {
    name: 'a patch key missing from $retainKeys is 422',
    kind: 'Deployment',
    target: { kind: 'Deployment', spec: { strategy: { type: 'RollingUpdate' } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } },
    wantError: { code: 422, message: /spec\.strategy\.rollingUpdate: field is in the patch but not in \$retainKeys/ },
  },
  {
    name: '$setElementOrder that contradicts the patch list is 400',
    target: pod([{ name: '1' }, { name: '3' }, { name: '2' }]),
    patch: { spec: { '$setElementOrder/containers': [{ name: '1' }, { name: '2' }, { name: '3' }], containers: [{ name: '3', v: 3 }, { name: '1', v: 1 }] } },
    wantError: { code: 400, message: /spec\.containers: the order in the patch list doesn't match/ },
  },
  {
    name: 'an unknown $patch value is 400',
    target: pod([]),
    patch: { spec: { $patch: 'explode' } },
    wantError: { code: 400, message: /spec: unknown patch type "explode"/ },
  },
  {
    name: 'a patch that is not an object is 400',
    target: pod([]),
    patch: [1],
    wantError: { code: 400, message: /must be a JSON object/ },
  },
];

t.test('strategic merge patch table', async (t) => {
  for (const row of rows) {
    const before = JSON.stringify(row.target);
    const kind = row.kind ?? 'Pod';
    if (row.wantError) {
      t.match(apiErrorOf(() => strategicMergePatch(row.target, row.patch, kind)), row.wantError, row.name);
    } else {
      t.same(strategicMergePatch(row.target, row.patch, kind), row.want, row.name);
    }
    t.equal(JSON.stringify(row.target), before, `${row.name}: target not mutated`);
  }
});

t.test('hasStrategicMergeRules: core kinds yes, custom resources no', async (t) => {
  t.equal(hasStrategicMergeRules('Deployment'), true);
  t.equal(hasStrategicMergeRules('v1/Pod'), true);
  t.equal(hasStrategicMergeRules('VirtualService'), false);
});
