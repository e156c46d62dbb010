// JSON merge patch (RFC 7386, `application/merge-patch+json`): objects merge key by key, a null
// deletes the key, and anything else (arrays included) replaces the target value wholesale.
// The API server uses it for `kubectl patch --type merge` and for `kubectl apply` on kinds
// without strategic-merge metadata (custom resources).

import { errors } from '../../../api/errors.js';
import { type JsonObject, deepClone, isObject } from './value.js';

/**
 * Apply an RFC 7386 merge patch. The target is copied once and never mutated; values taken from
 * the patch are copied too, so the result shares nothing with either argument.
 * A patch that is not a JSON object replaces the whole document, as the RFC says.
 */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return deepClone(patch);
  const out: JsonObject = isObject(target) ? deepClone(target) : {};
  mergeInto(out, patch);
  return out;
}

/**
 * Merge-patch a Kubernetes object: like jsonMergePatch, but a patch that is not a JSON object is a
 * 400 BadRequest, as kube-apiserver answers (an object can only be patched by an object).
 */
export function jsonMergePatchObject(target: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) throw errors.badRequest(`json merge patch: the patch must be a JSON object, got ${patch === null ? 'null' : Array.isArray(patch) ? 'an array' : typeof patch}`);
  return jsonMergePatch(target, patch) as JsonObject;
}

// In place on `out`, which the caller owns.
function mergeInto(out: JsonObject, patch: JsonObject): void {
  for (const k of Object.keys(patch)) {
    const pv = patch[k];
    if (pv === null) {
      delete out[k];
    } else if (isObject(pv)) {
      const cur = out[k];
      const child: JsonObject = isObject(cur) ? cur : {};
      mergeInto(child, pv);
      out[k] = child;
    } else {
      out[k] = deepClone(pv);
    }
  }
}
