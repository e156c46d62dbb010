// A kind's schema as an OpenAPI v3 (structural, CRD-style) JSON schema: what `/openapi/v3`, `/openapi/v2`
// and the CustomResourceDefinitions serve, and what `kubectl explain` reads. Field descriptions come from
// the kind's `docs` table, keyed by dotted path without indexes ('spec.http', 'spec.jwtRules.issuer').

import type { ResourceType } from '../resource.js';
import type { ObjectSchema, Schema } from './schema.js';

/** A JSON schema node (OpenAPI v3 subset used by CRDs). */
export type JsonSchema = Record<string, unknown>;

const TOP_DOCS: Record<string, string> = {
  apiVersion: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
  metadata: "Standard object's metadata.",
};

/** Options for toJsonSchema. */
export interface ToJsonSchemaOptions {
  /** field descriptions by dotted path */
  docs?: Readonly<Record<string, string>>;
  /** replace the top-level metadata schema with `{type: object}`, as a CRD's openAPIV3Schema does */
  crdMetadata?: boolean;
}

/** Convert `s` (at dotted `path`, '' for the root) to a JSON schema. */
export function toJsonSchema(s: Schema, opts: ToJsonSchemaOptions = {}, path = ''): JsonSchema {
  const out = node(s, opts, path);
  const d = path === '' ? undefined : (opts.docs?.[path] ?? (path.includes('.') ? undefined : TOP_DOCS[path]));
  return d ? { description: d, ...out } : out;
}

function node(s: Schema, opts: ToJsonSchemaOptions, path: string): JsonSchema {
  switch (s.t) {
    case 'object':
      return objectNode(s, opts, path);
    case 'array':
      // items and map values share their field's path in `docs`; the description goes on the field only
      return { type: 'array', items: node(s.items, opts, path) };
    case 'map':
      return { type: 'object', additionalProperties: node(s.values, opts, path) };
    case 'string':
      return { type: 'string' };
    case 'int':
      return { type: 'integer', format: 'int64' };
    case 'number':
      return { type: 'number', format: 'double' };
    case 'bool':
      return { type: 'boolean' };
    case 'intOrString':
      return { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
    case 'quantity':
      return { anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$', 'x-kubernetes-int-or-string': true };
    case 'enum':
      return { type: 'string', enum: [...s.values] };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
}

function objectNode(s: ObjectSchema, opts: ToJsonSchemaOptions, path: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const k of Object.keys(s.fields).sort()) {
    const child = path === '' ? k : `${path}.${k}`;
    properties[k] = path === '' && k === 'metadata' && opts.crdMetadata ? { type: 'object' } : toJsonSchema(s.fields[k]!, opts, child);
  }
  return { type: 'object', properties, ...(s.required.length ? { required: [...s.required] } : {}) };
}

/** The whole kind as a JSON schema (description from docs['']), with its group-version-kind. */
export function kindJsonSchema(rt: ResourceType & { schema?: ObjectSchema }, opts: { crdMetadata?: boolean; gvk?: boolean } = {}): JsonSchema | undefined {
  if (!rt.schema) return undefined;
  const s = toJsonSchema(rt.schema, { ...(rt.docs ? { docs: rt.docs } : {}), ...(opts.crdMetadata ? { crdMetadata: true } : {}) });
  const description = rt.docs?.[''] ?? rt.docs?.spec ?? `${rt.kind} (${rt.group || 'core'}/${rt.version}).`;
  return {
    description,
    ...s,
    ...(opts.gvk ? { 'x-kubernetes-group-version-kind': [{ group: rt.group, version: rt.version, kind: rt.kind }] } : {}),
  };
}
