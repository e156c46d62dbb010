// One resource request as the verb handlers see it (`Call`: request, reply, resource type, parsed
// request info, query, the shared Core), and the small pieces every handler uses: the write context,
// sending an object in the representation asked for, delete options, integer query parameters.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors } from '../../../api/errors.js';
import type { DeleteOptions, WriteContext } from '../handlers/write.js';
import { partial, representationOf, toTable } from '../handlers/table.js';
import { decodeOptional } from '../request/body.js';
import type { RequestInfo } from '../request/info.js';
import { ADMIN, type Core } from './core.js';

/** A routed resource request. */
export interface Call {
  req: FastifyRequest;
  reply: FastifyReply;
  rt: ResourceType;
  info: RequestInfo;
  query: Record<string, string>;
  core: Core;
}

/** The query string as flat strings. */
export function queryOf(req: FastifyRequest): Record<string, string> {
  return (req.query ?? {}) as Record<string, string>;
}

/** An integer query parameter, or a 400 naming it. */
export function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be an integer`, [{ reason: 'FieldValueInvalid', field: name, message: 'must be an integer' }]);
  return Number(v);
}

/** Who writes, dry run and field manager, from the request. */
export function writeContext(c: Call): WriteContext {
  const dryRun = c.query.dryRun;
  if (dryRun !== undefined && dryRun !== 'All' && dryRun !== '') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`);
  const ua = String(c.req.headers['user-agent'] ?? 'unknown');
  const fieldManager = c.query.fieldManager || ua.split('/')[0] || 'unknown';
  if (fieldManager.length > 128) throw errors.badRequest('fieldManager: Too long: must have at most 128 bytes');
  return { user: c.req.user ?? ADMIN, dryRun: dryRun === 'All', fieldManager, now: new Date() };
}

/** Sends one object as JSON, a Table or PartialObjectMetadata, as the Accept header asks. */
export function sendObject(c: Call, obj: KubeObject, code = 200): FastifyReply {
  const rep = representationOf(c.req.headers.accept);
  const body = rep === 'table' ? toTable(c.rt, [obj], { resourceVersion: obj.metadata.resourceVersion }, c.query.includeObject || 'Metadata') : rep === 'metadata' ? partial(obj) : obj;
  return c.reply.code(code).type('application/json').send(body);
}

/** Sends any JSON document. */
export function sendJson(c: Call, body: unknown, code = 200): FastifyReply {
  return c.reply.code(code).type('application/json').send(body);
}

/** DeleteOptions from the body and the query (query wins), validated. */
export function deleteOptions(c: Call): DeleteOptions {
  const body = decodeOptional(c.req.headers['content-type'], c.req.body as Buffer | undefined) as DeleteOptions | undefined;
  const o: DeleteOptions = { ...(body ?? {}) };
  const g = intParam(c.query.gracePeriodSeconds, 'gracePeriodSeconds');
  if (g !== undefined) o.gracePeriodSeconds = g;
  if (c.query.propagationPolicy) o.propagationPolicy = c.query.propagationPolicy as DeleteOptions['propagationPolicy'];
  if (o.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(o.propagationPolicy))
    throw errors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(o.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan"`);
  if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds < 0) o.gracePeriodSeconds = 0;
  return o;
}
