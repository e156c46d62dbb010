// The API model as the server uses it: one place that names which parts of `api/` the server relies on
// (the registry of kinds, metadata validation, selectors, ages), so the handlers stay independent of how
// `api/` arranges its modules.

import type { KubeObject } from '../../api/meta.js';
import type { ResourceType } from '../../api/resource.js';
import { parseSelector, matches } from '../../api/labels.js';
import { parseFieldSelectorFor, matchesFields } from '../../api/fields.js';
import { age } from '../../api/age.js';
import { registry } from '../../api/registry.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../api/validate-meta.js';
import { patchAllocatedValues } from '../../api/kinds/core/service.js';

export { registry };

/** Label-selector predicate; throws Error with a message naming the fault. */
export function labelMatcher(s: string): (o: KubeObject) => boolean {
  const sel = parseSelector(s);
  return (o) => matches(sel, o.metadata?.labels);
}

/** Field-selector predicate for a kind; throws on unsupported fields or bad syntax. */
export function fieldMatcher(rt: ResourceType, s: string): (o: KubeObject) => boolean {
  const sel = parseFieldSelectorFor(s, rt.group, rt.kind);
  return (o) => matchesFields(sel, o);
}

/** kubectl-style AGE. */
export function formatAge(ts: string | undefined, now: Date): string {
  return age(ts, now);
}

/** Generic ObjectMeta validation for any kind. */
export function validateMeta(obj: KubeObject, rt: ResourceType, old?: KubeObject) {
  const errs = validateObjectMeta(obj, rt);
  if (old) errs.push(...validateObjectMetaUpdate(obj, old));
  return errs;
}

/**
 * Before an update: keep values the server allocated that the client left unset (a Service's clusterIP
 * and nodePorts), as kube-apiserver's Service registry does, so `kubectl apply` of a manifest without
 * them is not an immutable-field error.
 */
export function prepareUpdate(rt: ResourceType, next: KubeObject, old: KubeObject): void {
  if (rt.group === '' && rt.kind === 'Service') patchAllocatedValues(next, old);
}
