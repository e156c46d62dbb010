// autoscaling/v1 HorizontalPodAutoscaler served over the stored autoscaling/v2 objects: requests are
// converted at the edge (api/kinds/autoscaling/hpa-v1.ts) and go through the v2 write path, so defaults,
// validation, admission and field managers are the v2 ones. A v1 body is first checked against the v1
// schema (unknown fields, types). Verbs: get, list, create, update, patch (merge and JSON patch on the v1
// view), delete; watch is left to the preferred version (v2).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { ApiError, errors } from '../../../api/errors.js';
import { toV1, toV2 } from '../../../api/kinds/autoscaling/hpa-v1.js';
import type { ObjectStore } from '../storage/objects.js';
import type { Writer, WriteContext, DeleteOptions } from '../handlers/write.js';
import type { RequestInfo } from '../request/info.js';
import { buildMatcher } from '../handlers/selectors.js';
import { representationOf, toTable } from '../handlers/table.js';
import { decodeObject, decodePatch } from '../request/body.js';
import { applyPatch } from '../handlers/patch-adapter.js';

/** What the v1 edge needs from the server. */
export interface HpaV1Deps {
  objects: ObjectStore;
  writer: Writer;
  v1: ResourceType;
  v2: ResourceType;
  ctx(): WriteContext;
  deleteOptions(): DeleteOptions;
}

function checkV1(v1: ResourceType, body: KubeObject): void {
  const errs = v1.validate(body).filter((e) => !e.field.startsWith('metadata'));
  if (errs.length) throw errors.invalid('HorizontalPodAutoscaler', 'autoscaling', body.metadata?.name ?? '', errs);
}

/** Serve an autoscaling/v1 horizontalpodautoscalers request. */
export async function serveHpaV1(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, query: Record<string, string>, d: HpaV1Deps) {
  const { namespace: ns, name } = info;
  const send = (o: unknown, code = 200) => reply.code(code).type('application/json').send(o);
  const asTable = representationOf(req.headers.accept) === 'table';
  if (info.subresource && info.subresource !== 'status') throw new ApiError('NotFound', 'the server could not find the requested resource');
  if (info.subresource === 'status' && info.verb !== 'get') throw errors.methodNotAllowed('autoscaling/v1 status writes are not served; use autoscaling/v2');
  switch (info.verb) {
    case 'get': {
      const o = await d.objects.mustGet(d.v2, ns, name);
      return send(asTable ? toTable(d.v2, [o], { resourceVersion: o.metadata.resourceVersion }) : toV1(o));
    }
    case 'list': {
      const matcher = buildMatcher(d.v2, query.labelSelector, query.fieldSelector);
      const list = await d.objects.list(d.v2, ns);
      const items = list.items.filter(matcher);
      if (asTable) return send(toTable(d.v2, items, { resourceVersion: String(list.revision) }));
      return send({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscalerList', metadata: { resourceVersion: String(list.revision) }, items: items.map(toV1) });
    }
    case 'create': {
      const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
      checkV1(d.v1, body);
      const created = await d.writer.create(d.v2, ns, toV2(body), d.ctx());
      return send(toV1(created), 201);
    }
    case 'update': {
      const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
      checkV1(d.v1, body);
      const cur = await d.objects.mustGet(d.v2, ns, name);
      const { object } = await d.writer.update(d.v2, ns, name, '', toV2(body, cur), d.ctx());
      return send(toV1(object));
    }
    case 'patch': {
      const { type, patch } = decodePatch(req.headers['content-type'], req.body as Buffer);
      if (type === 'apply' || type === 'strategic') throw errors.unsupportedMediaType(String(req.headers['content-type']));
      const cur = await d.objects.mustGet(d.v2, ns, name);
      const { object: patched } = applyPatch(type, toV1(cur), patch, { rt: d.v1, manager: 'unused', force: false, now: new Date() });
      checkV1(d.v1, patched);
      const { object } = await d.writer.update(d.v2, ns, name, '', toV2(patched, cur), d.ctx());
      return send(toV1(object));
    }
    case 'delete': {
      const { object } = await d.writer.delete(d.v2, ns, name, d.deleteOptions(), d.ctx());
      return send(object.apiVersion === 'autoscaling/v2' ? toV1(object) : object);
    }
    default:
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
}
