// The registry of every served kind: lookup by group/version/plural and by apiVersion/kind, the name
// resolution kubectl does (`po`, `deploy`, `deployments.apps`, `gateways.gateway.networking.k8s.io`...),
// and the discovery documents (/api, /apis, /apis/{group}/{version}). Ambiguous short names resolve
// to the first registered kind: the Istio Gateway (`gateway`, `gateways`, `gw`) comes before the
// Gateway API one (`gtw`, or qualify it: `gateways.gateway.networking.k8s.io`).

import { deployment, daemonSet, replicaSet } from './kinds/apps/workloads.js';
import { controllerRevision, statefulSet } from './kinds/apps/statefulset.js';
import { cronJob } from './kinds/batch/cronjob.js';
import { job } from './kinds/batch/job.js';
import { configMap, secret, serviceAccount } from './kinds/core/config.js';
import { limitRange, resourceQuota } from './kinds/core/quota.js';
import { endpoints } from './kinds/core/endpoints.js';
import { event } from './kinds/core/event.js';
import { namespace } from './kinds/core/namespace.js';
import { node } from './kinds/core/node.js';
import { pod } from './kinds/core/pod.js';
import { service } from './kinds/core/service.js';
import { endpointSlice, lease } from './kinds/discovery/lease-slice.js';
import { gateway, gatewayClass, httpRoute } from './kinds/gateway/gateway-api.js';
import { grpcRoute, referenceGrant, tcpRoute, tlsRoute } from './kinds/gateway/routes.js';
import { destinationRule, istioGateway, virtualService } from './kinds/istio/networking.js';
import { authorizationPolicy, peerAuthentication } from './kinds/istio/security.js';
import { requestAuthentication, telemetry } from './kinds/istio/request-authentication.js';
import { serviceEntry, sidecar, workloadEntry } from './kinds/istio/service-entry.js';
import { tokenReview } from './kinds/authentication/tokenreview.js';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview } from './kinds/authorization/reviews.js';
import { clusterRole, clusterRoleBinding, role, roleBinding } from './kinds/rbac/rbac.js';
import { ingress, ingressClass } from './kinds/networking/ingress.js';
import { networkPolicy } from './kinds/networking/networkpolicy.js';
import { horizontalPodAutoscaler } from './kinds/autoscaling/hpa.js';
import { horizontalPodAutoscalerV1 } from './kinds/autoscaling/hpa-v1.js';
import { nodeMetrics, podMetrics } from './kinds/metrics/metrics.js';
import { canary } from './kinds/shoal/canary.js';
import { joinApiVersion, splitApiVersion } from './meta.js';
import type { ResourceType } from './resource.js';
import { servedVersionsOf, sortVersions, versionView } from './versions.js';

/** Every kind, in resolution-priority order. */
const types: ResourceType[] = [
  pod, service, endpoints, namespace, node, event, secret, configMap, serviceAccount, resourceQuota, limitRange,
  deployment, replicaSet, daemonSet,
  statefulSet, controllerRevision,
  job, cronJob,
  lease, endpointSlice,
  ingress, ingressClass, networkPolicy,
  virtualService, destinationRule, istioGateway,
  peerAuthentication, authorizationPolicy,
  gatewayClass, gateway, httpRoute,
  serviceEntry, sidecar, workloadEntry, requestAuthentication, telemetry,
  grpcRoute, tcpRoute, tlsRoute, referenceGrant,
  tokenReview, selfSubjectReview,
  subjectAccessReview, selfSubjectAccessReview, localSubjectAccessReview, selfSubjectRulesReview,
  clusterRole, clusterRoleBinding, role, roleBinding,
  horizontalPodAutoscaler, horizontalPodAutoscalerV1, podMetrics, nodeMetrics,
  canary,
];

/** metav1.APIGroup as served by /apis. */
export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: { groupVersion: string; version: string }[];
  preferredVersion: { groupVersion: string; version: string };
}

/** metav1.APIResource as served by /api/v1 and /apis/{group}/{version}. */
export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}

/**
 * Every served group/version/kind: the kinds above at their own (preferred) version, then a view of each
 * at every other version it is served at (api/versions.ts), sharing its stored objects.
 */
const served: ResourceType[] = [...types];
for (const rt of types) for (const v of servedVersionsOf(rt)) if (v !== rt.version) served.push(versionView(rt, v));

const byGVP = new Map<string, ResourceType>();
const byGVK = new Map<string, ResourceType>();
const names = new Map<string, ResourceType>();

function addName(name: string, rt: ResourceType): void {
  if (!names.has(name)) names.set(name, rt);
}

for (const rt of served) {
  byGVP.set(`${rt.group}/${rt.version}/${rt.plural}`, rt);
  byGVK.set(`${joinApiVersion(rt.group, rt.version)}/${rt.kind}`, rt);
  const plain = [rt.plural, rt.singular, rt.kind.toLowerCase(), ...rt.shortNames];
  if (types.includes(rt)) for (const n of plain) addName(n, rt);
  for (const n of [rt.plural, rt.singular, rt.kind.toLowerCase()]) {
    if (rt.group) {
      addName(`${n}.${rt.group}`, rt);
      addName(`${n}.${rt.version}.${rt.group}`, rt);
    } else addName(`${n}.${rt.version}`, rt);
  }
}

/** The registry every process reads. */
export const registry = {
  /** Every kind once, at its preferred version (what controllers iterate). */
  all(): ResourceType[] {
    return types;
  },
  /** Every served version of every kind (what discovery and the REST tree serve). */
  served(): ResourceType[] {
    return served;
  },
  /** By REST coordinates: group ('' for core), version, plural. */
  get(group: string, version: string, plural: string): ResourceType | undefined {
    return byGVP.get(`${group}/${version}/${plural}`);
  },
  /** By apiVersion and kind, as in a manifest; undefined when unknown. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return byGVK.get(`${apiVersion}/${kind}`);
  },
  /**
   * What kubectl accepts: plural, singular, Kind (any case), short name, `name.group`,
   * `name.version.group`, and `name.v1` for core. Undefined when nothing matches.
   */
  resolve(name: string): ResourceType | undefined {
    return names.get(name) ?? names.get(name.toLowerCase());
  },
  /** Every ResourceType in a category (`all`, `istio-io`, `gateway-api`). */
  category(c: string): ResourceType[] {
    return types.filter((t) => t.categories.includes(c));
  },
  /** The API groups for /apis (core excluded), each with its preferred version. */
  groups(): APIGroup[] {
    const vs = new Map<string, string[]>();
    for (const t of served) if (t.group !== '') vs.set(t.group, [...(vs.get(t.group) ?? []), t.version]);
    return [...vs].map(([name, list]) => {
      const versions = sortVersions(list).map((v) => ({ groupVersion: joinApiVersion(name, v), version: v }));
      return { name, versions, preferredVersion: versions[0]! };
    });
  },
  /** The versions served for the core group (/api). */
  coreVersions(): string[] {
    return [...new Set(types.filter((t) => t.group === '').map((t) => t.version))];
  },
  /** The APIResourceList entries for one group version, subresources included (`pods/status`). */
  resources(group: string, version: string): APIResource[] {
    const out: APIResource[] = [];
    for (const t of served) {
      if (t.group !== group || t.version !== version) continue;
      out.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: t.verbs,
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length ? { categories: t.categories } : {}),
      });
      if (t.subresources.status) out.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
      if (t.subresources.scale)
        out.push({ name: `${t.plural}/scale`, singularName: '', namespaced: t.namespaced, kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
    }
    return out;
  },
};

/** Split helper re-exported for callers that hold an apiVersion. */
export { splitApiVersion };
