// The `authz-http` filter: Istio's AuthorizationPolicy on each HTTP request (see evaluate.ts); a denied
// request gets Envoy's RBAC answer, 403 `RBAC: access denied`, and the connection keeps serving.
// Config: `{policies: AuthzPolicy[]}` — the Workload's `authorization[]` as mesh control pushes it.
import type { AuthzPolicy } from '../../config/types.js';
import { respond, type FilterDefinition } from '../chain.js';
import { HttpAuthorizer } from './evaluate.js';

export interface AuthzHttpConfig {
  authorizer: HttpAuthorizer;
  /** Called with the reason of each denial and the AUDIT matches (logs, metrics). */
  onDecision?: (allow: boolean, reason: string, audit: string[]) => void;
}

const ACTIONS = ['ALLOW', 'DENY', 'AUDIT'];

export const authzHttpFilter: FilterDefinition<AuthzHttpConfig> = {
  name: 'authz-http',
  parse(raw: any, path) {
    const errors: string[] = [];
    const policies: AuthzPolicy[] = raw?.policies ?? [];
    if (!Array.isArray(policies)) return { errors: [`${path}.policies: must be a list`] };
    policies.forEach((p, i) => {
      const action = p.action || 'ALLOW';
      if (!ACTIONS.includes(action)) errors.push(`${path}.policies[${i}].action: unsupported action ${JSON.stringify(p.action)} (supported: ${ACTIONS.join(', ')})`);
      (p.rules ?? []).forEach((r, j) => (r.to ?? []).forEach((t, k) => (t.operation?.methods ?? []).forEach((m, l) => {
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) errors.push(`${path}.policies[${i}].rules[${j}].to[${k}].operation.methods[${l}]: invalid method ${JSON.stringify(m)}`);
      })));
    });
    if (raw?.onDecision !== undefined && typeof raw.onDecision !== 'function') errors.push(`${path}.onDecision: must be a function`);
    return errors.length ? { errors } : { config: { authorizer: new HttpAuthorizer(policies), ...(raw?.onDecision ? { onDecision: raw.onDecision } : {}) }, errors };
  },
  make: (cfg) => (next) => (ctx) => {
    const p = ctx.peer;
    const d = cfg.authorizer.evaluate({
      principal: p.principal, namespace: p.namespace, sourceIp: p.sourceIp, remoteIp: p.sourceIp, destinationIp: p.destinationIp,
      destinationPort: p.destinationPort, ...(p.sni ? { sni: p.sni } : {}),
      method: ctx.head.method, host: ctx.head.host, path: ctx.head.target, headers: ctx.head.headers, ...(ctx.auth ? { auth: ctx.auth } : {}),
    });
    cfg.onDecision?.(d.allow, d.reason, d.audit);
    return d.allow ? next(ctx) : respond(403, 'RBAC: access denied');
  },
};
