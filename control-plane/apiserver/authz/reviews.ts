// The authorization reviews, answered from the server's authorizer as kube-apiserver does:
// SubjectAccessReview (any user, cluster-wide), LocalSubjectAccessReview (its namespace only),
// SelfSubjectAccessReview (the caller: `kubectl auth can-i`), SelfSubjectRulesReview (the caller's rules in a
// namespace: `kubectl auth can-i --list`) and authentication.k8s.io SelfSubjectReview (`kubectl auth whoami`).
// Each is created (201) and never stored; bad specs get kube's 422 with the field path.

import type { KubeObject } from '../../../api/meta.js';
import { errors } from '../../../api/errors.js';
import { type FieldError, fieldError } from '../../../api/field.js';
import type { UserInfo } from '../admission/chain.js';
import type { Attributes, Decision, PolicyRule, RbacSource } from './rbac.js';
import { rulesFor } from './rbac.js';

/** The review kinds answered here. */
export const REVIEW_KINDS = new Set(['SubjectAccessReview', 'SelfSubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview']);

function attributesOf(spec: any, user: UserInfo): Attributes {
  const r = spec.resourceAttributes;
  if (r) return { user, verb: r.verb ?? '', isResourceRequest: true, namespace: r.namespace ?? '', apiGroup: r.group ?? '', apiVersion: r.version ?? '', resource: r.resource ?? '', subresource: r.subresource ?? '', name: r.name ?? '' };
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', isResourceRequest: false, path: n.path ?? '' };
}

function validateAccessSpec(spec: any, kind: string, withUser: boolean, namespace?: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!!spec.resourceAttributes === !!spec.nonResourceAttributes)
    errs.push(fieldError.invalid('spec.resourceAttributes', spec.resourceAttributes ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (withUser && !spec.user && !(spec.groups ?? []).length) errs.push(fieldError.invalid('spec.user', spec.user ?? '', '`spec.user` or `spec.groups` is required'));
  if (kind === 'LocalSubjectAccessReview' && spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace)
    errs.push(fieldError.invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace ?? '', 'must match metadata.namespace'));
  if (kind === 'LocalSubjectAccessReview' && spec.nonResourceAttributes) errs.push(fieldError.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
  return errs;
}

const toStatus = (d: Decision) => ({ allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) });

const withoutEmpty = (r: PolicyRule) => ({
  verbs: r.verbs,
  ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}),
  ...(r.resources ? { resources: r.resources } : {}),
  ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
});

/** Answers one review body posted by `caller` (namespace: of a LocalSubjectAccessReview's path). */
export function review(body: KubeObject, caller: UserInfo, namespace: string, authorize: (a: Attributes) => Decision, source: RbacSource): KubeObject {
  const kind = body.kind;
  const spec: any = (body as any).spec ?? {};
  const metadata: any = { creationTimestamp: null, ...(body.metadata?.name ? { name: body.metadata.name } : {}), ...(namespace ? { namespace } : {}) };
  const out = (status: unknown, s: unknown = spec) => ({ apiVersion: body.apiVersion, kind, metadata, spec: s, status }) as KubeObject;
  const group = kind === 'SelfSubjectReview' ? 'authentication.k8s.io' : 'authorization.k8s.io';
  const invalid = (errs: FieldError[]) => errors.invalid(kind, group, body.metadata?.name ?? '', errs);
  if (kind === 'SelfSubjectReview') return out({ userInfo: { username: caller.username, ...(caller.uid ? { uid: caller.uid } : {}), groups: caller.groups } }, undefined);
  if (kind === 'SelfSubjectRulesReview') {
    if (!spec.namespace) throw invalid([fieldError.required('spec.namespace')]);
    const { rules, errors: errs } = rulesFor(source, caller, spec.namespace);
    return out({
      resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map(withoutEmpty),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: errs.length > 0,
      ...(errs.length ? { evaluationError: errs.join(', ') } : {}),
    });
  }
  const self = kind === 'SelfSubjectAccessReview';
  const errs = validateAccessSpec(spec, kind, !self, namespace);
  if (errs.length) throw invalid(errs);
  const user: UserInfo = self ? caller : { username: spec.user ?? '', uid: spec.uid ?? '', groups: spec.groups ?? [] };
  return out(toStatus(authorize(attributesOf(spec, user))));
}
