// Discovery documents: /version, /api, /apis, /api/v1 and /apis/{group}/{version}, built from the registry
// of kinds, so kubectl and client libraries find every resource, its verbs, short names and categories.

import type { ResourceType } from '../../../api/resource.js';
import { sortVersions } from '../../../api/versions.js';
import { apiextensionsGroup, apiextensionsResources } from './crds.js';

/** The Kubernetes version the server reports (kubectl warns past one minor of skew). */
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-shoal.0.1.0',
  gitCommit: 'shoal',
  gitTreeState: 'clean',
  buildDate: '2026-11-22T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** Groups with their versions, by Kubernetes' version priority: the first is the preferred one. */
export function groupsOf(all: ResourceType[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const rt of all) {
    const vs = m.get(rt.group) ?? [];
    if (!vs.includes(rt.version)) vs.push(rt.version);
    m.set(rt.group, vs);
  }
  for (const [g, vs] of m) m.set(g, sortVersions(vs));
  return m;
}

/** GET /api */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** GET /apis */
export function apiGroupList(all: ResourceType[]): Record<string, unknown> {
  const groups = [...groupsOf(all)].filter(([g]) => g !== '').map(([g, vs]) => apiGroup(g, vs));
  groups.push(apiGroup(apiextensionsGroup.name, apiextensionsGroup.versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** GET /apis/{group}, or undefined when the group is unknown. */
export function apiGroupDoc(all: ResourceType[], group: string): Record<string, unknown> | undefined {
  const vs = group === apiextensionsGroup.name ? apiextensionsGroup.versions : groupsOf(all).get(group);
  if (!vs || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, vs) };
}

/** Subresources each kind exposes beyond status and scale. */
const EXTRA_SUBRESOURCES: Record<string, { name: string; kind: string; group?: string; version?: string; verbs: string[] }[]> = {
  Pod: [
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  ],
  Namespace: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
};

/** GET /api/v1 or /apis/{group}/{version}, or undefined when unknown. */
export function apiResourceList(all: ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  if (group === apiextensionsGroup.name && apiextensionsGroup.versions.includes(version)) return apiextensionsResources();
  const rts = all.filter((r) => r.group === group && r.version === version);
  if (!rts.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const rt of rts) {
    resources.push({
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.verbs,
      ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
      ...(rt.categories.length ? { categories: rt.categories } : {}),
    });
    if (rt.subresources.status)
      resources.push({ name: `${rt.plural}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
    if (rt.subresources.scale)
      resources.push({ name: `${rt.plural}/scale`, singularName: '', namespaced: rt.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    for (const s of EXTRA_SUBRESOURCES[rt.kind] ?? [])
      resources.push({ name: `${rt.plural}/${s.name}`, singularName: '', namespaced: rt.namespaced, kind: s.kind, verbs: s.verbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
