// `shoal inject -f`: multi-document YAML in, the same documents out with Pods and workload templates
// injected (other kinds unchanged, opted-out pods untouched and said so), -o writes a file, stdin works,
// bad capture annotations fail naming the file and the annotation. Runs the real CLI process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import YAML from 'yaml';
import { injectObject } from '../../inject/inject.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');
const shoal = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { ...process.env, SHOAL_HOME: '/nonexistent-shoalt-inject' } });

const APP = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, version: v3}
    spec:
      containers:
      - name: web
        image: shoal/hello
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: tool
  annotations: {sidecar.istio.io/inject: "false"}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: b, image: busybox}]
`;

t.test('shoal inject -f', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-inject-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.yaml'), APP);
  const r = shoal(['inject', '-f', join(dir, 'app.yaml')]);
  t.equal(r.status, 0, r.stderr);
  const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS());
  const input = YAML.parseAllDocuments(APP).map((d) => d.toJS());
  t.same(docs.map((d) => d.kind), ['Deployment', 'Service', 'Pod', 'CronJob'], 'every document, in order');
  t.same(docs[0], injectObject(input[0], { defaultInject: true }).object, 'Deployment template injected by the shared injector');
  t.same(docs[0].spec.template.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy']);
  t.same(docs[1], input[1], 'Service unchanged');
  t.same(docs[2], input[2], 'opted-out Pod unchanged');
  t.match(r.stderr, 'pod/tool: not injected: pod annotation sidecar.istio.io/inject=false');
  t.same(docs[3].spec.jobTemplate.spec.template.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy'], 'CronJob template injected');
  const again = shoal(['inject', '-f', '-'], r.stdout);
  t.equal(again.status, 0);
  t.same(YAML.parseAllDocuments(again.stdout).map((d) => d.toJS()), docs, 'injecting the output again changes nothing (stdin)');
  const o = shoal(['inject', '-f', join(dir, 'app.yaml'), '-o', join(dir, 'out.yaml')]);
  t.equal(o.status, 0);
  t.equal(o.stdout, '');
  t.equal(readFileSync(join(dir, 'out.yaml'), 'utf8'), r.stdout, '-o writes the same text to the file');
  writeFileSync(join(dir, 'bad.yaml'), APP.replace('labels: {app: web, version: v3}', 'labels: {app: web}\n      annotations: {traffic.sidecar.istio.io/excludeOutboundIPRanges: "10.0.0.0/8,nope"}'));
  const bad = shoal(['inject', '-f', join(dir, 'bad.yaml')]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, `bad.yaml: deployment/web: spec.template.metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]: Invalid value: "10.0.0.0/8,nope": "nope" is not an IPv4 CIDR`);
  t.equal(bad.stdout, '', 'nothing printed on error');
  const none = shoal(['inject']);
  t.equal(none.status, 64);
});
