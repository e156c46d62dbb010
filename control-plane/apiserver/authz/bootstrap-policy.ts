// The default RBAC policy the API server reconciles at start, after kubernetes'
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy: the user-facing roles cluster-admin, admin, edit and view
// (admin/edit/view aggregated from the `system:aggregate-to-*` roles by label, so a CRD's roles can join
// them), the discovery roles every authenticated user holds, and one role per Shoal component with what
// that component reads and writes (the controller manager, the scheduler, the node agent, the service
// proxy, the NetworkPolicy enforcer, mesh control, cluster DNS), bound to the identity it runs as
// (authz/identities.ts, `shoal up`). Every object carries the label `kubernetes.io/bootstrapping:
// rbac-defaults` and the annotation `rbac.authorization.kubernetes.io/autoupdate: "true"`.

import type { PolicyRule } from './rbac.js';

const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RW = [...READ, ...WRITE];

/** A resource rule. */
const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
  ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

const MESH_GROUPS = ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'gateway.networking.k8s.io', 'shoal.io'];

/** The read rules of `view` (kube's aggregate-to-view, for the kinds Shoal serves). */
const viewRules: PolicyRule[] = [
  rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
  rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

/** What `edit` adds (kube's aggregate-to-edit). */
const editRules: PolicyRule[] = [
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [''], ['pods/eviction']),
  rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
];

/** What `admin` adds (kube's aggregate-to-admin). */
const adminRules: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(RW, [RBAC], ['rolebindings', 'roles']),
];

const discoveryUrls = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];

/** A ClusterRole of the default policy. */
export interface DefaultClusterRole {
  name: string;
  rules: PolicyRule[];
  /** the labels its objects carry besides the bootstrapping label */
  labels?: Record<string, string>;
  /** aggregate the rules of the ClusterRoles carrying this label (value "true") */
  aggregateFrom?: string[];
}

/** A binding of the default policy: role and subjects (`User:x`, `Group:x`, `ServiceAccount:ns/name`). */
export interface DefaultBinding {
  name: string;
  role: string;
  roleKind?: 'Role' | 'ClusterRole';
  namespace?: string;
  subjects: string[];
}

const agg = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });

/** The default ClusterRoles. */
export const DEFAULT_CLUSTER_ROLES: DefaultClusterRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'admin', rules: [], aggregateFrom: ['rbac.authorization.k8s.io/aggregate-to-admin'] },
  { name: 'edit', rules: [], labels: agg('admin'), aggregateFrom: ['rbac.authorization.k8s.io/aggregate-to-edit'] },
  { name: 'view', rules: [], labels: { ...agg('edit') }, aggregateFrom: ['rbac.authorization.k8s.io/aggregate-to-view'] },
  { name: 'system:aggregate-to-admin', rules: adminRules, labels: agg('admin') },
  { name: 'system:aggregate-to-edit', rules: editRules, labels: { ...agg('admin'), ...agg('edit') } },
  { name: 'system:aggregate-to-view', rules: viewRules, labels: { ...agg('admin'), ...agg('edit'), ...agg('view') } },
  // what metrics-server ships (system:aggregated-metrics-reader): kubectl top for every viewer
  { name: 'system:aggregated-metrics-reader', rules: [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])], labels: { ...agg('admin'), ...agg('edit'), ...agg('view') } },
  // the mesh's kinds for namespace users, as Istio's and the Gateway API's charts aggregate them
  { name: 'shoal:aggregate-mesh-to-view', rules: [rule(READ, MESH_GROUPS, ['*'])], labels: { ...agg('admin'), ...agg('edit'), ...agg('view') } },
  { name: 'shoal:aggregate-mesh-to-edit', rules: [rule(WRITE, MESH_GROUPS, ['*'])], labels: { ...agg('admin'), ...agg('edit') } },
  { name: 'system:discovery', rules: [urls(['get'], discoveryUrls)] },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  { name: 'system:basic-user', rules: [rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']), rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'])] },
  { name: 'system:monitoring', rules: [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])] },
  { name: 'system:auth-delegator', rules: [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])] },
  {
    // one identity runs every controller (kube gives each its own ServiceAccount): the namespace controller
    // and the garbage collector need to read and delete every kind, the others create what they own
    name: 'system:kube-controller-manager',
    rules: [
      rule(RW, ['*'], ['*']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      rule(READ, [''], ['nodes', 'namespaces', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes']),
      rule([...READ, 'delete'], [''], ['pods']),
      rule(['create'], [''], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(READ, ['apps'], ['replicasets', 'statefulsets']),
    ],
  },
  {
    name: 'system:node',
    rules: [
      rule(['create', 'get', 'list', 'watch', 'patch', 'update', 'delete'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule([...READ, 'create', 'delete'], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['create'], [''], ['pods/eviction']),
      rule(READ, [''], ['services', 'endpoints', 'secrets', 'configmaps', 'serviceaccounts', 'namespaces', 'persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(['create', 'delete', 'get', 'patch', 'update', 'list', 'watch'], ['coordination.k8s.io'], ['leases']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ],
  },
  {
    name: 'system:node-proxier',
    rules: [
      rule(['list', 'watch'], [''], ['endpoints', 'services']),
      rule(READ, [''], ['nodes']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ],
  },
  {
    name: 'system:shoal:network-policy',
    rules: [
      rule(READ, ['networking.k8s.io'], ['networkpolicies']),
      rule(READ, [''], ['pods', 'namespaces', 'nodes']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ],
  },
  {
    // istiod's ClusterRole, for the kinds Shoal serves
    name: 'system:shoal:mesh-control',
    rules: [
      rule(RW, MESH_GROUPS, ['*']),
      rule(READ, ['', 'apps', 'discovery.k8s.io', 'networking.k8s.io', 'autoscaling', 'batch'], ['*']),
      rule(RW, [''], ['configmaps', 'secrets', 'services', 'endpoints']),
      rule(RW, ['discovery.k8s.io'], ['endpointslices']),
      // it makes its own namespace (istio-system) when missing, as Istio's installer does
      rule(['create'], [''], ['namespaces']),
      rule(RW, ['apps'], ['deployments']),
      rule(RW, ['networking.k8s.io'], ['ingresses/status']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(RW, ['coordination.k8s.io'], ['leases']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ],
  },
  {
    // the ingress controller (control-plane/manifests/ingress.yaml on main: ServiceAccount kube-system/shoal-ingress),
    // as ingress-nginx's ClusterRole: what routes traffic, the TLS Secrets, and the status it writes
    name: 'system:shoal:ingress',
    rules: [
      rule(READ, [''], ['services', 'endpoints', 'secrets', 'namespaces', 'configmaps', 'pods', 'nodes']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingressclasses']),
      rule(['get', 'patch', 'update'], ['networking.k8s.io'], ['ingresses/status']),
      rule(READ, ['gateway.networking.k8s.io', 'networking.istio.io'], ['*']),
      rule(['get', 'patch', 'update'], ['gateway.networking.k8s.io'], ['*/status']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(RW, ['coordination.k8s.io'], ['leases']),
    ],
  },
  {
    // the mesh dashboard: everything it draws, read-only, and no Secrets
    name: 'system:shoal:dashboard',
    rules: [
      rule(READ, [''], ['pods', 'services', 'endpoints', 'namespaces', 'nodes', 'events', 'configmaps', 'serviceaccounts']),
      rule(READ, ['apps', 'batch', 'autoscaling', 'networking.k8s.io', 'discovery.k8s.io', 'metrics.k8s.io', ...MESH_GROUPS], ['*']),
    ],
  },
  // CoreDNS' ClusterRole, plus the ServiceEntries whose hosts the cluster DNS answers (Istio's DNS proxy's job)
  { name: 'system:coredns', rules: [rule(['list', 'watch'], [''], ['endpoints', 'services', 'pods', 'namespaces']), rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    rule(['list', 'watch'], ['networking.istio.io'], ['serviceentries'])] },
];

/** The default ClusterRoleBindings. */
export const DEFAULT_CLUSTER_ROLE_BINDINGS: DefaultBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: ['Group:system:masters'] },
  { name: 'system:discovery', role: 'system:discovery', subjects: ['Group:system:authenticated'] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: ['Group:system:authenticated'] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', subjects: ['Group:system:authenticated', 'Group:system:unauthenticated'] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: ['Group:system:monitoring'] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: ['User:system:kube-controller-manager'] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: ['User:system:kube-scheduler'] },
  { name: 'system:node', role: 'system:node', subjects: ['Group:system:nodes'] },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: ['User:system:kube-proxy'] },
  { name: 'system:shoal:network-policy', role: 'system:shoal:network-policy', subjects: ['User:system:shoal:network-policy'] },
  { name: 'system:shoal:mesh-control', role: 'system:shoal:mesh-control', subjects: ['User:system:shoal:mesh-control', 'ServiceAccount:istio-system/istiod'] },
  { name: 'system:coredns', role: 'system:coredns', subjects: ['ServiceAccount:kube-system/coredns'] },
  { name: 'system:shoal:ingress', role: 'system:shoal:ingress', subjects: ['ServiceAccount:kube-system/shoal-ingress'] },
  { name: 'system:shoal:dashboard', role: 'system:shoal:dashboard', subjects: ['User:system:shoal:dashboard'] },
];

/** Subject text → rbac Subject. */
export function subjectOf(s: string): Record<string, string> {
  const i = s.indexOf(':');
  const kind = s.slice(0, i);
  const rest = s.slice(i + 1);
  if (kind === 'ServiceAccount') {
    const [namespace, name] = rest.split('/');
    return { kind, name: name!, namespace: namespace! };
  }
  return { kind, apiGroup: RBAC, name: rest };
}
