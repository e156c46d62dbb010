// Aggregated discovery (apidiscovery.k8s.io/v2, and v2beta1 for older clients): what kubectl 1.32 asks
// `/api` and `/apis` for first (`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
// …;v=v2beta1…,application/json`), so one request answers what the legacy documents need one request per
// group-version for. Built from the legacy documents themselves (apiGroupList, apiResourceList), so every
// group, version and resource discovery.ts serves appears in both forms, in the same order (preferred
// version first, which is how clients pick the preferred one here).

import type { ResourceType } from '../../../api/resource.js';
import type { APIResource } from '../../../api/registry.js';
import { apiGroupList, apiResourceList } from './discovery.js';

const GROUP = 'apidiscovery.k8s.io';

/** The aggregated version the Accept header asks for (the first one listed that we serve), if any. */
export function aggregatedVersionOf(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (type !== 'application/json') continue;
    const p = new Map(params.map((x) => [x.slice(0, x.indexOf('=')).trim(), x.slice(x.indexOf('=') + 1).trim()] as [string, string]));
    if (p.get('g') !== GROUP || p.get('as') !== 'APIGroupDiscoveryList') {
      if (!p.has('as') && !p.has('g')) return undefined; // plain JSON preferred before any aggregated form
      continue;
    }
    const v = p.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

/** The Content-Type of an aggregated answer. */
export function aggregatedContentType(v: 'v2' | 'v2beta1'): string {
  return `application/json;g=${GROUP};v=${v};as=APIGroupDiscoveryList`;
}

/** One group-version's resources in the aggregated form: subresources nested under their resource. */
function versionDiscovery(group: string, version: string, list: APIResource[]): Record<string, unknown> {
  const subs = new Map<string, Record<string, unknown>[]>();
  for (const r of list) {
    const i = r.name.indexOf('/');
    if (i < 0) continue;
    const parent = r.name.slice(0, i);
    subs.set(parent, [...(subs.get(parent) ?? []), {
      subresource: r.name.slice(i + 1),
      responseKind: { group: r.group ?? group, version: r.version ?? version, kind: r.kind },
      verbs: r.verbs,
    }]);
  }
  const resources = list.filter((r) => !r.name.includes('/')).map((r) => ({
    resource: r.name,
    responseKind: { group, version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName,
    verbs: r.verbs,
    ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories?.length ? { categories: r.categories } : {}),
    ...(subs.has(r.name) ? { subresources: subs.get(r.name) } : {}),
  }));
  return { version, resources, freshness: 'Current' };
}

/** GET /api (`core`) or /apis as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(all: ResourceType[], which: 'core' | 'groups', v: 'v2' | 'v2beta1'): Record<string, unknown> {
  const groups: { name: string; versions: string[] }[] = which === 'core'
    ? [{ name: '', versions: ['v1'] }]
    : ((apiGroupList(all).groups as { name: string; versions: { version: string }[] }[]).map((g) => ({ name: g.name, versions: g.versions.map((x) => x.version) })));
  const items = groups.map((g) => ({
    metadata: { ...(g.name ? { name: g.name } : {}), creationTimestamp: null },
    versions: g.versions.map((ver) => versionDiscovery(g.name, ver, ((apiResourceList(all, g.name, ver)?.resources ?? []) as APIResource[]))),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `${GROUP}/${v}`, metadata: {}, items };
}
