// apps/v1 StatefulSet end to end on `shoal up` with the real kubectl: a headless Service and a
// StatefulSet `web` applied with kubectl, pods web-0 and web-1 created in order with their own hostname,
// per-pod DNS (`web-0.web.default.svc.cluster.local` answered by the cluster DNS, checked with dig from
// the other pod), a claim template backed by an emptyDir, `kubectl rollout status statefulset/web` and
// a rolling update. Root only.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../api/meta.js';
import { waitFor } from '../wait.js';
import { rootSkip, shoalUp } from './shoal-up.js';

const pods = { apiVersion: 'v1', plural: 'pods', namespaced: true };
const ready = (p: KubeObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

const manifest = (image: string) => `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: ${image}
        ports: [{name: http, containerPort: 8080}]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;

t.test('a StatefulSet with per-pod DNS on a real cluster', { skip: rootSkip }, async (t) => {
  const c = await shoalUp('sts', 20 + Math.floor(Math.random() * 70));
  t.teardown(() => c.close());
  const { api } = c;
  const file = join(c.home, 'web.yaml');
  writeFileSync(file, manifest('shoal/hello:1'));
  const ap = await c.kubectl('apply', '-f', file);
  t.equal(ap.code, 0, ap.stderr);
  t.match(ap.stdout, /statefulset.apps\/web created/);
  const rs = await c.kubectl('rollout', 'status', 'statefulset/web', '--timeout=120s');
  t.equal(rs.code, 0, rs.stdout + rs.stderr);
  t.match(rs.stdout, /partitioned roll out complete: 2 new pods have been updated/);
  const [w0, w1] = await Promise.all(['web-0', 'web-1'].map((n) => api.get(pods, n, { namespace: 'default' })));
  t.ok(ready(w0!) && ready(w1!), 'web-0 and web-1 Running and Ready');
  t.ok(Date.parse(w0!.metadata.creationTimestamp!) <= Date.parse(w1!.metadata.creationTimestamp!), 'web-0 first');
  const host = await c.kubectl('exec', 'web-0', '--', 'hostname');
  t.equal(host.stdout.trim(), 'web-0', 'the pod hostname is its stable name');
  const dnsPod = await waitFor('cluster DNS ready', async () => (await api.list(pods, { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.find(ready), 60_000);
  // pod → ClusterIP → pod needs net.ipv4.ip_forward=1, which `shoal up` holds (issue 11): both the kube-dns
  // ClusterIP and the DNS pod itself, on any host
  for (const server of ['10.96.0.10', dnsPod.status.podIP]) {
    const dig = await waitFor(`web-0.web.default.svc.cluster.local from ${server}`, async () => {
      const r = await c.kubectl('exec', 'web-1', '--', 'dig', '+short', `@${server}`, 'web-0.web.default.svc.cluster.local', 'A');
      return r.stdout.trim() === w0!.status.podIP ? r : undefined;
    }, 30_000);
    t.equal(dig.stdout.trim(), w0!.status.podIP, `dig @${server} from web-1: web-0.web.default.svc.cluster.local is web-0's IP`);
  }
  const both = await c.kubectl('exec', 'web-0', '--', 'dig', '+short', `@${dnsPod.status.podIP}`, 'web.default.svc.cluster.local', 'A');
  t.same(both.stdout.trim().split('\n').sort(), [w0!.status.podIP, w1!.status.podIP].sort(), 'the headless Service name answers both pods');
  const short = await c.kubectl('exec', 'web-1', '--', 'getent', 'hosts', 'web-0.web');
  t.match(short.stdout, new RegExp(`^${w0!.status.podIP.replace(/\./g, '\\.')}\\s`), 'and the short name through the search path');
  const fromPeer = await c.kubectl('exec', 'web-1', '--', 'curl', '-s', '-m', '3', 'http://web-0.web:8080/');
  t.match(fromPeer.stdout, /"pod":"web-0"/, 'web-1 reaches web-0 by its stable name');
  const mount = await c.kubectl('exec', 'web-0', '--', 'sh', '-c', 'echo kept > /data/x && cat /data/x');
  t.equal(mount.stdout, 'kept\n', 'the claim template is a writable volume');

  // a rolling update replaces web-1 then web-0
  writeFileSync(file, manifest('shoal/hello:2'));
  t.equal((await c.kubectl('apply', '-f', file)).code, 0);
  const rs2 = await c.kubectl('rollout', 'status', 'statefulset/web', '--timeout=120s');
  t.equal(rs2.code, 0, rs2.stdout + rs2.stderr);
  const after = await waitFor('both at :2', async () => {
    const ps = await Promise.all(['web-0', 'web-1'].map((n) => api.get(pods, n, { namespace: 'default' }).catch(() => undefined)));
    return ps.every((p) => p && ready(p) && p.spec.containers[0].image === 'shoal/hello:2') ? ps : undefined;
  }, 60_000);
  t.equal(after.length, 2, 'both pods updated and Ready');
  const get = await c.kubectl('get', 'statefulset', 'web');
  t.match(get.stdout, /^NAME\s+READY\s+AGE\nweb\s+2\/2\s+\d+s\n$/);
});
