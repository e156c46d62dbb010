// Assembles the sidecar from the proxy library: config source → store, identity (CA client), the
// listeners (15001 outbound, 15006 inbound, 15008 HBONE) and the admin endpoints. main.ts only parses
// settings and calls startSidecar; tests call it too.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { ConfigStore } from '../proxy/config/store.js';
import { StaticFileSource, type ConfigSource } from '../proxy/config/source.js';
import { DiscoveryClient } from '../proxy/discovery/client.js';
import { CaClient } from '../proxy/identity/ca-client.js';
import { IdentityManager, type CertificateSigner } from '../proxy/identity/manager.js';
import { spiffeId } from '../proxy/identity/spiffe.js';
import { originalDstUnavailable } from '../proxy/native/index.js';
import { FdBudget, openFilesLimit } from '../proxy/net/limits.js';
import { ProxyMetrics } from '../proxy/admin/metrics.js';
import { createAdminServers } from '../proxy/admin/server.js';
import { TunnelClient } from '../proxy/hbone/client.js';
import { createHboneServer } from '../proxy/hbone/server.js';
import { createOutboundServer } from '../proxy/outbound/listener.js';
import { createInboundServer } from '../proxy/inbound/listener.js';
import { InboundHttp } from '../proxy/inbound/http.js';
import { OutboundHttp, clusterEndpoints } from '../proxy/outbound/http.js';
import { jsonLog, type Log, type ProxyContext } from '../proxy/context.js';
import { accessLogSink } from '../proxy/telemetry/access-log.js';
import { meshTracing } from '../proxy/telemetry/tracing.js';
import type { SidecarSettings } from './flags.js';

/** A configuration problem found at startup (main.ts exits 64). */
export class StartupError extends Error {}

/** A running sidecar. */
export interface Sidecar {
  ctx: ProxyContext;
  source: ConfigSource;
  tunnel: TunnelClient;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`listen ${host}:${port}: ${e.message}`));
    server.once('error', onError);
    server.listen({ port, host, backlog: 1024 }, () => { server.off('error', onError); resolve(); });
  });
}

/** Starts every part; resolves once all listeners are bound (the first certificate may still be on its way... no: it waits for it). */
export async function startSidecar(s: SidecarSettings, opts: { log?: Log; signer?: CertificateSigner } = {}): Promise<Sidecar> {
  const log = opts.log ?? jsonLog('sidecar');
  const missing = originalDstUnavailable();
  if (missing) throw new StartupError(missing);
  const store = new ConfigStore();
  const source: ConfigSource = s.configFile
    ? new StaticFileSource(s.configFile)
    : new DiscoveryClient({
      address: s.pilotAddr, rootCertFile: s.rootCertFile, tokenFile: s.tokenFile, log,
      node: { id: `${s.podName}.${s.namespace}`, podName: s.podName, namespace: s.namespace, ip: s.instanceIp, serviceAccount: s.serviceAccount, labels: {} },
    });
  try {
    source.start(store);
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
  const identity = s.namespace ? spiffeId(s.namespace, s.serviceAccount, s.trustDomain) : store.snapshot.config.workload?.identity ?? '';
  if (!identity.startsWith('spiffe://')) throw new StartupError('POD_NAMESPACE/SERVICE_ACCOUNT (or the config file\'s workload.identity): no SPIFFE identity');
  const signer = opts.signer ?? new CaClient({
    address: s.caAddr, rootCertFile: s.rootCertFile, tokenFile: s.tokenFile,
    metadata: { WorkloadName: s.workloadName, WorkloadIP: s.instanceIp, ClusterID: s.clusterId },
  });
  const idm = new IdentityManager({
    identity, signer, root: () => readFileSync(s.rootCertFile, 'utf8'), ttlSeconds: s.certTtlSec, keyType: s.keyType,
    log: (m) => log('warn', m),
  });
  idm.on('rotated', (c) => log('info', 'certificate issued', { identity, serial: c.serial, notAfter: c.notAfter.toISOString() }));
  const budget = new FdBudget(openFilesLimit(), s.fdReserve);
  const accessLog = accessLogSink(s.accessLogFile ?? '');
  const tracing = meshTracing(s.tracingEndpoint ?? '', s.tracingSampling ?? 1, `${s.workloadName || store.snapshot.config.workload?.name || 'unknown'}.${s.namespace || store.snapshot.config.workload?.namespace || 'default'}`);
  const ctx: ProxyContext = {
    store, identity: idm, metrics: new ProxyMetrics(), budget, log, podIp: s.instanceIp, podName: s.podName, workloadName: s.workloadName,
    ...(accessLog ? { accessLog } : {}), ...(tracing ? { tracing } : {}),
  };
  const tunnel = new TunnelClient(ctx, s.tunnel, s.ports.hbone);
  const inboundHttp = new InboundHttp(ctx);
  const outboundHttp = new OutboundHttp(ctx, tunnel);
  const admin = createAdminServers(ctx, { source, tunnel, appMetrics: s.appMetrics, appProbers: s.appProbers, startedAt: new Date(), clusterEndpoints });
  const servers: Server[] = [];
  const up = async (srv: Server, port: number): Promise<void> => { await listen(srv, port, '0.0.0.0'); servers.push(srv); };
  const closeAll = async (): Promise<void> => {
    source.stop();
    idm.stop();
    tunnel.close();
    inboundHttp.close();
    outboundHttp.close();
    await tracing?.exporter.close();
    await Promise.all(servers.map((x) => new Promise<void>((r) => { x.close(() => r()); (x as { closeAllConnections?: () => void }).closeAllConnections?.(); })));
  };
  try {
    await up(admin.admin, s.ports.admin);
    await up(admin.health, s.ports.health);
    await up(admin.prom, s.ports.prom);
    await up(admin.merged, s.ports.merged);
    await idm.start();
    await up(createHboneServer(ctx, inboundHttp), s.ports.hbone);
    await up(createOutboundServer(ctx, { tunnel, port: s.ports.outbound, http: outboundHttp, sniffTimeoutMs: s.sniffTimeoutMs }), s.ports.outbound);
    await up(createInboundServer(ctx, { port: s.ports.inbound, sniffTimeoutMs: s.sniffTimeoutMs, http: inboundHttp }), s.ports.inbound);
  } catch (e) {
    await closeAll();
    throw e;
  }
  log('info', 'sidecar started', { identity, tunnel: s.tunnel, fdLimit: budget.limit, ports: s.ports, source: source.status().kind });
  return { ctx, source, tunnel, close: closeAll };
}
