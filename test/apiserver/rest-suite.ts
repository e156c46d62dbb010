// The REST semantics suite, run against the API server on each store backend (rest-sqlite.test.ts,
// rest-etcd.test.ts): CRUD, conflicts, generation, validation errors, selectors, pagination,
// subresources, finalizers, dry run and Table output.
import type { Test } from 'tap';
import { harness, pod, type Harness } from './harness.js';
import type { Store } from '../../control-plane/store/types.js';

const PODS = '/api/v1/namespaces/default/pods';

export function restSuite(t: Test, makeStore?: () => Promise<Store> | Store): void {
  let h: Harness;
  t.before(async () => {
    h = await harness(makeStore);
  });
  t.teardown(async () => {
    await h?.close();
  });

  t.test('authentication', async (t) => {
    const res = await h.server.app.inject({ method: 'GET', url: PODS });
    t.equal(res.statusCode, 401);
    t.match(JSON.parse(res.body), { kind: 'Status', reason: 'Unauthorized', code: 401 });
    const bad = await h.server.app.inject({ method: 'GET', url: PODS, headers: { authorization: 'Bearer nope' } });
    t.equal(bad.statusCode, 401);
    const hz = await h.server.app.inject({ method: 'GET', url: '/healthz' });
    t.equal(hz.statusCode, 200);
    t.equal(hz.body, 'ok');
  });

  t.test('system namespaces exist with the metadata.name label', async (t) => {
    const r = await h.req('GET', '/api/v1/namespaces');
    t.equal(r.status, 200);
    const names = r.body.items.map((n: any) => n.metadata.name).sort();
    t.same(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const d = r.body.items.find((n: any) => n.metadata.name === 'default');
    t.equal(d.metadata.labels['kubernetes.io/metadata.name'], 'default');
    t.equal(d.status.phase, 'Active');
  });

  t.test('create, get, update with conflict detection, generation', async (t) => {
    const c = await h.req('POST', PODS, pod('p1'));
    t.equal(c.status, 201, c.text);
    const m = c.body.metadata;
    t.match(m.uid, /^[0-9a-f-]{36}$/);
    t.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    t.match(m.resourceVersion, /^\d+$/);
    t.equal(m.generation, 1);
    t.equal(m.namespace, 'default');
    t.equal(c.body.spec.restartPolicy, 'Always', 'defaults applied');
    t.equal(c.body.status.phase, 'Pending');

    const dup = await h.req('POST', PODS, pod('p1'));
    t.equal(dup.status, 409);
    t.match(dup.body, { reason: 'AlreadyExists', details: { name: 'p1', kind: 'pods' } });

    const g = await h.req('GET', `${PODS}/p1`);
    t.equal(g.status, 200);
    t.equal(g.body.metadata.resourceVersion, m.resourceVersion);

    const upd = structuredClone(g.body);
    upd.metadata.labels.extra = 'yes';
    const u = await h.req('PUT', `${PODS}/p1`, upd);
    t.equal(u.status, 200, u.text);
    t.ok(Number(u.body.metadata.resourceVersion) > Number(m.resourceVersion), 'RV grows');
    t.equal(u.body.metadata.generation, 1, 'metadata-only change keeps generation');

    const stale = await h.req('PUT', `${PODS}/p1`, upd);
    t.equal(stale.status, 409, 'stale resourceVersion is a conflict');
    t.match(stale.body, { reason: 'Conflict', message: /the object has been modified/ });

    const specChange = structuredClone(u.body);
    specChange.spec.containers[0].image = 'shoal/hello:2';
    const s = await h.req('PUT', `${PODS}/p1`, specChange);
    t.equal(s.status, 200, s.text);
    t.equal(s.body.metadata.generation, 2, 'spec change bumps generation');

    const noop = await h.req('PUT', `${PODS}/p1`, s.body);
    t.equal(noop.body.metadata.resourceVersion, s.body.metadata.resourceVersion, 'a no-op update writes nothing');

    const nf = await h.req('GET', `${PODS}/nope`);
    t.equal(nf.status, 404);
    t.match(nf.body, { kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });

  t.test('validation errors name every field and store nothing', async (t) => {
    const bad = pod('Bad_Name');
    (bad.spec.containers[0] as any).ports = [{ containerPort: 70000 }];
    (bad.spec as any).bogusField = 1;
    const r = await h.req('POST', PODS, bad);
    t.equal(r.status, 422, r.text);
    t.equal(r.body.reason, 'Invalid');
    const fields = r.body.details.causes.map((c: any) => c.field);
    t.ok(fields.includes('metadata.name'), `metadata.name in ${fields}`);
    t.ok(fields.includes('spec.containers[0].ports[0].containerPort'), `containerPort in ${fields}`);
    t.ok(fields.some((f: string) => f.startsWith('spec.bogusField')), `unknown field in ${fields}`);
    const list = await h.req('GET', PODS);
    t.notOk(list.body.items.some((p: any) => p.metadata.name === 'Bad_Name'));
  });

  t.test('bad bodies get the right Status', async (t) => {
    const j = await h.req('POST', PODS, '{"apiVersion": "v1",\n "kind": "Pod", oops}');
    t.equal(j.status, 400);
    t.match(j.body.message, /line 2, column/);
    const y = await h.req('POST', PODS, 'apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n', { 'content-type': 'application/yaml' });
    t.equal(y.status, 400);
    t.match(y.body.message, /YAML at line \d+, column \d+/);
    const ct = await h.req('POST', PODS, 'x', { 'content-type': 'text/plain' });
    t.equal(ct.status, 415);
    t.equal(ct.body.reason, 'UnsupportedMediaType');
    const big = pod('big');
    (big.metadata as any).annotations = { a: 'x'.repeat(3 * 1024 * 1024 + 10) };
    const tl = await h.req('POST', PODS, big);
    t.equal(tl.status, 413);
    t.equal(tl.body.reason, 'RequestEntityTooLarge');
    const kind = await h.req('POST', PODS, { ...pod('k1'), kind: 'Service' });
    t.equal(kind.status, 400);
    const unk = await h.req('GET', '/apis/nope.example.com/v1/widgets');
    t.equal(unk.status, 404);
    const ns = await h.req('POST', '/api/v1/namespaces/missing/pods', pod('x'));
    t.equal(ns.status, 404);
    t.match(ns.body.message, /namespaces "missing" not found/);
    const sel = await h.req('GET', `${PODS}?labelSelector=${encodeURIComponent('a in (b')}`);
    t.equal(sel.status, 400);
    const fsel = await h.req('GET', `${PODS}?fieldSelector=spec.bogus%3Dx`);
    t.equal(fsel.status, 400);
  });

  t.test('YAML body, generateName and dryRun', async (t) => {
    const y = await h.req('POST', PODS, 'apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: gen-\nspec:\n  containers:\n  - name: a\n    image: x\n', { 'content-type': 'application/yaml' });
    t.equal(y.status, 201, y.text);
    t.match(y.body.metadata.name, /^gen-[a-z0-9]{5}$/);
    const d = await h.req('POST', `${PODS}?dryRun=All`, pod('dry'));
    t.equal(d.status, 201);
    t.equal(d.body.metadata.name, 'dry');
    const g = await h.req('GET', `${PODS}/dry`);
    t.equal(g.status, 404, 'dry run stored nothing');
  });

  t.test('label and field selectors, pagination', async (t) => {
    await h.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sel' } });
    const P = '/api/v1/namespaces/sel/pods';
    for (let i = 0; i < 7; i++) {
      const r = await h.req('POST', P, pod(`s${i}`, { app: i % 2 ? 'odd' : 'even', idx: String(i) }));
      t.equal(r.status, 201, r.text);
    }
    const odd = await h.req('GET', `${P}?labelSelector=app%3Dodd`);
    t.same(odd.body.items.map((p: any) => p.metadata.name), ['s1', 's3', 's5']);
    const notIn = await h.req('GET', `${P}?labelSelector=${encodeURIComponent('idx notin (0,1,2),app!=odd')}`);
    t.same(notIn.body.items.map((p: any) => p.metadata.name), ['s4', 's6']);
    const byName = await h.req('GET', `${P}?fieldSelector=metadata.name%3Ds2`);
    t.same(byName.body.items.map((p: any) => p.metadata.name), ['s2']);

    const names: string[] = [];
    let cont = '';
    let pages = 0;
    let rv = '';
    do {
      const r = await h.req('GET', `${P}?limit=3${cont ? `&continue=${cont}` : ''}`);
      t.equal(r.status, 200, r.text);
      if (!rv) rv = r.body.metadata.resourceVersion;
      t.equal(r.body.metadata.resourceVersion, rv, 'every page at the same revision');
      names.push(...r.body.items.map((p: any) => p.metadata.name));
      cont = r.body.metadata.continue ?? '';
      pages++;
      if (pages === 1) await h.req('POST', P, pod('late')); // created after the first page: not in this list
    } while (cont && pages < 10);
    t.equal(pages, 3);
    t.same(names, ['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    const filtered = await h.req('GET', `${P}?limit=2&labelSelector=app%3Deven`);
    t.same(filtered.body.items.map((p: any) => p.metadata.name), ['s0', 's2']);
    t.ok(filtered.body.metadata.continue, 'more to come');
    const all = await h.req('GET', '/api/v1/pods');
    t.ok(all.body.items.length >= 8, 'cluster-wide list spans namespaces');
    const badCont = await h.req('GET', `${P}?continue=garbage`);
    t.equal(badCont.status, 400);
  });

  t.test('status subresource, scale subresource, binding', async (t) => {
    const c = await h.req('POST', PODS, pod('st'));
    const withStatus = structuredClone(c.body);
    withStatus.status = { phase: 'Running', podIP: '10.244.0.9' };
    withStatus.spec.containers[0].image = 'ignored:1';
    const s = await h.req('PUT', `${PODS}/st/status`, withStatus);
    t.equal(s.status, 200, s.text);
    t.equal(s.body.status.phase, 'Running');
    t.equal(s.body.spec.containers[0].image, 'shoal/hello:1', 'status update ignores spec');
    const mainUpd = structuredClone(s.body);
    mainUpd.status = { phase: 'Failed' };
    const u = await h.req('PUT', `${PODS}/st`, mainUpd);
    t.equal(u.body.status.phase, 'Running', 'main update ignores status');

    const b = await h.req('POST', `${PODS}/st/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'st' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } });
    t.equal(b.status, 201, b.text);
    const bound = await h.req('GET', `${PODS}/st`);
    t.equal(bound.body.spec.nodeName, 'node-1');
    const again = await h.req('POST', `${PODS}/st/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'st' }, target: { name: 'node-2' } });
    t.equal(again.status, 409);

    const dep = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } },
    };
    const d = await h.req('POST', '/apis/apps/v1/namespaces/default/deployments', dep);
    t.equal(d.status, 201, d.text);
    t.equal(d.body.spec.replicas, 1);
    t.equal(d.body.spec.strategy.rollingUpdate.maxSurge, '25%');
    const sc = await h.req('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale');
    t.match(sc.body, { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 } });
    const put = await h.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { ...sc.body, spec: { replicas: 4 } });
    t.equal(put.status, 200, put.text);
    t.equal(put.body.spec.replicas, 4);
    const after = await h.req('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    t.equal(after.body.spec.replicas, 4);
    t.equal(after.body.metadata.generation, 2);
    const neg = await h.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { ...sc.body, metadata: {}, spec: { replicas: -1 } });
    t.equal(neg.status, 422);
    const immut = structuredClone(after.body);
    immut.spec.selector = { matchLabels: { app: 'other' } };
    immut.spec.template.metadata.labels = { app: 'other' };
    const im = await h.req('PUT', '/apis/apps/v1/namespaces/default/deployments/web', immut);
    t.equal(im.status, 422, 'selector is immutable');
    t.ok(im.body.details.causes.some((c: any) => c.field === 'spec.selector'), im.text);
  });

  t.test('finalizers, deletionTimestamp, graceful pod deletion, deletecollection', async (t) => {
    const c = await h.req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] }, data: { a: '1' } });
    t.equal(c.status, 201, c.text);
    const d = await h.req('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    t.equal(d.status, 200);
    t.ok(d.body.metadata.deletionTimestamp, 'marked for deletion');
    const still = await h.req('GET', '/api/v1/namespaces/default/configmaps/fin');
    t.equal(still.status, 200, 'still there while a finalizer remains');
    const rel = structuredClone(still.body);
    rel.metadata.finalizers = [];
    const r = await h.req('PUT', '/api/v1/namespaces/default/configmaps/fin', rel);
    t.equal(r.status, 200, r.text);
    const gone = await h.req('GET', '/api/v1/namespaces/default/configmaps/fin');
    t.equal(gone.status, 404, 'removed when the last finalizer goes');

    await h.req('POST', PODS, pod('gr'));
    await h.req('POST', `${PODS}/gr/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'gr' }, target: { name: 'node-1' } });
    const gd = await h.req('DELETE', `${PODS}/gr`);
    t.equal(gd.body.metadata.deletionGracePeriodSeconds, 30, 'bound pod gets its grace period');
    t.equal((await h.req('GET', `${PODS}/gr`)).status, 200, 'kept until the node confirms');
    const fd = await h.req('DELETE', `${PODS}/gr`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    t.equal(fd.status, 200);
    t.equal((await h.req('GET', `${PODS}/gr`)).status, 404, 'grace 0 removes it');

    const pre = await h.req('POST', PODS, pod('pre'));
    const bad = await h.req('DELETE', `${PODS}/pre`, { preconditions: { uid: 'not-the-uid' } });
    t.equal(bad.status, 409);
    const ok = await h.req('DELETE', `${PODS}/pre`, { preconditions: { uid: pre.body.metadata.uid } });
    t.equal(ok.status, 200);

    await h.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dc' } });
    for (const n of ['a', 'b', 'c']) await h.req('POST', '/api/v1/namespaces/dc/pods', pod(n, { tier: n === 'c' ? 'keep' : 'drop' }));
    const dc = await h.req('DELETE', '/api/v1/namespaces/dc/pods?labelSelector=tier%3Ddrop');
    t.equal(dc.status, 200, dc.text);
    t.same(dc.body.items.map((p: any) => p.metadata.name).sort(), ['a', 'b']);
    const left = await h.req('GET', '/api/v1/namespaces/dc/pods');
    t.same(left.body.items.map((p: any) => p.metadata.name), ['c']);

    const nsDel = await h.req('DELETE', '/api/v1/namespaces/dc');
    t.equal(nsDel.body.status.phase, 'Terminating');
    const blocked = await h.req('POST', '/api/v1/namespaces/dc/pods', pod('late'));
    t.equal(blocked.status, 403, 'no new content in a terminating namespace');
  });

  t.test('Table output as kubectl asks for it', async (t) => {
    const r = await h.req('GET', PODS, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    t.equal(r.status, 200);
    t.equal(r.body.kind, 'Table');
    t.same(r.body.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    const row = r.body.rows.find((x: any) => x.object.metadata.name === 'p1');
    t.equal(row.cells[0], 'p1');
    t.equal(row.cells[1], '0/1');
    t.equal(row.object.kind, 'PartialObjectMetadata');
    const svc = await h.req('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.50' } });
    t.equal(svc.status, 201, svc.text);
    t.equal(svc.body.spec.type, 'ClusterIP');
    t.equal(svc.body.spec.ports[0].protocol, 'TCP');
    const st = await h.req('GET', '/api/v1/namespaces/default/services/web', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    t.same(st.body.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age']);
    t.same(st.body.rows[0].cells.slice(0, 5), ['web', 'ClusterIP', '10.96.0.50', '<none>', '80/TCP']);
    const auto = await h.req('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'auto' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    t.equal(auto.status, 201, auto.text);
    t.match(auto.body.spec.clusterIP, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/, 'a ClusterIP is allocated from 10.96.0.0/12');
    t.same(auto.body.spec.clusterIPs, [auto.body.spec.clusterIP]);
    const clash = await h.req('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'clash' }, spec: { ports: [{ port: 80 }], clusterIP: '10.96.0.50' } });
    t.equal(clash.status, 422, 'an allocated IP cannot be taken twice');
    t.match(clash.body.message, /spec\.clusterIP: Invalid value: "10\.96\.0\.50": provided IP is already allocated/);
    const np = await h.req('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] } });
    t.equal(np.status, 201, np.text);
    t.ok(np.body.spec.ports[0].nodePort >= 30000 && np.body.spec.ports[0].nodePort <= 32767, 'a nodePort is allocated');
    const noIp = structuredClone(svc.body);
    delete noIp.spec.clusterIP;
    delete noIp.spec.clusterIPs;
    delete noIp.metadata.resourceVersion;
    noIp.metadata.labels = { tier: 'front' };
    const kept = await h.req('PUT', '/api/v1/namespaces/default/services/web', noIp);
    t.equal(kept.status, 200, kept.text);
    t.equal(kept.body.spec.clusterIP, '10.96.0.50', 'an update without clusterIP keeps the allocated one');
    const ip = structuredClone(kept.body);
    ip.spec.clusterIP = '10.96.0.51';
    ip.spec.clusterIPs = ['10.96.0.51'];
    const im = await h.req('PUT', '/api/v1/namespaces/default/services/web', ip);
    t.equal(im.status, 422, 'clusterIP is immutable');
  });

  t.test('metrics count requests by verb, resource and code', async (t) => {
    await h.req('GET', `${PODS}/p1`);
    const m = await h.req('GET', '/metrics');
    t.equal(m.status, 200);
    t.match(m.text, /apiserver_request_total\{verb="GET",group="",version="v1",resource="pods",subresource="",code="200"\} \d+/);
    t.match(m.text, /apiserver_request_total\{verb="POST",group="",version="v1",resource="pods",subresource="",code="422"\} \d+/);
    t.match(m.text, /apiserver_request_duration_seconds_bucket\{le="0.005",verb="LIST"/);
    const anon = await h.server.app.inject({ method: 'GET', url: '/metrics' });
    t.equal(anon.statusCode, 401, 'metrics need a token');
  });

  t.test('discovery', async (t) => {
    const api = await h.req('GET', '/api');
    t.same(api.body.versions, ['v1']);
    const apis = await h.req('GET', '/apis');
    const groups = apis.body.groups.map((g: any) => g.name);
    for (const g of ['apps', 'coordination.k8s.io', 'discovery.k8s.io', 'networking.k8s.io', 'networking.istio.io', 'security.istio.io', 'gateway.networking.k8s.io'])
      t.ok(groups.includes(g), `group ${g}`);
    const v1 = await h.req('GET', '/api/v1');
    const pods = v1.body.resources.find((r: any) => r.name === 'pods');
    t.match(pods, { kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] });
    t.ok(v1.body.resources.some((r: any) => r.name === 'pods/status'));
    const apps = await h.req('GET', '/apis/apps/v1');
    t.ok(apps.body.resources.some((r: any) => r.name === 'deployments/scale' && r.kind === 'Scale'));
    const ver = await h.req('GET', '/version');
    t.equal(ver.body.major, '1');
  });
}
