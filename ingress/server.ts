// Assembles the ingress process from the proxy engine: the mesh config (discovery stream from mesh control,
// or a static file in tests) → Snapshot with Services and Endpoints; the mesh identity (CA client) and
// TunnelClient for meshed pods; the controller (controller.ts) that turns Ingress / Gateway API objects
// into one RouteTable; and two listeners serving HTTP/1.1 on any socket with the same chain: plain on
// --http-port (table port 80), TLS with SNI certificates on --https-port (table port 443). main.ts only
// parses flags and calls startIngress; the tests call it too.
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { clientSink, EventRecorder } from '../api/client/events.js';
import type { KubeClient } from '../api/client/index.js';
import { serve, checkRoute, type Served } from '../lib/serve/serve.js';
import { ConfigStore, type Snapshot } from '../proxy/config/store.js';
import { TYPE_SERVICE } from '../proxy/config/types.js';
import { StaticFileSource, type ConfigSource } from '../proxy/config/source.js';
import { DiscoveryClient } from '../proxy/discovery/client.js';
import { ProxyMetrics } from '../proxy/admin/metrics.js';
import { jsonLog, type Log, type ProxyContext } from '../proxy/context.js';
import { TunnelClient } from '../proxy/hbone/client.js';
import { meshDialer } from '../proxy/hbone/dialer.js';
import { serveHttp1 } from '../proxy/http1/connection.js';
import { tcpDialer, UpstreamPool, type Dialer } from '../proxy/http1/pool.js';
import { CaClient } from '../proxy/identity/ca-client.js';
import { IdentityManager } from '../proxy/identity/manager.js';
import { spiffeId } from '../proxy/identity/spiffe.js';
import { FdBudget, openFilesLimit } from '../proxy/net/limits.js';
import type { Handler } from '../proxy/filters/chain.js';
import { respond } from '../proxy/filters/chain.js';
import { ApiConfigSource } from './api-source.js';
import { mirrorSender } from './mirror.js';
import type { RouteTable } from '../proxy/route/types.js';
import { buildHandler, EndpointIndex, ingressDispatch, retryingDialer } from './chain.js';
import { HTTP_PORT, HTTPS_PORT, type IngressConfig } from './config.js';
import { IngressController } from './controller.js';
import type { IngressSettings } from './flags.js';
import { CertStore } from './tls.js';

export interface RunningIngress {
  controller: IngressController;
  store: ConfigStore;
  /** Bound ports (0 while a busy port is being retried). */
  readonly httpPort: number;
  readonly httpsPort: number;
  healthPort: number;
  retries: () => number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`listen ${host}:${port}: ${e.message}`));
    server.once('error', onError);
    server.listen({ port, host, backlog: 1024 }, () => { server.off('error', onError); resolve((server.address() as { port: number }).port); });
  });
}

/** mesh control's address from the API (Endpoints istio-system/istiod, port https-dns), as a hostNetwork pod reaches it. */
async function findPilot(client: KubeClient): Promise<string> {
  const ep: any = await client.get({ apiVersion: 'v1', plural: 'endpoints', namespaced: true }, 'istiod', { namespace: 'istio-system' });
  for (const s of ep.subsets ?? []) {
    const port = (s.ports ?? []).find((p: any) => p.name === 'https-dns' || p.port === 15012);
    const addr = s.addresses?.[0]?.ip;
    if (port && addr) return `${addr}:${port.port}`;
  }
  throw new Error('Endpoints istio-system/istiod has no address with port https-dns');
}

/** Starts everything; resolves once the listeners are bound and the informers synced. */
export async function startIngress(s: IngressSettings, client: KubeClient, opts: { log?: Log; source?: ConfigSource } = {}): Promise<RunningIngress> {
  const log = opts.log ?? jsonLog('ingress');
  const store = new ConfigStore();
  let pilot = s.pilotAddr;
  // The mesh needs an identity: POD_NAME and POD_NAMESPACE (the manifest sets them); without, the API fallback.
  let meshMode = !opts.source && !s.configFile && !!s.podName && !!s.namespace;
  if (meshMode && !pilot) {
    try {
      pilot = await findPilot(client);
    } catch (e) {
      // No mesh control (shoal up --no-mesh, a plain cluster): Services and EndpointSlices from the API.
      log('warn', 'no mesh control found: Services and Endpoints from the API, pods reached by plain TCP', { error: (e as Error).message });
      meshMode = false;
    }
  }
  const fallback = !meshMode && !opts.source && !s.configFile;
  const source: ConfigSource = opts.source ?? (s.configFile ? new StaticFileSource(s.configFile) : fallback ? new ApiConfigSource(client, { name: s.podName, namespace: s.namespace, ip: s.instanceIp }) : new DiscoveryClient({
    address: pilot, rootCertFile: s.rootCertFile, tokenFile: s.tokenFile, log,
    node: { id: `${s.podName}.${s.namespace}`, podName: s.podName, namespace: s.namespace, ip: s.instanceIp, serviceAccount: s.serviceAccount, labels: {} },
  }));
  source.start(store);
  const closers: (() => unknown)[] = [() => source.stop()];

  // Identity and tunnel (mesh mode only: the static mode reaches every endpoint by plain TCP).
  let baseDial: Dialer = tcpDialer;
  let tunnel: TunnelClient | undefined;
  if (meshMode) {
    const identity = spiffeId(s.namespace, s.serviceAccount, 'cluster.local');
    const idm = new IdentityManager({
      identity, signer: new CaClient({ address: pilot, rootCertFile: s.rootCertFile, tokenFile: s.tokenFile, metadata: { WorkloadName: 'shoal-ingress', WorkloadIP: s.instanceIp, ClusterID: 'Kubernetes' } }),
      root: () => readFileSync(s.rootCertFile, 'utf8'), ttlSeconds: 24 * 3600, keyType: 'ec', log: (m) => log('warn', m),
    });
    await idm.start();
    closers.push(() => idm.stop());
    const ctx: ProxyContext = { store, identity: idm, metrics: new ProxyMetrics(), budget: new FdBudget(openFilesLimit()), log, podIp: s.instanceIp, podName: s.podName, workloadName: 'shoal-ingress' };
    tunnel = new TunnelClient(ctx, 'hbone');
    closers.push(() => tunnel!.close());
    baseDial = meshDialer(tunnel, () => store.snapshot);
  }

  // The endpoint index follows the snapshot; the handler follows the configuration.
  let index = new EndpointIndex(store.snapshot);
  let lastSnap: Snapshot = store.snapshot;
  const currentIndex = (): EndpointIndex => {
    if (store.snapshot !== lastSnap) { lastSnap = store.snapshot; index = new EndpointIndex(lastSnap); }
    return index;
  };
  let handler: Handler = () => respond(503, 'ingress not ready\n');
  let retries = 0;
  const certs = new CertStore();
  let table: RouteTable = Object.freeze({ ports: new Map(), clusters: new Map() });
  const dialer = retryingDialer(baseDial, currentIndex, (from, to, err) => { retries++; log('info', 'connect failed, retrying on another endpoint', { from, to, error: err.message }); });
  const sendMirror = mirrorSender(dialer, () => table, currentIndex);
  const apply = (cfg: IngressConfig): void => {
    table = cfg.table;
    const built = buildHandler(cfg.table, currentIndex, { mirrors: cfg.gateway.mirrors, send: sendMirror });
    if (built.handler) handler = built.handler;
    else log('error', 'ingress chain rejected', { errors: built.errors });
  };
  const pool = new UpstreamPool({ dial: dialer });
  closers.push(() => pool.close());
  const controller = new IngressController({
    client, recorder: new EventRecorder(clientSink(client), { component: 'shoal-ingress', host: s.podName || undefined }), certs,
    settings: { ingressController: s.ingressController, gatewayController: s.gatewayController, redirectPort: s.redirectPort, address: s.publishIp, istioLabels: s.istioLabels },
    snapshot: () => store.snapshot, apply, log,
  });
  store.on('change', () => controller.trigger());
  closers.push(() => controller.stop());

  const servers: Server[] = [];
  // Downstream connections, so that close() can end the keep-alive ones the listeners' close() waits for.
  const open = new Set<Socket>();
  const track = (sock: Socket): void => { open.add(sock); sock.once('close', () => open.delete(sock)); };
  const plain = createServer((sock: Socket) => { track(sock); serveHttp1(sock, ingressDispatch(() => handler, HTTP_PORT, 'http'), pool, { retrySafeOnReset: true }); });
  const secure = createTlsServer({ SNICallback: certs.sni, secureContext: certs.fallback, ALPNProtocols: ['http/1.1'] }, (sock: TLSSocket) => {
    track(sock);
    serveHttp1(sock, ingressDispatch(() => handler, HTTPS_PORT, 'https'), pool, { info: { remoteAddress: sock.remoteAddress ?? '', localPort: sock.localPort ?? 0 }, retrySafeOnReset: true });
  });
  secure.on('tlsClientError', () => undefined);
  let health: Served | undefined;
  const close = async (): Promise<void> => {
    const closed = Promise.all(servers.map((x) => new Promise<void>((r) => x.close(() => r()))));
    // In-flight exchanges get a moment; idle keep-alive connections would hold close() forever.
    await new Promise((r) => setTimeout(r, open.size ? 500 : 0));
    for (const sock of open) sock.destroy();
    await closed;
    await health?.close();
    for (const c of closers.reverse()) await c();
  };
  try {
    await controller.start();
    // A port another program holds is retried every 5 s (not ready meanwhile, the reason in /ready and the
    // log) rather than crash-looping; any other listen error is fatal.
    const bindProblems = new Map<string, string>();
    const tryBind = async (srv: Server, port: number, what: string): Promise<number> => {
      try {
        const p = await listen(srv, port, s.bind);
        bindProblems.delete(what);
        return p;
      } catch (e) {
        if (!/EADDRINUSE/.test((e as Error).message)) throw e;
        if (!bindProblems.has(what)) log('error', `${what} port busy, retrying every 5 s`, { error: (e as Error).message });
        bindProblems.set(what, (e as Error).message);
        return 0;
      }
    };
    const ports = { http: 0, https: 0 };
    const bindOrRetry = async (srv: Server, port: number, what: 'http' | 'https'): Promise<void> => {
      servers.push(srv);
      ports[what] = await tryBind(srv, port, what);
      if (ports[what]) return;
      const timer = setInterval(() => void tryBind(srv, port, what).then((p) => { if (p) { ports[what] = p; clearInterval(timer); } }, (e) => log('error', (e as Error).message)), 5000);
      closers.push(() => clearInterval(timer));
    };
    health = await serve(s.bind, s.healthPort, [
      checkRoute('/healthz', () => undefined),
      checkRoute('/ready', () => (bindProblems.size ? [...bindProblems.values()].join('; ')
        : !controller.synced() ? 'informers not synced' : store.snapshot.config.versions[TYPE_SERVICE] === undefined ? 'no mesh config yet' : undefined)),
    ]);
    await bindOrRetry(plain, s.httpPort, 'http');
    await bindOrRetry(secure, s.httpsPort, 'https');
    const httpPort = ports.http, httpsPort = ports.https;
    log('info', 'ingress started', { http: httpPort, https: httpsPort, health: health.port, mesh: meshMode ? pilot : fallback ? 'api (no mesh control)' : 'static' });
    return { controller, store, get httpPort() { return ports.http; }, get httpsPort() { return ports.https; }, healthPort: health.port, retries: () => retries, close };
  } catch (e) {
    await close();
    throw e;
  }
}
