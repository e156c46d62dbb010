// GET /openapi/v2: the Swagger 2.0 document, as JSON or as the protobuf kubectl asks for
// (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's openapi_v2.Document).
// kubectl loads it for client-side schema validation when /openapi/v3 has no document for a manifest's
// group-version (an unserved kind); a 404 here used to become "the server could not find the requested
// resource" for the whole file instead of Kubernetes' "no matches for kind" for that one object.
// Definitions: the CRD kinds' full schemas (v2 dialect: no anyOf, free-form nodes untyped); built-in
// kinds are left out, so kubectl skips client-side validation for them (the server validates).
// Paths: every served resource with its operations, GVK and query parameters (fieldValidation among
// them), as in /openapi/v3.

import type { FastifyInstance } from 'fastify';
import type { ResourceType } from '../../../api/resource.js';
import { kindJsonSchema, type JsonSchema } from '../../../api/schema/openapi.js';
import { isCustomResource } from './crds.js';
import { schemaNameOf } from './openapi.js';
import { serverVersion } from './discovery.js';

const PROTO_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];

/** A schema in the Swagger 2.0 dialect Kubernetes publishes for CRDs. */
function toV2(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'anyOf' || (k === 'pattern' && s['x-kubernetes-int-or-string'])) continue;
    if (k === 'type' && s['x-kubernetes-preserve-unknown-fields']) continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([n, c]) => [n, toV2(c)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = typeof v === 'object' ? toV2(v as JsonSchema) : v;
    else out[k] = v;
  }
  return out;
}

/** The Swagger 2.0 document for every served kind. */
export function openapiV2(served: ResourceType[]): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const param = (name: string) => ({ name, in: 'query', type: name === 'force' ? 'boolean' : 'string', uniqueItems: true });
  for (const rt of served) {
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    const schema = isCustomResource(rt) ? kindJsonSchema(rt, { gvk: true }) : undefined;
    if (schema) definitions[schemaNameOf(rt)] = toV2(schema);
    const op = (action: string, params: string[]) => ({
      operationId: `${action}${rt.kind}`,
      consumes: ['*/*'],
      produces: ['application/json', 'application/yaml'],
      parameters: params.map(param),
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    const prefix = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
    const collection = rt.namespaced ? `${prefix}/namespaces/{namespace}/${rt.plural}` : `${prefix}/${rt.plural}`;
    paths[collection] = { get: op('list', ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch']), post: op('post', WRITE_PARAMS), delete: op('deletecollection', ['labelSelector', 'fieldSelector']) };
    paths[`${collection}/{name}`] = { get: op('get', ['pretty']), put: op('put', WRITE_PARAMS), patch: op('patch', [...WRITE_PARAMS, 'force']), delete: op('delete', ['gracePeriodSeconds', 'propagationPolicy', 'dryRun']) };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: serverVersion.gitVersion }, paths, definitions };
}

// ---------------------------------------------------------------------------------------------
// gnostic openapi_v2 protobuf (field numbers from gnostic's OpenAPIv2.proto)

class Writer {
  private readonly parts: Buffer[] = [];
  private varint(n: number): void {
    const b: number[] = [];
    while (n > 127) {
      b.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    b.push(n);
    this.parts.push(Buffer.from(b));
  }
  bytes(field: number, buf: Buffer): this {
    this.varint((field << 3) | 2);
    this.varint(buf.length);
    this.parts.push(buf);
    return this;
  }
  string(field: number, s: string | undefined): this {
    return s === undefined ? this : this.bytes(field, Buffer.from(s, 'utf8'));
  }
  message(field: number, w: Writer | undefined): this {
    return w ? this.bytes(field, w.done()) : this;
  }
  bool(field: number, v: boolean): this {
    this.varint(field << 3);
    this.varint(v ? 1 : 0);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Any{yaml}: JSON is YAML, so every value is written as its JSON text. */
const anyOf = (v: unknown) => new Writer().string(2, `${JSON.stringify(v)}\n`);
const namedAny = (name: string, v: unknown) => new Writer().string(1, name).message(2, anyOf(v));

function schemaMessage(s: JsonSchema): Writer {
  const w = new Writer();
  if (typeof s.format === 'string') w.string(2, s.format);
  if (typeof s.description === 'string') w.string(4, s.description);
  if (typeof s.pattern === 'string') w.string(13, s.pattern);
  for (const r of (s.required as string[] | undefined) ?? []) w.string(19, r);
  for (const e of (s.enum as unknown[] | undefined) ?? []) w.message(20, anyOf(e));
  const ap = s.additionalProperties;
  if (typeof ap === 'boolean') w.message(21, new Writer().bool(2, ap));
  else if (ap && typeof ap === 'object') w.message(21, new Writer().message(1, schemaMessage(ap as JsonSchema)));
  if (typeof s.type === 'string') w.message(22, new Writer().string(1, s.type));
  if (s.items && typeof s.items === 'object') w.message(23, new Writer().message(1, schemaMessage(s.items as JsonSchema)));
  if (s.properties) {
    const props = new Writer();
    for (const [n, c] of Object.entries(s.properties as Record<string, JsonSchema>)) props.message(1, new Writer().string(1, n).message(2, schemaMessage(c)));
    w.message(25, props);
  }
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) w.message(31, namedAny(k, v));
  return w;
}

function operationMessage(op: JsonSchema): Writer {
  const w = new Writer().string(5, op.operationId as string);
  for (const c of op.produces as string[]) w.string(6, c);
  for (const c of op.consumes as string[]) w.string(7, c);
  for (const p of op.parameters as { name: string; in: string; type: string; uniqueItems: boolean }[]) {
    const q = new Writer().string(2, p.in).string(4, p.name).string(6, p.type).bool(20, p.uniqueItems);
    w.message(8, new Writer().message(1, new Writer().message(2, new Writer().message(3, q))));
  }
  const ok = new Writer().string(1, '200').message(2, new Writer().message(1, new Writer().string(1, 'OK')));
  w.message(9, new Writer().message(1, ok));
  for (const [k, v] of Object.entries(op)) if (k.startsWith('x-')) w.message(13, namedAny(k, v));
  return w;
}

const PATH_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

/** The document as gnostic's openapi_v2.Document protobuf. */
export function encodeOpenapiV2(doc: JsonSchema): Buffer {
  const info = doc.info as { title: string; version: string };
  const paths = new Writer();
  for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
    const pi = new Writer();
    for (const [m, op] of Object.entries(item)) pi.message(PATH_FIELDS[m]!, operationMessage(op));
    paths.message(2, new Writer().string(1, p).message(2, pi));
  }
  const defs = new Writer();
  for (const [n, s] of Object.entries(doc.definitions as Record<string, JsonSchema>)) defs.message(1, new Writer().string(1, n).message(2, schemaMessage(s)));
  return new Writer()
    .string(1, doc.swagger as string)
    .message(2, new Writer().string(1, info.title).string(2, info.version))
    .message(8, paths)
    .message(9, defs)
    .done();
}

/** True when the Accept header asks for the protobuf form. */
export function wantsProtobuf(accept: string | undefined): boolean {
  return !!accept && /application\/com\.github\.proto-openapi\.spec\.v2[.@]v1\.0\+protobuf/.test(accept);
}

/** Register GET /openapi/v2 (`served` is every served version of every kind). */
export function registerOpenapiV2(app: FastifyInstance, served: () => ResourceType[]): void {
  let cache: { json: string; proto: Buffer } | undefined;
  const build = () => {
    if (!cache) {
      const doc = openapiV2(served());
      cache = { json: JSON.stringify(doc), proto: encodeOpenapiV2(doc) };
    }
    return cache;
  };
  app.get('/openapi/v2', async (req, reply) => {
    const c = build();
    if (wantsProtobuf(req.headers.accept)) return reply.type(PROTO_TYPE).send(c.proto);
    return reply.type('application/json').send(c.json);
  });
}
