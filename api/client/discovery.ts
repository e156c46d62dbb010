// Discovery with a cache: reads /api, /api/v1, /apis and /apis/{group}/{version} once, then answers
// "which resource is `deploy`?" the way kubectl's RESTMapper does: plural, singular, short names and kinds,
// optionally qualified as `name.group` or `name.version.group`, the core group and preferred versions first.

import { splitApiVersion } from '../meta.js';

/** One resource as discovery describes it. */
export interface ApiResource {
  group: string;
  version: string;
  /** REST path segment: 'deployments' */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** subresource names: 'status', 'scale', ... */
  subresources: string[];
  /** true when `version` is the group's preferred version */
  preferred: boolean;
}

/** `apps/v1` or `v1`. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** `deployments.apps` (kubectl's qualified resource name; plain plural for the core group). */
export function qualifiedResource(r: { group: string; plural: string }): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** A name discovery does not know, worded as kubectl words it. */
export class UnknownResourceError extends Error {
  constructor(readonly resource: string) {
    super(`the server doesn't have a resource type "${resource}"`);
    this.name = 'UnknownResourceError';
  }
}

/** A kind/apiVersion pair discovery does not know (apimachinery's NoKindMatchError, same words). */
export class UnknownKindError extends Error {
  constructor(readonly apiVersion: string, readonly kind: string) {
    super(`no matches for kind "${kind}" in version "${apiVersion}"`);
    this.name = 'UnknownKindError';
  }
}

/** Minimal GET the discovery reader needs (KubeClient.getJson). */
export type GetJson = (path: string) => Promise<any>;

/** Discovery documents read once and cached for `ttlMs`. */
export class Discovery {
  private cache?: { at: number; resources: ApiResource[] };
  private loading?: Promise<ApiResource[]>;

  constructor(private readonly get: GetJson, private readonly ttlMs = 10 * 60_000, private readonly now = () => Date.now()) {}

  /** Forget the cache (after a "not found" that may be a new CRD, for example). */
  invalidate(): void {
    this.cache = undefined;
  }

  /** Every resource (no subresources), core group first, preferred versions first within a group. */
  async resources(): Promise<ApiResource[]> {
    if (this.cache && this.now() - this.cache.at < this.ttlMs) return this.cache.resources;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    const resources = await this.loading;
    this.cache = { at: this.now(), resources };
    return resources;
  }

  private async load(): Promise<ApiResource[]> {
    const lists: { group: string; version: string; preferred: boolean }[] = [];
    const core = await this.get('/api');
    for (const v of (core?.versions ?? []) as string[]) lists.push({ group: '', version: v, preferred: v === core.versions[0] });
    const groups = await this.get('/apis');
    for (const g of (groups?.groups ?? []) as any[]) {
      const pref = g.preferredVersion?.version ?? g.versions?.[0]?.version;
      const versions = [...(g.versions ?? [])].sort((a: any, b: any) => Number(b.version === pref) - Number(a.version === pref));
      for (const v of versions) lists.push({ group: g.name, version: v.version, preferred: v.version === pref });
    }
    const docs = await Promise.all(lists.map((l) => this.get(l.group ? `/apis/${l.group}/${l.version}` : `/api/${l.version}`).catch(() => undefined)));
    const out: ApiResource[] = [];
    docs.forEach((doc, i) => {
      const l = lists[i]!;
      const subs = new Map<string, string[]>();
      for (const r of (doc?.resources ?? []) as any[]) {
        const [base, sub] = String(r.name).split('/');
        if (sub) subs.set(base!, [...(subs.get(base!) ?? []), sub]);
      }
      for (const r of (doc?.resources ?? []) as any[]) {
        if (String(r.name).includes('/')) continue;
        out.push({
          group: l.group, version: l.version, plural: r.name, singular: r.singularName || String(r.kind).toLowerCase(),
          kind: r.kind, namespaced: !!r.namespaced, shortNames: r.shortNames ?? [], categories: r.categories ?? [],
          verbs: r.verbs ?? [], subresources: subs.get(r.name) ?? [], preferred: l.preferred,
        });
      }
    });
    return out;
  }

  /**
   * Resolve a kubectl-style name: `pods`, `pod`, `po`, `Pod`, `deployments.apps`, `deploy.v1.apps`.
   * Throws UnknownResourceError when nothing matches.
   */
  async resolve(name: string): Promise<ApiResource> {
    const hit = findResource(await this.resources(), name);
    if (hit) return hit;
    this.invalidate();
    const again = findResource(await this.resources(), name);
    if (!again) throw new UnknownResourceError(name);
    return again;
  }

  /** The resource for an object's apiVersion and kind (for manifests). */
  async forKind(apiVersion: string, kind: string): Promise<ApiResource> {
    const find = (all: ApiResource[]) => {
      const { group, version } = splitApiVersion(apiVersion);
      return all.find((r) => r.group === group && r.version === version && r.kind === kind);
    };
    const hit = find(await this.resources());
    if (hit) return hit;
    this.invalidate();
    const again = find(await this.resources());
    if (!again) throw new UnknownKindError(apiVersion, kind);
    return again;
  }

  /** Resources in a discovery category, e.g. 'all' (for `get all`), preferred versions only. */
  async category(cat: string): Promise<ApiResource[]> {
    return (await this.resources()).filter((r) => r.preferred && r.categories.includes(cat));
  }
}

/** The pure matching rule behind Discovery.resolve. */
export function findResource(all: ApiResource[], name: string): ApiResource | undefined {
  const parts = name.split('.');
  const base = parts[0]!.toLowerCase();
  const candidates: { group?: string; version?: string }[] = [{}];
  if (parts.length >= 2) {
    candidates.unshift({ group: parts.slice(1).join('.') });
    if (parts.length >= 3) candidates.unshift({ version: parts[1], group: parts.slice(2).join('.') });
  }
  for (const c of candidates) {
    // with no group given only the name itself may match; "deployments.apps" must not match a plural "deployments.apps"
    if (c.group === undefined && parts.length > 1) continue;
    const pool = all.filter((r) => (c.group === undefined || r.group === c.group) && (c.version === undefined || r.version === c.version));
    const matchers: ((r: ApiResource) => boolean)[] = [
      (r) => r.plural === base,
      (r) => r.singular === base,
      (r) => r.shortNames.includes(base),
      (r) => r.kind.toLowerCase() === base,
    ];
    for (const m of matchers) {
      const hits = pool.filter(m);
      if (hits.length === 0) continue;
      // core group first, then preferred versions, in discovery order
      return hits.find((r) => r.group === '' && r.preferred) ?? hits.find((r) => r.preferred) ?? hits[0];
    }
  }
  return undefined;
}
