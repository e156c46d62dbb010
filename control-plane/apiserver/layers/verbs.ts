// The verb handlers, one function per Kubernetes verb, over the storage layer (ObjectStore for reads
// and watches, the Writer — admission, validation, storage — for writes).

import { ApiError, errors } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { RequestInfo } from '../request/info.js';
import { decodeObject, decodePatch } from '../request/body.js';
import { listJson, listObjects } from '../handlers/read.js';
import { buildMatcher } from '../handlers/selectors.js';
import { representationOf, toMetadataList, toTable } from '../handlers/table.js';
import { reviewToken } from '../handlers/tokenreview.js';
import { serveWatch } from '../handlers/watch.js';
import { registry } from '../api-adapter.js';
import { deleteOptions, intParam, sendJson, sendObject, writeContext, type Call } from './call.js';
import { notFound } from './errors.js';
import { ADMIN } from './core.js';
import { REVIEW_KINDS, review } from '../authz/reviews.js';

/** The body of a create or update, decoded by its media type. */
export const bodyObject = (c: Call) => decodeObject(c.req.headers['content-type'], c.req.body as Buffer) as KubeObject;

async function get(c: Call) {
  return sendObject(c, await c.core.objects.mustGet(c.rt, c.info.namespace, c.info.name));
}

async function list(c: Call) {
  const { rt, query } = c;
  const paging = { limit: intParam(query.limit, 'limit'), continueToken: query.continue, resourceVersion: query.resourceVersion, resourceVersionMatch: query.resourceVersionMatch };
  const rep = representationOf(c.req.headers.accept);
  // the common case, no selector and plain JSON: the stored bytes are spliced, not re-serialized
  if (!query.labelSelector && !query.fieldSelector && rep === 'object') return sendJson(c, await listJson(c.core.objects, rt, c.info.namespace, { matcher: () => true, ...paging }));
  const l = await listObjects(c.core.objects, rt, c.info.namespace, { matcher: buildMatcher(rt, query.labelSelector, query.fieldSelector), ...paging });
  if (rep === 'table') return sendJson(c, toTable(rt, l.items, l.metadata, query.includeObject || 'Metadata'));
  if (rep === 'metadata') return sendJson(c, toMetadataList(l.items, l.metadata));
  return sendJson(c, l);
}

async function watch(c: Call) {
  const { rt, query, reply } = c;
  const matcher = buildMatcher(rt, query.labelSelector, query.fieldSelector);
  const sendInitialEvents = query.sendInitialEvents === undefined ? undefined : query.sendInitialEvents === 'true';
  if (sendInitialEvents && query.resourceVersionMatch !== 'NotOlderThan')
    throw errors.invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'Forbidden', field: 'resourceVersionMatch', detail: 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' }]);
  reply.hijack();
  try {
    await serveWatch(reply.raw, c.core.objects, {
      rt, namespace: c.info.namespace, matcher, resourceVersion: query.resourceVersion,
      allowBookmarks: query.allowWatchBookmarks === 'true', sendInitialEvents,
      timeoutSeconds: intParam(query.timeoutSeconds, 'timeoutSeconds'),
      representation: representationOf(c.req.headers.accept), includeObject: query.includeObject || 'Metadata',
      bookmarkIntervalMs: c.core.bookmarkIntervalMs,
    }, c.core.metrics.watchers);
  } catch (e) {
    // the response is hijacked: the error handler cannot answer, so the Status goes out here
    const apiErr = e instanceof ApiError ? e : errors.internal((e as Error).message);
    if (!reply.raw.headersSent) reply.raw.writeHead(apiErr.code, { 'Content-Type': 'application/json' });
    reply.raw.end(JSON.stringify(apiErr.toStatus()));
  }
  return reply;
}

async function create(c: Call) {
  const body = bodyObject(c);
  if (c.info.name) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  if (c.rt.namespaced && !c.info.namespace) throw notFound();
  if (REVIEW_KINDS.has(c.rt.kind)) return sendJson(c, review(body, c.req.user ?? ADMIN, c.info.namespace, c.core.authorize, c.core.rbac), 201);
  if (c.rt.kind === 'TokenReview') return sendJson(c, await reviewToken(body, c.core.authenticate, async (ns, name) => (await c.core.objects.get(registry.get('', 'v1', 'serviceaccounts')!, ns, name)) ?? undefined), 201);
  return sendObject(c, await c.core.writer.create(c.rt, c.info.namespace, body, writeContext(c)), 201);
}

async function update(c: Call) {
  const { object, created } = await c.core.writer.update(c.rt, c.info.namespace, c.info.name, '', bodyObject(c), writeContext(c));
  return sendObject(c, object, created ? 201 : 200);
}

async function patch(c: Call) {
  const { type, patch } = decodePatch(c.req.headers['content-type'], c.req.body as Buffer);
  const force = c.query.force === 'true';
  if (type === 'apply' && !c.query.fieldManager) throw errors.badRequest('PATCH requests of type apply require the fieldManager parameter', [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'is required for apply patch' }]);
  if (c.query.force !== undefined && type !== 'apply') throw errors.badRequest('force: Forbidden: may not be specified for non-apply patch');
  const { object, created } = await c.core.writer.patch(c.rt, c.info.namespace, c.info.name, '', type, patch, { ...writeContext(c), force });
  return sendObject(c, object, created ? 201 : 200);
}

async function remove(c: Call) {
  const { object } = await c.core.writer.delete(c.rt, c.info.namespace, c.info.name, deleteOptions(c), writeContext(c));
  return sendObject(c, object, 200);
}

async function deleteCollection(c: Call) {
  const o = deleteOptions(c);
  const l = await listObjects(c.core.objects, c.rt, c.info.namespace, { matcher: buildMatcher(c.rt, c.query.labelSelector, c.query.fieldSelector) });
  const ctx = writeContext(c);
  const deleted: KubeObject[] = [];
  for (const item of l.items) {
    try {
      deleted.push((await c.core.writer.delete(c.rt, item.metadata.namespace ?? '', item.metadata.name!, o, ctx)).object);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
    }
  }
  return sendJson(c, { ...l, items: deleted });
}

/** Verb → handler. */
export const VERBS: Record<RequestInfo['verb'], (c: Call) => Promise<unknown>> = {
  get, list, watch, create, update, patch, delete: remove, deletecollection: deleteCollection,
};
