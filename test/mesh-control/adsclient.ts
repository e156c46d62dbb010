// A minimal discovery client over a real grpc-js stream, for tests and bench/mesh/push: subscribes to
// types, records every response, ACKs (or NACKs when `nack(response)` returns a message), and can
// reconnect. Not the sidecar's client (proxy/ has that); just enough to drive mesh control.

import * as grpc from '@grpc/grpc-js';
import { loadMeshProto } from '../../proto/load.js';
import type { DiscoveryRequest, DiscoveryResponse, Node } from '../../proto/types.js';
import { meshCredentials } from './fixture.js';

/** One response as received. */
export interface Received {
  at: number;
  response: DiscoveryResponse;
}

/** The client. */
export class AdsClient {
  readonly received: Received[] = [];
  private client?: grpc.Client;
  private call?: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private waiters: (() => void)[] = [];
  /** last ACKed version per type */
  readonly acked = new Map<string, string>();
  error?: grpc.ServiceError;
  /** responses whose message this returns are NACKed with it */
  nack: (r: DiscoveryResponse) => string | undefined = () => undefined;

  constructor(private readonly target: string, private readonly rootPem: string, private readonly token: string, readonly node: Node, private readonly types: string[]) {}

  /** Opens the stream and subscribes (sending the last acked versions, as a reconnecting proxy does). */
  connect(): this {
    const { AggregatedDiscoveryService } = loadMeshProto();
    this.client = new AggregatedDiscoveryService(this.target, meshCredentials(this.rootPem, this.token), { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' });
    const call = (this.client as any).StreamResources() as grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
    this.call = call;
    call.on('data', (r: DiscoveryResponse) => {
      this.received.push({ at: performance.now(), response: r });
      const bad = this.nack(r);
      call.write({ node: this.node, typeUrl: r.typeUrl, versionInfo: bad ? (this.acked.get(r.typeUrl) ?? '') : r.versionInfo, responseNonce: r.nonce, ...(bad ? { errorDetail: { code: 3, message: bad } } : {}) });
      if (!bad) this.acked.set(r.typeUrl, r.versionInfo);
      for (const w of this.waiters.splice(0)) w();
    });
    call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      for (const w of this.waiters.splice(0)) w();
    });
    call.on('end', () => undefined);
    for (const t of this.types) call.write({ node: this.node, typeUrl: t, versionInfo: this.acked.get(t) ?? '', responseNonce: '' });
    return this;
  }

  /** Responses of `type` so far. */
  of(type: string): DiscoveryResponse[] {
    return this.received.filter((r) => r.response.typeUrl === type).map((r) => r.response);
  }

  /** Waits until `pred()` holds (checked on every response) or `ms` pass. */
  async until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (this.error) throw new Error(`stream failed: ${this.error.code} ${this.error.details}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  /** Closes the stream and channel. */
  close(): void {
    this.call?.cancel();
    this.client?.close();
  }
}
