// The bridge between the write path and the patch algorithms (../patch): picks the algorithm for a
// patch type and keeps metadata.managedFields up to date on every write.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors } from '../../../api/errors.js';
import { jsonMergePatchObject, jsonPatch, strategicMergePatch, hasStrategicMergeRules, serverSideApply, trackUpdate } from '../patch/index.js';

/** The four patch types of kube-apiserver. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** Options a patch needs beyond the documents. */
export interface PatchOptions {
  rt: ResourceType;
  manager: string;
  force: boolean;
  now: Date;
  subresource?: string;
}

/**
 * Apply a patch of `type` to `cur` (undefined only for apply-create); never mutates `cur`.
 * `changed` is false when a server-side apply changes nothing (the write is skipped).
 */
export function applyPatch(type: PatchType, cur: KubeObject | undefined, patch: unknown, o: PatchOptions): { object: KubeObject; changed: boolean } {
  switch (type) {
    case 'merge':
      return { object: jsonMergePatchObject((cur ?? {}) as any, patch) as KubeObject, changed: true };
    case 'json': {
      const out = jsonPatch(cur ?? {}, patch);
      if (out === null || typeof out !== 'object' || Array.isArray(out)) throw errors.badRequest('json patch: the result must be an object');
      return { object: out as KubeObject, changed: true };
    }
    case 'strategic':
      if (!hasStrategicMergeRules(o.rt.kind))
        throw errors.unsupportedMediaType('application/strategic-merge-patch+json');
      return { object: strategicMergePatch(cur ?? {}, patch, o.rt.kind) as KubeObject, changed: true };
    case 'apply': {
      const r = serverSideApply({ live: cur, applied: patch, manager: o.manager, force: o.force, now: o.now, ...(o.subresource ? { subresource: o.subresource } : {}) });
      return { object: r.object, changed: r.changed };
    }
  }
}

/** Record field ownership for an ordinary (non-apply) write, in place on `updated.metadata`. */
export function trackWrite(a: { old: KubeObject | undefined; updated: KubeObject; manager: string; operation: 'Update'; subresource?: string | undefined; now: Date }): void {
  const tracked = trackUpdate({ old: a.old, updated: a.updated, manager: a.manager, operation: 'Update', now: a.now, ...(a.subresource ? { subresource: a.subresource } : {}) });
  a.updated.metadata = tracked.metadata;
}
