// User impersonation, as kube-apiserver's WithImpersonation filter: `Impersonate-User`, `Impersonate-Group`
// (repeatable), `Impersonate-Uid` and `Impersonate-Extra-*` headers make the request run as another user
// (`kubectl --as=jane --as-group=dev`), once the real user is authorized for the `impersonate` verb on
// `users` (or `serviceaccounts` for `system:serviceaccount:ns:name`), on each `groups` and on `uids`
// (authentication.k8s.io). A denial is the 403 of that check. Groups without a user, or a uid without a
// user, are a 500 in kube; here a 400 with kube's text.

import { errors } from '../../../api/errors.js';
import type { UserInfo } from '../admission/chain.js';
import type { Attributes, Decision } from './rbac.js';
import { forbiddenError } from './rbac.js';

const header = (h: Record<string, string | string[] | undefined>, name: string): string[] => {
  const v = h[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
};

/** True when the request asks to impersonate. */
export function wantsImpersonation(h: Record<string, string | string[] | undefined>): boolean {
  return Object.keys(h).some((k) => k.startsWith('impersonate-'));
}

/**
 * The user the request runs as, after checking `actor` may impersonate it; throws 403 (or 400) otherwise.
 * `authorize` is the server's authorizer.
 */
export function impersonate(actor: UserInfo, h: Record<string, string | string[] | undefined>, authorize: (a: Attributes) => Decision): UserInfo {
  const userName = header(h, 'impersonate-user')[0];
  const groups = header(h, 'impersonate-group');
  const uid = header(h, 'impersonate-uid')[0];
  if (!userName) {
    if (groups.length || uid || Object.keys(h).some((k) => k.startsWith('impersonate-extra-')))
      throw errors.internal('requested [impersonate-group/impersonate-uid/impersonate-extra] without impersonating a user');
    return actor;
  }
  const checks: Attributes[] = [];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(userName);
  if (sa) checks.push({ user: actor, verb: 'impersonate', isResourceRequest: true, apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] });
  else checks.push({ user: actor, verb: 'impersonate', isResourceRequest: true, apiGroup: '', resource: 'users', name: userName });
  for (const g of groups) checks.push({ user: actor, verb: 'impersonate', isResourceRequest: true, apiGroup: '', resource: 'groups', name: g });
  if (uid) checks.push({ user: actor, verb: 'impersonate', isResourceRequest: true, apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const k of Object.keys(h).filter((x) => x.startsWith('impersonate-extra-')))
    for (const v of header(h, k)) checks.push({ user: actor, verb: 'impersonate', isResourceRequest: true, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k.slice('impersonate-extra-'.length), name: v });
  for (const a of checks) {
    const d = authorize(a);
    if (!d.allowed) throw forbiddenError(a, d.reason);
  }
  const all = [...groups];
  if (sa) all.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (userName !== 'system:anonymous' && !all.includes('system:authenticated')) all.push('system:authenticated');
  if (userName === 'system:anonymous' && !all.includes('system:unauthenticated')) all.push('system:unauthenticated');
  return { username: userName, uid: uid ?? '', groups: all };
}
