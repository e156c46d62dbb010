// The non-resource paths: health (/healthz, /livez, /readyz), /version, OpenAPI v3 and v2, the CRD list,
// /metrics, and the request metrics hook that counts every resource request once it is answered.

import type { FastifyInstance } from 'fastify';
import { registerCrdRoutes } from '../handlers/crds.js';
import { openapiDoc, openapiIndex } from '../handlers/openapi.js';
import { registerOpenapiV2 } from '../handlers/openapi-v2.js';
import { serverVersion } from '../handlers/discovery.js';
import { registry } from '../api-adapter.js';
import type { Core } from './core.js';
import { notFound } from './errors.js';

const VERB_LABEL: Record<string, string> = { get: 'GET', list: 'LIST', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE', watch: 'WATCH' };

/** apiserver_request_total / apiserver_request_duration_seconds per answered resource request. */
export function metricsLayer(app: FastifyInstance, core: Core): void {
  app.addHook('onResponse', async (req, reply) => {
    const info = req.info;
    if (!info) return;
    const labels = { verb: VERB_LABEL[info.verb] ?? info.verb.toUpperCase(), group: info.group, version: info.version, resource: info.resource, subresource: info.subresource };
    core.metrics.requests.inc({ ...labels, code: String(reply.statusCode) });
    if (info.verb !== 'watch') core.metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });
}

/** Health, version, OpenAPI and metrics routes. */
export function systemRoutes(app: FastifyInstance, core: Core): void {
  for (const p of ['/healthz', '/livez']) app.get(p, async (_req, reply) => reply.type('text/plain').send('ok'));
  app.get('/readyz', async (_req, reply) => {
    if (!core.ready) return reply.code(503).type('text/plain').send('[-]bootstrap failed: not finished\nreadyz check failed');
    return reply.type('text/plain').send('ok');
  });
  app.get('/version', async () => serverVersion);
  app.get('/openapi/v3', async () => openapiIndex(registry.served()));
  app.get('/openapi/v3/*', async (req) => {
    const parts = req.url.split('?')[0]!.split('/').slice(3);
    const [group, version] = parts[0] === 'api' ? ['', parts[1] ?? ''] : [parts[1] ?? '', parts[2] ?? ''];
    const doc = openapiDoc(registry.served(), group, version);
    if (!doc) throw notFound();
    return doc;
  });
  app.get('/metrics', async (_req, reply) => reply.type(core.metrics.registry.contentType).send(await core.metrics.registry.metrics()));
  registerOpenapiV2(app, () => registry.served());
  registerCrdRoutes(app, () => registry.all());
}
