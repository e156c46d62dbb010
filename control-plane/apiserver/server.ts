// The API server: fastify over HTTPS, Kubernetes REST paths dispatched to the read, write and watch
// handlers, bearer-token authentication, discovery, health and metrics. `buildServer` wires the parts and
// returns the fastify app without listening, so tests drive it with inject() or a real socket.

import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { KubeObject } from '../../api/meta.js';
import type { ResourceType } from '../../api/resource.js';
import { ApiError, errors } from '../../api/errors.js';
import type { Store } from '../store/types.js';
import { ObjectStore } from './storage/objects.js';
import { AdmissionChain, type AdmissionPlugin, type UserInfo } from './admission/chain.js';
import { Writer, toScale, type DeleteOptions, type WriteContext } from './handlers/write.js';
import { listObjects, listJson } from './handlers/read.js';
import { buildMatcher } from './handlers/selectors.js';
import { serveWatch } from './handlers/watch.js';
import { representationOf, toMetadataList, toTable, partial } from './handlers/table.js';
import { openapiDoc, openapiIndex } from './handlers/openapi.js';
import { openLogs, pickContainer, execInContainer } from './handlers/node-proxy.js';
import { routeUpgrades, streamExec } from './handlers/exec-stream.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, serverVersion } from './handlers/discovery.js';
import { parseRequestInfo, type RequestInfo } from './request/info.js';
import { decodeObject, decodeOptional, decodePatch } from './request/body.js';
import { applyPatch } from './handlers/patch-adapter.js';
import { registry, validateMeta } from './api-adapter.js';
import { ApiMetrics } from './metrics.js';
import { serviceAllocatorPlugin } from '../allocators/plugin.js';
import { serviceAccountPlugin } from './admission/service-account.js';
import { verifyServiceAccountToken } from '../controllers/serviceaccount/token.js';
import type { TokenUser } from './pki.js';
import { serveMetricsApi, startNodeScraper, type MetricsScraper } from './metrics-api/index.js';
import { serveHpaV1 } from './conversion/hpa-v1.js';

/** Largest request body accepted, as kube-apiserver (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Everything buildServer needs. */
export interface ServerOptions {
  store: Store;
  /** PEM key and certificate; plain HTTP when absent (tests with inject()). */
  tls?: { key: string; cert: string };
  /** bearer token → user; authentication is off when undefined (tests only) */
  tokens?: Map<string, TokenUser>;
  /** extra admission plugins (sidecar injection and others) */
  admission?: AdmissionPlugin[];
  /** address clients should use, for /api's serverAddressByClientCIDRs */
  advertiseAddress?: string;
  logger?: boolean | object;
  bookmarkIntervalMs?: number;
  /** ClusterIP/NodePort allocation at create time; false turns it off (default 10.96.0.0/12, 30000-32767) */
  serviceAllocation?: { serviceCidr: string; nodePortRange: string } | false;
  /** PEM public key that verifies service-account tokens (JWTs signed by the controller manager) */
  serviceAccountPublicKey?: string;
  /** mount each Pod's ServiceAccount token Secret (the ServiceAccount admission plugin); off unless set */
  serviceAccountTokens?: boolean;
  /** recent watch events kept in memory per resource type (default 2000) */
  watchCacheSize?: number;
  processMetrics?: boolean;
  /** serve metrics.k8s.io by scraping every node agent this often (metrics-server's --metric-resolution); off unless set */
  metricResolutionMs?: number;
}

/** The server and the parts tests and `main` reach into. */
export interface ApiServer {
  app: FastifyInstance;
  objects: ObjectStore;
  admission: AdmissionChain;
  metrics: ApiMetrics;
  writer: Writer;
  /** the metrics API's scraper when metricResolutionMs is set */
  metricsScraper?: MetricsScraper;
  /** create the system namespaces when missing */
  bootstrap(): Promise<void>;
  close(): Promise<void>;
}

const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);
const ADMIN: UserInfo = { username: 'system:apiserver', uid: 'system', groups: ['system:masters'] };

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
    info?: RequestInfo;
  }
}

function q(query: unknown): Record<string, string> {
  return (query ?? {}) as Record<string, string>;
}

function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be an integer`, [{ reason: 'FieldValueInvalid', field: name, message: 'must be an integer' }]);
  return Number(v);
}

/** Build the API server (not listening). */
export function buildServer(opts: ServerOptions): ApiServer {
  const app = fastify({
    ...(opts.logger && typeof opts.logger === 'object' ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: MAX_BODY_BYTES,
    ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}),
    return503OnClosing: false,
    forceCloseConnections: true,
  } as any) as unknown as FastifyInstance;
  const objects = new ObjectStore(opts.store, opts.watchCacheSize);
  const admission = new AdmissionChain(validateMeta);
  let repairTimer: NodeJS.Timeout | undefined;
  if (opts.serviceAllocation !== false) {
    const svcRt = registry.get('', 'v1', 'services')!;
    const alloc = serviceAllocatorPlugin({
      serviceCidr: opts.serviceAllocation?.serviceCidr ?? '10.96.0.0/12',
      nodePortRange: opts.serviceAllocation?.nodePortRange ?? '30000-32767',
      list: async () => (await objects.list(svcRt, '')).items,
    });
    admission.use(alloc);
    repairTimer = setInterval(() => void alloc.repair().catch((e) => app.log.warn({ err: e }, 'service allocator repair failed')), 60_000).unref();
  }
  if (opts.serviceAccountTokens) {
    const saRt = registry.get('', 'v1', 'serviceaccounts')!;
    admission.use(serviceAccountPlugin(async (ns, name) => (await objects.get(saRt, ns, name))?.automountServiceAccountToken));
  }
  for (const p of opts.admission ?? []) admission.use(p);
  const saTokens = new Map<string, UserInfo | null>();
  const serviceAccountUser = (token: string): UserInfo | undefined => {
    if (!opts.serviceAccountPublicKey || token.split('.').length !== 3) return undefined;
    let u = saTokens.get(token);
    if (u === undefined) {
      const claims = verifyServiceAccountToken(opts.serviceAccountPublicKey, token);
      const sa = claims?.['kubernetes.io'];
      u = typeof claims?.sub === 'string' && claims.sub.startsWith('system:serviceaccount:') && sa?.namespace
        ? { username: claims.sub, uid: String(sa.serviceaccount?.uid ?? ''), groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] }
        : null;
      if (saTokens.size > 10_000) saTokens.clear();
      saTokens.set(token, u);
    }
    return u ?? undefined;
  };
  const metrics = new ApiMetrics(opts.processMetrics ?? true);
  const namespaces = registry.get('', 'v1', 'namespaces')!;
  const writer = new Writer({ objects, admission, namespaces });
  const bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 30_000;
  const metricsScraper = opts.metricResolutionMs ? startNodeScraper(objects, opts.metricResolutionMs, (m) => app.log.warn(m)) : undefined;

  // Upgrades (interactive exec) go through the same routing, hooks and error handler (handlers/exec-stream.ts).
  routeUpgrades(app);

  // Bodies are read raw and decoded by media type in one place (request/body.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (!opts.tokens) {
      req.user = ADMIN;
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const u = token ? opts.tokens.get(token) : undefined;
    const sa = !u && token ? serviceAccountUser(token) : undefined;
    if (u) req.user = { username: u.name, uid: u.uid, groups: [...u.groups, 'system:authenticated'] };
    else if (sa) req.user = { ...sa, groups: [...sa.groups, 'system:authenticated'] };
    else if (ANONYMOUS_PATHS.has(path)) req.user = { username: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };
    else throw errors.unauthorized();
  });

  app.addHook('onResponse', async (req, reply) => {
    const info = req.info;
    if (!info) return;
    const labels = { verb: info.verb.toUpperCase() === 'WATCH' ? 'WATCH' : verbLabel(info.verb), group: info.group, version: info.version, resource: info.resource, subresource: info.subresource };
    metrics.requests.inc({ ...labels, code: String(reply.statusCode) });
    if (info.verb !== 'watch') metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: any, _req, reply) => {
    let apiErr: ApiError;
    if (err instanceof ApiError) apiErr = err;
    else if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') apiErr = errors.tooLarge();
    else if (err?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') apiErr = errors.unsupportedMediaType(String(_req.headers['content-type'] ?? ''));
    else if (err?.statusCode && err.statusCode >= 400 && err.statusCode < 500) apiErr = errors.badRequest(err.message);
    else {
      app.log.error(err);
      apiErr = errors.internal(err?.message ?? String(err));
    }
    if (reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    void reply.code(apiErr.code).type('application/json').send(apiErr.toStatus());
  });

  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('application/json').send(new ApiError('NotFound', 'the server could not find the requested resource').toStatus());
  });

  // ------------------------------------------------------------ health, version, metrics
  let ready = false;
  for (const p of ['/healthz', '/livez']) app.get(p, async (_req, reply) => reply.type('text/plain').send('ok'));
  app.get('/readyz', async (_req, reply) => {
    if (!ready) return reply.code(503).type('text/plain').send('[-]bootstrap failed: not finished\nreadyz check failed');
    return reply.type('text/plain').send('ok');
  });
  app.get('/version', async () => serverVersion);
  app.get('/openapi/v3', async () => openapiIndex(registry.all()));
  app.get('/openapi/v3/*', async (req) => {
    const parts = req.url.split('?')[0]!.split('/').slice(3);
    const [group, version] = parts[0] === 'api' ? ['', parts[1] ?? ''] : [parts[1] ?? '', parts[2] ?? ''];
    const doc = openapiDoc(registry.all(), group, version);
    if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
    return doc;
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  // ------------------------------------------------------------ the REST tree
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    const query = q(req.query);
    const info = parseRequestInfo(req.method, path, query);
    if (!info) throw new ApiError('NotFound', 'the server could not find the requested resource');
    if (!info.isResourceRequest) {
      const all = registry.all();
      let doc: unknown;
      if (info.kind === 'versions') doc = apiVersions(opts.advertiseAddress ?? `${req.hostname}`);
      else if (info.kind === 'groups') doc = apiGroupList(all);
      else if (info.kind === 'group') doc = apiGroupDoc(all, info.group);
      else doc = apiResourceList(all, info.group, info.version);
      if (!doc || req.method !== 'GET') throw new ApiError('NotFound', 'the server could not find the requested resource');
      return reply.type('application/json').send(doc);
    }
    req.info = info;
    const rt = registry.get(info.group, info.version, info.resource);
    if (!rt) throw new ApiError('NotFound', 'the server could not find the requested resource');
    if (!rt.namespaced && info.namespace && info.resource !== 'namespaces') throw new ApiError('NotFound', 'the server could not find the requested resource');
    if (rt.namespaced && info.name && !info.namespace) throw new ApiError('NotFound', 'the server could not find the requested resource');
    if (rt.group === 'metrics.k8s.io') return serveMetricsApi(req, reply, rt, info, query, objects, metricsScraper);
    if (rt.group === 'autoscaling' && rt.version === 'v1') return serveHpaV1(req, reply, info, query, { objects, writer, v1: rt, v2: registry.get('autoscaling', 'v2', rt.plural)!, ctx: () => ctxOf(req, query), deleteOptions: () => deleteOptions(req, query) });
    return serveResource(req, reply, rt, info, query);
  };
  for (const prefix of ['/api', '/apis']) {
    app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: prefix, handler });
    app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: `${prefix}/*`, handler });
  }

  function ctxOf(req: FastifyRequest, query: Record<string, string>): WriteContext {
    const dryRun = query.dryRun;
    if (dryRun !== undefined && dryRun !== 'All' && dryRun !== '') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`);
    const ua = String(req.headers['user-agent'] ?? 'unknown');
    const fieldManager = query.fieldManager || ua.split('/')[0] || 'unknown';
    if (fieldManager.length > 128) throw errors.badRequest('fieldManager: Too long: must have at most 128 bytes');
    return { user: req.user ?? ADMIN, dryRun: dryRun === 'All', fieldManager, now: new Date() };
  }

  function sendObject(req: FastifyRequest, reply: FastifyReply, rt: ResourceType, obj: KubeObject, code = 200) {
    const rep = representationOf(req.headers.accept);
    const query = q(req.query);
    if (rep === 'table') return reply.code(code).type('application/json').send(toTable(rt, [obj], { resourceVersion: obj.metadata.resourceVersion }, query.includeObject || 'Metadata'));
    if (rep === 'metadata') return reply.code(code).type('application/json').send(partial(obj));
    return reply.code(code).type('application/json').send(obj);
  }

  async function serveResource(req: FastifyRequest, reply: FastifyReply, rt: ResourceType, info: RequestInfo, query: Record<string, string>) {
    const ns = info.namespace;
    const sub = info.subresource;
    if (!rt.verbs.includes(info.verb === 'watch' ? 'watch' : info.verb) && sub === '')
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    if (sub) return serveSubresource(req, reply, rt, info, query);
    switch (info.verb) {
      case 'get': {
        const o = await objects.mustGet(rt, ns, info.name);
        return sendObject(req, reply, rt, o);
      }
      case 'list': {
        if (!query.labelSelector && !query.fieldSelector && representationOf(req.headers.accept) === 'object') {
          const body = await listJson(objects, rt, ns, { matcher: () => true, limit: intParam(query.limit, 'limit'), continueToken: query.continue, resourceVersion: query.resourceVersion, resourceVersionMatch: query.resourceVersionMatch });
          return reply.type('application/json').send(body);
        }
        const matcher = buildMatcher(rt, query.labelSelector, query.fieldSelector);
        const list = await listObjects(objects, rt, ns, {
          matcher, limit: intParam(query.limit, 'limit'), continueToken: query.continue,
          resourceVersion: query.resourceVersion, resourceVersionMatch: query.resourceVersionMatch,
        });
        const rep = representationOf(req.headers.accept);
        if (rep === 'table') return reply.type('application/json').send(toTable(rt, list.items, list.metadata, query.includeObject || 'Metadata'));
        if (rep === 'metadata') return reply.type('application/json').send(toMetadataList(list.items, list.metadata));
        return reply.type('application/json').send(list);
      }
      case 'watch': {
        const matcher = buildMatcher(rt, query.labelSelector, query.fieldSelector);
        const sendInitialEvents = query.sendInitialEvents === undefined ? undefined : query.sendInitialEvents === 'true';
        if (sendInitialEvents && query.resourceVersionMatch !== 'NotOlderThan')
          throw errors.invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'Forbidden', field: 'resourceVersionMatch', detail: "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" }]);
        reply.hijack();
        try {
          await serveWatch(reply.raw, objects, {
            rt, namespace: ns, matcher, resourceVersion: query.resourceVersion,
            allowBookmarks: query.allowWatchBookmarks === 'true', sendInitialEvents,
            timeoutSeconds: intParam(query.timeoutSeconds, 'timeoutSeconds'),
            representation: representationOf(req.headers.accept), includeObject: query.includeObject || 'Metadata',
            bookmarkIntervalMs,
          }, metrics.watchers);
        } catch (e) {
          const apiErr = e instanceof ApiError ? e : errors.internal((e as Error).message);
          if (!reply.raw.headersSent) reply.raw.writeHead(apiErr.code, { 'Content-Type': 'application/json' });
          reply.raw.end(JSON.stringify(apiErr.toStatus()));
        }
        return reply;
      }
      case 'create': {
        const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
        if (info.name) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        if (rt.namespaced && !ns) throw new ApiError('NotFound', 'the server could not find the requested resource');
        const created = await writer.create(rt, ns, body, ctxOf(req, query));
        return sendObject(req, reply, rt, created, 201);
      }
      case 'update': {
        const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
        const { object, created } = await writer.update(rt, ns, info.name, '', body, ctxOf(req, query));
        return sendObject(req, reply, rt, object, created ? 201 : 200);
      }
      case 'patch': {
        const { type, patch } = decodePatch(req.headers['content-type'], req.body as Buffer);
        const force = query.force === 'true';
        if (type === 'apply' && !query.fieldManager) throw errors.badRequest('PATCH requests of type apply require the fieldManager parameter', [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'is required for apply patch' }]);
        if (query.force !== undefined && type !== 'apply') throw errors.badRequest('force: Forbidden: may not be specified for non-apply patch');
        const { object, created } = await writer.patch(rt, ns, info.name, '', type, patch, { ...ctxOf(req, query), force });
        return sendObject(req, reply, rt, object, created ? 201 : 200);
      }
      case 'delete': {
        const o = deleteOptions(req, query);
        const { object } = await writer.delete(rt, ns, info.name, o, ctxOf(req, query));
        return sendObject(req, reply, rt, object, 200);
      }
      case 'deletecollection': {
        const o = deleteOptions(req, query);
        const matcher = buildMatcher(rt, query.labelSelector, query.fieldSelector);
        const list = await listObjects(objects, rt, ns, { matcher });
        const ctx = ctxOf(req, query);
        const deleted: KubeObject[] = [];
        for (const item of list.items) {
          try {
            deleted.push((await writer.delete(rt, item.metadata.namespace ?? '', item.metadata.name!, o, ctx)).object);
          } catch (e) {
            if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
          }
        }
        return reply.type('application/json').send({ ...list, items: deleted });
      }
    }
  }

  async function serveSubresource(req: FastifyRequest, reply: FastifyReply, rt: ResourceType, info: RequestInfo, query: Record<string, string>) {
    const { namespace: ns, name, subresource: sub } = info;
    const notFound = () => new ApiError('NotFound', 'the server could not find the requested resource');
    if (!name) throw notFound();
    if (sub === 'status' && rt.subresources.status) {
      if (info.verb === 'get') return sendObject(req, reply, rt, await objects.mustGet(rt, ns, name));
      if (info.verb === 'update') {
        const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
        return sendObject(req, reply, rt, (await writer.update(rt, ns, name, 'status', body, ctxOf(req, query))).object);
      }
      if (info.verb === 'patch') {
        const { type, patch } = decodePatch(req.headers['content-type'], req.body as Buffer);
        const r = await writer.patch(rt, ns, name, 'status', type, patch, { ...ctxOf(req, query), force: query.force === 'true' });
        return sendObject(req, reply, rt, r.object);
      }
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (sub === 'scale' && rt.subresources.scale) {
      if (info.verb === 'get') return reply.type('application/json').send(toScale(rt, await objects.mustGet(rt, ns, name)));
      if (info.verb === 'update') {
        const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
        return reply.type('application/json').send(await writer.updateScale(rt, ns, name, body, ctxOf(req, query)));
      }
      if (info.verb === 'patch') {
        const { type, patch } = decodePatch(req.headers['content-type'], req.body as Buffer);
        if (type === 'apply') throw errors.unsupportedMediaType('application/apply-patch+yaml');
        const cur = toScale(rt, await objects.mustGet(rt, ns, name));
        const scaleRt = { ...rt, kind: 'Scale', group: 'autoscaling' } as ResourceType;
        const { object } = applyPatch(type, cur, patch, { rt: scaleRt, manager: 'unused', force: false, now: new Date() });
        return reply.type('application/json').send(await writer.updateScale(rt, ns, name, object, ctxOf(req, query)));
      }
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (sub === 'binding' && rt.kind === 'Pod' && info.verb === 'create') {
      const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
      await writer.bind(rt, ns, name, body, ctxOf(req, query));
      return reply.code(201).type('application/json').send({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (sub === 'log' && rt.kind === 'Pod' && info.verb === 'get') {
      const pod = await objects.mustGet(rt, ns, name);
      const container = pickContainer(pod, query.container);
      if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
      const node = await objects.mustGet(registry.get('', 'v1', 'nodes')!, '', pod.spec.nodeName);
      const stream = await openLogs(pod, node, container, query);
      return reply.type('text/plain').send(stream);
    }
    if (sub === 'exec' && rt.kind === 'Pod' && (info.verb === 'create' || info.verb === 'get')) {
      const pod = await objects.mustGet(rt, ns, name);
      const container = pickContainer(pod, query.container);
      if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
      const node = await objects.mustGet(registry.get('', 'v1', 'nodes')!, '', pod.spec.nodeName);
      if (req.headers.upgrade) return streamExec(req, reply, pod, node, container);
      const command = ([] as string[]).concat((req.query as Record<string, string | string[]>).command ?? []);
      const stdin = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : undefined;
      return reply.type('application/json').send(await execInContainer(pod, node, container, command, stdin));
    }
    if (sub === 'finalize' && rt.kind === 'Namespace' && info.verb === 'update') {
      const body = decodeObject(req.headers['content-type'], req.body as Buffer) as KubeObject;
      return sendObject(req, reply, rt, (await writer.update(rt, '', name, 'finalize', body, ctxOf(req, query))).object);
    }
    throw notFound();
  }

  function deleteOptions(req: FastifyRequest, query: Record<string, string>): DeleteOptions {
    const body = decodeOptional(req.headers['content-type'], req.body as Buffer | undefined) as DeleteOptions | undefined;
    const o: DeleteOptions = { ...(body ?? {}) };
    const g = intParam(query.gracePeriodSeconds, 'gracePeriodSeconds');
    if (g !== undefined) o.gracePeriodSeconds = g;
    if (query.propagationPolicy) o.propagationPolicy = query.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (o.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(o.propagationPolicy))
      throw errors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(o.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan"`);
    if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds < 0) o.gracePeriodSeconds = 0;
    return o;
  }

  async function bootstrap(): Promise<void> {
    const ctx: WriteContext = { user: ADMIN, dryRun: false, fieldManager: 'kube-apiserver', now: new Date() };
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (await objects.get(namespaces, '', name)) continue;
      try {
        await writer.create(namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
      }
    }
    ready = true;
  }

  return {
    app, objects, admission, metrics, writer, bootstrap, metricsScraper,
    async close() {
      if (repairTimer) clearInterval(repairTimer);
      metricsScraper?.stop();
      objects.stopWatches();
      await app.close();
    },
  };
}

function verbLabel(v: string): string {
  return { get: 'GET', list: 'LIST', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE', watch: 'WATCH' }[v] ?? v.toUpperCase();
}
