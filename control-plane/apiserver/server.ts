// The API server: fastify over HTTPS, Kubernetes REST paths dispatched to the read, write and watch
// handlers, bearer-token authentication, discovery, health and metrics. `buildServer` builds the storage
// layer and registers the layers in the order a request meets them (layers/, each a fastify-plugin-style
// function of the app and the shared Core):
//
//   authn.ts        onRequest: bearer token / service-account JWT → req.user, else 401
//   authz.ts        onRequest: impersonation headers, then RBAC for every request, else 403
//   errors.ts       the one place errors become `Status` responses; unknown paths → NotFound
//   system.ts       /healthz /livez /readyz /version /openapi/v3 /metrics; request metrics
//   routing.ts      /api, /apis → RequestInfo → discovery, or the resource type
//   verbs.ts        get list watch create update patch delete deletecollection
//   subresources.ts status scale binding log exec finalize
//   storage         ObjectStore (reads, watch cache) and Writer (admission → validation → store)
//
// It returns the fastify app without listening, so tests drive it with inject() or a real socket.

import fastify, { type FastifyInstance } from 'fastify';
import { ApiError } from '../../api/errors.js';
import { RANGES } from '../../lib/defaults/defaults.js';
import { realClock, type Clock } from '../../lib/time/clock.js';
import { serviceAllocatorPlugin } from '../allocators/plugin.js';
import type { Store } from '../store/types.js';
import { AdmissionChain, type AdmissionPlugin, type UserInfo } from './admission/chain.js';
import { sidecarInjectionPlugin } from './admission/inject.js';
import { serviceAccountPlugin } from './admission/service-account.js';
import { registry, validateMeta } from './api-adapter.js';
import { routeUpgrades } from './handlers/exec-stream.js';
import { Writer, type WriteContext } from './handlers/write.js';
import { authnLayer, tokenAuthenticator } from './layers/authn.js';
import { authzLayer, rbacAuthorizer } from './layers/authz.js';
import { RbacCache } from './authz/cache.js';
import { escalationPlugin } from './authz/escalation.js';
import { AggregationController, reconcileDefaultPolicy } from './authz/reconcile.js';
import { limitRangerPlugin } from './admission/limit-range.js';
import { QuotaKeeper, resourceQuotaPlugin } from './admission/quota.js';
import { ADMIN, type Core } from './layers/core.js';
import { errorLayer } from './layers/errors.js';
import { restRoutes } from './layers/routing.js';
import { metricsLayer, systemRoutes } from './layers/system.js';
import { ApiMetrics } from './metrics.js';
import type { TokenUser } from './pki.js';
import type { RequestInfo } from './request/info.js';
import { ObjectStore } from './storage/objects.js';
import { startNodeScraper, type MetricsScraper } from './metrics-api/index.js';

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
  /** the allocator repair loop's timer (default: real time) */
  clock?: Clock;
  /** serve metrics.k8s.io by scraping every node agent this often (metrics-server's --metric-resolution); off unless set */
  metricResolutionMs?: number;
  /** authorize every request with RBAC (default: on when `tokens` is set) */
  authorization?: boolean;
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
  /** the RBAC objects the authorizer reads */
  rbac: RbacCache;
  /** create the system namespaces and reconcile the default RBAC policy */
  bootstrap(): Promise<void>;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
    info?: RequestInfo;
  }
}

/** Every request passes its admission plugins: the Service IP/port allocator, service accounts, sidecar injection, extras. */
function admissionChain(opts: ServerOptions, objects: ObjectStore, clock: Clock, log: () => FastifyInstance['log']): { admission: AdmissionChain; stop(): void } {
  const admission = new AdmissionChain(validateMeta);
  let repairTimer: unknown;
  if (opts.serviceAllocation !== false) {
    const svcRt = registry.get('', 'v1', 'services')!;
    const alloc = serviceAllocatorPlugin({
      serviceCidr: opts.serviceAllocation?.serviceCidr ?? RANGES.serviceCidr,
      nodePortRange: opts.serviceAllocation?.nodePortRange ?? RANGES.nodePortRange,
      list: async () => (await objects.list(svcRt, '')).items,
    });
    admission.use(alloc);
    repairTimer = clock.setInterval(() => void alloc.repair().catch((e) => log().warn({ err: e }, 'service allocator repair failed')), 60_000);
  }
  if (opts.serviceAccountTokens) {
    const saRt = registry.get('', 'v1', 'serviceaccounts')!;
    admission.use(serviceAccountPlugin(async (ns, name) => (await objects.get(saRt, ns, name))?.automountServiceAccountToken));
  }
  admission.use(sidecarInjectionPlugin(async (ns) => (await objects.get(registry.get('', 'v1', 'namespaces')!, '', ns))?.metadata.labels));
  for (const p of opts.admission ?? []) admission.use(p);
  return { admission, stop: () => (repairTimer ? clock.clearInterval(repairTimer) : undefined) };
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
  const clock = opts.clock ?? realClock;

  // storage, admission and the writer (the bottom layer)
  const objects = new ObjectStore(opts.store, opts.watchCacheSize);
  const { admission, stop: stopAdmission } = admissionChain(opts, objects, clock, () => app.log);
  const namespaces = registry.get('', 'v1', 'namespaces')!;
  const authnOptions = { tokens: opts.tokens, serviceAccountPublicKey: opts.serviceAccountPublicKey };
  const rbac = new RbacCache(objects);
  const authorize = rbacAuthorizer(rbac);
  const authorization = opts.authorization ?? !!opts.tokens;
  admission.use(escalationPlugin(rbac, authorize));
  admission.use(limitRangerPlugin(objects));
  // the chain is live: plugins added after the Writer is made still run
  const writer = new Writer({ objects, admission, namespaces });
  const quotaKeeper = new QuotaKeeper(objects, writer, (m) => app.log.warn(m));
  admission.use(resourceQuotaPlugin(objects, writer, quotaKeeper));
  const core: Core = {
    authorize, rbac,
    authenticate: tokenAuthenticator(authnOptions),
    objects, admission, namespaces,
    writer,
    metrics: new ApiMetrics(opts.processMetrics ?? true),
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 30_000,
    advertiseAddress: opts.advertiseAddress,
    ready: false,
    metricsScraper: opts.metricResolutionMs ? startNodeScraper(objects, opts.metricResolutionMs, (m) => app.log.warn(m)) : undefined,
  };

  // Upgrades (interactive exec) go through the same routing, hooks and error handler (handlers/exec-stream.ts).
  routeUpgrades(app);
  // Bodies are read raw and decoded by media type in one place (request/body.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  // the layers, in the order a request meets them
  authnLayer(app, authnOptions, core.authenticate);
  if (authorization) authzLayer(app, authorize);
  errorLayer(app);
  metricsLayer(app, core);
  systemRoutes(app, core);
  restRoutes(app, core);

  const aggregation = new AggregationController(rbac, core.writer, (m) => app.log.warn(m));

  async function bootstrap(): Promise<void> {
    const ctx: WriteContext = { user: ADMIN, dryRun: false, fieldManager: 'kube-apiserver', now: new Date() };
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (await objects.get(namespaces, '', name)) continue;
      try {
        await core.writer.create(namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
      }
    }
    await rbac.start();
    await reconcileDefaultPolicy(objects, core.writer);
    await aggregation.syncAll();
    await quotaKeeper.start();
    core.ready = true;
  }

  return {
    app, objects, admission, metrics: core.metrics, writer: core.writer, bootstrap, metricsScraper: core.metricsScraper, rbac,
    async close() {
      stopAdmission();
      aggregation.stop();
      quotaKeeper.stop();
      rbac.stop();
      core.metricsScraper?.stop();
      objects.stopWatches();
      await app.close();
    },
  };
}
