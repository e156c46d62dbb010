// Mesh control assembled: informers on the API (Services, EndpointSlices, Pods, Namespaces,
// PeerAuthentications, AuthorizationPolicies) → debounced pushes through the discovery server; the CA
// service; the istiod Service and root-cert ConfigMaps; the debug HTTP port. A plain API client: nothing
// here touches the store, so it runs against any Kubernetes API.
//
//   informer events ──► generation++ ──► Debouncer (100 ms quiet / 1 s max) ──► DiscoveryServer.pushAll()
//                                                                                 per proxy, per type:
//                                         generate() (Service/Endpoints shared,   push iff the content hash
//                                         Workload per proxy) ◄──────────────────  differs from the last sent

import * as grpc from '@grpc/grpc-js';
import { Informer, KubeClient, isNotFound } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD, loadMeshProto } from '../../proto/load.js';
import type { Resource } from '../../proto/types.js';
import { CertificateAuthority, type PluggedCa } from './ca/authority.js';
import { caHandlers } from './ca/service.js';
import { TokenReviewer } from './auth/tokenreview.js';
import { compileEndpoints, compileRoutes, compileServices, compileWorkload, visibleFor, hashResources, type ClusterView, type ProxyRef } from './model/compile.js';
import { DiscoveryServer } from './xds/server.js';
import { JwksCache } from './model/jwt.js';
import { Debouncer } from './xds/debounce.js';
import { apiServerPodAddress, ensureIstiodService, ensureRootCertConfigMap } from './istiod.js';
import { MeshMetrics } from './debug/metrics.js';
import { startDebugServer } from './debug/http.js';
import type { MeshConfig } from './flags.js';

const REFS = {
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  peerauthentications: { apiVersion: 'security.istio.io/v1', plural: 'peerauthentications', namespaced: true },
  authorizationpolicies: { apiVersion: 'security.istio.io/v1', plural: 'authorizationpolicies', namespaced: true },
  virtualservices: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  destinationrules: { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true },
  httproutes: { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true },
  grpcroutes: { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'grpcroutes', namespaced: true },
  serviceentries: { apiVersion: 'networking.istio.io/v1', plural: 'serviceentries', namespaced: true },
  workloadentries: { apiVersion: 'networking.istio.io/v1', plural: 'workloadentries', namespaced: true },
  sidecars: { apiVersion: 'networking.istio.io/v1', plural: 'sidecars', namespaced: true },
  requestauthentications: { apiVersion: 'security.istio.io/v1', plural: 'requestauthentications', namespaced: true },
};

/** A running mesh control. */
export interface MeshControl {
  grpcPort: number;
  debugUrl: string;
  ca: CertificateAuthority;
  discovery: DiscoveryServer;
  reviewer: TokenReviewer;
  view: ClusterView;
  ready(): boolean;
  /** what would be pushed to a proxy (pod.namespace), for /debug/config_dump */
  configDump(proxyId: string): Record<string, Resource[]> | undefined;
  stop(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

const SECRETS = { apiVersion: 'v1', plural: 'secrets', namespaced: true };

/** The CA from Secret `cacerts` (when given) or the self-signed root in the state dir. */
function caFrom(secret: KubeObject | undefined, c: MeshConfig, log: Log): CertificateAuthority {
  if (secret) {
    const data = Object.fromEntries(Object.entries((secret as any).data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])) as unknown as PluggedCa;
    const ca = CertificateAuthority.fromPlugged(data, c.maxCertTtlSec);
    log('info', 'mesh CA: using the plugged-in CA', { source: ca.source });
    return ca;
  }
  const ca = CertificateAuthority.selfSigned(c.caDir, c.maxCertTtlSec);
  log('info', 'mesh CA: self-signed root', { dir: c.caDir });
  return ca;
}

async function loadCa(client: KubeClient, c: MeshConfig, log: Log): Promise<{ ca: CertificateAuthority; secretVersion: string }> {
  try {
    const s = await client.get(SECRETS, 'cacerts', { namespace: c.rootNamespace });
    return { ca: caFrom(s, c, log), secretVersion: s.metadata.resourceVersion ?? '' };
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return { ca: caFrom(undefined, c, log), secretVersion: '' };
}

/** Starts mesh control; resolves once it serves (its caches may still be syncing: see ready()). */
export async function startMeshControl(c: MeshConfig, log: Log, clientIn?: KubeClient): Promise<MeshControl> {
  const client = clientIn ?? KubeClient.fromKubeconfig(c.kubeconfig ? { path: c.kubeconfig } : {});
  const onError = (e: unknown) => log('warn', 'informer error', { error: (e as Error).message });
  const inf = Object.fromEntries(Object.entries(REFS).map(([k, ref]) => [k, new Informer(client, ref, { namespace: '', onError })])) as Record<keyof typeof REFS, Informer>;
  const byKey = (i: Informer) => (ns: string, name: string) => i.get(`${ns}/${name}`);
  const view: ClusterView = {
    services: () => inf.services.list(),
    service: byKey(inf.services),
    endpointSlices: () => inf.endpointslices.list(),
    pod: byKey(inf.pods),
    peerAuthentications: () => inf.peerauthentications.list(),
    authorizationPolicies: () => inf.authorizationpolicies.list(),
    virtualServices: () => inf.virtualservices.list(),
    destinationRules: () => inf.destinationrules.list(),
    httpRoutes: () => inf.httproutes.list(),
    grpcRoutes: () => inf.grpcroutes.list(),
    serviceEntries: () => inf.serviceentries.list(),
    workloadEntries: () => inf.workloadentries.list(),
    pods: () => inf.pods.list(),
    sidecars: () => inf.sidecars.list(),
    requestAuthentications: () => inf.requestauthentications.list(),
    jwks: (uri) => jwksCache.get(uri),
  };
  const metrics = new MeshMetrics();
  let { ca, secretVersion } = await loadCa(client, c, log);
  const reviewer = new TokenReviewer(client, c.tokenAudiences.length ? { audiences: c.tokenAudiences } : {});
  const authenticate = (md: grpc.Metadata) => reviewer.authenticate(md);

  // Shared resources are recompiled at most once per generation.
  let generation = 0;
  const shared = new Map<string, { gen: number; resources: Resource[]; version: string }>();
  const sharedOf = (type: string) => {
    let s = shared.get(type);
    if (!s || s.gen !== generation) {
      const resources = type === TYPE_SERVICE ? compileServices(view) : type === TYPE_ROUTES ? compileRoutes(view) : compileEndpoints(view);
      s = { gen: generation, resources, version: hashResources(resources) };
      shared.set(type, s);
    }
    return s;
  };
  const generate = (type: string, proxy: ProxyRef) => {
    if (type === TYPE_WORKLOAD) {
      const resources = [compileWorkload(view, proxy, c.rootNamespace)];
      return { resources, version: hashResources(resources) };
    }
    const s = sharedOf(type);
    if (type !== TYPE_SERVICE && type !== TYPE_ENDPOINTS) return s;
    // a Sidecar's egress hosts trim what this proxy sees (the same for every proxy it selects)
    const visible = visibleFor(view, proxy, c.rootNamespace);
    if (!visible) return s;
    const resources = s.resources.filter((r) => visible(r));
    return { resources, version: hashResources(resources) };
  };
  const discovery = new DiscoveryServer({
    authenticate, generate, log,
    podServiceAccount: (ns, pod) => {
      const p: any = inf.pods.get(`${ns}/${pod}`);
      return p ? (p.spec?.serviceAccountName || p.spec?.serviceAccount || 'default') : undefined;
    },
    metrics: { pushes: (t) => metrics.pushes.inc({ type: t }), rejects: (t) => metrics.rejects.inc({ type: t }), connections: (n) => metrics.connections.set(n) },
  });
  const debouncer = new Debouncer((events, waited) => {
    metrics.debounce.observe(waited / 1000);
    const t0 = performance.now();
    const n = discovery.pushAll();
    metrics.pushTime.observe((performance.now() - t0) / 1000);
    if (n) log('info', 'push', { events, waitedMs: waited, responses: n });
  }, c.debounceQuietMs, c.debounceMaxMs);
  const changed = () => {
    generation++;
    debouncer.trigger();
  };
  // jwksUri key sets, fetched by mesh control (proxies get them inline); a new key set is a change
  const jwksCache = new JwksCache(() => changed());
  for (const k of ['services', 'endpointslices', 'pods', 'peerauthentications', 'authorizationpolicies', 'virtualservices', 'destinationrules', 'httproutes', 'grpcroutes', 'serviceentries', 'workloadentries', 'sidecars', 'requestauthentications'] as const)
    inf[k].addEventHandler({ onAdd: changed, onUpdate: (a, b) => { if (a.metadata.resourceVersion !== b.metadata.resourceVersion) changed(); }, onDelete: changed });

  // Root cert in every namespace: on namespace events and every minute.
  const pendingNs = new Set<string>();
  let nsTimer: NodeJS.Timeout | undefined;
  const syncNamespaces = () => {
    nsTimer = undefined;
    const batch = [...pendingNs];
    pendingNs.clear();
    void (async () => {
      for (const ns of batch) {
        const o: any = inf.namespaces.get(ns);
        if (!o || o.status?.phase === 'Terminating' || o.metadata.deletionTimestamp) continue;
        await ensureRootCertConfigMap(client, ns, ca.rootPem).catch((e) => log('warn', 'root cert ConfigMap', { namespace: ns, error: (e as Error).message }));
      }
    })();
  };
  const queueNs = (o: KubeObject) => {
    pendingNs.add(o.metadata.name!);
    nsTimer ??= setTimeout(syncNamespaces, 50);
  };
  inf.namespaces.addEventHandler({ onAdd: queueNs, onUpdate: (_a, b) => queueNs(b) });
  const resync = setInterval(() => { for (const o of inf.namespaces.list()) queueNs(o); }, 60_000).unref();

  // gRPC (TLS with a serving certificate from the mesh CA); rebuilt on the same port when the CA changes
  const address = c.advertiseAddress ?? (await apiServerPodAddress(client).catch(() => undefined)) ?? '127.0.0.1';
  const ips = [...new Set(['127.0.0.1', address])];
  const dns = [`istiod.${c.rootNamespace}.svc`, `istiod.${c.rootNamespace}.svc.cluster.local`, 'localhost'];
  const proto = loadMeshProto();
  const serve = (port: number) => {
    const serving = ca.servingCert(dns, ips);
    const srv = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_permit_without_calls': 1 });
    srv.addService(proto.AggregatedDiscoveryService.service, discovery.handlers());
    srv.addService(proto.IstioCertificateService.service, caHandlers({ ca: () => ca, authenticate, log, metrics: { csr: (o) => metrics.csr(o) } }));
    const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(serving.chainPem) }], false);
    return new Promise<{ srv: grpc.Server; port: number }>((res, rej) => srv.bindAsync(`${c.bindAddress}:${port}`, creds, (e, p) => (e ? rej(e) : res({ srv, port: p }))));
  };
  const first = await serve(c.grpcPort);
  let server = first.srv;
  const grpcPort = first.port;

  // Secret cacerts: a new plug-in CA (or its removal) takes effect without a restart, as istiod's does:
  // new certificates, the new root in every namespace, and a new serving certificate (streams reconnect).
  const secrets = new Informer(client, SECRETS, { namespace: c.rootNamespace, fieldSelector: 'metadata.name=cacerts', onError });
  let reloading = Promise.resolve();
  const reloadCa = (s: KubeObject | undefined) => {
    const version = s?.metadata.resourceVersion ?? '';
    if (version === secretVersion) return;
    reloading = reloading.then(async () => {
      try {
        ca = caFrom(s, c, log);
      } catch (e) {
        log('error', 'mesh CA: Secret cacerts is unusable, keeping the current CA', { error: (e as Error).message });
        return;
      }
      secretVersion = version;
      server.forceShutdown();
      ({ srv: server } = await serve(grpcPort));
      for (const o of inf.namespaces.list()) queueNs(o);
      log('info', 'mesh CA reloaded', { source: ca.source });
    });
  };
  secrets.addEventHandler({ onAdd: (s) => reloadCa(s), onUpdate: (_a, s) => reloadCa(s), onDelete: () => reloadCa(undefined) });
  secrets.start();

  for (const i of Object.values(inf)) i.start();
  let synced = false;
  const syncing = Promise.all(Object.values(inf).map((i) => i.waitForSync())).then(() => {
    synced = true;
    log('info', 'mesh control caches synced', { grpcPort });
  });
  let istiodOk = !c.manageIstiodService;
  const keepIstiod = async () => {
    if (!c.manageIstiodService) return;
    try {
      const addr = c.advertiseAddress ?? (await apiServerPodAddress(client)) ?? address;
      await ensureIstiodService(client, c.rootNamespace, addr, c.grpcPort || grpcPort, c.debugPort || 15014);
      istiodOk = true;
    } catch (e) {
      log('warn', 'istiod Service', { error: (e as Error).message });
    }
  };
  void keepIstiod();
  const istiodTimer = setInterval(() => void keepIstiod(), 30_000).unref();

  const mc: MeshControl = {
    grpcPort, get ca() { return ca; }, discovery, reviewer, view, debugUrl: '',
    ready: () => synced && istiodOk,
    configDump(proxyId) {
      const dot = proxyId.lastIndexOf('.');
      if (dot <= 0) return undefined;
      const proxy = { podName: proxyId.slice(0, dot), namespace: proxyId.slice(dot + 1) };
      if (!inf.pods.get(`${proxy.namespace}/${proxy.podName}`)) return undefined;
      return Object.fromEntries([TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD, TYPE_ROUTES].map((t) => [t, generate(t, proxy).resources]));
    },
    async stop() {
      debouncer.stop();
      clearInterval(resync);
      clearInterval(istiodTimer);
      if (nsTimer) clearTimeout(nsTimer);
      discovery.closeAll();
      await secrets.stop();
      await reloading;
      server.forceShutdown();
      await debug.close();
      await Promise.all(Object.values(inf).map((i) => i.stop()));
      if (!clientIn) await client.close();
    },
  };
  const debug = await startDebugServer(c.bindDebugAddress, c.debugPort, mc, metrics);
  mc.debugUrl = debug.url;
  void syncing;
  return mc;
}
