// Server-side printing: the meta.k8s.io/v1 Table (what `kubectl get` shows) and the PartialObjectMetadata
// forms, chosen from the Accept header as kube-apiserver does.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType, TableColumn } from '../../../api/resource.js';
import { formatAge } from '../api-adapter.js';

/** The representation a client asked for. */
export type Representation = 'object' | 'table' | 'metadata';

/** Read the Accept header: Table, PartialObjectMetadata(List), or the plain object. */
export function representationOf(accept: string | undefined): Representation {
  if (!accept) return 'object';
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    for (const p of rest) {
      const i = p.indexOf('=');
      if (i > 0) params.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
    }
    if (type !== 'application/json' && type !== '*/*') continue;
    const as = params.get('as');
    if (!as) return 'object';
    if (params.get('g') !== 'meta.k8s.io') continue;
    if (as === 'Table' && (params.get('v') === 'v1' || params.get('v') === 'v1beta1')) return 'table';
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && (params.get('v') === 'v1' || params.get('v') === 'v1beta1')) return 'metadata';
  }
  return 'object';
}

const DEFAULT_COLUMNS: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
  { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
];

/** The column definitions for a kind. */
export function columnsOf(rt: ResourceType): TableColumn[] {
  return rt.columns?.length ? rt.columns : DEFAULT_COLUMNS;
}

/** PartialObjectMetadata for one object. */
export function partial(o: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** One Table row. */
export function rowOf(rt: ResourceType, o: KubeObject, now: Date, include: string): Record<string, unknown> {
  const cells = rt.columns?.length ? rt.cells(o, now) : [o.metadata.name, formatAge(o.metadata.creationTimestamp, now)];
  const row: Record<string, unknown> = { cells };
  if (include === 'Object') row.object = o;
  else if (include !== 'None') row.object = partial(o);
  return row;
}

/** A meta.k8s.io/v1 Table of objects. */
export function toTable(rt: ResourceType, objs: KubeObject[], meta: { resourceVersion?: string; continue?: string }, include = 'Metadata', noHeaders = false): Record<string, unknown> {
  const now = new Date();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    ...(noHeaders ? {} : { columnDefinitions: columnsOf(rt).map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority })) }),
    rows: objs.map((o) => rowOf(rt, o, now, include)),
  };
}

/** PartialObjectMetadataList for a list. */
export function toMetadataList(objs: KubeObject[], meta: { resourceVersion?: string; continue?: string }): Record<string, unknown> {
  return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: objs.map(partial) };
}
