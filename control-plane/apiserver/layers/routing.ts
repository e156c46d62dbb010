// Routing, after authentication: every path under /api and /apis is parsed into a RequestInfo
// (request/info.ts). Discovery paths answer from the registry; resource paths resolve to a ResourceType
// (NotFound for an unknown resource, a namespaced path to a cluster-scoped one or the reverse) and go to
// the subresource or verb handler.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../../api/errors.js';
import { aggregatedContentType, aggregatedDiscovery, aggregatedVersionOf } from '../handlers/aggregated-discovery.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions } from '../handlers/discovery.js';
import { registry } from '../api-adapter.js';
import { parseRequestInfo, type DiscoveryInfo, type RequestInfo } from '../request/info.js';
import { deleteOptions, queryOf, writeContext, type Call } from './call.js';
import type { Core } from './core.js';
import { notFound } from './errors.js';
import { serveSubresource } from './subresources.js';
import { serveMetricsApi } from '../metrics-api/index.js';
import { serveHpaV1 } from '../conversion/hpa-v1.js';
import { VERBS } from './verbs.js';

/** A discovery document (/api, /apis, /apis/{group}, /apis/{group}/{version}), or undefined. */
function discovery(info: DiscoveryInfo, req: FastifyRequest, core: Core): unknown {
  const all = registry.served();
  if (info.kind === 'versions') return apiVersions(core.advertiseAddress ?? `${req.hostname}`);
  if (info.kind === 'groups') return apiGroupList(all);
  if (info.kind === 'group') return apiGroupDoc(all, info.group);
  return apiResourceList(all, info.group, info.version);
}

/** The resource type a resource request names; NotFound when it does not exist at that scope. */
function resolve(info: RequestInfo) {
  const rt = registry.get(info.group, info.version, info.resource);
  if (!rt) throw notFound();
  if (!rt.namespaced && info.namespace && info.resource !== 'namespaces') throw notFound();
  if (rt.namespaced && info.name && !info.namespace) throw notFound();
  return rt;
}

/** The /api and /apis trees. */
export function restRoutes(app: FastifyInstance, core: Core): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const query = queryOf(req);
    const info = parseRequestInfo(req.method, req.url.split('?')[0]!, query);
    if (!info) throw notFound();
    if (!info.isResourceRequest) {
      // kubectl 1.32 asks for aggregated discovery (apidiscovery.k8s.io/v2) first
      const agg = (info.kind === 'versions' || info.kind === 'groups') && req.method === 'GET' ? aggregatedVersionOf(req.headers.accept) : undefined;
      if (agg) return reply.header('Content-Type', aggregatedContentType(agg)).header('Vary', 'Accept').send(Buffer.from(JSON.stringify(aggregatedDiscovery(registry.served(), info.kind === 'versions' ? 'core' : 'groups', agg))));
      const doc = discovery(info, req, core);
      if (!doc || req.method !== 'GET') throw notFound();
      return reply.type('application/json').send(doc);
    }
    req.info = info;
    const call: Call = { req, reply, rt: resolve(info), info, query, core };
    // served by their own handlers: metrics.k8s.io (scraped, not stored) and autoscaling/v1 (converted to v2)
    if (call.rt.group === 'metrics.k8s.io') return serveMetricsApi(req, reply, call.rt, info, query, core.objects, core.metricsScraper);
    if (call.rt.group === 'autoscaling' && call.rt.version === 'v1')
      return serveHpaV1(req, reply, info, query, { objects: core.objects, writer: core.writer, v1: call.rt, v2: registry.get('autoscaling', 'v2', call.rt.plural)!, ctx: () => writeContext(call), deleteOptions: () => deleteOptions(call) });
    if (info.subresource) return serveSubresource(call);
    if (!call.rt.verbs.includes(info.verb)) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    return VERBS[info.verb as keyof typeof VERBS](call);
  };
  for (const prefix of ['/api', '/apis']) {
    app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: prefix, handler });
    app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/*`, handler });
  }
}
