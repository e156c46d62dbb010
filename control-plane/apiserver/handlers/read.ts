// The read path: get, list (selectors, pagination with continue tokens, resourceVersion semantics) and the
// Table form kubectl asks for. A continue token carries the revision the first page was read at and the
// last key returned, so every page is read at one consistent revision, as kube-apiserver does.

import type { KubeObject, KubeList } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { errors } from '../../../api/errors.js';
import type { ObjectStore } from '../storage/objects.js';
import type { Matcher } from './selectors.js';

/** Query options of a list. */
export interface ListQuery {
  matcher: Matcher;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

interface ContinueToken {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
}

/** Encode a continue token (base64 JSON, like Kubernetes'). */
export function encodeContinue(rv: number, lastKey: string): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: lastKey };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

/** Decode a continue token or throw 400 BadRequest. */
export function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw errors.badRequest('continue key is not valid: invalid continue token', [{ reason: 'FieldValueInvalid', field: 'continue', message: 'invalid continue token' }]);
  }
}

function parseRv(s: string, field = 'resourceVersion'): number {
  if (!/^\d+$/.test(s)) throw errors.badRequest(`${field}: Invalid value: ${JSON.stringify(s)}: must be a non-negative integer`, [{ reason: 'FieldValueInvalid', field, message: 'must be a non-negative integer' }]);
  return Number(s);
}

/** Where a list reads from: revision and start key, from a continue token or resourceVersion. */
async function listStart(objects: ObjectStore, q: ListQuery): Promise<{ revision?: number; after?: string }> {
  let revision: number | undefined;
  let after: string | undefined;
  if (q.continueToken) {
    if (q.resourceVersion) throw errors.badRequest('specifying resource version is not allowed when using continue');
    const t = decodeContinue(q.continueToken);
    revision = t.rv;
    after = t.start;
  } else if (q.resourceVersion && q.resourceVersion !== '0') {
    const rv = parseRv(q.resourceVersion);
    const match = q.resourceVersionMatch ?? '';
    if (match === 'Exact') revision = rv;
    else if (match === '' || match === 'NotOlderThan') {
      const cur = await objects.store.currentRevision();
      if (rv > cur) throw errors.timeout(`Too large resource version: ${rv}, current: ${cur}`);
    } else throw errors.badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
  } else if (q.resourceVersionMatch && q.resourceVersionMatch !== 'NotOlderThan' && q.resourceVersionMatch !== 'Exact') {
    throw errors.badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(q.resourceVersionMatch)}`);
  }
  return { ...(revision !== undefined ? { revision } : {}), ...(after !== undefined ? { after } : {}) };
}

/**
 * An unfiltered list as the JSON body itself, without decoding a single object: each stored value gets
 * its resourceVersion spliced in. Used for plain-JSON lists without selectors (informers' and kubectl's
 * full lists), where decoding and re-encoding every object would dominate time and memory.
 */
export async function listJson(objects: ObjectStore, rt: ResourceType, namespace: string, q: ListQuery): Promise<string> {
  const { revision, after } = await listStart(objects, q);
  const limit = q.limit && q.limit > 0 ? q.limit : 0;
  const page = await objects.listRaw(rt, namespace, { ...(revision ? { revision } : {}), ...(limit ? { limit } : {}), ...(after !== undefined ? { after } : {}) });
  const rv = revision ?? page.revision;
  const meta: KubeList['metadata'] = { resourceVersion: String(rv) };
  if (page.more) meta.continue = encodeContinue(rv, page.lastKey);
  const head = JSON.stringify({ apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version, kind: rt.listKind, metadata: meta });
  return `${head.slice(0, -1)},"items":[${page.items.join(',')}]}`;
}

/** List a collection with Kubernetes' selector, pagination and resourceVersion semantics. */
export async function listObjects(objects: ObjectStore, rt: ResourceType, namespace: string, q: ListQuery): Promise<KubeList> {
  const start = await listStart(objects, q);
  const revision = start.revision;
  let after = start.after;
  const limit = q.limit && q.limit > 0 ? q.limit : 0;
  const items: KubeObject[] = [];
  let more = false;
  let lastKey = '';
  let readRevision = revision ?? 0;
  // Keep reading pages until the selector-filtered result fills `limit` (or the collection ends).
  for (;;) {
    const page = await objects.list(rt, namespace, { revision: readRevision || undefined, limit: limit ? Math.max(limit - items.length, 1) : 0, after });
    if (!readRevision) readRevision = page.revision;
    for (const o of page.items) if (q.matcher(o)) items.push(o);
    lastKey = page.lastKey;
    more = page.more;
    if (!limit || !more || items.length >= limit) break;
    after = page.lastKey;
  }
  const list: KubeList = {
    apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version,
    kind: rt.listKind,
    metadata: { resourceVersion: String(readRevision) },
    items,
  };
  if (more) list.metadata.continue = encodeContinue(readRevision, lastKey);
  return list;
}
