// apiextensions.k8s.io/v1 CustomResourceDefinitions, read-only and generated from the registry: the
// kinds that are CRDs on a real cluster (Istio's and the Gateway API's groups) each get the CRD a real
// install would show, with every served version, the storage version and the schema as openAPIV3Schema.
// kubectl reads this list when a manifest's group-version is not in /openapi/v3 (cli-runtime's
// CRDFinder), so with it an unserved kind ends in Kubernetes' own "no matches for kind" error.
// Served at GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions[/{name}]; every other verb 405.

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { kindJsonSchema } from '../../../api/schema/openapi.js';
import { servedVersionsOf, sortVersions, storageVersionOf } from '../../../api/versions.js';
import { representationOf } from './table.js';

/** The API groups whose kinds are CustomResourceDefinitions on a real cluster. */
export const CRD_GROUPS: ReadonlySet<string> = new Set(['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'gateway.networking.k8s.io']);

/** True for kinds a real cluster serves through a CRD. */
export function isCustomResource(rt: { group: string }): boolean {
  return CRD_GROUPS.has(rt.group);
}

const GROUP = 'apiextensions.k8s.io';
const STARTED = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** /apis entry for apiextensions.k8s.io. */
export const apiextensionsGroup = { name: GROUP, versions: ['v1'] };

/** APIResourceList of apiextensions.k8s.io/v1. */
export function apiextensionsResources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${GROUP}/v1`,
    resources: [
      { name: 'customresourcedefinitions', singularName: 'customresourcedefinition', namespaced: false, kind: 'CustomResourceDefinition', verbs: ['get', 'list'], shortNames: ['crd', 'crds'], categories: ['api-extensions'] },
    ],
  };
}

function uidOf(name: string): string {
  const h = createHash('sha1').update(`crd/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The CRD of one kind (`primary` at its preferred version; the schema is the same at every version). */
export function crdFor(primary: ResourceType): KubeObject {
  const name = `${primary.plural}.${primary.group}`;
  const names = {
    plural: primary.plural, singular: primary.singular, kind: primary.kind, listKind: primary.listKind,
    ...(primary.shortNames.length ? { shortNames: [...primary.shortNames] } : {}),
    ...(primary.categories.length ? { categories: [...primary.categories] } : {}),
  };
  const storage = storageVersionOf(primary);
  const schema = kindJsonSchema(primary, { crdMetadata: true });
  const versions = sortVersions(servedVersionsOf(primary)).map((v) => ({
    name: v,
    served: true,
    storage: v === storage,
    schema: { openAPIV3Schema: schema },
    ...(primary.subresources.status ? { subresources: { status: {} } } : {}),
  }));
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'CustomResourceDefinition',
    metadata: { name, uid: uidOf(name), resourceVersion: '1', generation: 1, creationTimestamp: STARTED, labels: { 'app.kubernetes.io/managed-by': 'shoal' } },
    spec: { group: primary.group, names, scope: primary.namespaced ? 'Namespaced' : 'Cluster', versions, conversion: { strategy: 'None' } },
    status: {
      acceptedNames: names,
      storedVersions: [storage],
      conditions: [
        { type: 'NamesAccepted', status: 'True', lastTransitionTime: STARTED, reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', lastTransitionTime: STARTED, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
    },
  };
}

/** Every CRD, sorted by name (as a list from etcd would be). */
export function customResourceDefinitions(kinds: ResourceType[]): KubeObject[] {
  return kinds.filter(isCustomResource).map(crdFor).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
}

function table(items: KubeObject[]): Record<string, unknown> {
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '1' },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, o.metadata.creationTimestamp],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/**
 * Register the CRD routes. `kinds` gives every kind once at its preferred version (registry.all()).
 * Static paths win over the REST tree's `/apis/*` wildcard in fastify's router.
 */
export function registerCrdRoutes(app: FastifyInstance, kinds: () => ResourceType[]): void {
  const base = `/apis/${GROUP}/v1/customresourcedefinitions`;
  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const query = (req.query ?? {}) as Record<string, string>;
    if (query.watch === 'true' || query.watch === '1') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const name = decodeURIComponent(req.url.split('?')[0]!.slice(base.length + 1));
    const all = customResourceDefinitions(kinds());
    const rep = representationOf(req.headers.accept);
    if (!name) {
      if (rep === 'table') return reply.type('application/json').send(table(all));
      return reply.type('application/json').send({ apiVersion: `${GROUP}/v1`, kind: 'CustomResourceDefinitionList', metadata: { resourceVersion: '1' }, items: all });
    }
    const crd = all.find((c) => c.metadata.name === name);
    if (!crd || name.includes('/')) throw errors.notFound('customresourcedefinitions', GROUP, name);
    if (rep === 'table') return reply.type('application/json').send(table([crd]));
    return reply.type('application/json').send(crd);
  };
  const methods: ('GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  app.route({ method: methods, url: base, handler: serve });
  app.route({ method: methods, url: `${base}/*`, handler: serve });
}
