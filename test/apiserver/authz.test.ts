// The RBAC building blocks, table-driven and without sockets: rule matching, subjects, kube's forbidden
// texts, request attributes, escalation coverage, impersonation and the reviews' validation.
import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { authorize, forbiddenMessage, ruleAllows, rulesFor, type Attributes, type PolicyRule, type RbacSource } from '../../control-plane/apiserver/authz/rbac.js';
import { requestAttributes } from '../../control-plane/apiserver/authz/attributes.js';
import { notCovered } from '../../control-plane/apiserver/authz/escalation.js';
import { impersonate } from '../../control-plane/apiserver/authz/impersonation.js';
import { review } from '../../control-plane/apiserver/authz/reviews.js';

const jane = { username: 'jane', uid: '', groups: ['dev', 'system:authenticated'] };
const res = (verb: string, resource: string, o: Partial<Attributes> = {}): Attributes => ({ user: jane, verb, isResourceRequest: true, apiGroup: '', resource, namespace: 'default', ...o });

t.test('ruleAllows', async (t) => {
  const rows: [string, PolicyRule, Attributes, boolean][] = [
    ['exact', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', 'pods'), true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('list', 'pods'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, res('deletecollection', 'pods'), true],
    ['other group', { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, res('get', 'pods'), false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, res('get', 'deployments', { apiGroup: 'apps' }), true],
    ['subresource needs its own name', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', 'pods', { subresource: 'log' }), false],
    ['pods/log', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', 'pods', { subresource: 'log' }), true],
    ['*/scale', { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] }, res('update', 'deployments', { apiGroup: 'apps', subresource: 'scale' }), true],
    ['resource * covers subresources', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, res('get', 'pods', { subresource: 'status' }), true],
    ['resourceNames match', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', 'configmaps', { name: 'a' }), true],
    ['resourceNames miss', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', 'configmaps', { name: 'b' }), false],
    ['resourceNames never match a list', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('list', 'configmaps'), false],
    ['url exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { user: jane, verb: 'get', isResourceRequest: false, path: '/healthz' }, true],
    ['url prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { user: jane, verb: 'get', isResourceRequest: false, path: '/apis/apps/v1' }, true],
    ['url other', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { user: jane, verb: 'get', isResourceRequest: false, path: '/metrics' }, false],
    ['url rule never matches a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, res('get', 'pods'), false],
  ];
  for (const [name, rule, a, want] of rows) t.equal(ruleAllows(a, rule), want, name);
});

/** An in-memory RbacSource. */
function source(objs: any[]): RbacSource {
  const of = (kind: string) => objs.filter((o) => o.kind === kind) as KubeObject[];
  return {
    clusterRole: (n) => of('ClusterRole').find((o) => o.metadata.name === n),
    role: (ns, n) => of('Role').find((o) => o.metadata.name === n && o.metadata.namespace === ns),
    clusterRoleBindings: () => of('ClusterRoleBinding'),
    roleBindings: (ns) => of('RoleBinding').filter((o) => o.metadata.namespace === ns),
  };
}

t.test('authorize: bindings, subjects, reasons', async (t) => {
  const src = source([
    { kind: 'ClusterRole', metadata: { name: 'view' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] },
    { kind: 'Role', metadata: { name: 'cm', namespace: 'team' }, rules: [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }] },
    { kind: 'ClusterRoleBinding', metadata: { name: 'dev-view' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'dev' }] },
    { kind: 'RoleBinding', metadata: { name: 'sa-cm', namespace: 'team' }, roleRef: { kind: 'Role', name: 'cm' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
    { kind: 'RoleBinding', metadata: { name: 'dangling', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'gone' }, subjects: [{ kind: 'User', name: 'jane' }] },
  ]);
  t.same(authorize(src, res('list', 'pods')), { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "dev-view" of ClusterRole "view" to Group "dev"' });
  const bot = { username: 'system:serviceaccount:team:bot', uid: '', groups: [] };
  t.ok(authorize(src, { ...res('create', 'configmaps'), user: bot, namespace: 'team' }).allowed, 'ServiceAccount subject, namespace from the binding');
  t.notOk(authorize(src, { ...res('create', 'configmaps'), user: bot, namespace: 'other' }).allowed, 'only in its namespace');
  t.same(authorize(src, res('delete', 'pods', { namespace: 'team' })), { allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  t.ok(authorize(src, { ...res('delete', 'nodes'), user: { username: 'root', uid: '', groups: ['system:masters'] } }).allowed, 'system:masters');
  t.same(rulesFor(src, jane, 'team').rules.length, 1, 'rules of the group binding');
});

t.test('forbiddenMessage', async (t) => {
  const rows: [Attributes, string][] = [
    [res('list', 'pods'), 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"'],
    [res('get', 'nodes', { namespace: '', name: 'n1' }), 'nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope'],
    [res('get', 'deployments', { apiGroup: 'apps', subresource: 'scale', name: 'web' }), 'deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments/scale" in API group "apps" in the namespace "default"'],
    [{ user: jane, verb: 'get', isResourceRequest: false, path: '/metrics' }, 'forbidden: User "jane" cannot get path "/metrics"'],
  ];
  for (const [a, want] of rows) t.equal(forbiddenMessage(a), want);
});

t.test('requestAttributes', async (t) => {
  const rows: [string, string, Record<string, unknown>, Partial<Attributes>][] = [
    ['GET', '/api/v1/namespaces/default/pods', {}, { verb: 'list', resource: 'pods', namespace: 'default', isResourceRequest: true }],
    ['GET', '/api/v1/namespaces/default/pods', { watch: 'true' }, { verb: 'watch' }],
    ['GET', '/api/v1/pods', { fieldSelector: 'spec.nodeName=n1,metadata.name=web' }, { verb: 'list', name: 'web', namespace: '' }],
    ['DELETE', '/apis/apps/v1/namespaces/x/deployments', {}, { verb: 'deletecollection', apiGroup: 'apps' }],
    ['GET', '/api/v1/namespaces/default/pods/web/exec', { command: 'sh' }, { verb: 'create', subresource: 'exec', name: 'web' }],
    ['GET', '/api/v1/namespaces/team', {}, { verb: 'get', resource: 'namespaces', name: 'team', namespace: 'team' }],
    ['HEAD', '/healthz', {}, { verb: 'get', isResourceRequest: false, path: '/healthz' }],
    ['GET', '/apis/apps/v1', {}, { verb: 'get', isResourceRequest: false, path: '/apis/apps/v1' }],
    ['POST', '/metrics', {}, { verb: 'post', isResourceRequest: false }],
  ];
  for (const [method, url, query, want] of rows) t.match(requestAttributes(jane, method, url, query), want, `${method} ${url}`);
});

t.test('escalation coverage', async (t) => {
  const src = source([
    { kind: 'ClusterRole', metadata: { name: 'some' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] }, { verbs: ['get'], nonResourceURLs: ['/logs/*'] }] },
    { kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { kind: 'ClusterRole', name: 'some' }, subjects: [{ kind: 'User', name: 'jane' }] },
  ]);
  const miss = (rules: PolicyRule[]) => notCovered(src, jane, 'default', rules).missing;
  t.same(miss([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), []);
  t.same(miss([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }]), [], 'a narrower rule is covered');
  t.same(miss([{ verbs: ['get'], apiGroups: [''], resources: ['nodes/status'] }]), [], '*/status covers any status in its groups');
  t.same(miss([{ verbs: ['get'], nonResourceURLs: ['/logs/kube.log'] }]), []);
  t.same(miss([{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }]), [{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]);
  t.same(miss([{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }]), [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }], 'a requested * needs an owned *');
});

t.test('impersonate', async (t) => {
  const allowAll = () => ({ allowed: true, reason: '' });
  t.same(impersonate(jane, { 'impersonate-user': 'bob', 'impersonate-group': ['a', 'b'] }, allowAll), { username: 'bob', uid: '', groups: ['a', 'b', 'system:authenticated'] });
  t.same(impersonate(jane, { 'impersonate-user': 'system:serviceaccount:ns:sa' }, allowAll).groups, ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated']);
  const asked: Attributes[] = [];
  t.throws(() => impersonate(jane, { 'impersonate-user': 'bob', 'impersonate-group': 'g' }, (a) => {
    asked.push(a);
    return { allowed: a.resource === 'users', reason: '' };
  }), { message: 'groups "g" is forbidden: User "jane" cannot impersonate resource "groups" in API group "" at the cluster scope' });
  t.same(asked.map((a) => `${a.resource}/${a.name}`), ['users/bob', 'groups/g']);
  t.throws(() => impersonate(jane, { 'impersonate-group': 'g' }, allowAll), /without impersonating a user/);
});

t.test('reviews', async (t) => {
  const src = source([]);
  const deny = () => ({ allowed: false, reason: '' });
  t.throws(() => review({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } } as any, jane, '', deny, src),
    { message: 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": `spec.user` or `spec.groups` is required' });
  t.throws(() => review({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: {} } as any, jane, '', deny, src), /exactly one of nonResourceAttributes or resourceAttributes must be specified/);
  t.throws(() => review({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: 'a' }, spec: { user: 'x', resourceAttributes: { namespace: 'b', verb: 'get', resource: 'pods' } } } as any, jane, 'a', deny, src), /spec.resourceAttributes.namespace: Invalid value: "b": must match metadata.namespace/);
  const ok: any = review({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } } as any, jane, '', deny, src);
  t.same(ok.status, { allowed: false });
});
