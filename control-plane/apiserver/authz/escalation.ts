// RBAC's escalation prevention, as kube's role and binding storage: a user may create or update a Role or
// ClusterRole only with rules they already hold (in that namespace) or with the `escalate` verb on it, and
// may bind a role only when they hold every rule in it or the `bind` verb on it. system:masters may do
// anything. Denials are kube's 403: `... is forbidden: user "x" (groups=["a" "b"]) is attempting to grant
// RBAC permissions not currently held:` followed by the rules missing, one per line.

import { ApiError, errors } from '../../../api/errors.js';
import type { AdmissionPlugin, AdmissionRequest, AdmissionResult, UserInfo } from '../admission/chain.js';
import type { Attributes, Decision, PolicyRule, RbacSource } from './rbac.js';
import { rulesFor, SYSTEM_MASTERS } from './rbac.js';

const G = 'rbac.authorization.k8s.io';

/** One verb on one group/resource/name, or one verb on one URL. */
type Atom = { verb: string; group?: string; resource?: string; name?: string; url?: string };

function atoms(r: PolicyRule): Atom[] {
  const out: Atom[] = [];
  for (const verb of r.verbs ?? []) {
    if (r.nonResourceURLs?.length) for (const url of r.nonResourceURLs) out.push({ verb, url });
    else
      for (const group of r.apiGroups ?? [])
        for (const resource of r.resources ?? [])
          if (r.resourceNames?.length) for (const name of r.resourceNames) out.push({ verb, group, resource, name });
          else out.push({ verb, group, resource });
  }
  return out;
}

const hasLiteral = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** ruleCovers: the owner rule grants the atom (an owner `*` covers all, a requested `*` only an owner `*`). */
function covers(owner: PolicyRule, a: Atom): boolean {
  if (!hasLiteral(owner.verbs, a.verb)) return false;
  if (a.url !== undefined) return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === a.url || (u.endsWith('*') && a.url!.startsWith(u.slice(0, -1))));
  if (!hasLiteral(owner.apiGroups, a.group!)) return false;
  const res = owner.resources ?? [];
  const sub = a.resource!.includes('/') ? a.resource!.slice(a.resource!.indexOf('/')) : '';
  if (!(res.includes('*') || res.includes(a.resource!) || (sub && res.includes(`*${sub}`)))) return false;
  if (!owner.resourceNames?.length) return true;
  return a.name !== undefined && owner.resourceNames.includes(a.name);
}

/** kube's CompactString of a rule. */
function compact(r: PolicyRule): string {
  const q = (l: string[]) => `[${l.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs ?? [])}`);
  return `{${parts.join(', ')}}`;
}

/** The rules among `wanted` that `user` does not hold in `namespace`, each broken down to one verb/resource. */
export function notCovered(source: RbacSource, user: UserInfo, namespace: string, wanted: PolicyRule[]): { missing: PolicyRule[]; errors: string[] } {
  const { rules, errors } = rulesFor(source, user, namespace);
  const missing: PolicyRule[] = [];
  for (const w of wanted)
    for (const a of atoms(w))
      if (!rules.some((o) => covers(o, a)))
        missing.push(a.url !== undefined ? { verbs: [a.verb], nonResourceURLs: [a.url] } : { verbs: [a.verb], apiGroups: [a.group!], resources: [a.resource!], ...(a.name !== undefined ? { resourceNames: [a.name] } : {}) });
  return { missing, errors };
}

/** The admission plugin guarding roles, clusterroles, rolebindings and clusterrolebindings. */
export function escalationPlugin(source: RbacSource, authorize: (a: Attributes) => Decision): AdmissionPlugin {
  return {
    name: 'RBACEscalation',
    resources: ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'],
    validate(req: AdmissionRequest): AdmissionResult {
      const user = req.userInfo;
      const obj: any = req.object;
      if (!obj || (req.operation !== 'CREATE' && req.operation !== 'UPDATE') || req.subresource || user.groups.includes(SYSTEM_MASTERS)) return { allowed: true };
      const plural = req.resource.plural;
      const ns = req.resource.namespaced ? req.namespace : '';
      const may = (verb: string, resource: string, name: string, namespace: string) => authorize({ user, verb, isResourceRequest: true, apiGroup: G, resource, name, namespace }).allowed;
      let wanted: PolicyRule[];
      if (plural === 'roles' || plural === 'clusterroles') {
        if (may('escalate', plural, req.name, ns)) return { allowed: true };
        wanted = obj.rules ?? [];
      } else {
        const ref = obj.roleRef ?? {};
        const refPlural = ref.kind === 'Role' ? 'roles' : 'clusterroles';
        if (may('bind', refPlural, ref.name, ns)) return { allowed: true };
        const role: any = ref.kind === 'Role' ? source.role(ns, ref.name) : source.clusterRole(ref.name);
        if (!role) throw errors.notFound(refPlural, G, ref.name);
        wanted = role.rules ?? [];
      }
      const { missing, errors: resolution } = notCovered(source, user, ns, wanted);
      if (!missing.length) return { allowed: true };
      let msg = `user ${JSON.stringify(user.username)} (groups=[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(compact).join('\n')}`;
      if (resolution.length) msg += `; resolution errors: [${resolution.join(' ')}]`;
      const qualified = `${plural}.${G}`;
      throw new ApiError('Forbidden', `${qualified} ${JSON.stringify(req.name || obj.metadata?.name || '')} is forbidden: ${msg}`, { group: G, kind: plural, name: req.name || obj.metadata?.name || '' });
    },
  };
}
