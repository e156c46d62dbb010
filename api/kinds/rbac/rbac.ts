// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding, validated as
// kubernetes' pkg/apis/rbac/validation does: a rule needs verbs, and either apiGroups + resources or
// nonResourceURLs (never both, and never non-resource URLs in a namespaced Role); a binding's roleRef is
// immutable, names apiGroup rbac.authorization.k8s.io and kind Role|ClusterRole (ClusterRole only in a
// ClusterRoleBinding); subjects are User, Group (apiGroup rbac.authorization.k8s.io) or ServiceAccount
// (apiGroup "", a namespace in a ClusterRoleBinding). Verbs are not checked against a list (kube does not:
// custom verbs such as `escalate`, `bind`, `impersonate`, `use` are legal).

import { age } from '../../age.js';
import { arr, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asArr, asObj, fieldError, kindSchema, labelSelector } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

/** The API group of RBAC. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const policyRule = obj({ verbs: arr(str), apiGroups: arr(str), resources: arr(str), resourceNames: arr(str), nonResourceURLs: arr(str) }, ['verbs']);
const aggregationRule = obj({ clusterRoleSelectors: arr(labelSelector) });
const roleRef = obj({ apiGroup: str, kind: str, name: str }, ['apiGroup', 'kind', 'name']);
const subject = obj({ kind: str, apiGroup: str, name: str, namespace: str }, ['kind', 'name']);

const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);

/** ValidatePolicyRule. */
export function validatePolicyRule(rule: any, namespaced: boolean, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!len(rule.verbs)) errs.push(fieldError.required(p.child('verbs'), 'verbs must contain at least one value'));
  if (len(rule.nonResourceURLs)) {
    if (namespaced) errs.push(fieldError.invalid(p.child('nonResourceURLs'), rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (len(rule.apiGroups) || len(rule.resources) || len(rule.resourceNames))
      errs.push(fieldError.invalid(p.child('nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if (!len(rule.apiGroups)) errs.push(fieldError.required(p.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (!len(rule.resources)) errs.push(fieldError.required(p.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

const pathSegmentBad = (s: string) => s === '.' || s === '..' || s.includes('/') || s.includes('%');

function validateRules(o: any, namespaced: boolean): FieldError[] {
  return asArr(o.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, Path.root('rules').index(i)));
}

function validateSubject(s: any, namespaced: boolean, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(fieldError.required(p.child('name')));
  if (s.kind === 'ServiceAccount') {
    if (s.apiGroup) errs.push(fieldError.notSupported(p.child('apiGroup'), s.apiGroup, ['']));
    if (s.name && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s.name))
      errs.push(fieldError.invalid(p.child('name'), s.name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
    if (!namespaced && !s.namespace) errs.push(fieldError.required(p.child('namespace')));
  } else if (s.kind === 'User' || s.kind === 'Group') {
    if (s.apiGroup !== RBAC_GROUP) errs.push(fieldError.notSupported(p.child('apiGroup'), s.apiGroup ?? '', [RBAC_GROUP]));
  } else {
    errs.push(fieldError.notSupported(p.child('kind'), s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(o: any, old: any, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = asObj(o.roleRef) ?? {};
  const refPath = Path.root('roleRef');
  if (ref.apiGroup !== RBAC_GROUP) errs.push(fieldError.notSupported(refPath.child('apiGroup'), ref.apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(fieldError.notSupported(refPath.child('kind'), ref.kind, kinds));
  if (!ref.name) errs.push(fieldError.required(refPath.child('name')));
  else if (pathSegmentBad(ref.name)) errs.push(fieldError.invalid(refPath.child('name'), ref.name, `may not contain '/' or '%' and may not be '.' or '..'`));
  asArr(o.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, Path.root('subjects').index(i))));
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef)) errs.push(fieldError.invalid('roleRef', o.roleRef, 'cannot change roleRef'));
  return errs;
}

/** SetDefaults_Subject / roleRef: User and Group subjects and the roleRef default to the RBAC group. */
function bindingDefaults(o: any): void {
  const ref = asObj(o.roleRef);
  if (ref && ref.apiGroup === undefined) ref.apiGroup = RBAC_GROUP;
  for (const s of asArr(o.subjects)) {
    const so = asObj(s);
    if (so && so.apiGroup === undefined && (so.kind === 'User' || so.kind === 'Group')) so.apiGroup = RBAC_GROUP;
  }
}

const roleCols = [nameCol, col('Created At')];
const roleCells = (o: any) => [o.metadata.name, o.metadata.creationTimestamp ?? ''];
const subjectsOf = (o: any, kind: string) => asArr(o.subjects).filter((s: any) => s.kind === kind).map((s: any) => (kind === 'ServiceAccount' ? `${s.namespace ?? o.metadata.namespace ?? ''}/${s.name}` : s.name)).join(', ');
const bindingCols = [nameCol, col('Role'), ageCol, col('Users', 'string', true), col('Groups', 'string', true), col('ServiceAccounts', 'string', true)];
const bindingCells = (o: any, now: Date) => [o.metadata.name, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o.metadata.creationTimestamp, now), subjectsOf(o, 'User'), subjectsOf(o, 'Group'), subjectsOf(o, 'ServiceAccount')];

/** rbac.authorization.k8s.io/v1 Role */
export const role = defineKind({
  group: RBAC_GROUP, version: 'v1', kind: 'Role', plural: 'roles', namespaced: true,
  nameValidation: 'PathSegmentName',
  schema: kindSchema({ rules: arr(policyRule) }),
  semantic: (o) => validateRules(o, true),
  columns: roleCols, cells: roleCells,
});

/** rbac.authorization.k8s.io/v1 ClusterRole (with aggregationRule) */
export const clusterRole = defineKind({
  group: RBAC_GROUP, version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false,
  nameValidation: 'PathSegmentName',
  schema: kindSchema({ rules: arr(policyRule), aggregationRule }),
  semantic(o) {
    const errs = validateRules(o, false);
    const sel = asArr(asObj(o.aggregationRule)?.clusterRoleSelectors);
    if (o.aggregationRule && !sel.length) errs.push(fieldError.required(Path.root('aggregationRule').child('clusterRoleSelectors')));
    return errs;
  },
  columns: roleCols, cells: roleCells,
});

/** rbac.authorization.k8s.io/v1 RoleBinding */
export const roleBinding = defineKind({
  group: RBAC_GROUP, version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true,
  nameValidation: 'PathSegmentName',
  schema: kindSchema({ roleRef, subjects: arr(subject) }, ['roleRef']),
  defaults: bindingDefaults,
  semantic: (o, old) => validateBinding(o, old, true),
  columns: bindingCols, cells: bindingCells,
});

/** rbac.authorization.k8s.io/v1 ClusterRoleBinding */
export const clusterRoleBinding = defineKind({
  group: RBAC_GROUP, version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false,
  nameValidation: 'PathSegmentName',
  schema: kindSchema({ roleRef, subjects: arr(subject) }, ['roleRef']),
  defaults: bindingDefaults,
  semantic: (o, old) => validateBinding(o, old, false),
  columns: bindingCols, cells: bindingCells,
});
