// Who each Shoal component is to the API server, so RBAC gives it only what it needs: the user names are
// kube's where Kubernetes has the component (system:kube-controller-manager, system:kube-scheduler,
// system:kube-proxy, system:node:<name> in group system:nodes) and `system:shoal:*` for Shoal's own. The
// default policy (authz/bootstrap-policy.ts) binds each to its ClusterRole. `shoal up` gives each a static
// token (pki.ts `ensureUserTokens`) and a kubeconfig of its own.

import type { TokenUserSpec } from './pki.js';

/** The identity of each control-plane and node component, by its name in `shoal up`. */
export const COMPONENT_IDENTITIES: Record<string, TokenUserSpec> = {
  'controller-manager': { name: 'system:kube-controller-manager', groups: [] },
  scheduler: { name: 'system:kube-scheduler', groups: [] },
  'service-proxy': { name: 'system:kube-proxy', groups: [] },
  'network-policy': { name: 'system:shoal:network-policy', groups: [] },
  'mesh-control': { name: 'system:shoal:mesh-control', groups: [] },
  // the mesh dashboard (dashboard/ on main): reads workloads and mesh config, writes nothing
  dashboard: { name: 'system:shoal:dashboard', groups: [] },
};

/** A node agent's identity (kube's node authorizer names). */
export function nodeIdentity(nodeName: string): TokenUserSpec {
  return { name: `system:node:${nodeName}`, groups: ['system:nodes'] };
}
