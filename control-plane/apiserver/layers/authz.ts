// Authorization, the layer after authentication: impersonation headers are resolved first (the real user
// must hold `impersonate`), then every request — resource or not, subresources and watches included — is
// authorized against RBAC (authz/rbac.ts over the in-memory authz/cache.ts). system:masters is always
// allowed; anything no rule allows gets kube-apiserver's 403 Status (`pods is forbidden: User "x" cannot
// list resource "pods" in API group "" in the namespace "default"`). Servers built without a token map
// (in-process tests) run every request as system:masters, so this layer lets them through.

import type { FastifyInstance } from 'fastify';
import { requestAttributes } from '../authz/attributes.js';
import { impersonate, wantsImpersonation } from '../authz/impersonation.js';
import { authorize, forbiddenError, SYSTEM_MASTERS, type Attributes, type Decision, type RbacSource } from '../authz/rbac.js';

/** The server's authorizer: RBAC over `source`. */
export type Authorizer = (a: Attributes) => Decision;

/** An authorizer over an RBAC source. */
export function rbacAuthorizer(source: RbacSource): Authorizer {
  return (a) => authorize(source, a);
}

/** The onRequest hook: impersonation, then the decision. */
export function authzLayer(app: FastifyInstance, authorizer: Authorizer): void {
  app.addHook('onRequest', async (req) => {
    if (!req.user) return;
    if (wantsImpersonation(req.headers)) req.user = impersonate(req.user, req.headers, authorizer);
    // the privileged group needs no attributes (the admin's and the API server's own requests stay cheap)
    if (req.user.groups.includes(SYSTEM_MASTERS)) return;
    const a = requestAttributes(req.user, req.method, req.url, (req.query ?? {}) as Record<string, unknown>);
    const d = authorizer(a);
    if (!d.allowed) throw forbiddenError(a, d.reason);
  });
}
