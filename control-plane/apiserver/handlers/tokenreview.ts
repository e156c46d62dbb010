// POST /apis/authentication.k8s.io/v1/tokenreviews: runs the API server's own token authentication (the
// static token file and ServiceAccount JWTs) on `spec.token` and answers as kube-apiserver does: 201 with
// `status.authenticated`, `status.user {username, uid, groups}` and `status.audiences`, or `status.error`.
// A ServiceAccount token also needs its ServiceAccount to exist with the uid it was issued for (a deleted
// and re-created account does not inherit old tokens), and its audiences to meet the requested ones.

import type { KubeObject } from '../../../api/meta.js';
import { errors } from '../../../api/errors.js';
import { ISSUER } from '../../controllers/serviceaccount/token.js';
import type { UserInfo } from '../admission/chain.js';

/** The server's authenticator, with the JWT claims when the token is a ServiceAccount token. */
export type TokenAuthenticator = (token: string) => { user: UserInfo; claims?: Record<string, any> } | undefined;

/** Reviews one TokenReview body. `serviceAccount(ns, name)` reads the ServiceAccount from the store. */
export async function reviewToken(body: KubeObject, authn: TokenAuthenticator, serviceAccount: (ns: string, name: string) => Promise<KubeObject | undefined>): Promise<KubeObject> {
  const spec = (body as any).spec ?? {};
  if (typeof spec.token !== 'string' || spec.token === '')
    throw errors.badRequest('token is required for TokenReview in authentication', [{ reason: 'FieldValueRequired', field: 'spec.token', message: 'Required value' }]);
  const wanted: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [ISSUER];
  const answer = (status: Record<string, unknown>): KubeObject => ({
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null as unknown as undefined, ...(body.metadata?.name ? { name: body.metadata.name } : {}) },
    spec: { token: spec.token, ...(spec.audiences ? { audiences: spec.audiences } : {}) }, status,
  } as KubeObject);
  const fail = (error: string) => answer({ authenticated: false, user: {}, error });
  const r = authn(spec.token);
  if (!r) return fail('[invalid bearer token, token lookup failed]');
  let audiences = wanted;
  if (r.claims) {
    const aud: string[] = ([] as string[]).concat(r.claims.aud ?? []);
    audiences = wanted.filter((a) => aud.includes(a));
    if (!audiences.length) return fail(`[invalid bearer token, token audiences ${JSON.stringify(aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]`);
    const k = r.claims['kubernetes.io'] ?? {};
    const sa = await serviceAccount(k.namespace, k.serviceaccount?.name);
    if (!sa) return fail(`[invalid bearer token, service account ${k.namespace}/${k.serviceaccount?.name} has been deleted]`);
    if (k.serviceaccount?.uid && sa.metadata.uid !== k.serviceaccount.uid)
      return fail(`[invalid bearer token, service account UID (${k.serviceaccount.uid}) does not match server's UID (${sa.metadata.uid})]`);
  }
  return answer({ authenticated: true, user: { username: r.user.username, uid: r.user.uid, groups: r.user.groups }, audiences });
}
