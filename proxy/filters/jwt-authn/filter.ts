// The `jwt-authn` filter: Istio's RequestAuthentication in the sidecar (Envoy's jwt_authn, as istiod
// configures it). For each request, the token is taken from the rules' locations (default `Authorization:
// Bearer …`, query `access_token`); no token → the request goes on without a request principal (an
// AuthorizationPolicy decides whether that is enough); a token → it must verify against the rule whose
// issuer is its `iss`: signature with a key of that rule's key set (RS/PS/ES 256–512, EdDSA; `kid` and
// `alg` must fit), `exp`/`nbf` with 60 s skew, `aud` among the rule's audiences when it lists some. Failure
// → 401 with Envoy's texts (`Jwt verification fails`, `Jwt is expired`, `Jwt issuer is not configured`,
// `Jwks doesn't have key to match kid or alg from Jwt`). Success → `ctx.auth` (principal `iss/sub`, claims,
// audiences, presenter `azp`) for authz-http; the token is removed unless `forwardOriginalToken`;
// `outputPayloadToHeader` and `outputClaimToHeaders` add headers.
// Parsing is jose's (decodeJwt/decodeProtectedHeader, synchronous); keys are imported once per config with
// node:crypto (createPublicKey from JWK) and verified synchronously: the chain runs per request without
// awaiting (jose's verify is asynchronous).
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { JwtRule } from '../../config/types.js';
import { respond, type FilterDefinition, type HttpContext } from '../chain.js';

interface Key { kid?: string; alg?: string; kty: string; crv?: string; key: KeyObject }
interface Compiled { rule: JwtRule; keys: Key[]; error: string }

export interface JwtAuthnConfig {
  rules: readonly Compiled[];
  onDecision?: (ok: boolean, reason: string) => void;
}

const ALGS: Record<string, { hash: string | null; kty: string; pss?: boolean; crv?: string }> = {
  RS256: { hash: 'sha256', kty: 'RSA' }, RS384: { hash: 'sha384', kty: 'RSA' }, RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true }, PS384: { hash: 'sha384', kty: 'RSA', pss: true }, PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' }, ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' }, ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
  EdDSA: { hash: null, kty: 'OKP' },
};

/** Parses a key set; returns the usable keys and what was wrong. */
export function importJwks(text: string): { keys: Key[]; error: string } {
  if (!text) return { keys: [], error: 'empty key set' };
  let set: any;
  try { set = JSON.parse(text); } catch (e) { return { keys: [], error: `not JSON: ${(e as Error).message}` }; }
  if (!Array.isArray(set?.keys)) return { keys: [], error: 'no "keys" array' };
  const keys: Key[] = [];
  const errs: string[] = [];
  set.keys.forEach((k: any, i: number) => {
    if (k?.use && k.use !== 'sig') return;
    try {
      keys.push({ kid: k.kid, alg: k.alg, kty: k.kty, crv: k.crv, key: createPublicKey({ key: k, format: 'jwk' }) });
    } catch (e) {
      errs.push(`keys[${i}]: ${(e as Error).message}`);
    }
  });
  return { keys, error: errs.join('; ') };
}

const b64u = (s: string): Buffer => Buffer.from(s, 'base64url');

/** Verifies `token` against `c`; the claims or Envoy's failure text. */
export function verifyJwt(token: string, c: Compiled, nowSec = Date.now() / 1000): { claims?: Record<string, any>; error?: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' };
  let header: any, claims: any;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return { error: 'Jwt header is an invalid JSON' };
  }
  const alg = ALGS[header.alg];
  if (!alg) return { error: 'Jwt verification fails' };
  const candidates = c.keys.filter((k) => k.kty === alg.kty && (!alg.crv || k.crv === alg.crv) && (!k.alg || k.alg === header.alg) && (!header.kid || !k.kid || k.kid === header.kid));
  if (candidates.length === 0) return { error: "Jwks doesn't have key to match kid or alg from Jwt" };
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = b64u(parts[2]);
  const ok = candidates.some((k) => {
    try {
      if (alg.kty === 'EC') return cryptoVerify(alg.hash!, data, { key: k.key, dsaEncoding: 'ieee-p1363' }, sig);
      if (alg.pss) return cryptoVerify(alg.hash!, data, { key: k.key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -1 /* digest length */ }, sig);
      return cryptoVerify(alg.hash, data, k.key, sig);
    } catch {
      return false;
    }
  });
  if (!ok) return { error: 'Jwt verification fails' };
  const skew = 60;
  if (typeof claims.exp === 'number' && nowSec > claims.exp + skew) return { error: 'Jwt is expired' };
  if (typeof claims.nbf === 'number' && nowSec + skew < claims.nbf) return { error: 'Jwt not yet valid' };
  const auds = c.rule.audiences ?? [];
  if (auds.length) {
    const have = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
    if (!have.some((a: string) => auds.includes(a))) return { error: 'Audiences in Jwt are not allowed' };
  }
  return { claims };
}

/** Where a rule looks for its token: headers (name, prefix) and query parameters. */
function tokenOf(ctx: HttpContext, rule: JwtRule): { token: string; header?: string } | undefined {
  const from = rule.fromHeaders?.length || rule.fromParams?.length ? rule.fromHeaders ?? [] : [{ name: 'authorization', prefix: 'Bearer ' }];
  const h = ctx.head.headers;
  for (const f of from) {
    const name = f.name.toLowerCase();
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] !== name) continue;
      const v = h[i + 1];
      const prefix = f.prefix ?? '';
      if (v.length > prefix.length && v.toLowerCase().startsWith(prefix.toLowerCase())) return { token: v.slice(prefix.length).trim(), header: name };
    }
  }
  const params = rule.fromHeaders?.length || rule.fromParams?.length ? rule.fromParams ?? [] : ['access_token'];
  const q = ctx.head.target.indexOf('?');
  if (q !== -1 && params.length) {
    const sp = new URLSearchParams(ctx.head.target.slice(q + 1));
    for (const p of params) { const v = sp.get(p); if (v) return { token: v }; }
  }
  return undefined;
}

const claimOf = (claims: Record<string, any>, path: string): string => {
  let v: any = claims;
  for (const k of path.split('.')) v = v?.[k];
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
};

export const jwtAuthnFilter: FilterDefinition<JwtAuthnConfig> = {
  name: 'jwt-authn',
  parse(raw: any, path) {
    const rules: JwtRule[] = raw?.rules ?? [];
    if (!Array.isArray(rules)) return { errors: [`${path}.rules: must be a list`] };
    const errors: string[] = [];
    const compiled = rules.map((rule, i): Compiled => {
      if (!rule.issuer) errors.push(`${path}.rules[${i}].issuer: required`);
      const { keys, error } = importJwks(rule.jwks);
      // a key set that is missing or unusable is not a config error: tokens of this issuer fail (fail closed)
      return { rule, keys, error: rule.jwksError || error };
    });
    if (raw?.onDecision !== undefined && typeof raw.onDecision !== 'function') errors.push(`${path}.onDecision: must be a function`);
    return errors.length ? { errors } : { config: { rules: compiled, ...(raw?.onDecision ? { onDecision: raw.onDecision } : {}) }, errors };
  },
  make: (cfg) => (next) => {
    if (cfg.rules.length === 0) return next;
    return (ctx) => {
      let found: { token: string; header?: string; c: Compiled } | undefined;
      for (const c of cfg.rules) {
        const t = tokenOf(ctx, c.rule);
        if (t) { found = { ...t, c }; break; }
      }
      if (!found) return next(ctx);
      let iss = '';
      try { iss = String(decodeJwt(found.token).iss ?? ''); } catch { /* verifyJwt says why */ }
      const c = cfg.rules.find((r) => r.rule.issuer === iss && tokenOf(ctx, r.rule)?.token === found!.token);
      if (!c) {
        cfg.onDecision?.(false, 'Jwt issuer is not configured');
        return respond(401, 'Jwt issuer is not configured');
      }
      const v = verifyJwt(found.token, c);
      if (!v.claims) {
        cfg.onDecision?.(false, v.error!);
        return respond(401, v.error!);
      }
      const claims = v.claims;
      const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : claims.aud !== undefined ? [String(claims.aud)] : [];
      ctx.auth = { principal: `${claims.iss}/${claims.sub}`, claims, audiences: aud, presenter: String(claims.azp ?? '') };
      cfg.onDecision?.(true, ctx.auth.principal);
      let headers = ctx.head.headers;
      if (!c.rule.forwardOriginalToken && found.header) {
        const drop = found.header;
        headers = headers.filter((_, i) => (i % 2 === 0 ? headers[i] !== drop : headers[i - 1] !== drop));
      }
      const add: string[] = [];
      if (c.rule.outputPayloadToHeader) add.push(c.rule.outputPayloadToHeader.toLowerCase(), found.token.split('.')[1]);
      for (const o of c.rule.outputClaimToHeaders ?? []) add.push(o.header.toLowerCase(), claimOf(claims, o.claim));
      if (headers !== ctx.head.headers || add.length) ctx.head = { ...ctx.head, headers: [...headers, ...add] };
      return next(ctx);
    };
  },
};
