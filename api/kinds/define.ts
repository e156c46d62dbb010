// defineKind turns a kind's declaration (names, schema, defaults, semantic checks, table) into the
// ResourceType the registry serves. validate = the generic schema walk + the kind's semantic checks;
// semantic checks run only when every value had the right JSON type, so they may trust types.

import type { FieldError } from '../field.js';
import type { KubeObject } from '../meta.js';
import type { ResourceType, ScaleSubresource, TableColumn } from '../resource.js';
import type { ObjectSchema } from '../schema/schema.js';
import { walk } from '../schema/walk.js';

/** The verbs every stored resource supports. */
export const standardVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** What a kind module declares. */
export interface KindDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  namespaced: boolean;
  categories?: string[];
  status?: boolean;
  scale?: ScaleSubresource;
  nameValidation?: ResourceType['nameValidation'];
  schema: ObjectSchema;
  defaults?: (obj: KubeObject) => void;
  semantic?: (obj: KubeObject, old?: KubeObject) => FieldError[];
  columns: TableColumn[];
  cells: (obj: KubeObject, now: Date) => unknown[];
  /** every served version when more than `version` (same schema at each; see api/versions.ts) */
  servedVersions?: string[];
  /** the version objects are stored at, when not `version` */
  storageVersion?: string;
  /** field descriptions for OpenAPI / `kubectl explain`, by dotted path ('spec.http') */
  docs?: Record<string, string>;
}

/** Build a ResourceType from a KindDef. */
export function defineKind(d: KindDef): ResourceType & { schema: ObjectSchema } {
  const { schema, semantic, defaults } = d;
  return {
    group: d.group,
    version: d.version,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    namespaced: d.namespaced,
    categories: d.categories ?? [],
    verbs: standardVerbs,
    subresources: { ...(d.status ? { status: true } : {}), ...(d.scale ? { scale: d.scale } : {}) },
    ...(d.nameValidation ? { nameValidation: d.nameValidation } : {}),
    schema,
    applyDefaults: defaults ?? (() => {}),
    validate(obj: KubeObject, old?: KubeObject): FieldError[] {
      const r = walk(schema, obj);
      if (r.typesOk && semantic) {
        const more = semantic(obj, old);
        for (const e of more) r.errors.push(e);
      }
      return r.errors;
    },
    columns: d.columns,
    cells: d.cells,
    ...(d.servedVersions ? { servedVersions: d.servedVersions } : {}),
    ...(d.storageVersion && d.storageVersion !== d.version ? { storageVersion: d.storageVersion } : {}),
    ...(d.docs ? { docs: d.docs } : {}),
  };
}

/** A Table column; `wide` puts it behind `-o wide` (priority 1). */
export function col(name: string, type: TableColumn['type'] = 'string', wide = false, description = ''): TableColumn {
  return { name, type, priority: wide ? 1 : 0, ...(name === 'Name' ? { format: 'name' } : {}), ...(description ? { description } : {}) };
}

/** NAME column as every kind's first. */
export const nameCol = col('Name');
/** AGE column. */
export const ageCol = col('Age');
