// The discovery client: one `StreamResources` stream to mesh control (PILOT_ADDR) over TLS, subscribing
// to the three types. Each response is validated and applied by the ConfigStore; applied → ACK (version
// + nonce), rejected → NACK (last good version, the nonce, error_detail with every reason) and the last
// good config stays. When the stream fails the proxy keeps serving its last config and reconnects with
// jittered exponential backoff, 0.5 s doubling to 10 s, reset by the first response of a new stream.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadMeshProto } from '../../proto/load.js';
import type { DiscoveryRequest, DiscoveryResponse, Node, Resource } from '../../proto/types.js';
import type { ConfigSource, SourceStatus } from '../config/source.js';
import type { ConfigStore } from '../config/store.js';
import { TYPE_URLS } from '../config/types.js';
import type { Log } from '../context.js';

export interface DiscoveryOptions {
  address: string;
  rootCertFile: string;
  tokenFile: string;
  node: Node;
  log: Log;
  /** Backoff bounds (ms); defaults 500 and 10 000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** gRPC INVALID_ARGUMENT, the code of a NACK's error_detail. */
const INVALID_ARGUMENT = 3;

/** The next backoff delay: full jitter in [d/2, d], d doubling from min to max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, rand = Math.random): number {
  const d = Math.min(maxMs, minMs * 2 ** attempt);
  return Math.round(d / 2 + rand() * (d / 2));
}

/** The typed message of a resource (its oneof field). */
export function unpack(r: Resource): unknown {
  return r.kind ? r[r.kind] : (r.service ?? r.endpoints ?? r.workload);
}

/** Mesh control as a ConfigSource. */
export class DiscoveryClient implements ConfigSource {
  private st: SourceStatus = { kind: 'discovery', connected: false, lastError: '', nacks: {} };
  private client: grpc.Client | null = null;
  private call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | null = null;
  private store: ConfigStore | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Streams opened, responses applied and NACKed (for /stats and tests). */
  readonly counters = { streams: 0, acks: 0, nacks: 0 };

  constructor(private readonly opts: DiscoveryOptions) {}

  start(store: ConfigStore): void {
    this.store = store;
    const { AggregatedDiscoveryService } = loadMeshProto();
    const creds = grpc.credentials.createSsl(readFileSync(this.opts.rootCertFile));
    this.client = new AggregatedDiscoveryService(this.opts.address, creds, {
      'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000,
    });
    this.connect();
  }

  private connect(): void {
    if (this.stopped || !this.client || !this.store) return;
    const md = new grpc.Metadata();
    try {
      md.set('authorization', `Bearer ${readFileSync(this.opts.tokenFile, 'utf8').trim()}`);
    } catch (e) {
      this.fail(`token ${this.opts.tokenFile}: ${(e as Error).message}`);
      return;
    }
    this.counters.streams++;
    const call = (this.client as unknown as { StreamResources(md: grpc.Metadata): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> })
      .StreamResources(md);
    this.call = call;
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      if (this.call === call) this.call = null;
      this.fail(why);
    };
    call.on('data', (res: DiscoveryResponse) => this.onResponse(call, res));
    call.on('error', (e: grpc.ServiceError) => end(`stream: ${e.details || e.message}`));
    call.on('end', () => end('stream ended by mesh control'));
    const versions = this.store.snapshot.config.versions;
    for (const typeUrl of TYPE_URLS) {
      call.write({ node: this.opts.node, typeUrl, versionInfo: versions[typeUrl] ?? '', responseNonce: '' });
    }
  }

  private onResponse(call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, res: DiscoveryResponse): void {
    if (!this.st.connected) this.opts.log('info', 'discovery: connected', { address: this.opts.address });
    this.st.connected = true;
    this.attempt = 0;
    const store = this.store!;
    const errs = store.apply(res.typeUrl, res.versionInfo, (res.resources ?? []).map(unpack));
    if (errs.length === 0) {
      delete this.st.nacks[res.typeUrl];
      this.counters.acks++;
      call.write({ node: this.opts.node, typeUrl: res.typeUrl, versionInfo: res.versionInfo, responseNonce: res.nonce });
      return;
    }
    const message = errs.join('; ');
    this.st.nacks[res.typeUrl] = message;
    this.counters.nacks++;
    this.opts.log('warn', 'discovery: NACK, keeping the last good config', { typeUrl: res.typeUrl, version: res.versionInfo, error: message });
    call.write({
      node: this.opts.node, typeUrl: res.typeUrl, versionInfo: store.snapshot.config.versions[res.typeUrl] ?? '',
      responseNonce: res.nonce, errorDetail: { code: INVALID_ARGUMENT, message },
    });
  }

  private fail(why: string): void {
    if (this.stopped) return;
    const wasConnected = this.st.connected;
    this.st.connected = false;
    this.st.lastError = why;
    const delay = backoffDelay(this.attempt++, this.opts.minBackoffMs ?? 500, this.opts.maxBackoffMs ?? 10_000);
    this.opts.log(wasConnected ? 'warn' : 'info', 'discovery: disconnected, serving the last config', { error: why, retryMs: delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
    this.client?.close();
  }

  status(): SourceStatus { return { ...this.st, nacks: { ...this.st.nacks } }; }
}
