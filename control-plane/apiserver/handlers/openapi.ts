// A compact OpenAPI v3 description (`/openapi/v3` and `/openapi/v3/{api/v1 | apis/g/v}`): every resource
// path with its operations, their `x-kubernetes-group-version-kind` and `x-kubernetes-action`, and the
// query parameters the server honours. kubectl reads it to learn that the server validates fields itself
// (`fieldValidation`), so it sends manifests for server-side validation instead of downloading schemas.
// Kinds that are CRDs on a real cluster (Istio, Gateway API) carry their full schema with field
// descriptions, so `kubectl explain virtualservice.spec.http` works; the built-in kinds' schemas stay open
// objects (kubectl computes client-side apply patches from built-in schemas, so they must not lose their
// patch-merge keys; it uses its own compiled-in types when the server's schema is open).

import { createHash } from 'node:crypto';
import type { ResourceType } from '../../../api/resource.js';
import { kindJsonSchema } from '../../../api/schema/openapi.js';
import { isCustomResource } from './crds.js';

const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];
const param = (name: string) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string' }, uniqueItems: true });

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The discovery index of OpenAPI v3 documents, one per group-version. */
export function openapiIndex(all: ResourceType[]): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const rt of all) {
    const p = gvPath(rt.group, rt.version);
    if (!paths[p]) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${docHash(all, rt.group, rt.version)}` };
  }
  return { paths };
}

const hashes = new Map<string, string>();
function docHash(all: ResourceType[], group: string, version: string): string {
  const k = `${group}/${version}`;
  let h = hashes.get(k);
  if (!h) {
    h = createHash('sha512').update(JSON.stringify(openapiDoc(all, group, version))).digest('hex').toUpperCase().slice(0, 128);
    hashes.set(k, h);
  }
  return h;
}

/** The OpenAPI name of a kind's schema (`io.istio.networking.v1.VirtualService`). */
export function schemaNameOf(rt: ResourceType): string {
  return `${rt.group ? rt.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${rt.version}.${rt.kind}`;
}

const docs = new Map<string, Record<string, unknown>>();

/** The OpenAPI v3 document of one group-version, or undefined when unknown (built once per group-version). */
export function openapiDoc(all: ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const k = `${group}/${version}`;
  let d = docs.get(k);
  if (!d) {
    d = buildDoc(all, group, version);
    if (d) docs.set(k, d);
  }
  return d;
}

function buildDoc(all: ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const rts = all.filter((r) => r.group === group && r.version === version);
  if (!rts.length) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const prefix = `/${gvPath(group, version)}`;
  for (const rt of rts) {
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    const schemaName = schemaNameOf(rt);
    schemas[schemaName] = (isCustomResource(rt) && kindJsonSchema(rt, { gvk: true })) || { type: 'object', 'x-kubernetes-group-version-kind': [gvk], additionalProperties: true };
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const body = { content: { 'application/json': { schema: ref }, 'application/yaml': { schema: ref } } };
    const ok = { description: 'OK', content: { 'application/json': { schema: ref } } };
    const op = (action: string, params: string[], extra: Record<string, unknown> = {}) => ({
      operationId: `${action}${rt.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params.map(param),
      responses: { '200': ok },
      ...extra,
    });
    const collection = rt.namespaced ? `${prefix}/namespaces/{namespace}/${rt.plural}` : `${prefix}/${rt.plural}`;
    const item = `${collection}/{name}`;
    paths[collection] = {
      get: op('list', ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'watch', 'allowWatchBookmarks', 'timeoutSeconds']),
      post: op('post', WRITE_PARAMS, { requestBody: body }),
      delete: op('deletecollection', ['labelSelector', 'fieldSelector', 'gracePeriodSeconds', 'propagationPolicy', 'dryRun']),
    };
    paths[item] = {
      get: op('get', ['pretty']),
      put: op('put', WRITE_PARAMS, { requestBody: body }),
      patch: op('patch', [...WRITE_PARAMS, 'force'], { requestBody: body }),
      delete: op('delete', ['gracePeriodSeconds', 'propagationPolicy', 'dryRun']),
    };
    if (rt.subresources.status)
      paths[`${item}/status`] = { get: op('get', ['pretty']), put: op('put', WRITE_PARAMS, { requestBody: body }), patch: op('patch', [...WRITE_PARAMS, 'force'], { requestBody: body }) };
  }
  return { openapi: '3.0.0', info: { title: 'Shoal', version: 'v1.32.0-shoal' }, paths, components: { schemas } };
}
