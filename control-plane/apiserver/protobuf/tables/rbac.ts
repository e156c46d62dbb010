// Tables for k8s.io/api rbac/v1 and the authorization/authentication reviews (what `kubectl create
// role|clusterrole|rolebinding|clusterrolebinding`, `kubectl auth can-i` and `kubectl auth whoami` send).
// Field numbers are those of rbac/v1, authorization/v1 and authentication/v1 generated.proto; JSON names and
// omitempty follow the Go struct tags. Not decoded: the reviews' `extra` and field/label selector
// attributes (skipped like unknown fields).

import type { TableSource } from '../schema.js';

/** rbac/v1, authorization/v1 and authentication/v1 SelfSubjectReview message tables. */
export const rbacTables: TableSource = {
  PolicyRule: [
    [1, 'verbs []string'],
    [2, 'apiGroups []string omitempty'],
    [3, 'resources []string omitempty'],
    [4, 'resourceNames []string omitempty'],
    [5, 'nonResourceURLs []string omitempty'],
  ],
  AggregationRule: [[1, 'clusterRoleSelectors []LabelSelector omitempty']],
  Role: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'rules []PolicyRule'],
  ],
  ClusterRole: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'rules []PolicyRule'],
    [3, 'aggregationRule *AggregationRule omitempty'],
  ],
  Subject: [
    [1, 'kind string'],
    [2, 'apiGroup string omitempty'],
    [3, 'name string'],
    [4, 'namespace string omitempty'],
  ],
  RoleRef: [
    [1, 'apiGroup string'],
    [2, 'kind string'],
    [3, 'name string'],
  ],
  RoleBinding: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'subjects []Subject omitempty'],
    [3, 'roleRef RoleRef'],
  ],
  ResourceAttributes: [
    [1, 'namespace string omitempty'],
    [2, 'verb string omitempty'],
    [3, 'group string omitempty'],
    [4, 'version string omitempty'],
    [5, 'resource string omitempty'],
    [6, 'subresource string omitempty'],
    [7, 'name string omitempty'],
  ],
  NonResourceAttributes: [
    [1, 'path string omitempty'],
    [2, 'verb string omitempty'],
  ],
  SelfSubjectAccessReviewSpec: [
    [1, 'resourceAttributes *ResourceAttributes omitempty'],
    [2, 'nonResourceAttributes *NonResourceAttributes omitempty'],
  ],
  SubjectAccessReviewSpec: [
    [1, 'resourceAttributes *ResourceAttributes omitempty'],
    [2, 'nonResourceAttributes *NonResourceAttributes omitempty'],
    [3, 'user string omitempty'],
    [4, 'groups []string omitempty'],
    [6, 'uid string omitempty'],
  ],
  SelfSubjectAccessReview: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec SelfSubjectAccessReviewSpec'],
  ],
  SubjectAccessReview: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec SubjectAccessReviewSpec'],
  ],
  SelfSubjectRulesReviewSpec: [[1, 'namespace string omitempty']],
  SelfSubjectRulesReview: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec SelfSubjectRulesReviewSpec'],
  ],
  SelfSubjectReview: [[1, 'metadata ObjectMeta omitempty']],
};
