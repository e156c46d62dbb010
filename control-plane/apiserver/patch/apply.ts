// Server-side apply (`application/apply-patch+yaml`) and field tracking for ordinary writes, in
// the model of structured-merge-diff as kube-apiserver runs it:
//  - apply merges the configuration into the live object (associative lists by key, atomic
//    values replaced), makes the manager own exactly the configuration's fields, removes fields
//    it applied before and omits now unless another manager owns them, and refuses (409) to
//    change a field another manager owns unless force takes it over;
//  - an Update (PUT, merge/JSON/strategic patch) never conflicts: the writer takes every field
//    it changed, and the others lose those fields and the ones it removed.
// Ownership is recorded in metadata.managedFields (FieldsV1). Both functions are pure: `now` is
// passed in, inputs are never mutated, and the live object is deep-copied at most once.

import { ApiError, errors } from '../../../api/errors.js';
import type { KubeObject, StatusCause } from '../../../api/meta.js';
import { type PathElement, FieldSet, pathString } from './fieldpath.js';
import {
  type Manager,
  type Managers,
  decodeManagedFields,
  encodeManagedFields,
  formatTime,
  isResetManagedFields,
  managerId,
  ownable,
  printManager,
} from './managed-fields.js';
import { rulesForKind } from './merge-keys.js';
import { type JsonObject, deepClone, deepEqual, isObject } from './value.js';
import { compare, mergeApplied, removePath, toFieldSet } from './walk.js';
import { zeroObject } from './zero.js';

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** The manager that owns the fields of objects that had none when first applied to. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';
/** Update managers beyond this many are merged, oldest first, into `ancient-changes`. */
export const MAX_UPDATE_MANAGERS = 10;

/** One field another manager owns with a different value. */
export interface Conflict {
  manager: string;
  /** structured-merge-diff's path, e.g. `.spec.replicas` */
  path: string;
}

/** Input of serverSideApply. */
export interface ApplyRequest {
  /** the stored object, or undefined when apply creates it */
  live: KubeObject | undefined;
  /** the decoded apply-patch body */
  applied: unknown;
  /** the fieldManager query parameter (required) */
  manager: string;
  /** the force query parameter */
  force?: boolean;
  subresource?: string;
  now: Date;
}

/** Result of serverSideApply. */
export interface ApplyResult {
  object: KubeObject;
  /** fields taken over from other managers by force (empty without force) */
  conflicts: Conflict[];
  /** false when the object, managedFields included, is exactly the live one (skip the write) */
  changed: boolean;
}

/** Apply `applied` as `manager`; throws 409 Conflict (one cause per field) or 400 on a bad body. */
export function serverSideApply(req: ApplyRequest): ApplyResult {
  const { live, manager, force = false, subresource, now } = req;
  if (!manager) throw errors.badRequest('fieldManager is required for apply requests', [{ reason: 'FieldValueRequired', message: 'Required value', field: 'fieldManager' }]);
  const cfg = appliedConfig(req.applied, live, subresource);
  const rules = rulesForKind(cfg.kind as string);

  const managers = live ? liveManagers(live, rules, subresource) : new Map<string, Manager>();
  const me: Manager = { manager, operation: 'Apply', apiVersion: cfg.apiVersion as string, set: ownable(toFieldSet(cfg, rules), subresource) };
  if (subresource) me.subresource = subresource;
  const id = managerId(me);
  const previous = managers.get(id);
  if (previous?.time) me.time = previous.time;
  managers.set(id, me);

  const merged = mergeApplied(live ? withoutManagedFields(deepClone(live)) : {}, cfg, rules);
  if (previous) prune(merged, previous.set.difference(me.set), managers, rules);

  const changes = compare(live && withoutManagedFields({ ...live, metadata: { ...live.metadata } }), merged, rules);
  let conflicts = findConflicts(managers, id, ownable(changes.added.union(changes.modified), subresource));
  if (conflicts.length && !force && manager === 'kubectl' && live) conflicts = notAllowedByLastApplied(conflicts, live, rules);
  if (conflicts.length && !force) throw conflictError(conflicts);
  takeOver(managers, id, ownable(changes.added.union(changes.modified), subresource), ownable(changes.removed, subresource));

  const objectChanged = !deepEqual(live ? withoutManagedFields({ ...live, metadata: { ...live.metadata } }) : undefined, merged);
  if (objectChanged || !previous || !previous.set.difference(me.set).empty() || !me.set.difference(previous.set).empty()) me.time = formatTime(now);
  if (manager === 'kubectl' && typeof (merged.metadata as JsonObject | undefined)?.annotations === 'object') syncLastApplied(merged, req.applied);

  const object = finish(merged, managers);
  return { object, conflicts: force ? conflicts : [], changed: !live || !deepEqual(live, object) };
}

/** Input of trackUpdate. */
export interface UpdateRequest {
  /** the stored object; undefined on create */
  old: KubeObject | undefined;
  /** the object about to be stored (after the patch or PUT, defaulting and admission) */
  updated: KubeObject;
  manager: string;
  operation?: 'Update';
  subresource?: string;
  now: Date;
}

/**
 * Record an ordinary write (create, PUT, merge/JSON/strategic patch) in managedFields: the
 * manager takes the fields it added or changed, everyone loses the fields it removed. Never
 * conflicts. A managedFields list set by the writer replaces the stored one; `[{}]` clears it.
 * Returns a copy of `updated` (shallow except metadata) with managedFields set.
 */
export function trackUpdate(req: UpdateRequest): KubeObject {
  const { old, updated, subresource, now } = req;
  const manager = req.manager || 'unknown';
  const rules = rulesForKind(updated.kind);
  const sent = updated.metadata?.managedFields;
  let managers: Managers;
  if (!subresource && isResetManagedFields(sent)) managers = new Map();
  else if (!subresource && Array.isArray(sent) && sent.length > 0) managers = decodeManagedFields(sent);
  else managers = decodeManagedFields(old?.metadata?.managedFields);

  const before = old ? withoutManagedFields({ ...old, metadata: { ...old.metadata } }) : zeroObject(updated.kind);
  const after = withoutManagedFields({ ...updated, metadata: { ...updated.metadata } });
  const c = compare(before, after, rules);
  const changed = ownable(c.added.union(c.modified), subresource);
  const removed = ownable(c.removed, subresource);

  const me: Manager = { manager, operation: 'Update', apiVersion: updated.apiVersion, set: new FieldSet() };
  if (subresource) me.subresource = subresource;
  const id = managerId(me);
  const previous = managers.get(id);
  takeOver(managers, id, changed, removed);
  if (!changed.empty()) {
    me.set = (previous ? previous.set.difference(removed) : new FieldSet()).union(changed);
    me.time = formatTime(now);
    managers.set(id, me);
  } else if (previous) {
    previous.set = previous.set.difference(removed);
  }
  capUpdateManagers(managers);
  return finish(after, managers) as KubeObject;
}

/** The 409 kube-apiserver answers for apply conflicts, one FieldManagerConflict cause per field. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}: ${c.path}`, field: c.path }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.path}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) lines.push(`conflict with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`));
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, {}, causes);
}

// ---- steps ----

/** Validate and copy the apply body: an object with apiVersion, kind and a matching name. */
function appliedConfig(applied: unknown, live: KubeObject | undefined, subresource?: string): JsonObject {
  if (!isObject(applied)) throw errors.badRequest('apply patch: the body must be an object (a YAML or JSON document)');
  const bad: StatusCause[] = [];
  for (const f of ['apiVersion', 'kind'] as const) {
    if (typeof applied[f] !== 'string' || applied[f] === '') bad.push({ reason: 'FieldValueRequired', message: 'Required value', field: f });
  }
  if (applied.metadata !== undefined && !isObject(applied.metadata)) bad.push({ reason: 'FieldValueInvalid', message: 'must be an object', field: 'metadata' });
  if (bad.length) throw errors.badRequest(`apply patch: invalid object: ${bad.map((b) => `${b.field}: ${b.message}`).join(', ')}`, bad);
  if (live && live.kind !== applied.kind) throw errors.badRequest(`apply patch: kind ${JSON.stringify(applied.kind)} does not match the object's kind ${JSON.stringify(live.kind)}`, [{ reason: 'FieldValueInvalid', message: 'does not match', field: 'kind' }]);
  const meta = isObject(applied.metadata) ? { ...applied.metadata } : {};
  const name = meta.name;
  if (live?.metadata.name !== undefined && name !== undefined && name !== live.metadata.name) {
    throw errors.badRequest(`apply patch: metadata.name ${JSON.stringify(name)} does not match the object's name ${JSON.stringify(live.metadata.name)}`, [{ reason: 'FieldValueInvalid', message: 'does not match', field: 'metadata.name' }]);
  }
  delete meta.managedFields;
  const cfg: JsonObject = { ...applied, metadata: meta };
  if (subresource === 'status') {
    for (const k of Object.keys(cfg)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete cfg[k];
    cfg.metadata = { ...(name !== undefined ? { name } : {}), ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}) };
  } else delete cfg.status;
  return cfg;
}

/** The live object's managers; an object never tracked is owned by `before-first-apply`. */
function liveManagers(live: KubeObject, rules: ReturnType<typeof rulesForKind>, subresource?: string): Managers {
  const managers = decodeManagedFields(live.metadata?.managedFields);
  if (managers.size === 0) {
    const m: Manager = { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: live.apiVersion, set: ownable(toFieldSet(withoutManagedFields({ ...live, metadata: { ...live.metadata } }), rules), subresource) };
    if (!m.set.empty()) managers.set(managerId(m), m);
  }
  return managers;
}

/** Remove the fields the applier gave up that nobody else owns (nor owns anything below). */
function prune(obj: JsonObject, gaveUp: FieldSet, managers: Managers, rules: ReturnType<typeof rulesForKind>): void {
  const owned = (p: readonly PathElement[]) => [...managers.values()].some((m) => m.set.hasAtOrBelow(p));
  const ownedHere = (p: readonly PathElement[]) => [...managers.values()].some((m) => m.set.has(p));
  for (const p of gaveUp.paths()) if (!owned(p)) removePath(obj, p, rules, ownedHere);
}

function findConflicts(managers: Managers, self: string, changed: FieldSet): Conflict[] {
  const out: Conflict[] = [];
  for (const [id, m] of managers) {
    if (id === self) continue;
    for (const p of m.set.intersection(changed).paths()) out.push({ manager: printManager(m), path: pathString(p) });
  }
  return out.sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Others lose what `self` changed and what was removed; empty managers disappear. */
function takeOver(managers: Managers, self: string, changed: FieldSet, removed: FieldSet): void {
  const lost = changed.union(removed);
  for (const [id, m] of managers) {
    if (id === self) continue;
    m.set = m.set.difference(lost);
    if (m.set.empty()) managers.delete(id);
  }
}

/**
 * kubectl moving from client-side to server-side apply: conflicts on fields whose live value is
 * still the one in the last-applied annotation are allowed (fieldmanager's lastAppliedManager).
 */
function notAllowedByLastApplied(conflicts: Conflict[], live: KubeObject, rules: ReturnType<typeof rulesForKind>): Conflict[] {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (!text) return conflicts;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return conflicts;
  }
  if (!isObject(last)) return conflicts;
  const c = compare(last, withoutManagedFields({ ...live, metadata: { ...live.metadata } }), rules);
  const allowed = toFieldSet(last, rules).difference(c.modified);
  const allowedPaths = new Set(allowed.paths().map(pathString));
  return conflicts.filter((x) => !allowedPaths.has(x.path));
}

/** kubectl's server-side apply keeps an existing last-applied annotation in step (lastAppliedUpdater). */
function syncLastApplied(obj: JsonObject, applied: unknown): void {
  const ann = (obj.metadata as JsonObject).annotations as Record<string, string>;
  if (!(LAST_APPLIED in ann) || !isObject(applied)) return;
  const copy = { ...applied, metadata: { ...(applied.metadata as JsonObject) } };
  const a = { ...((copy.metadata.annotations as Record<string, string> | undefined) ?? {}) };
  delete a[LAST_APPLIED];
  copy.metadata.annotations = a;
  if (Object.keys(a).length === 0) delete copy.metadata.annotations;
  delete copy.metadata.managedFields;
  ann[LAST_APPLIED] = JSON.stringify(copy);
}

function capUpdateManagers(managers: Managers): void {
  const updates = [...managers.entries()].filter(([, m]) => m.operation === 'Update' && m.manager !== 'ancient-changes');
  if (updates.length <= MAX_UPDATE_MANAGERS) return;
  updates.sort(([, a], [, b]) => (a.time ?? '').localeCompare(b.time ?? ''));
  for (const [id, m] of updates.slice(0, updates.length - MAX_UPDATE_MANAGERS + 1)) {
    managers.delete(id);
    const anc: Manager = { manager: 'ancient-changes', operation: 'Update', apiVersion: m.apiVersion, set: m.set };
    const aid = managerId(anc);
    const prev = managers.get(aid);
    if (prev) prev.set = prev.set.union(m.set);
    else managers.set(aid, anc);
  }
}

function withoutManagedFields<T extends JsonObject>(obj: T): T {
  const meta = obj.metadata;
  if (isObject(meta) && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}

/** Write the encoded managers into the object's metadata (removing the key when there are none). */
function finish(obj: JsonObject, managers: Managers): KubeObject {
  const meta: JsonObject = isObject(obj.metadata) ? obj.metadata : {};
  const mf = encodeManagedFields(managers);
  if (mf.length) meta.managedFields = mf;
  else delete meta.managedFields;
  obj.metadata = meta;
  return obj as KubeObject;
}
