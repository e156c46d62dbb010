// The RBAC authorizer, as kubernetes' plugin/pkg/auth/authorizer/rbac: the rules a user holds are those of
// every ClusterRoleBinding naming the user (or one of their groups, or their ServiceAccount) and, for a
// namespaced request, every RoleBinding in that namespace naming them; a request is allowed when one rule
// matches its verb, API group, resource (`pods`, `pods/log`, `*`, `*/scale`) and name, or its non-resource
// path (`/healthz`, `/apis/*`). Nothing matches → no opinion (denied). Pure: the objects come from an
// `RbacSource` (authz/cache.ts keeps one from the store).

import type { KubeObject } from '../../../api/meta.js';
import { ApiError } from '../../../api/errors.js';
import type { UserInfo } from '../admission/chain.js';

/** What is being asked, as authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** non-resource requests */
  path?: string;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** A PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** The RBAC objects the authorizer reads. */
export interface RbacSource {
  clusterRole(name: string): KubeObject | undefined;
  role(namespace: string, name: string): KubeObject | undefined;
  clusterRoleBindings(): Iterable<KubeObject>;
  roleBindings(namespace: string): Iterable<KubeObject>;
}

/** A decision: allowed, with kube's reason text (`RBAC: allowed by ...`), or not with the errors met. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

/** The group that is always allowed (the admin kubeconfig's user, the API server itself). */
export const SYSTEM_MASTERS = 'system:masters';

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** VerbMatches, APIGroupMatches, ResourceMatches (`*`, `pods/log`, `*` + `/scale`), ResourceNameMatches. */
export function ruleAllows(a: Attributes, r: PolicyRule): boolean {
  if (!has(r.verbs, a.verb)) return false;
  if (!a.isResourceRequest) return nonResourceMatches(r, a.path ?? '');
  if (!has(r.apiGroups, a.apiGroup ?? '')) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  const resources = r.resources ?? [];
  const resOk = resources.some((x) => x === '*' || x === combined || (!!a.subresource && x === `*/${a.subresource}`));
  if (!resOk) return false;
  if (!r.resourceNames?.length) return true;
  return !!a.name && r.resourceNames.includes(a.name);
}

function nonResourceMatches(r: PolicyRule, path: string): boolean {
  return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

/** appliesToUser: a subject names this user, one of its groups, or its ServiceAccount. */
export function subjectMatches(user: UserInfo, s: any, bindingNamespace: string): boolean {
  if (s.kind === 'User') return s.name === user.username;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
  return false;
}

const describeSubject = (s: any, ns: string) =>
  s.kind === 'ServiceAccount' ? `ServiceAccount "${s.name}/${s.namespace || ns}"` : `${s.kind} "${s.name}"`;

/** One binding that applies, with the rules of its role (or the error of a missing role). */
interface Visit { source: string; rules: PolicyRule[]; error?: string }

/** Every binding that applies to `user` in `namespace` ('' = cluster bindings only), in kube's order. */
function* visit(src: RbacSource, user: UserInfo, namespace: string): Generator<Visit> {
  for (const b of src.clusterRoleBindings()) {
    const subj = ((b as any).subjects ?? []).find((s: any) => subjectMatches(user, s, ''));
    if (!subj) continue;
    const name = (b as any).roleRef?.name;
    const role = src.clusterRole(name);
    const source = `ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${name}" to ${describeSubject(subj, '')}`;
    yield role ? { source, rules: (role as any).rules ?? [] } : { source, rules: [], error: `clusterrole.rbac.authorization.k8s.io "${name}" not found` };
  }
  if (!namespace) return;
  for (const b of src.roleBindings(namespace)) {
    const subj = ((b as any).subjects ?? []).find((s: any) => subjectMatches(user, s, namespace));
    if (!subj) continue;
    const ref = (b as any).roleRef ?? {};
    const role = ref.kind === 'ClusterRole' ? src.clusterRole(ref.name) : src.role(namespace, ref.name);
    const source = `RoleBinding "${b.metadata.name}/${namespace}" of ${ref.kind} "${ref.name}" to ${describeSubject(subj, namespace)}`;
    const what = ref.kind === 'ClusterRole' ? `clusterrole.rbac.authorization.k8s.io "${ref.name}"` : `role.rbac.authorization.k8s.io "${ref.name}"`;
    yield role ? { source, rules: (role as any).rules ?? [] } : { source, rules: [], error: `${what} not found` };
  }
}

/** The RBAC decision for `a`. system:masters is allowed before any rule is read. */
export function authorize(src: RbacSource, a: Attributes): Decision {
  if (a.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
  const errs: string[] = [];
  for (const v of visit(src, a.user, a.isResourceRequest ? a.namespace ?? '' : '')) {
    if (v.error) errs.push(v.error);
    if (v.rules.some((r) => ruleAllows(a, r))) return { allowed: true, reason: `RBAC: allowed by ${v.source}` };
  }
  return { allowed: false, reason: errs.length ? `RBAC: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}` : '' };
}

/** Every rule `user` holds in `namespace` (cluster-wide rules included), as RulesFor; plus the errors met. */
export function rulesFor(src: RbacSource, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errs: string[] = [];
  for (const v of visit(src, user, namespace)) {
    if (v.error) errs.push(v.error);
    rules.push(...v.rules);
  }
  return { rules, errors: errs };
}

/** kube's forbiddenMessage + NewForbidden: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenMessage(a: Attributes, reason = ''): string {
  const who = `User ${JSON.stringify(a.user.username)}`;
  let msg: string;
  if (!a.isResourceRequest) msg = `${who} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  else {
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    msg = `${who} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${scope}`;
  }
  if (reason) msg += `: ${reason}`;
  if (!a.isResourceRequest) return `forbidden: ${msg}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource ?? '';
  return a.name ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${msg}` : `${qualified} is forbidden: ${msg}`;
}

/** The 403 for a denied request, with kube's Status details (name, group, kind = resource). */
export function forbiddenError(a: Attributes, reason = ''): ApiError {
  return new ApiError('Forbidden', forbiddenMessage(a, reason), a.isResourceRequest ? { name: a.name ?? '', group: a.apiGroup ?? '', kind: a.resource ?? '' } : {});
}
