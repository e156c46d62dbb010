// RBAC end to end with the real kubectl against a real API server (HTTPS, the generated PKI): the default
// policy, denial texts, a ServiceAccount denied then allowed after a RoleBinding, `kubectl auth can-i`
// (and --list, whoami), impersonation, validation errors with field paths, escalation prevention, and
// ClusterRole aggregation.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureServiceAccountKey, serviceAccountToken } from '../../control-plane/controllers/serviceaccount/token.js';
import { reconcileDefaultPolicy } from '../../control-plane/apiserver/authz/reconcile.js';
import { registry } from '../../control-plane/apiserver/api-adapter.js';
import { tlsCluster, type TlsCluster } from './tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

/** Retries `fn` until it returns true (the authorizer sees a write once its watch event arrives). */
async function eventually(fn: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

t.test('RBAC with kubectl', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  let readerToken = '';
  t.before(async () => {
    c = await tlsCluster();
    const key = ensureServiceAccountKey(join(c.home, 'pki', 'sa.key'));
    readerToken = serviceAccountToken(key.privateKeyPem, { namespace: 'default', name: 'reader', uid: 'u-reader' });
  });
  t.teardown(async () => c?.close());
  const asReader = (args: string[], input?: string) => c.kubectl([...args, '--token', readerToken], input);

  t.test('the default policy is there', async (t) => {
    const r = await c.kubectl(['get', 'clusterroles', 'cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:kube-scheduler', 'system:node']);
    t.equal(r.code, 0, r.stderr);
    const b = await c.kubectl(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'jsonpath={.subjects[0].name}']);
    t.equal(b.stdout, 'system:masters');
    // admin/edit/view are filled by aggregation
    const view = await c.kubectl(['get', 'clusterrole', 'view', '-o', 'json']);
    const rules = JSON.parse(view.stdout).rules as any[];
    t.ok(rules.some((x) => x.resources.includes('deployments') && x.verbs.includes('list')), 'view lists deployments');
    t.notOk(rules.some((x) => x.resources.includes('secrets')), 'view does not read secrets');
    const edit = await c.kubectl(['get', 'clusterrole', 'edit', '-o', 'json']);
    t.ok((JSON.parse(edit.stdout).rules as any[]).some((x) => x.resources.includes('secrets') && x.verbs.includes('create')), 'edit writes secrets');
  });

  t.test('admin can do anything; others are denied with kube\'s text', async (t) => {
    const all = await c.kubectl(['auth', 'can-i', '*', '*']);
    t.equal(all.stdout.trim(), 'yes');
    const no = await c.kubectl(['auth', 'can-i', 'list', 'pods', '--as', 'jane']);
    t.equal(no.stdout.trim(), 'no');
    t.equal(no.code, 1);
    const get = await c.kubectl(['get', 'pods', '--as', 'jane']);
    t.not(get.code, 0);
    t.match(get.stderr, 'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
    const node = await c.kubectl(['get', 'node', 'n1', '--as', 'jane']);
    t.match(node.stderr, 'nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope');
    const dep = await c.kubectl(['delete', 'deployments', '--all', '-n', 'kube-system', '--as', 'jane']);
    t.match(dep.stderr, 'deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" in the namespace "kube-system"');
    const healthz = await c.kubectl(['get', '--raw', '/metrics', '--as', 'jane']);
    t.match(healthz.stderr, 'forbidden: User "jane" cannot get path "/metrics"');
    const discovery = await c.kubectl(['get', '--raw', '/version', '--as', 'jane']);
    t.equal(discovery.code, 0, 'discovery and /version are open to every authenticated user');
  });

  t.test('a ServiceAccount token: denied, then allowed after a RoleBinding', async (t) => {
    const before = await asReader(['get', 'pods']);
    t.match(before.stderr, 'pods is forbidden: User "system:serviceaccount:default:reader" cannot list resource "pods" in API group "" in the namespace "default"');
    const who = await asReader(['auth', 'whoami', '-o', 'json']);
    t.equal(who.code, 0, who.stderr);
    t.same(JSON.parse(who.stdout).status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    t.equal((await c.kubectl(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods'])).code, 0);
    const rb = await c.kubectl(['create', 'rolebinding', 'read-pods', '--role=pod-reader', '--serviceaccount=default:reader']);
    t.equal(rb.code, 0, rb.stderr);
    t.ok(await eventually(async () => (await asReader(['auth', 'can-i', 'list', 'pods'])).stdout.trim() === 'yes'), 'can-i says yes');
    const after = await asReader(['get', 'pods']);
    t.equal(after.code, 0, after.stderr);
    t.equal((await asReader(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'])).stdout.trim(), 'no', 'only in its namespace');
    t.equal((await asReader(['auth', 'can-i', 'delete', 'pods'])).stdout.trim(), 'no', 'only the verbs granted');
    const list = await asReader(['auth', 'can-i', '--list']);
    t.equal(list.code, 0, list.stderr);
    t.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    t.match(list.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    // as admin, for someone else (SubjectAccessReview through can-i --as)
    t.equal((await c.kubectl(['auth', 'can-i', 'watch', 'pods', '--as', 'system:serviceaccount:default:reader'])).stdout.trim(), 'yes');
    // removing the binding takes the right away
    t.equal((await c.kubectl(['delete', 'rolebinding', 'read-pods'])).code, 0);
    t.ok(await eventually(async () => (await asReader(['auth', 'can-i', 'list', 'pods'])).stdout.trim() === 'no'), 'revoked');
  });

  t.test('impersonation', async (t) => {
    const as = await c.kubectl(['auth', 'whoami', '--as', 'jane', '--as-group', 'dev', '-o', 'json']);
    t.equal(as.code, 0, as.stderr);
    t.same(JSON.parse(as.stdout).status.userInfo, { username: 'jane', groups: ['dev', 'system:authenticated'] });
    // a group binding applies to the impersonated group
    t.equal((await c.kubectl(['create', 'clusterrolebinding', 'dev-view', '--clusterrole=view', '--group=dev'])).code, 0);
    t.ok(await eventually(async () => (await c.kubectl(['auth', 'can-i', 'list', 'deployments', '--as', 'jane', '--as-group', 'dev'])).stdout.trim() === 'yes'));
    t.equal((await c.kubectl(['auth', 'can-i', 'list', 'deployments', '--as', 'jane'])).stdout.trim(), 'no', 'not without the group');
    // impersonating needs the impersonate verb
    const denied = await asReader(['get', 'pods', '--as', 'jane']);
    t.match(denied.stderr, 'users "jane" is forbidden: User "system:serviceaccount:default:reader" cannot impersonate resource "users" in API group "" at the cluster scope');
    t.equal((await c.kubectl(['create', 'clusterrole', 'impersonator', '--verb=impersonate', '--resource=users,groups'])).code, 0);
    t.equal((await c.kubectl(['create', 'clusterrolebinding', 'reader-impersonates', '--clusterrole=impersonator', '--serviceaccount=default:reader'])).code, 0);
    t.ok(await eventually(async () => (await asReader(['auth', 'can-i', 'list', 'deployments', '--as', 'jane', '--as-group', 'dev'])).stdout.trim() === 'yes'), 'reader acts as jane in dev');
  });

  t.test('validation: kube\'s errors with field paths', async (t) => {
    const noVerbs = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad}
rules:
- apiGroups: [""]
  resources: [pods]
- nonResourceURLs: ["/healthz"]
  verbs: [get]
`;
    const r = await c.kubectl(['create', '-f', '-'], noVerbs);
    t.match(r.stderr, 'The Role "bad" is invalid: ');
    t.match(r.stderr, 'rules[0].verbs: Required value: verbs must contain at least one value');
    t.match(r.stderr, 'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs');
    const mixed = await c.kubectl(['create', '-f', '-'], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mixed}
rules:
- {apiGroups: [""], resources: [pods], nonResourceURLs: ["/x"], verbs: [get]}
- {verbs: [get]}
`);
    t.match(mixed.stderr, 'rules[0].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and non-resource URLs');
    t.match(mixed.stderr, 'rules[1].apiGroups: Required value: resource rules must supply at least one api group');
    t.match(mixed.stderr, 'rules[1].resources: Required value: resource rules must supply at least one resource');
    const badRef = await c.kubectl(['create', '-f', '-'], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bad-ref}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}
subjects:
- {kind: ServiceAccount, name: default}
- {kind: Robot, name: r2}
`);
    t.match(badRef.stderr, 'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
    t.match(badRef.stderr, 'subjects[0].namespace: Required value');
    t.match(badRef.stderr, 'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"');
    // roleRef is immutable
    t.equal((await c.kubectl(['create', 'rolebinding', 'rb1', '--clusterrole=view', '--user=bob'])).code, 0);
    const change = await c.kubectl(['patch', 'rolebinding', 'rb1', '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
    t.equal(change.stderr.trim(), 'The RoleBinding "rb1" is invalid: roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: cannot change roleRef');
    // custom verbs are legal on the server, as in Kubernetes (kubectl create clusterrole checks them client-side)
    const custom = await c.kubectl(['apply', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: custom}\nrules:\n- {apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use, frobnicate]}\n');
    t.equal(custom.code, 0, custom.stderr);
    t.equal((await c.kubectl(['get', 'rolebinding', 'rb1', '-o', 'jsonpath={.roleRef.name}'])).stdout, 'view', 'nothing half-applied');
  });

  t.test('escalation is refused', async (t) => {
    // ops-admin holds `admin` in namespace team (it may manage roles there)
    t.equal((await c.kubectl(['create', 'namespace', 'team'])).code, 0);
    t.equal((await c.kubectl(['create', 'rolebinding', 'ops', '-n', 'team', '--clusterrole=admin', '--user=ops'])).code, 0);
    t.ok(await eventually(async () => (await c.kubectl(['auth', 'can-i', 'create', 'roles', '-n', 'team', '--as', 'ops'])).stdout.trim() === 'yes'));
    const ok = await c.kubectl(['create', 'role', 'r-pods', '-n', 'team', '--verb=get', '--resource=pods', '--as', 'ops']);
    t.equal(ok.code, 0, ok.stderr);
    const esc = await c.kubectl(['create', 'role', 'r-nodes', '-n', 'team', '--verb=get', '--resource=nodes', '--as', 'ops']);
    t.match(esc.stderr, 'roles.rbac.authorization.k8s.io "r-nodes" is forbidden: user "ops" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
    const bind = await c.kubectl(['create', 'rolebinding', 'to-admin', '-n', 'team', '--clusterrole=cluster-admin', '--user=ops', '--as', 'ops']);
    t.match(bind.stderr, 'rolebindings.rbac.authorization.k8s.io "to-admin" is forbidden: user "ops"');
    t.match(bind.stderr, '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    const bindOwn = await c.kubectl(['create', 'rolebinding', 'to-view', '-n', 'team', '--clusterrole=view', '--user=dana', '--as', 'ops']);
    t.equal(bindOwn.code, 0, `binding a role one holds is fine: ${bindOwn.stderr}`);
  });

  t.test('aggregation fills a ClusterRole from labelled ones', async (t) => {
    const cr = await c.kubectl(['apply', '-f', '-'], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- {apiGroups: [example.com], resources: [widgets], verbs: [get, list]}
`);
    t.equal(cr.code, 0, cr.stderr);
    const has = async (role: string) => JSON.parse((await c.kubectl(['get', 'clusterrole', role, '-o', 'json'])).stdout).rules.some((r: any) => r.resources.includes('widgets'));
    t.ok(await eventually(() => has('view')), 'view aggregates it');
    t.ok(await eventually(() => has('admin')), 'admin too (through edit and view labels)');
    t.equal((await c.kubectl(['delete', 'clusterrole', 'widgets-view'])).code, 0);
    t.ok(await eventually(async () => !(await has('view'))), 'and drops it when it goes');
  });

  t.test('reconciling the default policy keeps edits, respects autoupdate=false', async (t) => {
    const rt = registry.get('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
    const cur: any = await c.server.objects.get(rt, '', 'system:basic-user');
    const extra = { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] };
    await c.server.writer.update(rt, '', 'system:basic-user', '', { ...cur, rules: [cur.rules[0], extra] }, { user: { username: 'admin', uid: '', groups: ['system:masters'] }, dryRun: false, fieldManager: 't', now: new Date() });
    await reconcileDefaultPolicy(c.server.objects, c.server.writer);
    const after: any = await c.server.objects.get(rt, '', 'system:basic-user');
    t.equal(after.rules.length, 3, 'the removed rule is back, the added one kept');
    await c.server.writer.update(rt, '', 'system:basic-user', '', { ...after, metadata: { ...after.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } }, rules: [extra] }, { user: { username: 'admin', uid: '', groups: ['system:masters'] }, dryRun: false, fieldManager: 't', now: new Date() });
    await reconcileDefaultPolicy(c.server.objects, c.server.writer);
    t.same(((await c.server.objects.get(rt, '', 'system:basic-user')) as any).rules, [extra], 'left alone');
  });
});
