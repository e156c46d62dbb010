// Server-side apply and Update tracking: ownership, pruning, conflicts, force, the FieldsV1
// encoding against kubectl-produced examples, and the client-side -> server-side path.
import t from 'tap';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { serverSideApply, trackUpdate } from '../../control-plane/apiserver/patch/index.js';

/** Run `fn` and return the ApiError it throws, or a string saying what happened instead. */
function apiErrorOf(fn: () => unknown): ApiError | string {
  try {
    fn();
    return 'did not throw';
  } catch (e) {
    return e instanceof ApiError ? e : `threw a non-ApiError: ${String(e)}`;
  }
}


const T0 = new Date('2024-05-01T10:00:00.123Z');
const T1 = new Date('2024-05-01T11:00:00Z');
const T2 = new Date('2024-05-01T12:00:00Z');

/** The Deployment of the Kubernetes docs' server-side apply example. */
function nginx(over: { replicas?: number; image?: string; labels?: Record<string, string> | null } = {}): KubeObject {
  const d: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
    spec: {
      replicas: over.replicas ?? 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image: over.image ?? 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
  if (over.labels === null) delete d.metadata.labels;
  else if (over.labels) d.metadata.labels = over.labels;
  return d;
}

// `kubectl apply --server-side -f nginx.yaml` on a v1.30 cluster, metadata.managedFields[0] (JSON, key order as served).
const KUBECTL_APPLY_FIELDS =
  '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},' +
  '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}';

const apply = (live: KubeObject | undefined, applied: unknown, manager: string, now = T1, force = false) => serverSideApply({ live, applied, manager, force, now });

t.test('apply creates: object is the configuration, FieldsV1 matches kubectl byte for byte', async (t) => {
  const cfg = nginx();
  const { object, changed, conflicts } = apply(undefined, cfg, 'kubectl', T0);
  t.equal(changed, true);
  t.same(conflicts, []);
  const mf = object.metadata.managedFields!;
  t.equal(mf.length, 1);
  t.same({ ...mf[0], fieldsV1: undefined }, { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: undefined });
  t.equal(JSON.stringify(mf[0]!.fieldsV1), KUBECTL_APPLY_FIELDS);
  const { managedFields: _mf, ...meta } = object.metadata;
  t.same({ ...object, metadata: meta }, cfg);
  t.same(cfg, nginx(), 'applied config not mutated');
});

t.test('re-apply unchanged is a no-op (same object, same time)', async (t) => {
  const live = apply(undefined, nginx(), 'kubectl', T0).object;
  const again = apply(live, nginx(), 'kubectl', T2);
  t.equal(again.changed, false);
  t.same(again.object, live);
});

t.test('re-apply without a field removes it from the object and from managedFields', async (t) => {
  const live = apply(undefined, nginx(), 'kubectl', T0).object;
  const cfg = nginx({ labels: null });
  delete cfg.spec.replicas;
  const { object, changed } = apply(live, cfg, 'kubectl', T1);
  t.equal(changed, true);
  t.equal(object.metadata.labels, undefined, 'emptied labels map removed');
  t.equal(object.spec.replicas, undefined);
  const f = object.metadata.managedFields![0]!.fieldsV1 as any;
  t.equal(f['f:metadata'], undefined);
  t.equal(f['f:spec']['f:replicas'], undefined);
  t.equal(object.metadata.managedFields![0]!.time, '2024-05-01T11:00:00Z');
});

t.test('two managers own different fields; shared fields survive one giving them up', async (t) => {
  let live = apply(undefined, nginx(), 'alice', T0).object;
  const bob = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment', labels: { team: 'b' } }, spec: { replicas: 3 } };
  live = apply(live, bob, 'bob', T1).object;
  t.same(live.metadata.labels, { app: 'nginx', team: 'b' });
  t.same(live.metadata.managedFields!.map((m) => m.manager), ['alice', 'bob']);
  t.same((live.metadata.managedFields![1]!.fieldsV1 as any)['f:spec'], { 'f:replicas': {} }, 'same value: shared, no conflict');
  // alice drops replicas and the app label: replicas stays (bob owns it), the label goes
  const cfg = nginx({ labels: null });
  delete cfg.spec.replicas;
  live = apply(live, cfg, 'alice', T2).object;
  t.equal(live.spec.replicas, 3);
  t.same(live.metadata.labels, { team: 'b' });
  // bob drops his label: only his field goes
  live = apply(live, { ...bob, metadata: { name: 'nginx-deployment' } }, 'bob', T2).object;
  t.equal(live.metadata.labels, undefined);
  t.equal(live.spec.template.spec.containers[0].image, 'nginx:1.14.2');
});

t.test('conflict: 409 with one cause per field, unless force takes ownership', async (t) => {
  const live = apply(undefined, nginx(), 'alice', T0).object;
  const bob = nginx({ replicas: 5, image: 'nginx:1.25' });
  const e = apiErrorOf(() => apply(live, bob, 'bob'));
  t.match(e, {
    code: 409,
    reason: 'Conflict',
    message: 'Apply failed with 2 conflicts: conflict with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    causes: [
      { reason: 'FieldManagerConflict', message: 'conflict with "alice": .spec.replicas', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "alice": .spec.template.spec.containers[name="nginx"].image', field: '.spec.template.spec.containers[name="nginx"].image' },
    ],
  });
  t.equal(typeof e === 'string' ? e : e.message, 'Apply failed with 2 conflicts: conflict with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image');
  const one = apiErrorOf(() => apply(live, nginx({ replicas: 5 }), 'bob'));
  t.match(one, { code: 409, message: 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas' });

  const forced = apply(live, bob, 'bob', T1, true);
  t.equal(forced.object.spec.replicas, 5);
  t.same(forced.conflicts.map((c) => c.path), ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  const alice = forced.object.metadata.managedFields!.find((m) => m.manager === 'alice')!.fieldsV1 as any;
  t.equal(alice['f:spec']['f:replicas'], undefined, 'alice lost replicas');
  t.equal(alice['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['f:image'], undefined, 'alice lost image');
  t.same(alice['f:spec']['f:selector'], {}, 'alice keeps the rest');
});

t.test('Update manager then Apply manager', async (t) => {
  // kubectl create (client-side): an Update by kubectl-client-side-apply
  const created = trackUpdate({ old: undefined, updated: nginx(), manager: 'kubectl-client-side-apply', now: T0 });
  const up = created.metadata.managedFields![0]!;
  t.match(up, { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1' });
  // as kube-apiserver records a create: no "." on spec/template (Go zero structs), "." on new maps and items
  t.equal(
    JSON.stringify(up.fieldsV1),
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},' +
      '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{".":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}',
  );
  // another applier changing replicas conflicts with the updater, named with its apiVersion
  t.match(apiErrorOf(() => apply(created, nginx({ replicas: 2 }), 'ci')), { code: 409, causes: [{ message: 'conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas' }] });
  // a controller's Update takes replicas from an applier silently
  const applied = apply(undefined, nginx(), 'kubectl', T0).object;
  const scaled = trackUpdate({ old: applied, updated: { ...applied, spec: { ...applied.spec, replicas: 7 } }, manager: 'kube-controller-manager', now: T1 });
  const byName = Object.fromEntries(scaled.metadata.managedFields!.map((m) => [m.manager, m]));
  t.equal((byName.kubectl!.fieldsV1 as any)['f:spec']['f:replicas'], undefined);
  t.same(byName['kube-controller-manager']!.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  t.same(scaled.metadata.managedFields!.map((m) => m.operation), ['Apply', 'Update'], 'Apply entries sort first');
  // and the applier now conflicts when it sets replicas back
  t.match(apiErrorOf(() => apply(scaled, nginx(), 'kubectl')), { causes: [{ message: 'conflict with "kube-controller-manager" using apps/v1: .spec.replicas' }] });
});

t.test('kubectl moving from client-side to server-side apply takes over fields matching last-applied', async (t) => {
  const withAnn = nginx();
  withAnn.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(nginx()) };
  const live = trackUpdate({ old: undefined, updated: withAnn, manager: 'kubectl-client-side-apply', now: T0 });
  const cfg = nginx({ image: 'nginx:1.25' });
  const res = apply(live, cfg, 'kubectl', T1);
  t.equal(res.object.spec.template.spec.containers[0].image, 'nginx:1.25');
  t.same(JSON.parse(res.object.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!), cfg, 'annotation kept in step');
  // another manager name gets the conflict
  t.match(apiErrorOf(() => apply(live, cfg, 'other')), { code: 409 });
});

t.test('an object without managedFields is owned by before-first-apply', async (t) => {
  const live = nginx();
  t.match(apiErrorOf(() => apply(live, nginx({ replicas: 1 }), 'kubectl')), { causes: [{ message: 'conflict with "before-first-apply" using apps/v1: .spec.replicas' }] });
});

t.test('status and managedFields in the applied config are ignored', async (t) => {
  const cfg: any = nginx();
  cfg.status = { replicas: 99 };
  cfg.metadata.managedFields = [{ manager: 'evil', operation: 'Apply', fieldsV1: { 'f:spec': {} } }];
  const { object } = apply(undefined, cfg, 'kubectl', T0);
  t.equal(object.status, undefined);
  t.same(object.metadata.managedFields!.map((m) => m.manager), ['kubectl']);
});

t.test('sets encode as v: and Update on the status subresource owns only status', async (t) => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['a/b'] }, data: { k: 'v' } };
  const { object } = apply(undefined, cm, 'm', T0);
  t.same(object.metadata.managedFields![0]!.fieldsV1, { 'f:data': { 'f:k': {} }, 'f:metadata': { 'f:finalizers': { 'v:"a/b"': {} } } });
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } };
  const withStatus = { ...pod, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  const st = trackUpdate({ old: pod, updated: withStatus, manager: 'kubelet', subresource: 'status', now: T1 });
  t.match(st.metadata.managedFields![0], { manager: 'kubelet', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {}, 'f:conditions': { '.': {}, 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } } });
  t.equal(withStatus.metadata.managedFields, undefined, 'input not mutated');
});

t.test('managedFields written by the client replace the stored ones; [{}] clears them', async (t) => {
  const live = apply(undefined, nginx(), 'kubectl', T0).object;
  const cleared = trackUpdate({ old: live, updated: { ...live, metadata: { ...live.metadata, managedFields: [{}] } }, manager: 'kubectl-patch', now: T1 });
  t.equal(cleared.metadata.managedFields, undefined);
  const moved = trackUpdate({ old: live, updated: { ...live, metadata: { ...live.metadata, managedFields: [{ ...live.metadata.managedFields![0], manager: 'renamed' }] } }, manager: 'x', now: T1 });
  t.same(moved.metadata.managedFields!.map((m) => m.manager), ['renamed']);
  const kept = trackUpdate({ old: live, updated: { ...live, metadata: { ...live.metadata, managedFields: undefined } }, manager: 'x', now: T1 });
  t.same(kept.metadata.managedFields, live.metadata.managedFields, 'a client unaware of managedFields keeps them');
});

t.test('bad apply requests are 400 naming the field', async (t) => {
  const rows: [string, unknown, string, RegExp][] = [
    ['no fieldManager', nginx(), '', /fieldManager is required/],
    ['not an object', [1], 'm', /must be an object/],
    ['no kind', { apiVersion: 'v1', metadata: { name: 'x' } }, 'm', /kind: Required value/],
    ['map-list item without its key', { ...nginx(), spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, 'm', /\.spec\.template\.spec\.containers: element 0: associative list with keys has an element that omits key field "name"/],
  ];
  for (const [name, body, manager, message] of rows) t.match(apiErrorOf(() => apply(undefined, body, manager)), { code: 400, message }, name);
  const live = apply(undefined, nginx(), 'kubectl', T0).object;
  t.match(apiErrorOf(() => apply(live, { ...nginx(), metadata: { name: 'other' } }, 'kubectl')), { code: 400, causes: [{ field: 'metadata.name' }] });
});
