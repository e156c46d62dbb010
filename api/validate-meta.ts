// Generic ObjectMeta validation, run by the API server for every kind before the kind's own
// validate (so kinds need not repeat it): name or generateName, the name rule for the kind,
// namespace required/forbidden by scope, label and annotation syntax, the 256 KiB annotation budget,
// owner references and finalizers. The server sets uid, creationTimestamp, resourceVersion and
// generation itself; nothing here defaults metadata.

import { type FieldError, Path, fieldError } from './field.js';
import { validateLabels } from './labels.js';
import type { KubeObject } from './meta.js';
import type { ResourceType } from './resource.js';
import { dns1035Label, dns1123Label, dns1123Subdomain, qualifiedName } from './validation/names.js';

/** Kubernetes' total annotation size limit (keys + values). */
export const totalAnnotationSizeLimit = 256 * 1024;

/** path.IsValidPathSegmentName (the RBAC kinds' names): no '/' or '%', not '.' or '..'. */
function pathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const bad = ['/', '%'].filter((c) => v.includes(c));
  return bad.length ? [`may not contain '${bad[0]}'`] : [];
}

const nameRules = { DNS1123Subdomain: dns1123Subdomain, DNS1123Label: dns1123Label, DNS1035Label: dns1035Label, PathSegmentName: pathSegmentName };

/** The name check for a resource type. */
export function nameRule(rt: Pick<ResourceType, 'nameValidation'>): (v: string) => string[] {
  return nameRules[rt.nameValidation ?? 'DNS1123Subdomain'];
}

/** Every problem with `obj.metadata` for a create (or the new side of an update). */
export function validateObjectMeta(obj: KubeObject, rt: Pick<ResourceType, 'namespaced' | 'nameValidation'>): FieldError[] {
  const errs: FieldError[] = [];
  const md = obj.metadata;
  const p = Path.root('metadata');
  if (md === null || typeof md !== 'object' || Array.isArray(md)) return [fieldError.required(p)];
  const rule = nameRule(rt);
  if (typeof md.name === 'string' && md.name !== '') {
    for (const m of rule(md.name)) errs.push(fieldError.invalid(p.child('name'), md.name, m));
  } else if (typeof md.generateName === 'string' && md.generateName !== '') {
    // A prefix may end in '-': the server appends five random characters.
    const prefix = md.generateName.replace(/-+$/, '') || 'a';
    for (const m of rule(prefix + 'a')) errs.push(fieldError.invalid(p.child('generateName'), md.generateName, m));
  } else errs.push(fieldError.required(p.child('name'), 'name or generateName is required'));

  if (rt.namespaced) {
    if (typeof md.namespace !== 'string' || md.namespace === '') errs.push(fieldError.required(p.child('namespace')));
    else for (const m of dns1123Label(md.namespace)) errs.push(fieldError.invalid(p.child('namespace'), md.namespace, m));
  } else if (typeof md.namespace === 'string' && md.namespace !== '') {
    errs.push(fieldError.forbidden(p.child('namespace'), 'not allowed on this type'));
  }

  errs.push(...validateLabels(md.labels, p.child('labels')));
  errs.push(...validateAnnotations(md.annotations, p.child('annotations')));

  const ors = Array.isArray(md.ownerReferences) ? md.ownerReferences : [];
  let controllers = 0;
  ors.forEach((r, i) => {
    const rp = p.child('ownerReferences').index(i);
    if (!r || typeof r !== 'object') return;
    if (!r.apiVersion) errs.push(fieldError.invalid(rp.child('apiVersion'), r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) errs.push(fieldError.invalid(rp.child('kind'), r.kind ?? '', 'kind must not be empty'));
    if (!r.name) errs.push(fieldError.invalid(rp.child('name'), r.name ?? '', 'name must not be empty'));
    if (!r.uid) errs.push(fieldError.invalid(rp.child('uid'), r.uid ?? '', 'uid must not be empty'));
    if (r.controller === true) controllers++;
  });
  if (controllers > 1) errs.push(fieldError.invalid(p.child('ownerReferences'), controllers, 'Only one reference can have Controller set to true'));

  (Array.isArray(md.finalizers) ? md.finalizers : []).forEach((f, i) => {
    if (typeof f !== 'string') return;
    for (const m of qualifiedName(f)) errs.push(fieldError.invalid(p.child('finalizers').index(i), f, m));
  });
  if (typeof md.generation === 'number' && md.generation < 0)
    errs.push(fieldError.invalid(p.child('generation'), md.generation, 'must be greater than or equal to 0'));
  return errs;
}

/** Annotation keys are qualified names (checked lower-cased, as Kubernetes does); total size <= 256 KiB. */
export function validateAnnotations(ann: Record<string, string> | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!ann || typeof ann !== 'object') return errs;
  let size = 0;
  for (const [k, v] of Object.entries(ann)) {
    for (const m of qualifiedName(k.toLowerCase())) errs.push(fieldError.invalid(path, k, m));
    size += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (size > totalAnnotationSizeLimit) errs.push(fieldError.tooLong(path, '', totalAnnotationSizeLimit));
  return errs;
}

/** On update: name, namespace, uid and creationTimestamp may not change (`field is immutable`). */
export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('metadata');
  for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    const a = old.metadata?.[f];
    const b = obj.metadata?.[f];
    if (a !== undefined && b !== undefined && a !== b) errs.push(fieldError.invalid(p.child(f), b, 'field is immutable'));
  }
  return errs;
}
