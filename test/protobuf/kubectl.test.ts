// The real kubectl 1.32: for each `kubectl create` generator, the protobuf body kubectl sends must decode
// to exactly the object kubectl prints for the same command with `--dry-run=client -o json` (an expected
// value nobody here wrote). A kind without a table must come back to kubectl as 415 naming the kind.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../../control-plane/apiserver/pki.js';
import { startRecorder, type Recorder } from './recorder.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

/** Drop nulls (kubectl prints `creationTimestamp: null`; the decoder leaves zero times out). */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  }
  return v;
}

/** A recorder in a fresh `shoalt-protobuf-*` dir; both are removed when `t` ends, even on failure. */
async function recorderFor(t: Test): Promise<{ home: string; rec: Recorder }> {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-protobuf-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const rec = await startRecorder(home);
  t.teardown(() => rec.close());
  return { home, rec };
}

interface Row {
  name: string;
  args: string[];
  /** the REST path kubectl must POST to */
  path: string;
}

const rows: Row[] = [
  { name: 'namespace', args: ['create', 'namespace', 'foo'], path: '/api/v1/namespaces' },
  { name: 'configmap literals, text and binary files', args: ['create', 'configmap', 'cfg', '--from-literal=a=b', '--from-literal=c=d', '--from-file=app.conf=FILES/app.conf', '--from-file=blob=FILES/blob.bin'], path: '/api/v1/namespaces/default/configmaps' },
  { name: 'configmap in another namespace', args: ['-n', 'other', 'create', 'configmap', 'x', '--from-literal=k=v'], path: '/api/v1/namespaces/other/configmaps' },
  { name: 'secret generic with type and binary file', args: ['create', 'secret', 'generic', 's', '--from-literal=k=v', '--from-file=blob=FILES/blob.bin', '--type=example.com/t'], path: '/api/v1/namespaces/default/secrets' },
  { name: 'secret docker-registry', args: ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example.com', '--docker-username=u', '--docker-password=p', '--docker-email=u@example.com'], path: '/api/v1/namespaces/default/secrets' },
  { name: 'secret tls', args: ['create', 'secret', 'tls', 'tls', '--cert=FILES/tls.crt', '--key=FILES/tls.key'], path: '/api/v1/namespaces/default/secrets' },
  { name: 'serviceaccount', args: ['create', 'serviceaccount', 'sa'], path: '/api/v1/namespaces/default/serviceaccounts' },
  { name: 'service clusterip, two ports', args: ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:8443'], path: '/api/v1/namespaces/default/services' },
  { name: 'service clusterip headless', args: ['create', 'service', 'clusterip', 'headless', '--clusterip=None'], path: '/api/v1/namespaces/default/services' },
  { name: 'service nodeport', args: ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'], path: '/api/v1/namespaces/default/services' },
  { name: 'service loadbalancer', args: ['create', 'service', 'loadbalancer', 'lb', '--tcp=5678:8080'], path: '/api/v1/namespaces/default/services' },
  { name: 'service externalname', args: ['create', 'service', 'externalname', 'ext', '--external-name=db.example.com'], path: '/api/v1/namespaces/default/services' },
  { name: 'deployment with replicas', args: ['create', 'deployment', 'web', '--image=x', '--replicas=2'], path: '/apis/apps/v1/namespaces/default/deployments' },
  { name: 'deployment with port and command', args: ['create', 'deployment', 'cmd', '--image=busybox:1.36', '--port=8080', '--', 'sleep', '3600'], path: '/apis/apps/v1/namespaces/default/deployments' },
  { name: 'deployment with two images', args: ['create', 'deployment', 'multi', '--image=a:1', '--image=b:2'], path: '/apis/apps/v1/namespaces/default/deployments' },
  { name: 'job with command', args: ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'], path: '/apis/batch/v1/namespaces/default/jobs' },
  { name: 'cronjob', args: ['create', 'cronjob', 'c', '--image=busybox', '--schedule=*/5 * * * *', '--restart=Never', '--', 'date'], path: '/apis/batch/v1/namespaces/default/cronjobs' },
  { name: 'ingress simple with tls', args: ['create', 'ingress', 'simple', '--rule=foo.com/bar=svc1:8080,tls=my-cert'], path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses' },
  {
    name: 'ingress with class, default backend, named port, wildcard path, annotation',
    args: ['create', 'ingress', 'multi', '--class=shoal', '--default-backend=def:http', '--rule=a.com/*=svc:80', '--rule=b.com/api=api:grpc,tls', '--annotation=shoal.io/x=y'],
    path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
  },
  { name: 'quota', args: ['create', 'quota', 'q', '--hard=pods=2,requests.cpu=500m,count/deployments.apps=1', '--scopes=NotTerminating'], path: '/api/v1/namespaces/default/resourcequotas' },
  { name: 'clusterrole with URLs', args: ['create', 'clusterrole', 'cr', '--verb=get', '--non-resource-url=/healthz,/logs/*'], path: '/apis/rbac.authorization.k8s.io/v1/clusterroles' },
  { name: 'clusterrole with aggregation', args: ['create', 'clusterrole', 'agg', '--aggregation-rule=team=a'], path: '/apis/rbac.authorization.k8s.io/v1/clusterroles' },
  { name: 'rolebinding', args: ['create', 'rolebinding', 'rb', '--clusterrole=view', '--user=jane', '--group=dev', '--serviceaccount=default:sa'], path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings' },
  { name: 'clusterrolebinding', args: ['create', 'clusterrolebinding', 'crb', '--clusterrole=view', '--group=dev'], path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings' },
];

t.test('kubectl create sends protobuf that decodes to its own JSON', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  const { home, rec } = await recorderFor(t);
  const files = join(home, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'app.conf'), 'listen = 8080\nname = "web"\n');
  writeFileSync(join(files, 'blob.bin'), Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f]));
  const pki = ensurePki(home);
  writeFileSync(join(files, 'tls.crt'), pki.serverCertPem);
  writeFileSync(join(files, 'tls.key'), pki.serverKeyPem);

  for (const row of rows) {
    const args = row.args.map((a) => a.replace('FILES/', `${files}/`));
    const dry = await rec.kubectl([...args.slice(0, args.indexOf('--') < 0 ? args.length : args.indexOf('--')), '--dry-run=client', '-o', 'json', ...(args.includes('--') ? args.slice(args.indexOf('--')) : [])]);
    t.equal(dry.code, 0, `${row.name}: dry run: ${dry.stderr}`);
    const before = rec.requests.length;
    const real = await rec.kubectl(args);
    t.equal(real.code, 0, `${row.name}: kubectl create: ${real.stderr}`);
    t.match(real.stdout, /created/, `${row.name}: kubectl reports created`);
    const posts = rec.requests.slice(before).filter((r) => r.method === 'POST');
    t.equal(posts.length, 1, `${row.name}: one POST`);
    const post = posts[0]!;
    t.equal(post.url.split('?')[0], row.path, `${row.name}: path`);
    t.match(post.contentType, /^application\/vnd\.kubernetes\.protobuf/, `${row.name}: kubectl sent protobuf`);
    t.equal(post.error, undefined, `${row.name}: decoded without error`);
    t.strictSame(post.decoded, dropNulls(JSON.parse(dry.stdout)), `${row.name}: decoded body equals kubectl's JSON`);
  }
});

t.test('kubectl create of a kind without a table gets 415 naming it', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  const { rec } = await recorderFor(t);
  const r = await rec.kubectl(['create', 'poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=1']);
  t.not(r.code, 0, 'kubectl fails');
  t.match(r.stderr, /PodDisruptionBudget \(policy\/v1\)/, 'kubectl shows the message naming the kind');
  const post = rec.requests.find((x) => x.method === 'POST');
  t.match(post?.contentType, /protobuf/, 'it was a protobuf body');
  t.equal(post?.error?.code, 415);
});
