// Label and field selectors of a request turned into one predicate over objects.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors } from '../../../api/errors.js';
import { labelMatcher, fieldMatcher } from '../api-adapter.js';

/** A predicate over objects. */
export type Matcher = (o: KubeObject) => boolean;

/** Build the matcher for `labelSelector` and `fieldSelector` query values; 400 on syntax errors. */
export function buildMatcher(rt: ResourceType, labelSelector?: string, fieldSelector?: string): Matcher {
  let byLabel: Matcher | undefined;
  let byField: Matcher | undefined;
  try {
    if (labelSelector) byLabel = labelMatcher(labelSelector);
  } catch (e) {
    throw errors.badRequest(`unable to parse requirement: ${(e as Error).message}`, [{ reason: 'FieldValueInvalid', field: 'labelSelector', message: (e as Error).message }]);
  }
  try {
    if (fieldSelector) byField = fieldMatcher(rt, fieldSelector);
  } catch (e) {
    throw errors.badRequest(`${(e as Error).message}`, [{ reason: 'FieldValueInvalid', field: 'fieldSelector', message: (e as Error).message }]);
  }
  if (byLabel && byField) return (o) => byLabel(o) && byField(o);
  return byLabel ?? byField ?? (() => true);
}
