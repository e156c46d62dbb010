// The whole admission check for one object, as the API server runs it on create and update:
// resolve apiVersion/kind (400 BadRequest when unknown), apply defaults to a copy, validate metadata
// and the kind (422 Invalid with every cause). Pure: the caller stores the returned object.

import { type ApiError, errors } from './errors.js';
import type { FieldError } from './field.js';
import type { KubeObject } from './meta.js';
import { registry } from './registry.js';
import type { ResourceType } from './resource.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './validate-meta.js';

/** The outcome of admit: the defaulted object and its type, or the ApiError to send. */
export type AdmitResult = { ok: true; obj: KubeObject; type: ResourceType } | { ok: false; error: ApiError };

/** Resolve the ResourceType for a decoded body, or the 400 Kubernetes sends for it. */
export function typeOf(body: unknown): { type: ResourceType } | { error: ApiError } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: errors.badRequest('the body of the request must be a JSON or YAML object') };
  const o = body as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') return { error: errors.badRequest("Object 'apiVersion' is missing in '" + JSON.stringify(o).slice(0, 200) + "'") };
  if (typeof o.kind !== 'string' || o.kind === '') return { error: errors.badRequest("Object 'Kind' is missing in '" + JSON.stringify(o).slice(0, 200) + "'") };
  const type = registry.byKind(o.apiVersion, o.kind);
  if (!type) return { error: errors.badRequest(`no kind "${o.kind}" is registered for version "${o.apiVersion}"`) };
  return { type };
}

/** Every field error for an already-defaulted object (metadata first, then the kind's own). */
export function validateAll(type: ResourceType, obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj, type);
  if (old) errs.push(...validateObjectMetaUpdate(obj, old));
  errs.push(...type.validate(obj, old));
  return errs;
}

/** Default a copy of `body` and validate it; `old` is the stored object on update. */
export function admit(body: unknown, old?: KubeObject): AdmitResult {
  const t = typeOf(body);
  if ('error' in t) return { ok: false, error: t.error };
  const obj = structuredClone(body) as KubeObject;
  t.type.applyDefaults(obj);
  const errs = validateAll(t.type, obj, old);
  if (errs.length) {
    const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : (obj.metadata?.generateName ?? '');
    return { ok: false, error: errors.invalid(t.type.kind, t.type.group, name, errs) };
  }
  return { ok: true, obj, type: t.type };
}
