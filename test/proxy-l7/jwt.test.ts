// RequestAuthentication in the proxy (filters/jwt-authn) and the JWT fields of AuthorizationPolicy
// (authz-http: requestPrincipals, request.auth.* conditions), with tokens signed by jose and key sets as
// an identity provider publishes them; and mesh control's side (model/jwt.ts: selection, jwksUri fetched
// once and inlined, fail closed while missing).
import t from 'tap';
import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { buildChain, viewOf, type HttpContext, type PeerInfo } from '../../proxy/filters/chain.js';
import { BUILTIN_FILTERS } from '../../proxy/filters/registry.js';
import { importJwks, verifyJwt } from '../../proxy/filters/jwt-authn/filter.js';
import type { RequestHead } from '../../proxy/http1/parse.js';
import type { AuthzPolicy, JwtRule } from '../../proxy/config/types.js';
import { JwksCache, jwtRulesFor } from '../../control-plane/mesh/model/jwt.js';

const ISS = 'https://idp.example.test';
const peer: PeerInfo = { principal: 'cluster.local/ns/foo/sa/client', namespace: 'foo', sourceIp: '10.0.0.2', destinationIp: '10.0.0.3', destinationPort: 8080, sourceLabels: {} };
const head = (target: string, headers: string[] = []): RequestHead => ({ method: 'GET', target, host: 'web', headers: ['host', 'web', ...headers] } as unknown as RequestHead);

t.test('tokens of every signing algorithm, and what fails', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const keys: Record<string, { priv: any; jwk: any }> = {};
  for (const alg of ['RS256', 'PS384', 'ES256', 'ES384', 'EdDSA']) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    keys[alg] = { priv: privateKey, jwk: { ...(await exportJWK(publicKey)), kid: `k-${alg}`, alg, use: 'sig' } };
  }
  const jwks = JSON.stringify({ keys: Object.values(keys).map((k) => k.jwk) });
  t.equal(importJwks(jwks).keys.length, 5, 'the key set imports');
  const rule: JwtRule = { issuer: ISS, audiences: ['bookinfo'], jwks };
  const c = { rule, keys: importJwks(jwks).keys, error: '' };
  const sign = (alg: string, claims: Record<string, unknown> = {}, kid = `k-${alg}`) =>
    new SignJWT({ sub: 'jason', aud: 'bookinfo', groups: ['admins', 'dev'], exp: now + 600, ...claims }).setProtectedHeader({ alg, kid }).setIssuer(ISS).setIssuedAt(now).sign(keys[alg].priv);
  for (const alg of Object.keys(keys)) t.same(verifyJwt(await sign(alg), c).claims?.sub, 'jason', `${alg} verifies`);
  t.equal(verifyJwt(await sign('ES256', { exp: now - 120 }), c).error, 'Jwt is expired');
  t.notOk(verifyJwt(await sign('ES256', { exp: now - 30 }), c).error, 'within the 60 s skew');
  t.equal(verifyJwt(await sign('ES256', { aud: 'other' }), c).error, 'Audiences in Jwt are not allowed');
  t.equal(verifyJwt(await sign('ES256', {}, 'unknown-kid'), c).error, "Jwks doesn't have key to match kid or alg from Jwt");
  const good = await sign('RS256');
  const [h, p] = good.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${good.split('.')[2]}`;
  t.equal(verifyJwt(tampered, c).error, 'Jwt verification fails', 'a changed payload fails the signature');
  t.match(verifyJwt('abc.def', c).error, /two dots/);
  t.equal(importJwks('{"keys":[{"kty":"RSA","n":"!!"}]}').keys.length, 0, 'an unusable key is skipped');
  t.match(importJwks('nope').error, /not JSON/);

  // the inbound chain: jwt-authn → authz-http → the app
  const policies: AuthzPolicy[] = [
    { name: 'jwt-required', namespace: 'foo', action: 'ALLOW', rules: [
      { from: [{ source: { requestPrincipals: [`${ISS}/*`] } }], to: [{ operation: { paths: ['/user/*'] } }] },
      { to: [{ operation: { paths: ['/admin/*'] } }], when: [{ key: 'request.auth.claims[groups]', values: ['admins'] }, { key: 'request.auth.audiences', values: ['bookinfo'] }] },
      { to: [{ operation: { paths: ['/public/*'] } }] },
    ] },
  ];
  const seen: HttpContext[] = [];
  const built = buildChain([
    { name: 'jwt-authn', config: { rules: [{ ...rule, outputPayloadToHeader: 'x-jwt-payload', outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }] }] } },
    { name: 'authz-http', config: { policies } },
  ], BUILTIN_FILTERS, (ctx) => { seen.push(ctx); return { kind: 'respond', status: 200, headers: [], body: 'app' }; });
  t.same(built.errors, []);
  const run = (target: string, headers: string[] = []) => {
    const hd = head(target, headers);
    return built.handler!({ head: hd, view: viewOf(hd, peer, 8080), peer, responseOps: [] });
  };
  const bearer = (tok: string) => ['authorization', `Bearer ${tok}`];
  t.match(run('/public/x'), { status: 200 }, 'no token: allowed where no principal is required');
  t.match(run('/user/1'), { status: 403, body: 'RBAC: access denied' }, 'no token: requestPrincipals does not match');
  t.match(run('/user/1', bearer(good)), { status: 200 }, 'a valid token: request principal iss/sub');
  const ctx = seen.at(-1)!;
  t.equal(ctx.auth?.principal, `${ISS}/jason`);
  t.notOk(ctx.head.headers.includes('authorization'), 'the token is not forwarded (forwardOriginalToken false)');
  t.equal(ctx.head.headers[ctx.head.headers.indexOf('x-user') + 1], 'jason', 'outputClaimToHeaders');
  t.equal(JSON.parse(Buffer.from(ctx.head.headers[ctx.head.headers.indexOf('x-jwt-payload') + 1], 'base64url').toString()).sub, 'jason', 'outputPayloadToHeader');
  t.match(run('/user/1', bearer(tampered)), { status: 401, body: 'Jwt verification fails' }, 'a bad token: 401 even where none is needed');
  t.match(run('/public/x', bearer(await sign('ES256', { exp: now - 3600 }))), { status: 401, body: 'Jwt is expired' });
  t.match(run('/admin/x', bearer(good)), { status: 200 }, 'claims[groups] contains admins');
  t.match(run('/admin/x', bearer(await sign('ES256', { groups: ['dev'] }))), { status: 403 }, 'not an admin');
  const other = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'k-ES256' }).setIssuer('https://other').sign(keys.ES256.priv);
  t.match(run('/public/x', bearer(other)), { status: 401, body: 'Jwt issuer is not configured' });
  t.match(run('/user/1?access_token=' + good), { status: 200 }, 'the token from the access_token parameter');
});

t.test('mesh control: RequestAuthentication selection and jwksUri fetched once, inlined', async (t) => {
  let fetches = 0;
  const body = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'a' }] });
  const srv = createServer((_req, res) => { fetches++; res.end(body); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const uri = `http://127.0.0.1:${(srv.address() as any).port}/jwks.json`;
  let changes = 0;
  const cache = new JwksCache(() => changes++);
  t.same(cache.get(uri), { jwks: '', error: 'fetching' }, 'not fetched yet: empty (tokens fail closed)');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(cache.get(uri).jwks, body, 'fetched and kept');
  cache.get(uri);
  t.equal(fetches, 1, 'fetched once');
  t.equal(changes, 1, 'the change triggered a push');
  const bad = new JwksCache(() => {});
  bad.get('http://127.0.0.1:1/none');
  await new Promise((r) => setTimeout(r, 300));
  t.match(bad.get('http://127.0.0.1:1/none').error, /jwksUri http:\/\/127\.0\.0\.1:1\/none: /, 'a failed fetch says why');

  const ra = (ns: string, name: string, spec: any) => ({ metadata: { namespace: ns, name, creationTimestamp: '2026-01-01T00:00:00Z' }, spec } as any);
  const all = [
    ra('foo', 'web', { selector: { matchLabels: { app: 'web' } }, jwtRules: [{ issuer: ISS, jwksUri: uri, audiences: ['a'], forwardOriginalToken: true }] }),
    ra('foo', 'other', { selector: { matchLabels: { app: 'other' } }, jwtRules: [{ issuer: 'x', jwks: '{"keys":[]}' }] }),
    ra('istio-system', 'mesh', { jwtRules: [{ issuer: 'https://mesh', jwks: '{"keys":[]}', fromHeaders: [{ name: 'x-token' }] }] }),
  ];
  const rules = jwtRulesFor({ namespace: 'foo', labels: { app: 'web' } }, all, () => undefined, (u) => cache.get(u));
  t.same(rules.map((r) => [r.issuer, r.source, !!r.jwks, r.forwardOriginalToken]), [[ISS, 'foo/web', true, true], ['https://mesh', 'istio-system/mesh', true, false]],
    'the workload-selected rule (key set inline) and the mesh-wide one; not the other workload\'s');
  t.same(rules[1].fromHeaders, [{ name: 'x-token', prefix: '' }]);
});
