// The AdmissionReview v1 webhook: the review handler's table (Istio's answers for each kind of bad input),
// then the real process over HTTPS answering the recorded AdmissionReview in fixtures/ (shaped as
// kube-apiserver 1.32 sends it for a ReplicaSet's pod) with the same JSON patch as the API server's
// admission step produces for that pod, and the same containers a real API server stores.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { handleReview } from '../../inject/webhook/review.js';
import { makeCa, signLeaf } from '../../control-plane/apiserver/pki.js';
import { sidecarInjectionPlugin } from '../../control-plane/apiserver/admission/inject.js';
import { createPatch } from '../../inject/patch.js';
import { jsonPatch } from '../../control-plane/apiserver/patch/json-patch.js';
import { registry } from '../../control-plane/apiserver/api-adapter.js';
import { startCluster } from '../client/fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
// fixtures are JSON in the source tree (test/inject/fixtures), next to the compiled test's source
const FIXTURE = join(here, '..', '..', '..', 'test', 'inject', 'fixtures', 'admission-review-pod.json');
const MAIN = join(here, '..', '..', 'inject', 'webhook', 'main.js');
const review = () => JSON.parse(readFileSync(FIXTURE, 'utf8'));
const decodePatch = (r: any) => JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8'));

t.test('review handler', async (t) => {
  t.match(handleReview('', 'application/json'), { status: 400, body: 'no body found\n' });
  t.match(handleReview('{}', 'text/plain'), { status: 415 });
  const garbage = handleReview('{nope', 'application/json');
  t.equal(garbage.status, 200);
  t.match(JSON.parse(garbage.body), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { allowed: false, status: { message: /could not decode body/ } } });
  const notReview = JSON.parse(handleReview('{"kind":"Pod"}', 'application/json').body);
  t.match(notReview.response, { allowed: false, status: { message: /not an AdmissionReview/ } });
  const rows: { name: string; mutate: (r: any) => void; want: any; patch: boolean }[] = [
    { name: 'injected', mutate: () => undefined, want: { allowed: true, patchType: 'JSONPatch' }, patch: true },
    { name: 'not a pod: allowed, no patch', mutate: (r) => { r.request.kind.kind = 'Service'; r.request.resource.resource = 'services'; }, want: { allowed: true }, patch: false },
    { name: 'pod subresource: allowed, no patch', mutate: (r) => { r.request.subResource = 'status'; }, want: { allowed: true }, patch: false },
    { name: 'opted out', mutate: (r) => { r.request.object.metadata.labels['sidecar.istio.io/inject'] = 'false'; }, want: { allowed: true }, patch: false },
    { name: 'already injected', mutate: (r) => { r.request.object.metadata.annotations['sidecar.istio.io/status'] = '{}'; }, want: { allowed: true }, patch: false },
    { name: 'hostNetwork', mutate: (r) => { r.request.object.spec.hostNetwork = true; }, want: { allowed: true }, patch: false },
    { name: 'unreadable pod', mutate: (r) => { r.request.object = { metadata: {}, spec: 'x' }; }, want: { allowed: false, status: { message: /could not unmarshal raw object/ } }, patch: false },
    {
      name: 'bad capture annotation', mutate: (r) => { r.request.object.metadata.annotations['traffic.sidecar.istio.io/excludeInboundPorts'] = '80,x'; },
      want: { allowed: false, status: { message: /injection failed: metadata\.annotations\[traffic\.sidecar\.istio\.io\/excludeInboundPorts\]: Invalid value: "80,x": "x" is not a port/ } }, patch: false,
    },
  ];
  for (const r of rows) {
    const rv = review();
    r.mutate(rv);
    const out = JSON.parse(handleReview(JSON.stringify(rv), 'application/json; charset=utf-8').body);
    t.equal(out.response.uid, rv.request.uid, `${r.name}: uid echoed`);
    t.match(out.response, r.want, r.name);
    t.equal('patch' in out.response, r.patch, `${r.name}: ${r.patch ? 'a' : 'no'} patch`);
  }
  const beta = review();
  beta.apiVersion = 'admission.k8s.io/v1beta1';
  t.equal(JSON.parse(handleReview(JSON.stringify(beta), 'application/json').body).apiVersion, 'admission.k8s.io/v1beta1', 'answered in the request\'s version');
  const noNs = review();
  delete noNs.request.object.metadata.namespace;
  const p = decodePatch(JSON.parse(handleReview(JSON.stringify(noNs), 'application/json').body));
  t.notOk(p.some((o: any) => o.path === '/metadata/namespace'), 'the namespace (from request.namespace) is not added to the pod');
});

t.test('flags', async (t) => {
  const r = spawnSync(process.execPath, [MAIN, '--port', 'x', '--bogus', '--tls-key', '/nonexistent/key.pem'], { encoding: 'utf8' });
  t.equal(r.status, 64);
  for (const want of ['--bogus: unknown flag', '--port "x": must be a port', '--tls-cert: required', '--tls-key /nonexistent/key.pem: ENOENT']) t.match(r.stderr, want);
});

t.test('the webhook over HTTPS answers the recorded AdmissionReview with the in-server injector\'s patch', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-inject-wh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeCa('shoalt-inject-ca');
  const leaf = signLeaf(ca, { commonName: 'istiod.istio-system.svc', dnsNames: ['istiod.istio-system.svc', 'localhost'], ipAddresses: ['127.0.0.1'], server: true });
  writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
  writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
  const proc = spawn(process.execPath, [MAIN, '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--port', '0', '--bind-address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on https:\/\/[^:]+:(\d+)\/inject/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`webhook exited ${c}: ${out}`)));
  });
  const post = (body: string, path = '/inject') => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca: ca.certPem, servername: 'istiod.istio-system.svc', headers: { 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const rv = review();
  const res = await post(JSON.stringify(rv));
  t.equal(res.status, 200);
  const answer = JSON.parse(res.body);
  t.match(answer, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: rv.request.uid, allowed: true, patchType: 'JSONPatch' } });
  const patch = decodePatch(answer);
  t.equal((await post('', '/nope')).status, 404);

  // the API server's admission step, on the same pod in a namespace labelled istio-injection=enabled
  const pod = review().request.object;
  const original = structuredClone(pod);
  const plugin = sidecarInjectionPlugin(async (ns) => (ns === 'shop' ? { 'istio-injection': 'enabled' } : undefined));
  const result = await plugin.mutate!({
    operation: 'CREATE', resource: registry.get('', 'v1', 'pods')!, subresource: '', namespace: 'shop', name: '', object: pod, oldObject: undefined, dryRun: false,
    userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: '', groups: [] },
  });
  t.same(result, { allowed: true });
  t.same(patch, createPatch(original, pod), 'same patch as the in-server injector');
  const patched: any = jsonPatch(original, patch);
  t.same(patched, pod, 'the patch applied to the recorded pod = the pod the API server would store');
  t.same(patched.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy']);
  t.same(patched.spec.initContainers[0].args.slice(-2), ['-o', '5432'], 'annotation → istio-init flag');
  t.same(patched.spec.initContainers[1].volumeMounts[1], original.spec.containers[0].volumeMounts[0], 'the projected token mount is shared with the proxy');
  t.equal(patched.metadata.labels['service.istio.io/canonical-name'], 'reviews');
  t.equal(patched.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_META_WORKLOAD_NAME').value, 'reviews-v1', 'workload = Deployment name');
  t.match(out, /pod shop\/reviews-v1-6f9b8d7c5b-: injected/, 'the decision is logged');

  // and through a real API server: the stored pod has the same injected parts
  const cluster = await startCluster('shoalt-inject-wh-api-');
  t.teardown(() => cluster.close());
  const c = cluster.client();
  await c.create({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } } as any);
  const body = structuredClone(original);
  delete body.metadata.managedFields;
  delete body.metadata.creationTimestamp;
  delete body.status;
  const stored: any = await c.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, body, { namespace: 'shop' });
  const defaulted = structuredClone(patched);
  registry.get('', 'v1', 'pods')!.applyDefaults(defaulted);
  t.same(stored.spec.initContainers, defaulted.spec.initContainers, 'stored init containers = webhook-patched pod, defaulted');
  t.same(stored.spec.volumes, defaulted.spec.volumes, 'volumes');
  t.same(stored.metadata.labels, patched.metadata.labels, 'labels');
  t.same(stored.metadata.annotations, patched.metadata.annotations, 'annotations');
  const bad = structuredClone(body);
  bad.metadata.annotations['traffic.sidecar.istio.io/includeOutboundIPRanges'] = '10.0.0.0/99';
  const err: any = await c.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, bad, { namespace: 'shop' }).catch((e) => e);
  t.equal(err.code ?? err.status?.code, 422, 'bad annotation: 422 from the API server');
  t.match(JSON.stringify(err.status ?? err), /metadata\.annotations\[traffic\.sidecar\.istio\.io\/includeOutboundIPRanges\]/, 'naming the annotation');
});

t.test('the MutatingWebhookConfiguration sample matches the server', async (t) => {
  const YAML = (await import('yaml')).default;
  const cfg = YAML.parse(readFileSync(join(here, '..', '..', '..', 'inject', 'webhook', 'webhook-config.yaml'), 'utf8'));
  t.equal(cfg.apiVersion, 'admissionregistration.k8s.io/v1');
  t.equal(cfg.webhooks.length, 2);
  for (const w of cfg.webhooks) {
    t.equal(w.clientConfig.service.path, '/inject', `${w.name}: the path the server serves`);
    t.same(w.admissionReviewVersions, ['v1'], 'a version the server answers');
    t.equal(w.sideEffects, 'None');
    t.same(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }]);
  }
});
