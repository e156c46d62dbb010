// The pure injector: the decision table (namespace labels, pod label/annotation, hostNetwork, already
// injected), the injected pod field by field as Istio's native-sidecar template writes it, capture
// annotations to istio-init flags (and bad ones rejected with the field named), workload templates, and
// the JSON patch (applying it to the input gives exactly the injected pod).
import t from 'tap';
import { decide } from '../../inject/policy.js';
import { captureArgs, validateCaptureAnnotations } from '../../inject/capture.js';
import { InjectError, injectObject, injectPod, workloadName } from '../../inject/inject.js';
import { createPatch, injectPodPatch } from '../../inject/patch.js';
import { jsonPatch } from '../../control-plane/apiserver/patch/json-patch.js';

const pod = (meta: Record<string, any> = {}, spec: Record<string, any> = {}) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', ...meta },
  spec: { containers: [{ name: 'app', image: 'shoal/hello', ports: [{ containerPort: 8080, name: 'http' }] }], ...spec },
});

t.test('decision table', async (t) => {
  const EN = { 'istio-injection': 'enabled' };
  const rows: { name: string; labels?: any; annotations?: any; ns?: any; hostNetwork?: boolean; namespace?: string; def?: boolean; want: boolean }[] = [
    { name: 'unlabelled namespace', want: false },
    { name: 'istio-injection=enabled', ns: EN, want: true },
    { name: 'shoal.io/inject=enabled', ns: { 'shoal.io/inject': 'enabled' }, want: true },
    { name: 'namespace label other value', ns: { 'istio-injection': 'yes' }, want: false },
    { name: 'istio-injection=disabled, pod label true', ns: { 'istio-injection': 'disabled' }, labels: { 'sidecar.istio.io/inject': 'true' }, want: false },
    { name: 'shoal.io/inject=disabled wins over istio-injection=enabled', ns: { 'istio-injection': 'enabled', 'shoal.io/inject': 'disabled' }, want: false },
    { name: 'enabled ns, pod label false', ns: EN, labels: { 'sidecar.istio.io/inject': 'false' }, want: false },
    { name: 'enabled ns, pod annotation false', ns: EN, annotations: { 'sidecar.istio.io/inject': 'false' }, want: false },
    { name: 'enabled ns, annotation false, label true (label wins)', ns: EN, labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' }, want: true },
    { name: 'unlabelled ns, label true, annotation false (label wins)', labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' }, want: true },
    { name: 'unlabelled ns, annotation yes', annotations: { 'sidecar.istio.io/inject': 'yes' }, want: true },
    { name: 'unlabelled ns, label ON (case-insensitive)', labels: { 'sidecar.istio.io/inject': 'ON' }, want: true },
    { name: 'enabled ns, label garbage means no', ns: EN, labels: { 'sidecar.istio.io/inject': 'maybe' }, want: false },
    { name: 'hostNetwork never', ns: EN, labels: { 'sidecar.istio.io/inject': 'true' }, hostNetwork: true, want: false },
    { name: 'kube-system never', ns: EN, namespace: 'kube-system', want: false },
    { name: 'already injected', ns: EN, annotations: { 'sidecar.istio.io/status': '{}' }, want: false },
    { name: 'istio.io/rev=default namespace', ns: { 'istio.io/rev': 'default' }, want: true },
    { name: 'istio.io/rev=canary namespace (revision not served)', ns: { 'istio.io/rev': 'canary' }, want: false },
    { name: 'istio.io/rev=default namespace, pod opts out', ns: { 'istio.io/rev': 'default' }, labels: { 'sidecar.istio.io/inject': 'false' }, want: false },
    { name: 'unlabelled namespace, pod label istio.io/rev=default', labels: { 'istio.io/rev': 'default' }, want: true },
    { name: 'kube-inject default: unlabelled', def: true, want: true },
    { name: 'kube-inject default: pod says false', def: true, annotations: { 'sidecar.istio.io/inject': 'false' }, want: false },
  ];
  for (const r of rows) {
    const d = decide({ namespace: r.namespace ?? 'shop', labels: r.labels, annotations: r.annotations }, !!r.hostNetwork, r.ns, r.def);
    t.equal(d.inject, r.want, `${r.name} (${d.reason})`);
    t.ok(d.reason.length > 0, 'says why');
  }
});

t.test('capture annotations → istio-init args', async (t) => {
  const rows: { a: Record<string, string>; want: string[] }[] = [
    { a: {}, want: ['-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020'] },
    {
      a: {
        'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12,10.244.0.0/16',
        'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32',
        'traffic.sidecar.istio.io/excludeOutboundPorts': '5432, 6379',
        'traffic.sidecar.istio.io/includeInboundPorts': '8080',
        'traffic.sidecar.istio.io/excludeInboundPorts': '9000,15021',
      },
      want: ['-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '10.96.0.0/12,10.244.0.0/16', '-x', '10.96.0.1/32', '-b', '8080', '-d', '15090,15021,15020,9000', '-o', '5432, 6379'],
    },
  ];
  for (const r of rows) t.same(captureArgs(r.a), r.want);
  const errs = validateCaptureAnnotations({
    'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/33',
    'traffic.sidecar.istio.io/excludeOutboundIPRanges': '*',
    'traffic.sidecar.istio.io/excludeOutboundPorts': '80,70000',
    'traffic.sidecar.istio.io/includeInboundPorts': 'http',
    'traffic.sidecar.istio.io/excludeInboundPorts': '0',
  });
  t.same(errs.map((e) => e.field), [
    'metadata.annotations[traffic.sidecar.istio.io/includeOutboundIPRanges]',
    'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]',
    'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundPorts]',
    'metadata.annotations[traffic.sidecar.istio.io/includeInboundPorts]',
    'metadata.annotations[traffic.sidecar.istio.io/excludeInboundPorts]',
  ], 'every bad annotation named');
  t.match(errs[2]!.detail, /"70000" is not a port/);
  let err: unknown;
  try {
    injectPod(pod({ annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': 'x' } }), { namespaceLabels: { 'istio-injection': 'enabled' } });
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof InjectError, 'InjectError');
  t.match((err as Error).message, 'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundPorts]: Invalid value: "x"');
  t.doesNotThrow(() => injectPod(pod({ annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': 'x' } })), 'not validated when not injected');
});

t.test('the injected pod', async (t) => {
  const sa = { name: 'default-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true };
  const input = pod({ labels: { app: 'web', version: 'v2', 'pod-template-hash': 'abc12' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc12', controller: true }] },
    { serviceAccountName: 'web-sa', initContainers: [{ name: 'migrate', image: 'busybox' }], containers: [{ name: 'app', image: 'shoal/hello', volumeMounts: [sa] }], volumes: [{ name: 'default-token', secret: { secretName: 'default-token' } }] });
  const frozen = JSON.stringify(input);
  const r = injectPod(input, { namespaceLabels: { 'istio-injection': 'enabled' } });
  t.equal(JSON.stringify(input), frozen, 'input not mutated');
  const p = r.object;
  t.same(p.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy', 'migrate'], 'istio-init, then the native sidecar, then the user init containers');
  t.same(p.spec.containers, input.spec.containers, 'app containers untouched');
  const init = p.spec.initContainers[0];
  t.equal(init.image, 'shoal/proxy-init');
  t.same(init.args, ['-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020']);
  t.same(init.securityContext.capabilities.add, ['NET_ADMIN', 'NET_RAW']);
  t.equal(init.securityContext.runAsUser, 0);
  t.notOk(init.restartPolicy, 'istio-init runs to completion');
  const proxy = p.spec.initContainers[1];
  t.equal(proxy.image, 'shoal/sidecar');
  t.equal(proxy.restartPolicy, 'Always', 'native sidecar');
  t.equal(proxy.securityContext.runAsUser, 1337);
  t.equal(proxy.securityContext.runAsGroup, 1337);
  t.same(proxy.startupProbe.httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
  t.same(proxy.readinessProbe.httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' });
  const env = Object.fromEntries(proxy.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
  t.match(env, {
    POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', INSTANCE_IP: 'status.podIP', SERVICE_ACCOUNT: 'spec.serviceAccountName',
    ISTIO_META_WORKLOAD_NAME: 'web', ISTIO_META_CLUSTER_ID: 'Kubernetes', CA_ADDR: 'istiod.istio-system.svc:15012',
    PILOT_ADDR: 'istiod.istio-system.svc:15012', SHOAL_TUNNEL: 'hbone', ISTIO_META_APP_CONTAINERS: 'app',
  });
  t.notOk('SHOAL_CERT_TTL' in env);
  t.same(proxy.volumeMounts, [{ name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio' }, sa], 'root cert and the app\'s token mount');
  t.same(p.spec.volumes.map((v: any) => v.name), ['default-token', 'istiod-ca-cert']);
  t.same(p.spec.volumes[1], { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } });
  t.same(JSON.parse(p.metadata.annotations['sidecar.istio.io/status']), { initContainers: ['istio-init', 'istio-proxy'], containers: null, volumes: ['istiod-ca-cert'], imagePullSecrets: null, revision: 'default' });
  t.equal(p.metadata.annotations['kubectl.kubernetes.io/default-container'], 'app');
  t.equal(p.metadata.annotations['prometheus.io/port'], '15020');
  t.match(p.metadata.labels, { app: 'web', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': 'web', 'service.istio.io/canonical-revision': 'v2' });
  // idempotent
  const again = injectPod(p, { namespaceLabels: { 'istio-injection': 'enabled' } });
  t.notOk(again.decision.inject, 'an injected pod is not injected twice');
  t.equal(again.object, p);
  // knobs
  const knobs = injectPod(pod({ annotations: { 'sidecar.shoal.io/tunnel': 'tls', 'sidecar.shoal.io/cert-ttl': '30s' } }), { defaultInject: true }).object;
  const kenv = Object.fromEntries(knobs.spec.initContainers[1].env.map((e: any) => [e.name, e.value]));
  t.equal(kenv.SHOAL_TUNNEL, 'tls');
  t.equal(kenv.SHOAL_CERT_TTL, '30s');
  t.equal(knobs.metadata.labels['service.istio.io/canonical-name'], 'web', 'pod name when no app label or owner');
  t.equal(knobs.metadata.labels['service.istio.io/canonical-revision'], 'latest');
});

t.test('workload names', async (t) => {
  const rows: { meta: any; want: string }[] = [
    { meta: { name: 'p' }, want: 'p' },
    { meta: { generateName: 'web-7d9f-' }, want: 'web-7d9f' },
    { meta: { generateName: 'web-7d9f-', labels: { 'pod-template-hash': '7d9f' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f', controller: true }] }, want: 'web' },
    { meta: { ownerReferences: [{ kind: 'ReplicaSet', name: 'bare-rs', controller: true }] }, want: 'bare-rs' },
    { meta: { ownerReferences: [{ kind: 'Job', name: 'backup-28900000', controller: true }] }, want: 'backup' },
    { meta: { ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }, want: 'db' },
  ];
  for (const r of rows) t.equal(workloadName(r.meta), r.want, JSON.stringify(r.meta));
});

t.test('workload templates', async (t) => {
  const tpl = { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'shoal/hello' }] } };
  const kinds: [string, any][] = [
    ['Deployment', { spec: { template: tpl } }], ['ReplicaSet', { spec: { template: tpl } }], ['DaemonSet', { spec: { template: tpl } }],
    ['StatefulSet', { spec: { template: tpl } }], ['Job', { spec: { template: tpl } }], ['CronJob', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: tpl } } } }],
  ];
  for (const [kind, body] of kinds) {
    const obj = { apiVersion: 'x', kind, metadata: { name: 'api-wl', namespace: 'prod' }, ...body };
    const r = injectObject(obj, { defaultInject: true });
    t.ok(r.decision.inject, kind);
    const t2 = kind === 'CronJob' ? r.object.spec.jobTemplate.spec.template : r.object.spec.template;
    t.same(t2.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy'], `${kind}: containers`);
    t.equal(t2.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_META_WORKLOAD_NAME').value, 'api-wl', `${kind}: workload name`);
    t.notOk(t2.metadata.namespace, 'no namespace added to the template');
    t.notOk(obj.spec.template?.spec.initContainers ?? obj.spec.jobTemplate?.spec.template.spec.initContainers, 'input not mutated');
  }
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } };
  t.equal(injectObject(svc, { defaultInject: true }).object, svc, 'other kinds unchanged');
  const off = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } }, spec: tpl.spec } } };
  t.notOk(injectObject(off, { defaultInject: true }).decision.inject, 'template opt-out');
  t.throws(() => injectObject({ ...off, spec: { template: { metadata: { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': 'x' } }, spec: tpl.spec } } }, { defaultInject: true }),
    /spec\.template\.metadata\.annotations\[traffic\.sidecar\.istio\.io\/excludeInboundPorts\]/);
});

t.test('JSON patch', async (t) => {
  const input = pod({ labels: { app: 'web' } }, { initContainers: [{ name: 'migrate', image: 'busybox' }] });
  const r = injectPodPatch(input, { namespaceLabels: { 'istio-injection': 'enabled' } });
  t.same(jsonPatch(input, r.patch), r.object, 'patch applied to the input = injected pod');
  t.ok(r.patch.some((o) => o.path === '/metadata/annotations'), 'annotations added whole when absent');
  t.ok(r.patch.some((o) => o.path === '/metadata/labels/security.istio.io~1tlsMode'), 'label keys escaped (RFC 6901)');
  t.same(r.patch.filter((o) => o.path.startsWith('/spec/initContainers')).map((o) => o.path), ['/spec/initContainers/0', '/spec/initContainers/1'], 'prepended init containers as adds');
  t.same(injectPodPatch(r.object, { namespaceLabels: { 'istio-injection': 'enabled' } }).patch, [], 'no patch for an injected pod');
  const noLabels = pod();
  const r2 = injectPodPatch(noLabels, { defaultInject: true });
  t.same(jsonPatch(noLabels, r2.patch), r2.object);
  const rows: { a: any; b: any; want: any[] }[] = [
    { a: { x: 1 }, b: { x: 1 }, want: [] },
    { a: { x: 1 }, b: { x: 2, 'a/b~c': 3 }, want: [{ op: 'replace', path: '/x', value: 2 }, { op: 'add', path: '/a~1b~0c', value: 3 }] },
    { a: { l: [1, 2] }, b: { l: [1, 2, 3] }, want: [{ op: 'add', path: '/l/-', value: 3 }] },
    { a: { l: [1, 2] }, b: { l: [2, 1, 5] }, want: [{ op: 'replace', path: '/l', value: [2, 1, 5] }] },
    { a: { gone: 1, l: [1] }, b: { l: [4] }, want: [{ op: 'remove', path: '/gone' }, { op: 'replace', path: '/l/0', value: 4 }] },
  ];
  for (const r3 of rows) {
    t.same(createPatch(r3.a, r3.b), r3.want, JSON.stringify(r3.b));
    t.same(jsonPatch(r3.a, createPatch(r3.a, r3.b)), r3.b);
  }
});

t.test('app probe rewrite (sidecar.istio.io/rewriteAppHTTPProbers)', async (t) => {
  const spec = {
    containers: [{
      name: 'web', image: 'shoal/hello', ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/ready', port: 'http', httpHeaders: [{ name: 'X', value: 'y' }] }, periodSeconds: 2, timeoutSeconds: 3 },
      livenessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 5 },
      startupProbe: { exec: { command: ['true'] } },
    }],
  };
  const off = injectPod(pod({ annotations: { 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' } }, spec), { defaultInject: true }).object;
  t.same(off.spec.containers, spec.containers, 'annotation "false" opts out');
  t.notOk(off.spec.initContainers[1].env.some((e: any) => e.name === 'ISTIO_KUBE_APP_PROBERS'));
  const byDefault = injectPod(pod({}, spec), { defaultInject: true }).object;
  const on = injectPod(pod({ annotations: { 'sidecar.istio.io/rewriteAppHTTPProbers': 'true' } }, spec), { defaultInject: true }).object;
  t.same(byDefault.spec, on.spec, 'on by default (Istio\'s default), as with "true"');
  const c = byDefault.spec.containers[0];
  t.same(c.readinessProbe, { periodSeconds: 2, timeoutSeconds: 3, httpGet: { path: '/app-health/web/readyz', port: 15020, scheme: 'HTTP' } }, 'httpGet → the sidecar, timing kept');
  t.same(c.livenessProbe, { failureThreshold: 5, httpGet: { path: '/app-health/web/livez', port: 15020, scheme: 'HTTP' } }, 'tcpSocket → the sidecar');
  t.same(c.startupProbe, spec.containers[0].startupProbe, 'exec probes untouched');
  const env = byDefault.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_KUBE_APP_PROBERS');
  t.same(JSON.parse(env.value), {
    '/app-health/web/readyz': { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] }, timeoutSeconds: 3 },
    '/app-health/web/livez': { tcpSocket: { port: 8080 }, timeoutSeconds: 1 },
  }, 'the original probes, named ports resolved');
  t.same(spec.containers[0].readinessProbe.httpGet.port, 'http', 'input not mutated');
});
