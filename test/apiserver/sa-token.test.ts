// Service-account tokens (JWTs signed with the controller manager's key) authenticate against the API
// server; a tampered or foreign token does not.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../control-plane/apiserver/server.js';
import { openStore } from '../../control-plane/store/open.js';
import { serviceAccountToken } from '../../control-plane/controllers/serviceaccount/token.js';

t.test('service-account bearer tokens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-satoken-'));
  const store = await openStore(join(dir, 'db.sqlite'));
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const priv = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // authentication only: what these identities may do is test/apiserver/rbac.test.ts's subject
  const server = buildServer({ store, tokens: new Map(), serviceAccountPublicKey: pub, processMetrics: false, authorization: false });
  await server.bootstrap();
  t.teardown(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const token = serviceAccountToken(priv, { namespace: 'default', name: 'default', uid: 'u-1' });
  const ok = await server.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/configmaps', headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.statusCode, 200, ok.body);
  const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const bad = await server.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/configmaps', headers: { authorization: `Bearer ${tampered}` } });
  t.equal(bad.statusCode, 401);
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const foreign = serviceAccountToken(other, { namespace: 'default', name: 'default', uid: 'u-1' });
  const f = await server.app.inject({ method: 'GET', url: '/api/v1/namespaces/default/configmaps', headers: { authorization: `Bearer ${foreign}` } });
  t.equal(f.statusCode, 401, 'a token signed by another key is refused');
});
