// The discovery server: one gRPC bidirectional stream per proxy (shoal.mesh.v1.AggregatedDiscoveryService
// /StreamResources), xDS state-of-the-world semantics. A request with no nonce subscribes to its type (and
// always gets the current config: a reconnecting proxy resumes from it); a request repeating the last
// nonce is an ACK (its version is now the acked one) or, with error_detail, a NACK (recorded with its
// message; the proxy keeps its last good config); a request with an older nonce is stale and ignored.
// `pushAll()` (called by the debouncer) recompiles and writes only where a type's content hash changed
// for that proxy. The stream is authenticated by the caller's token (`authenticate`), and the Node it
// claims must be in the token's namespace and run as the token's ServiceAccount.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest, DiscoveryResponse, Resource } from '../../../proto/types.js';
import { TYPE_URLS } from '../../../proto/load.js';
import type { ProxyRef } from '../model/compile.js';

/** Who the token proves the caller is. */
export interface Caller {
  namespace: string;
  serviceAccount: string;
}

/** What the server needs from the rest of mesh control. */
export interface DiscoveryDeps {
  /** the caller's identity from the call's bearer token (throws a gRPC status error when refused) */
  authenticate(metadata: grpc.Metadata): Promise<Caller>;
  /** the resources of `typeUrl` for `proxy`, with their version (content hash) */
  generate(typeUrl: string, proxy: ProxyRef): { resources: Resource[]; version: string };
  /** the ServiceAccount of the pod, if mesh control knows it */
  podServiceAccount(namespace: string, pod: string): string | undefined;
  log(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
  metrics?: { pushes(typeUrl: string): void; rejects(typeUrl: string): void; connections(n: number): void };
}

/** Per type, what was sent and acknowledged. */
export interface TypeState {
  sent: string;
  acked: string;
  nonce: string;
  lastPushMs: number;
  nack?: { version: string; nonce: string; message: string; atMs: number };
}

/** One connected proxy. */
export interface Connection {
  id: string;
  proxy: ProxyRef;
  proxyId: string;
  connectedAtMs: number;
  types: Map<string, TypeState>;
  call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
}

/** /debug/syncz entry. */
export interface SyncStatus {
  proxyId: string;
  pod: string;
  namespace: string;
  connectedAtMs: number;
  types: Record<string, TypeState>;
}

function statusError(code: grpc.status, details: string): grpc.StatusObject & Error {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** The ADS implementation. */
export class DiscoveryServer {
  readonly connections = new Map<string, Connection>();
  private seq = 0;

  constructor(private readonly deps: DiscoveryDeps) {}

  /** The grpc-js handler map for `server.addService`. */
  handlers(): grpc.UntypedServiceImplementation {
    return { StreamResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.stream(call) };
  }

  private stream(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    let conn: Connection | undefined;
    let failed = false;
    const auth = this.deps.authenticate(call.metadata);
    let chain: Promise<void> = auth.then(() => undefined, () => undefined);
    const fail = (e: any) => {
      if (failed) return;
      failed = true;
      this.deps.log('warn', 'discovery stream refused', { peer: call.getPeer(), error: e.details ?? e.message });
      call.emit('error', e.code !== undefined ? e : statusError(grpc.status.INTERNAL, String(e?.message ?? e)));
    };
    auth.catch(fail);
    call.on('data', (req: DiscoveryRequest) => {
      chain = chain.then(async () => {
        if (failed) return;
        const caller = await auth;
        if (!conn) conn = this.open(call, req, caller);
        this.onRequest(conn, req);
      }).catch(fail);
    });
    const close = () => {
      if (conn && this.connections.get(conn.id) === conn) {
        this.connections.delete(conn.id);
        this.deps.metrics?.connections(this.connections.size);
        this.deps.log('info', 'proxy disconnected', { proxy: conn.proxyId });
      }
    };
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
  }

  private open(call: Connection['call'], req: DiscoveryRequest, caller: Caller): Connection {
    const node = req.node;
    if (!node?.podName || !node.namespace) throw statusError(grpc.status.INVALID_ARGUMENT, 'node.pod_name and node.namespace are required on the first request');
    if (node.namespace !== caller.namespace) throw statusError(grpc.status.PERMISSION_DENIED, `node namespace ${node.namespace} does not match the token's namespace ${caller.namespace}`);
    const podSa = this.deps.podServiceAccount(node.namespace, node.podName);
    if (podSa !== undefined && podSa !== caller.serviceAccount)
      throw statusError(grpc.status.PERMISSION_DENIED, `pod ${node.namespace}/${node.podName} runs as ServiceAccount ${podSa}, the token is for ${caller.serviceAccount}`);
    const conn: Connection = {
      id: `${node.podName}.${node.namespace}-${++this.seq}`,
      proxy: { podName: node.podName, namespace: node.namespace, ip: node.ip, serviceAccount: caller.serviceAccount, labels: node.labels ?? {} },
      proxyId: node.id || `${node.podName}.${node.namespace}`,
      connectedAtMs: Date.now(),
      types: new Map(),
      call,
    };
    this.connections.set(conn.id, conn);
    this.deps.metrics?.connections(this.connections.size);
    this.deps.log('info', 'proxy connected', { proxy: conn.proxyId, peer: call.getPeer() });
    return conn;
  }

  private onRequest(conn: Connection, req: DiscoveryRequest): void {
    const type = req.typeUrl;
    if (!(TYPE_URLS as readonly string[]).includes(type)) throw statusError(grpc.status.INVALID_ARGUMENT, `unknown type_url ${JSON.stringify(type)}; known: ${TYPE_URLS.join(', ')}`);
    const st = conn.types.get(type);
    if (!req.responseNonce || !st) {
      // subscribe (or re-subscribe after a reconnect): always answer with the current config
      this.send(conn, type, true);
      return;
    }
    if (req.responseNonce !== st.nonce) return; // stale: answers an older push
    if (req.errorDetail && (req.errorDetail.code || req.errorDetail.message)) {
      st.nack = { version: st.sent, nonce: req.responseNonce, message: req.errorDetail.message, atMs: Date.now() };
      st.acked = req.versionInfo;
      this.deps.metrics?.rejects(type);
      this.deps.log('warn', 'proxy rejected config (NACK)', { proxy: conn.proxyId, type, version: st.sent, error: req.errorDetail.message });
      return;
    }
    st.acked = req.versionInfo;
    if (st.nack && st.acked === st.sent) st.nack = undefined;
  }

  /** Sends `type` to `conn` if its content changed (or `force`); returns whether it wrote. */
  private send(conn: Connection, type: string, force: boolean): boolean {
    const { resources, version } = this.deps.generate(type, conn.proxy);
    const st = conn.types.get(type);
    if (!force && st && st.sent === version) return false;
    const nonce = randomBytes(6).toString('hex');
    const next: TypeState = { sent: version, acked: st?.acked ?? '', nonce, lastPushMs: Date.now(), ...(st?.nack ? { nack: st.nack } : {}) };
    conn.types.set(type, next);
    conn.call.write({ typeUrl: type, versionInfo: version, nonce, resources });
    this.deps.metrics?.pushes(type);
    return true;
  }

  /** Recompiles for every connected proxy and pushes what changed; returns how many responses were written. */
  pushAll(): number {
    let n = 0;
    for (const conn of this.connections.values()) {
      for (const type of conn.types.keys()) {
        try {
          if (this.send(conn, type, false)) n++;
        } catch (e) {
          this.deps.log('warn', 'push failed', { proxy: conn.proxyId, type, error: (e as Error).message });
        }
      }
    }
    return n;
  }

  /** The /debug/syncz document. */
  syncz(): SyncStatus[] {
    return [...this.connections.values()].map((c) => ({
      proxyId: c.proxyId, pod: c.proxy.podName, namespace: c.proxy.namespace, connectedAtMs: c.connectedAtMs,
      types: Object.fromEntries([...c.types.entries()].map(([k, v]) => [k, { ...v }])),
    })).sort((a, b) => (a.proxyId < b.proxyId ? -1 : 1));
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const c of this.connections.values()) c.call.end();
    this.connections.clear();
  }
}
