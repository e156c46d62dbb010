// Authentication, the first layer: every request gets a `req.user` before routing. Bearer tokens from
// the static token file, then service-account JWTs (verified with the controller manager's public key,
// cached) through one authenticator that TokenReview shares; health and version paths also answer
// anonymously. Without a token map (in-process tests)
// every request is the API server itself.

import type { FastifyInstance } from 'fastify';
import { errors } from '../../../api/errors.js';
import type { UserInfo } from '../admission/chain.js';
import type { TokenUser } from '../pki.js';
import { verifyServiceAccountToken } from '../../controllers/serviceaccount/token.js';
import type { TokenAuthenticator } from '../handlers/tokenreview.js';
import { ADMIN } from './core.js';

const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);
const SA_CACHE_MAX = 10_000;

/** Settings of the authentication layer. */
export interface AuthnOptions {
  /** bearer token → user; authentication is off when undefined (tests only) */
  tokens?: Map<string, TokenUser>;
  /** PEM public key that verifies service-account tokens */
  serviceAccountPublicKey?: string;
}

/** A verified service-account token: its user and claims, cached (`undefined`: not one of ours). */
function serviceAccountTokens(publicKey: string | undefined): (token: string) => { user: UserInfo; claims: Record<string, any> } | undefined {
  const cache = new Map<string, { user: UserInfo; claims: Record<string, any> } | null>();
  return (token) => {
    if (!publicKey || token.split('.').length !== 3) return undefined;
    let u = cache.get(token);
    if (u === undefined) {
      const claims = verifyServiceAccountToken(publicKey, token);
      const sa = claims?.['kubernetes.io'];
      u = claims && typeof claims.sub === 'string' && claims.sub.startsWith('system:serviceaccount:') && sa?.namespace
        ? { user: { username: claims.sub, uid: String(sa.serviceaccount?.uid ?? ''), groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] }, claims }
        : null;
      if (cache.size > SA_CACHE_MAX) cache.clear();
      cache.set(token, u);
    }
    return u ?? undefined;
  };
}

/** The one token authenticator, for requests (below) and for TokenReview (handlers/tokenreview.ts). */
export function tokenAuthenticator(o: AuthnOptions): TokenAuthenticator {
  const serviceAccount = serviceAccountTokens(o.serviceAccountPublicKey);
  return (token) => {
    const u = o.tokens?.get(token);
    if (u) return { user: { username: u.name, uid: u.uid, groups: [...u.groups, 'system:authenticated'] } };
    const sa = serviceAccount(token);
    return sa ? { user: { ...sa.user, groups: [...sa.user.groups, 'system:authenticated'] }, claims: sa.claims } : undefined;
  };
}

/** The onRequest hook that sets `req.user` or answers 401. */
export function authnLayer(app: FastifyInstance, o: AuthnOptions, authenticate: TokenAuthenticator): void {
  const tokens = o.tokens;
  app.addHook('onRequest', async (req) => {
    if (!tokens) {
      req.user = ADMIN;
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const who = token ? authenticate(token) : undefined;
    if (who) req.user = who.user;
    else if (ANONYMOUS_PATHS.has(req.url.split('?')[0]!)) req.user = { username: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };
    else throw errors.unauthorized();
  });
}
