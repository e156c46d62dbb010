// Which objects this decoder understands: apiVersion + kind → the message table of the object, and all
// tables parsed once. Anything else is a 415 that names the kind, so the client can fall back to JSON.

import { ApiError } from '../../../api/errors.js';
import { splitApiVersion } from '../../../api/meta.js';
import { parseTables, type MessageSpec } from './schema.js';
import { metaTables } from './tables/meta.js';
import { coreTables } from './tables/core.js';
import { podTables } from './tables/pod.js';
import { appsTables } from './tables/apps.js';
import { networkingTables } from './tables/networking.js';
import { batchTables } from './tables/batch.js';
import { autoscalingTables } from './tables/autoscaling.js';
import { rbacTables } from './tables/rbac.js';

/** Every message table, parsed and cross-checked at load time. */
export const tables: ReadonlyMap<string, MessageSpec> = parseTables({
  ...metaTables,
  ...coreTables,
  ...podTables,
  ...appsTables,
  ...networkingTables,
  ...batchTables,
  ...autoscalingTables,
  ...rbacTables,
});

/** `apiVersion/kind` → top-level message table. */
export const kinds: ReadonlyMap<string, string> = new Map([
  ['v1/Namespace', 'Namespace'],
  ['v1/ConfigMap', 'ConfigMap'],
  ['v1/Secret', 'Secret'],
  ['v1/ServiceAccount', 'ServiceAccount'],
  ['v1/Service', 'Service'],
  ['v1/Pod', 'Pod'],
  ['apps/v1/Deployment', 'Deployment'],
  ['networking.k8s.io/v1/Ingress', 'Ingress'],
  ['batch/v1/Job', 'Job'],
  ['batch/v1/CronJob', 'CronJob'],
  ['autoscaling/v1/HorizontalPodAutoscaler', 'HorizontalPodAutoscalerV1'],
  ['v1/ResourceQuota', 'ResourceQuota'],
  ['rbac.authorization.k8s.io/v1/Role', 'Role'],
  ['rbac.authorization.k8s.io/v1/ClusterRole', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1/RoleBinding', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'RoleBinding'],
  ['authorization.k8s.io/v1/SelfSubjectAccessReview', 'SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1/SubjectAccessReview', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1/LocalSubjectAccessReview', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1/SelfSubjectRulesReview', 'SelfSubjectRulesReview'],
  ['authentication.k8s.io/v1/SelfSubjectReview', 'SelfSubjectReview'],
]);

/** The table for an object, or 415 naming the kind. DeleteOptions is accepted under any apiVersion. */
export function tableFor(apiVersion: string, kind: string): string {
  if (kind === 'DeleteOptions') return 'DeleteOptions';
  const t = kinds.get(`${apiVersion}/${kind}`);
  if (t) return t;
  const { group } = splitApiVersion(apiVersion);
  throw new ApiError(
    'UnsupportedMediaType',
    `the server cannot decode ${kind} (${apiVersion}) from application/vnd.kubernetes.protobuf; send it as application/json`,
    { group, kind },
  );
}
