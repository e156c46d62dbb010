// The real kubectl against the API server over HTTPS with the generated kubeconfig.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: shoal/hello:1
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`;

t.test('kubectl', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  t.before(async () => {
    c = await tlsCluster();
  });
  t.teardown(async () => c?.close());

  t.test('api-resources and version', async (t) => {
    const r = await c.kubectl(['api-resources']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    t.match(r.stdout, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    t.match(r.stdout, /virtualservices\s+vs\s+networking\.istio\.io\/v1\s+true\s+VirtualService/);
    const v = await c.kubectl(['version', '-o', 'json']);
    t.equal(v.code, 0, v.stderr);
    t.equal(JSON.parse(v.stdout).serverVersion.minor, '32');
  });

  t.test('create -f, get, get -o yaml, describe', async (t) => {
    const cr = await c.kubectl(['create', '-f', '-'], deployment);
    t.equal(cr.code, 0, cr.stderr);
    t.match(cr.stdout, /deployment.apps\/web created/);
    t.match(cr.stdout, /service\/web created/);
    const g = await c.kubectl(['get', 'deploy']);
    t.equal(g.code, 0, g.stderr);
    t.match(g.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    t.match(g.stdout, /^web\s+0\/2\s+0\s+0\s+\d+s$/m);
    const y = await c.kubectl(['get', 'svc', 'web', '-o', 'yaml']);
    t.equal(y.code, 0, y.stderr);
    t.match(y.stdout, /targetPort: 8080/);
    t.match(y.stdout, /type: ClusterIP/);
    const d = await c.kubectl(['describe', 'deployment', 'web']);
    t.equal(d.code, 0, d.stderr);
    t.match(d.stdout, /Name:\s+web/);
  });

  t.test('apply -f (client-side), apply --server-side', async (t) => {
    const changed = deployment.replace('replicas: 2', 'replicas: 3');
    const a = await c.kubectl(['apply', '-f', '-'], changed);
    t.equal(a.code, 0, a.stderr);
    t.match(a.stdout, /deployment.apps\/web (configured|created)/);
    const g = await c.kubectl(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']);
    t.equal(g.stdout, '3');
    const again = await c.kubectl(['apply', '-f', '-'], changed);
    t.equal(again.code, 0, again.stderr);
    t.match(again.stdout, /deployment.apps\/web unchanged/);
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n';
    const s = await c.kubectl(['apply', '--server-side', '-f', '-'], cm);
    t.equal(s.code, 0, s.stderr);
    t.match(s.stdout, /configmap\/ssa serverside-applied/);
    const s2 = await c.kubectl(['apply', '--server-side', '-f', '-'], cm.replace('"1"', '"2"'));
    t.equal(s2.code, 0, s2.stderr);
    const mf = await c.kubectl(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a} {.metadata.managedFields[0].manager}']);
    t.equal(mf.stdout, '2 kubectl');
  });

  t.test('scale, label, delete, errors', async (t) => {
    const s = await c.kubectl(['scale', 'deployment/web', '--replicas=5']);
    t.equal(s.code, 0, s.stderr);
    const g = await c.kubectl(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']);
    t.equal(g.stdout, '5');
    const l = await c.kubectl(['label', 'svc', 'web', 'tier=front']);
    t.equal(l.code, 0, l.stderr);
    const sel = await c.kubectl(['get', 'svc', '-l', 'tier=front', '-o', 'name']);
    t.equal(sel.stdout.trim(), 'service/web');
    const nf = await c.kubectl(['get', 'pod', 'nope']);
    t.not(nf.code, 0);
    t.match(nf.stderr, /Error from server \(NotFound\): pods "nope" not found/);
    const bad = await c.kubectl(['create', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 70000\n');
    t.not(bad.code, 0);
    t.match(bad.stderr, /spec\.ports\[0\]\.port/);
    const d = await c.kubectl(['delete', 'svc', 'web']);
    t.equal(d.code, 0, d.stderr);
    t.match(d.stdout, /service "web" deleted/);
  });

  t.test('NetworkPolicy: apply, get, describe, bad input named by field', async (t) => {
    const np = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
      namespaceSelector: {matchLabels: {team: a}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {port: http}
    - {protocol: UDP, port: 5000, endPort: 5010}
`;
    const a = await c.kubectl(['apply', '-f', '-'], np);
    t.equal(a.code, 0, a.stderr);
    t.match(a.stdout, /networkpolicy.networking.k8s.io\/allow-client created/);
    const g = await c.kubectl(['get', 'netpol']);
    t.match(g.stdout, /^allow-client\s+app=web\s+\d+s$/m, g.stdout);
    const types = await c.kubectl(['get', 'netpol', 'allow-client', '-o', 'jsonpath={.spec.policyTypes} {.spec.ingress[0].ports[0].protocol}']);
    t.equal(types.stdout, '["Ingress"] TCP', 'policyTypes inferred, protocol defaulted');
    const d = await c.kubectl(['describe', 'netpol', 'allow-client']);
    t.equal(d.code, 0, d.stderr);
    t.match(d.stdout, /PodSelector:\s+app=web/);
    t.match(d.stdout, /10\.0\.0\.0\/8/);
    const bad: [string, string, RegExp][] = [
      ['invalid CIDR', np.replace('10.0.0.0/8', '10.0.0.0/33'), /spec\.ingress\[0\]\.from\[1\]\.ipBlock\.cidr/],
      ['except outside its cidr', np.replace('10.1.0.0/16', '192.168.0.0/16'), /spec\.ingress\[0\]\.from\[1\]\.ipBlock\.except\[0\]/],
      ['endPort below port', np.replace('endPort: 5010', 'endPort: 4000'), /spec\.ingress\[0\]\.ports\[1\]\.endPort/],
      ['endPort without port', np.replace('port: 5000, endPort', 'endPort'), /spec\.ingress\[0\]\.ports\[1\]\.port/],
      ['unknown protocol', np.replace('protocol: UDP', 'protocol: ICMP'), /spec\.ingress\[0\]\.ports\[1\]\.protocol/],
    ];
    for (const [what, text, field] of bad) {
      const r = await c.kubectl(['apply', '-f', '-'], text.replace('allow-client', 'bad'));
      t.not(r.code, 0, what);
      t.match(r.stderr, field, `${what}: ${r.stderr.trim()}`);
    }
    const none = await c.kubectl(['get', 'netpol', 'bad']);
    t.match(none.stderr, /NotFound/, 'nothing of a rejected policy was stored');
  });

  t.test('typed-client creates send protobuf bodies', async (t) => {
    const ns = await c.kubectl(['create', 'namespace', 'pb']);
    t.equal(ns.code, 0, ns.stderr);
    const cm = await c.kubectl(['create', 'configmap', 'pbcm', '-n', 'pb', '--from-literal=k=v']);
    t.equal(cm.code, 0, cm.stderr);
    const g = await c.kubectl(['get', 'cm', 'pbcm', '-n', 'pb', '-o', 'jsonpath={.data.k}']);
    t.equal(g.stdout, 'v');
    const d = await c.kubectl(['create', 'deployment', 'pbd', '-n', 'pb', '--image=shoal/hello:1', '--replicas=2']);
    t.equal(d.code, 0, d.stderr);
    const r = await c.kubectl(['get', 'deploy', 'pbd', '-n', 'pb', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']);
    t.equal(r.stdout, '2 shoal/hello:1');
  });

  t.test('get -w streams changes', async (t) => {
    const { spawn } = await import('node:child_process');
    const child = spawn('kubectl', ['--kubeconfig', c.kubeconfig, 'get', 'configmaps', '-w'], { env: { ...process.env, HOME: c.home } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    await new Promise((r) => setTimeout(r, 1500));
    await c.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: b\n');
    const deadline = Date.now() + 8000;
    while (!/watched/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    t.match(out, /watched\s+1\s+\d+s/);
  });
});
