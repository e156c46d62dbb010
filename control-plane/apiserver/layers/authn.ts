// Authentication, the first layer: every request gets a `req.user` before routing. Bearer tokens from
// the static token file, then service-account JWTs (verified with the controller manager's public key,
// cached); health and version paths also answer anonymously. Without a token map (in-process tests)
// every request is the API server itself.

import type { FastifyInstance } from 'fastify';
import { errors } from '../../../api/errors.js';
import type { UserInfo } from '../admission/chain.js';
import type { TokenUser } from '../pki.js';
import { verifyServiceAccountToken } from '../../controllers/serviceaccount/token.js';
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

/** A service-account token's user, or undefined (not a JWT, bad signature, not a service account). */
function serviceAccountAuthenticator(publicKey: string | undefined): (token: string) => UserInfo | undefined {
  const cache = new Map<string, UserInfo | null>();
  return (token) => {
    if (!publicKey || token.split('.').length !== 3) return undefined;
    let u = cache.get(token);
    if (u === undefined) {
      const claims = verifyServiceAccountToken(publicKey, token);
      const sa = claims?.['kubernetes.io'];
      u = typeof claims?.sub === 'string' && claims.sub.startsWith('system:serviceaccount:') && sa?.namespace
        ? { username: claims.sub, uid: String(sa.serviceaccount?.uid ?? ''), groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] }
        : null;
      if (cache.size > SA_CACHE_MAX) cache.clear();
      cache.set(token, u);
    }
    return u ?? undefined;
  };
}

/** The onRequest hook that sets `req.user` or answers 401. */
export function authnLayer(app: FastifyInstance, o: AuthnOptions): void {
  const tokens = o.tokens;
  const serviceAccountUser = serviceAccountAuthenticator(o.serviceAccountPublicKey);
  app.addHook('onRequest', async (req) => {
    if (!tokens) {
      req.user = ADMIN;
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const u = token ? tokens.get(token) : undefined;
    const sa = !u && token ? serviceAccountUser(token) : undefined;
    if (u) req.user = { username: u.name, uid: u.uid, groups: [...u.groups, 'system:authenticated'] };
    else if (sa) req.user = { ...sa, groups: [...sa.groups, 'system:authenticated'] };
    else if (ANONYMOUS_PATHS.has(req.url.split('?')[0]!)) req.user = { username: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };
    else throw errors.unauthorized();
  });
}
