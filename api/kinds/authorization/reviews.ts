// authorization.k8s.io/v1 SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview and
// SelfSubjectRulesReview, and authentication.k8s.io/v1 SelfSubjectReview: create-only, never stored; the
// API server answers them from its authorizer (control-plane/apiserver/authz/reviews.ts). `kubectl auth
// can-i` posts a SelfSubjectAccessReview (`--list`: a SelfSubjectRulesReview), `kubectl auth whoami` a
// SelfSubjectReview.

import { any, arr, map, obj, str } from '../../schema/schema.js';
import { kindSchema } from '../common.js';
import { defineKind, nameCol } from '../define.js';

const resourceAttributes = obj({ namespace: str, verb: str, group: str, version: str, resource: str, subresource: str, name: str, fieldSelector: any, labelSelector: any });
const nonResourceAttributes = obj({ path: str, verb: str });
const accessSpec = { resourceAttributes, nonResourceAttributes };

function review(group: string, kind: string, plural: string, namespaced: boolean, spec: Record<string, any>) {
  return {
    ...defineKind({
      group, version: 'v1', kind, plural, namespaced,
      schema: kindSchema({ spec: obj(spec), status: any }),
      columns: [nameCol],
      cells: (o) => [o.metadata.name ?? ''],
    }),
    verbs: ['create'],
  };
}

/** authorization.k8s.io/v1 SubjectAccessReview */
export const subjectAccessReview = review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews', false,
  { ...accessSpec, user: str, groups: arr(str), uid: str, extra: map(arr(str)) });
/** authorization.k8s.io/v1 SelfSubjectAccessReview */
export const selfSubjectAccessReview = review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, accessSpec);
/** authorization.k8s.io/v1 LocalSubjectAccessReview */
export const localSubjectAccessReview = review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true,
  { ...accessSpec, user: str, groups: arr(str), uid: str, extra: map(arr(str)) });
/** authorization.k8s.io/v1 SelfSubjectRulesReview */
export const selfSubjectRulesReview = review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, { namespace: str });
/** authentication.k8s.io/v1 SelfSubjectReview */
export const selfSubjectReview = review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews', false, {});
