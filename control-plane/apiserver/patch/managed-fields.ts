// `metadata.managedFields` bookkeeping: decoding entries into field sets per manager, encoding
// them back in kube-apiserver's order, manager identities, and the fields no manager can own.
// An Apply manager is identified by name (and subresource); an Update manager also by apiVersion,
// as fieldmanager's BuildManagerIdentifier does, so `kubectl-edit` via v1 and via apps/v1 differ.

import type { ManagedFieldsEntry } from '../../../api/meta.js';
import { errors } from '../../../api/errors.js';
import { FieldSet, fieldPE } from './fieldpath.js';

/** One manager's ownership, decoded. */
export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Managers by identity (see managerId). */
export type Managers = Map<string, Manager>;

/** The identity of a manager entry: name, operation, subresource, and apiVersion for Update. */
export function managerId(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Update' ? m.apiVersion : '', m.subresource ?? '']);
}

/** How conflict messages name a manager: `"kubectl"`, or `"kube-controller-manager" using apps/v1`. */
export function printManager(m: Manager): string {
  return m.operation === 'Update' ? `${JSON.stringify(m.manager)} using ${m.apiVersion}` : JSON.stringify(m.manager);
}

/** Decode `metadata.managedFields`; a malformed list is a 400 naming the entry at fault. */
export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw errors.badRequest('metadata.managedFields: must be a list');
  entries.forEach((e: ManagedFieldsEntry, i) => {
    const where = `metadata.managedFields[${i}]`;
    if (typeof e !== 'object' || e === null) throw errors.badRequest(`${where}: must be an object`);
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw errors.badRequest(`${where}.operation: must be Apply or Update, got ${JSON.stringify(e.operation)}`);
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') throw errors.badRequest(`${where}.fieldsType: must be FieldsV1, got ${JSON.stringify(e.fieldsType)}`);
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {}, `${where}.fieldsV1`);
    } catch (err) {
      throw errors.badRequest((err as Error).message);
    }
    const m: Manager = { manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion ?? '', set };
    if (e.subresource) m.subresource = e.subresource;
    if (e.time) m.time = e.time;
    const id = managerId(m);
    const prev = out.get(id);
    if (prev) prev.set = prev.set.union(set);
    else out.set(id, m);
  });
  return out;
}

/** True for the managedFields values that reset ownership: `[{}]` (see the SSA docs). */
export function isResetManagedFields(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'object' && v[0] !== null && Object.keys(v[0]).length === 0;
}

/** Encode managers as `metadata.managedFields`, sorted as kube-apiserver sorts them. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.empty());
  list.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pt = p.time ? Math.floor(Date.parse(p.time) / 1000) : 0;
    const qt = q.time ? Math.floor(Date.parse(q.time) / 1000) : 0;
    if (pt !== qt) return pt - qt;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : (p.subresource ?? '') > (q.subresource ?? '') ? 1 : 0;
  });
  return list.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- fields no manager owns ----

/** Server-set identity fields, removed from every set (fieldmanager's stripMeta). */
const stripped = new FieldSet();
for (const p of [['apiVersion'], ['kind'], ['metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['metadata', f])]) {
  stripped.insert(p.map(fieldPE));
}

/**
 * The part of `set` a write to `subresource` may own: never the identity fields; on the main
 * resource never `status`; on the status subresource only `status` (the strategies' reset fields).
 */
export function ownable(set: FieldSet, subresource?: string): FieldSet {
  const r = set.difference(stripped);
  const mf = r.node([fieldPE('metadata')]);
  mf?.children.delete(fieldPE('managedFields'));
  if (subresource === 'status') {
    const only = new FieldSet();
    const st = r.children.get(fieldPE('status'));
    if (st) only.children.set(fieldPE('status'), st);
    return only;
  }
  r.children.delete(fieldPE('status'));
  return r;
}
