// Authenticating mesh callers: the gRPC call's `authorization: Bearer <token>` is checked with a
// TokenReview (authentication.k8s.io/v1) against the API server, as istiod does, so mesh control needs
// no key of its own and works against any Kubernetes API. Results are cached for a minute by token
// digest (istiod caches too); only ServiceAccount users are accepted.

import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { KubeClient } from '../../../api/client/index.js';
import type { Caller } from '../xds/server.js';

const TOKEN_REVIEWS = { apiVersion: 'authentication.k8s.io/v1', plural: 'tokenreviews', namespaced: false };

function refused(code: grpc.status, details: string): grpc.StatusObject & Error {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** `system:serviceaccount:<ns>:<sa>` → {namespace, serviceAccount}. */
export function parseServiceAccountUser(username: string): Caller | undefined {
  const m = /^system:serviceaccount:([a-z0-9-]+):([a-z0-9.-]+)$/.exec(username);
  return m ? { namespace: m[1]!, serviceAccount: m[2]! } : undefined;
}

/** A cached TokenReview authenticator for gRPC metadata. */
export class TokenReviewer {
  private readonly cache = new Map<string, { caller?: Caller; error?: string; expires: number }>();
  /** reviews sent to the API server (tests check the cache works) */
  reviews = 0;

  constructor(private readonly client: KubeClient, private readonly o: { audiences?: string[]; ttlMs?: number } = {}) {}

  /** The caller, or throws a gRPC status error (UNAUTHENTICATED). */
  async authenticate(md: grpc.Metadata): Promise<Caller> {
    const header = String(md.get('authorization')[0] ?? '');
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!token) throw refused(grpc.status.UNAUTHENTICATED, 'no "authorization: Bearer <token>" metadata');
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    let hit = this.cache.get(key);
    if (!hit || hit.expires < now) {
      hit = await this.review(token).then((caller) => ({ caller, expires: now + (this.o.ttlMs ?? 60_000) }), (e: Error) => ({ error: e.message, expires: now + 5_000 }));
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, hit);
    }
    if (!hit.caller) throw refused(grpc.status.UNAUTHENTICATED, `token review: ${hit.error}`);
    return hit.caller;
  }

  private async review(token: string): Promise<Caller> {
    this.reviews++;
    const tr: any = await this.client.create(TOKEN_REVIEWS, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {},
      spec: { token, ...(this.o.audiences ? { audiences: this.o.audiences } : {}) },
    } as any);
    if (!tr.status?.authenticated) throw new Error(tr.status?.error || 'token not authenticated');
    const caller = parseServiceAccountUser(tr.status.user?.username ?? '');
    if (!caller) throw new Error(`user ${JSON.stringify(tr.status.user?.username)} is not a ServiceAccount`);
    return caller;
  }
}
