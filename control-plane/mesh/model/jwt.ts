// RequestAuthentication → the Workload's jwtRules (selection as AuthorizationPolicy's: selector or
// targetRef in the workload's namespace, namespace-wide, or mesh-wide from the root namespace), each with
// its JSON Web Key Set inline: `jwks` as written, or `jwksUri` fetched by mesh control (as istiod does, so
// proxies never fetch), cached and refreshed every 20 minutes (Istio's default refresh interval). A key set
// not fetched yet is pushed empty with the reason; tokens of that issuer then fail, as Envoy fails closed.
import type { KubeObject } from '../../../api/meta.js';
import type { JwtRule } from '../../../proto/types.js';
import { applicableAuthorizationPolicies, ROOT_NAMESPACE, type ServiceRef, type WorkloadRef } from './selection.js';

/** Fetched key sets by URI; `onChange` after a fetch that changed one (the caller pushes). */
export class JwksCache {
  private readonly byUri = new Map<string, { jwks: string; error: string; at: number; inflight: boolean }>();

  constructor(private readonly onChange: () => void, private readonly fetchFn: typeof fetch = fetch, private readonly refreshMs = 20 * 60_000) {}

  /** The key set for `uri` now ('' while fetching or after a failure, with the reason). */
  get(uri: string): { jwks: string; error: string } {
    let e = this.byUri.get(uri);
    if (!e) this.byUri.set(uri, (e = { jwks: '', error: 'fetching', at: 0, inflight: false }));
    if (!e.inflight && Date.now() - e.at > (e.jwks ? this.refreshMs : 5_000)) this.fetch(uri, e);
    return { jwks: e.jwks, error: e.jwks ? '' : e.error };
  }

  private fetch(uri: string, e: { jwks: string; error: string; at: number; inflight: boolean }): void {
    e.inflight = true;
    void (async () => {
      let jwks = e.jwks, error = '';
      try {
        const res = await this.fetchFn(uri, { signal: AbortSignal.timeout(5_000) });
        const text = await res.text();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const parsed = JSON.parse(text);
        if (!Array.isArray(parsed?.keys)) throw new Error('no "keys" array');
        jwks = JSON.stringify(parsed);
      } catch (err) {
        error = `jwksUri ${uri}: ${(err as Error).message}`;
      }
      const changed = jwks !== e.jwks || error !== e.error;
      Object.assign(e, { jwks, error: jwks ? '' : error, at: Date.now(), inflight: false });
      if (changed) this.onChange();
    })();
  }
}

/** The jwtRules of every RequestAuthentication that selects `w`. */
export function jwtRulesFor(w: WorkloadRef, all: KubeObject[], services: (ns: string, name: string) => ServiceRef | undefined, jwks: (uri: string) => { jwks: string; error: string }, root = ROOT_NAMESPACE): JwtRule[] {
  const out: JwtRule[] = [];
  for (const sel of applicableAuthorizationPolicies(w, all, services, root)) {
    if (!sel.applies) continue;
    const ra: any = sel.policy;
    for (const r of ra.spec?.jwtRules ?? []) {
      const uri = r.jwksUri ?? r.jwks_uri;
      const keys = r.jwks ? { jwks: String(r.jwks), error: '' } : uri ? jwks(uri) : { jwks: '', error: 'neither jwks nor jwksUri' };
      out.push({
        issuer: r.issuer ?? '', audiences: r.audiences ?? [], jwks: keys.jwks, jwksError: keys.error,
        fromHeaders: (r.fromHeaders ?? []).map((h: any) => ({ name: h.name, prefix: h.prefix ?? '' })), fromParams: r.fromParams ?? [],
        outputPayloadToHeader: r.outputPayloadToHeader ?? '', forwardOriginalToken: !!r.forwardOriginalToken,
        outputClaimToHeaders: (r.outputClaimToHeaders ?? []).map((c: any) => ({ header: c.header, claim: c.claim })),
        source: `${ra.metadata.namespace}/${ra.metadata.name}`,
      });
    }
  }
  return out;
}
