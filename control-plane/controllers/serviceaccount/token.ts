// Service account tokens: RS256 JWTs in the Kubernetes shape (`iss`, `sub:
// system:serviceaccount:<ns>:<name>`, `aud`, and the `kubernetes.io` claim with namespace, service
// account name and uid), signed with a key kept in the state dir (`<home>/pki/sa.key`, public half
// `sa.pub`, made on first use with mode 0600). The API server verifies them with `sa.pub`.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Issuer and audience of the tokens (kube's default for in-cluster tokens). */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The key pair's PEMs, made if missing. */
export function ensureServiceAccountKey(keyPath: string): { privateKeyPem: string; publicKeyPem: string; publicKeyPath: string } {
  const pubPath = join(dirname(keyPath), 'sa.pub');
  if (!existsSync(keyPath)) {
    mkdirSync(dirname(keyPath), { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privateKeyPem = readFileSync(keyPath, 'utf8');
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(pubPath) || readFileSync(pubPath, 'utf8') !== publicKeyPem) writeFileSync(pubPath, publicKeyPem, { mode: 0o644 });
  return { privateKeyPem, publicKeyPem, publicKeyPath: pubPath };
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A signed token for a service account (no expiry, like the legacy Secret-based tokens). */
export function serviceAccountToken(privateKeyPem: string, sa: { namespace: string; name: string; uid: string; secretName?: string }, nowMs = Date.now()): string {
  const header = { alg: 'RS256', typ: 'JWT' };
  const claims = {
    iss: ISSUER,
    aud: [ISSUER],
    sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    iat: Math.floor(nowMs / 1000),
    nbf: Math.floor(nowMs / 1000),
    'kubernetes.io': { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid }, ...(sa.secretName ? { secret: { name: sa.secretName } } : {}) },
  };
  const body = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${body}.${b64u(sign('sha256', Buffer.from(body), privateKeyPem))}`;
}

/** Verify a token's signature and return its claims, or undefined (for the API server and tests). */
export function verifyServiceAccountToken(publicKeyPem: string, token: string): Record<string, any> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKeyPem, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
