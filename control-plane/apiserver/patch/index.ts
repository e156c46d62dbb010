// The patch formats and field ownership the API server applies on PATCH and on every write.
// Pure functions: no I/O, no clock (callers pass `now`), inputs never mutated. See README.md.

export { jsonMergePatch, jsonMergePatchObject } from './json-merge-patch.js';
export { type JsonPatchOp, jsonPatch, parsePointer } from './json-patch.js';
export { strategicMergePatch } from './strategic-merge-patch.js';
export { hasStrategicMergeRules, rulesForKind } from './merge-keys.js';
export {
  type ApplyRequest,
  type ApplyResult,
  type Conflict,
  type UpdateRequest,
  BEFORE_FIRST_APPLY,
  LAST_APPLIED,
  conflictError,
  serverSideApply,
  trackUpdate,
} from './apply.js';
export { FieldSet, pathString } from './fieldpath.js';
export { decodeManagedFields, encodeManagedFields } from './managed-fields.js';
