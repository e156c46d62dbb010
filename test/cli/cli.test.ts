// The compiled `shoal` CLI run as a child process (node dist/cli/main.js) against a real API server
// started in-process, with --kubeconfig pointing at a file written for it. Checks kubectl's output lines,
// exit codes (0, 1, 64) and error wording for every command.

import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../client/fixture.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], o: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(o.stdin ?? '');
  });
}

const deployYaml = (replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
`;
const svcYaml = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`;

t.test('shoal CLI', async (t) => {
  const cluster = await startCluster('shoalt-cli-');
  t.teardown(() => cluster.close());
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-cli-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kc = ['--kubeconfig', cluster.kubeconfigPath];
  const shoal = (args: string[], o: Parameters<typeof run>[1] = {}) => run([...kc, ...args], o);

  t.test('apply: created, unchanged, configured; dirs with -R; stdin', async (t) => {
    mkdirSync(join(dir, 'app', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'app', 'deploy.yaml'), deployYaml(2));
    writeFileSync(join(dir, 'app', 'nested', 'svc.yml'), svcYaml);
    writeFileSync(join(dir, 'app', 'README.txt'), 'not a manifest');
    let r = await shoal(['apply', '-f', join(dir, 'app')]);
    t.same([r.code, r.out], [0, 'deployment.apps/web created\n'], 'without -R only the top folder');
    r = await shoal(['apply', '-R', '-f', join(dir, 'app')]);
    t.same([r.code, r.out], [0, 'deployment.apps/web unchanged\nservice/web created\n']);
    writeFileSync(join(dir, 'app', 'deploy.yaml'), deployYaml(3));
    r = await shoal(['apply', '-f', join(dir, 'app'), '-R']);
    t.same([r.code, r.out, r.err], [0, 'deployment.apps/web configured\nservice/web unchanged\n', '']);
    r = await shoal(['get', 'deploy', 'web', '-o', 'json']);
    t.equal(JSON.parse(r.out).spec.replicas, 3);
    r = await shoal(['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-stdin' }, data: { a: 'b' } }) });
    t.same([r.code, r.out], [0, 'configmap/from-stdin created\n']);
    r = await shoal(['apply', '--dry-run=server', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n' });
    t.same([r.code, r.out], [0, 'configmap/dry created (server dry run)\n']);
    r = await shoal(['get', 'cm', 'dry']);
    t.same([r.code, r.err], [1, 'Error from server (NotFound): configmaps "dry" not found\n'], 'dry run created nothing');
  });

  t.test('apply: removing a field since the last apply removes it on the server', async (t) => {
    const f = join(dir, 'cm.yaml');
    writeFileSync(f, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prune}\ndata: {a: "1", b: "2"}\n');
    t.equal((await shoal(['apply', '-f', f])).out, 'configmap/prune created\n');
    await shoal(['label', 'cm', 'prune', 'owner=someone-else']);
    writeFileSync(f, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prune}\ndata: {a: "1"}\n');
    t.equal((await shoal(['apply', '-f', f])).out, 'configmap/prune configured\n');
    const o = JSON.parse((await shoal(['get', 'cm', 'prune', '-o', 'json'])).out);
    t.same(o.data, { a: '1' });
    t.equal(o.metadata.labels.owner, 'someone-else', 'fields set by others are kept');
  });

  t.test('apply: failures are reported, the rest still applied, exit 1', async (t) => {
    const f = join(dir, 'mixed.yaml');
    writeFileSync(f, `${deployYaml(-1).replace('name: web', 'name: bad')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n---\napiVersion: v1\nkind: Nope\nmetadata: {name: x}\n`);
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n   c: d\n');
    const r = await shoal(['apply', '-f', f, '-f', bad]);
    t.equal(r.code, 1);
    t.equal(r.out, 'configmap/good created\n');
    const lines = r.err.trim().split('\n');
    t.equal(lines.length, 4, r.err);
    t.match(lines[0], /^error: error parsing .*broken\.yaml: line 6, column 6: Nested mappings are not allowed in compact mappings$/, 'bad YAML names file, line and column');
    t.equal(lines[1], `Error from server (Invalid): error when creating "${f}": Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`);
    t.equal(lines[2], `error: resource mapping not found for name: "x" namespace: "" from "${f}": no matches for kind "Nope" in version "v1"`);
    t.equal(lines[3], 'ensure CRDs are installed first');
  });

  t.test('get: table, wide, -A, yaml, json, name, several kinds, empty, errors', async (t) => {
    let r = await shoal(['get', 'deployments']);
    t.equal(r.code, 0);
    t.match(r.out, /^NAME {3}READY {3}UP-TO-DATE {3}AVAILABLE {3}AGE\nweb {4}0\/3 {5}0 {12}0 {11}\d+s\n$/);
    r = await shoal(['get', 'svc', '-o', 'wide']);
    t.match(r.out.split('\n')[0], /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$/);
    r = await shoal(['get', 'ns', '-A']);
    t.match(r.out, /^NAME {14}STATUS {3}AGE\ndefault /, 'cluster-scoped: no NAMESPACE column even with -A');
    r = await shoal(['get', 'cm', '-A', '-l', 'owner']);
    t.match(r.out, /^NAMESPACE {3}NAME {4}DATA {3}AGE\ndefault {5}prune {3}1 {6}\d+s\n$/);
    r = await shoal(['get', 'deploy/web', '-o', 'yaml']);
    t.match(r.out, /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n/);
    t.notMatch(r.out, /managedFields/);
    r = await shoal(['get', 'cm', '-o', 'json']);
    const list = JSON.parse(r.out);
    t.equal(list.kind, 'List');
    t.ok(list.items.every((o: any) => o.kind === 'ConfigMap'));
    r = await shoal(['get', 'deploy,svc', '-o', 'name']);
    t.equal(r.out, 'deployment.apps/web\nservice/web\n');
    r = await shoal(['get', 'all']);
    t.match(r.out, /service\/web +ClusterIP/);
    t.match(r.out, /\n\nNAME +READY.*\ndeployment\.apps\/web /);
    r = await shoal(['get', 'pods']);
    t.same([r.code, r.out, r.err], [0, '', 'No resources found in default namespace.\n']);
    r = await shoal(['get', 'pods', '-n', 'kube-public']);
    t.equal(r.err, 'No resources found in kube-public namespace.\n');
    r = await shoal(['get', 'pods', 'nope']);
    t.same([r.code, r.err], [1, 'Error from server (NotFound): pods "nope" not found\n']);
    r = await shoal(['get', 'widgets']);
    t.same([r.code, r.err], [1, 'error: the server doesn\'t have a resource type "widgets"\n']);
    r = await shoal(['get', 'pods', '-l', 'a in (']);
    t.equal(r.code, 1);
    t.match(r.err, /^Error from server \(BadRequest\): /);
  });

  t.test('get -w streams rows until --request-timeout', async (t) => {
    // long enough for two more CLI runs on a loaded 2-core machine (each is a Node start, ~1-2 s there)
    const watching = shoal(['get', 'cm', '-w', '--request-timeout=10s', '-l', 'watch=me']);
    await new Promise((r) => setTimeout(r, 2000));
    await shoal(['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched, labels: {watch: me}}\ndata: {a: b}\n' });
    await shoal(['delete', 'cm', 'watched']);
    const r = await watching;
    t.equal(r.code, 0, r.err);
    t.match(r.out, /^NAME {6}DATA {3}AGE\nwatched {3}1 {6}\d+s\nwatched {3}1 {6}\d+s\n$/, 'header then one row per event (ADDED, DELETED)');
  });

  t.test('describe shows fields and events', async (t) => {
    const c = cluster.client();
    const target = await c.get({ apiVersion: 'v1', plural: 'configmaps', namespaced: true }, 'prune');
    const events = { apiVersion: 'v1', plural: 'events', namespaced: true };
    const event = (name: string, uid: string | undefined, message: string) => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'ConfigMap', name: 'prune', namespace: 'default', apiVersion: 'v1', uid },
      reason: 'Tested', message, type: 'Normal', source: { component: 'tester' }, count: 1,
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    await c.create(events, event('prune.1', target.metadata.uid, 'hello from the test'));
    // an event about an earlier object of the same name (another uid) is not shown
    await c.create(events, event('prune.2', 'some-other-uid', 'about a deleted namesake'));
    const r = await shoal(['describe', 'configmap', 'prune']);
    t.equal(r.code, 0, r.err);
    t.match(r.out, /^Name: {9}prune\nNamespace: {4}default\nLabels: {7}owner=someone-else\nAnnotations: {2}<none>\n/);
    t.match(r.out, /Data:\n {2}A: +1\n/);
    t.match(r.out, /Events:\n {2}Type +Reason +Age +From +Message\n {2}---- .*\n {2}Normal +Tested +\S+ +tester +hello from the test\n$/);
    t.notMatch(r.out, /namesake/);
    const d = await shoal(['describe', 'deploy', 'web']);
    t.match(d.out, /Replicas: {5}3 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable/);
    t.match(d.out, /Events: {2}<none>\n$/);
  });

  t.test('scale, label, annotate', async (t) => {
    let r = await shoal(['scale', '--replicas=5', 'deploy/web']);
    t.same([r.code, r.out], [0, 'deployment.apps/web scaled\n']);
    t.equal(JSON.parse((await shoal(['get', 'deploy', 'web', '-o', 'json'])).out).spec.replicas, 5);
    r = await shoal(['scale', 'deploy', 'web', '--replicas=1', '--current-replicas=4']);
    t.same([r.code, r.err], [1, 'error: Expected replicas to be 4, was 5\n']);
    r = await shoal(['scale', 'svc/web', '--replicas=2']);
    t.same([r.code, r.err], [1, 'error: no scaler has been implemented for "service"\n']);
    r = await shoal(['scale', 'deploy/web']);
    t.equal(r.code, 64);
    r = await shoal(['label', 'deploy', 'web', 'tier=frontend']);
    t.same([r.code, r.out], [0, 'deployment.apps/web labeled\n']);
    r = await shoal(['label', 'deploy', 'web', 'tier=backend']);
    t.same([r.code, r.err], [1, "error: 'tier' already has a value (frontend), and --overwrite is false\n"]);
    r = await shoal(['label', 'deploy', 'web', 'tier=backend', '--overwrite']);
    t.equal(r.code, 0);
    r = await shoal(['get', 'deploy', '-l', 'tier=backend', '-o', 'name']);
    t.equal(r.out, 'deployment.apps/web\n');
    r = await shoal(['label', 'deploy/web', 'tier-']);
    t.equal(r.out, 'deployment.apps/web labeled\n');
    r = await shoal(['annotate', 'svc', 'web', 'note=hello world']);
    t.same([r.code, r.out], [0, 'service/web annotated\n']);
    t.equal(JSON.parse((await shoal(['get', 'svc', 'web', '-o', 'json'])).out).metadata.annotations.note, 'hello world');
    r = await shoal(['annotate', 'svc', 'web', 'note=hello world']);
    t.equal(r.out, 'service/web not annotated\n');
  });

  t.test('edit: saved change, no change, rejected change reopened then abandoned', async (t) => {
    const ok = join(dir, 'edit-ok.sh');
    writeFileSync(ok, '#!/bin/sh\nsed -i "s/replicas: 5/replicas: 6/" "$1"\n');
    const bad = join(dir, 'edit-bad.sh');
    // writes an invalid value the first time; the second time (file reopened with the error) saves it unchanged
    writeFileSync(bad, '#!/bin/sh\ngrep -q "^# Error from server (Invalid)" "$1" && exit 0\nsed -i "s/replicas: 6/replicas: -6/" "$1"\n');
    chmodSync(ok, 0o755);
    chmodSync(bad, 0o755);
    let r = await shoal(['edit', 'deploy/web'], { env: { EDITOR: ok } });
    t.same([r.code, r.out], [0, 'deployment.apps/web edited\n'], r.err);
    t.equal(JSON.parse((await shoal(['get', 'deploy', 'web', '-o', 'json'])).out).spec.replicas, 6);
    r = await shoal(['edit', 'deployment', 'web'], { env: { EDITOR: 'true' } });
    t.same([r.code, r.err], [0, 'Edit cancelled, no changes made.\n']);
    r = await shoal(['edit', 'deploy', 'web'], { env: { EDITOR: bad } });
    t.equal(r.code, 1);
    t.match(r.err, /Error from server \(Invalid\): Deployment\.apps "web" is invalid: spec\.replicas: Invalid value: -6/);
    t.match(r.err, /error: Edit cancelled, no valid changes were saved\.\n$/);
    t.equal(JSON.parse((await shoal(['get', 'deploy', 'web', '-o', 'json'])).out).spec.replicas, 6, 'nothing saved');
  });

  t.test('create namespace, delete by name, selector, file', async (t) => {
    let r = await shoal(['create', 'namespace', 'team-a']);
    t.same([r.code, r.out], [0, 'namespace/team-a created\n']);
    r = await shoal(['create', 'ns', 'team-a']);
    t.same([r.code, r.err], [1, 'Error from server (AlreadyExists): namespaces "team-a" already exists\n']);
    for (const n of ['x1', 'x2']) await shoal(['apply', '-n', 'team-a', '-f', '-'], { stdin: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, labels: {grp: x}}\n` });
    r = await shoal(['delete', 'cm', '-l', 'grp=x', '-n', 'team-a']);
    t.same([r.code, r.out], [0, 'configmap "x1" deleted\nconfigmap "x2" deleted\n']);
    r = await shoal(['delete', 'cm', 'from-stdin', 'missing']);
    t.same([r.code, r.out, r.err], [1, 'configmap "from-stdin" deleted\n', 'Error from server (NotFound): configmaps "missing" not found\n']);
    r = await shoal(['delete', 'cm', 'missing', '--ignore-not-found']);
    t.equal(r.code, 0);
    r = await shoal(['delete', '-R', '-f', join(dir, 'app')]);
    t.same([r.code, r.out], [0, 'deployment.apps "web" deleted\nservice "web" deleted\n']);
    r = await shoal(['delete', 'cm']);
    t.same([r.code, r.err.split('\n')[0]], [64, 'error: resource(s) were provided, but no name was specified']);
  });

  t.test('api-resources, version, kubeconfig', async (t) => {
    let r = await shoal(['api-resources']);
    t.equal(r.code, 0);
    const lines = r.out.split('\n');
    t.match(lines[0], /^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND$/);
    t.ok(lines.some((l) => /^pods +po +v1 +true +Pod$/.test(l)), 'pods row');
    t.ok(lines.some((l) => /^deployments +deploy +apps\/v1 +true +Deployment$/.test(l)), 'deployments row');
    r = await shoal(['api-resources', '--namespaced=false', '-o', 'name']);
    t.ok(r.out.split('\n').includes('namespaces') && !r.out.includes('pods'));
    r = await shoal(['version']);
    t.match(r.out, /^Client Version: v0\.1\.0\nServer Version: v1\.\d+/);
    r = await run(['version', '--client']);
    t.same([r.code, r.out], [0, 'Client Version: v0.1.0\n'], 'no server needed');
    r = await run(['kubeconfig', '--home', cluster.home, '--server', cluster.url]);
    t.equal(r.code, 0);
    t.match(r.out, new RegExp(`server: ${cluster.url}`));
    const kcFile = join(dir, 'printed-kubeconfig');
    writeFileSync(kcFile, r.out);
    r = await run(['--kubeconfig', kcFile, 'get', 'ns', 'default', '-o', 'name']);
    t.same([r.code, r.out], [0, 'namespace/default\n'], 'the printed kubeconfig works');
    r = await run(['--home', cluster.home, 'get', 'ns', 'kube-system', '-o', 'name'], { env: { SHOAL_SERVER: cluster.url } });
    t.same([r.code, r.out], [0, 'namespace/kube-system\n'], 'state dir + SHOAL_SERVER without a kubeconfig');
  });

  t.test('usage errors exit 64 and list every bad flag; connection errors', async (t) => {
    let r = await shoal(['get', 'pods', '--bogus', '-o', 'xml', '--request-timeout=soon']);
    t.equal(r.code, 64);
    t.equal(r.err, 'error: unknown flag: --bogus\nerror: invalid argument "xml" for "-o, --output" flag: must be one of wide, yaml, json, name\nerror: invalid argument "soon" for "--request-timeout" flag: must be a duration such as 30s, 5m or 1h\nSee \'shoal get --help\' for usage.\n');
    r = await run(['frobnicate']);
    t.equal(r.code, 64);
    t.match(r.err, /^error: unknown command "frobnicate" for "shoal"/);
    r = await run([]);
    t.equal(r.code, 64);
    r = await run(['get', '--help']);
    t.same([r.code], [0]);
    t.match(r.out, /Usage:\n {2}shoal get/);
    r = await run(['--kubeconfig', cluster.kubeconfigPath, '--server', 'https://127.0.0.1:1', 'get', 'pods']);
    t.same([r.code, r.err], [1, 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n']);
    r = await run(['--home', join(dir, 'no-cluster'), 'get', 'pods']);
    t.equal(r.code, 1);
    t.match(r.err, /^error: no kubeconfig: pass --kubeconfig/);
    r = await run(['--kubeconfig', join(dir, 'missing'), 'get', 'pods']);
    t.equal(r.code, 1);
    t.match(r.err, /missing: no such file/);
  });
});
