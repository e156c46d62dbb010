// Istio's standard metrics (istio_tcp_*, istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes) with Istio's labels, in a registry of the proxy's own.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The labels Istio puts on TCP metrics (subset layer 4 knows). */
export interface TcpLabels {
  reporter: 'source' | 'destination';
  source_workload: string;
  source_workload_namespace: string;
  source_principal: string;
  source_canonical_service: string;
  source_canonical_revision: string;
  source_app: string;
  source_version: string;
  destination_workload: string;
  destination_workload_namespace: string;
  destination_principal: string;
  destination_canonical_service: string;
  destination_canonical_revision: string;
  destination_app: string;
  destination_version: string;
  destination_service: string;
  connection_security_policy: 'mutual_tls' | 'none' | 'unknown';
}
const LABELS = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_canonical_service',
  'source_canonical_revision', 'source_app', 'source_version', 'destination_workload', 'destination_workload_namespace',
  'destination_principal', 'destination_canonical_service', 'destination_canonical_revision', 'destination_app',
  'destination_version', 'destination_service', 'connection_security_policy',
  'request_protocol',
] as const;

/** Istio's request labels beyond the TCP ones. */
export interface RequestLabels extends TcpLabels {
  request_protocol: 'http' | 'grpc';
  response_code: string;
  response_flags: string;
  grpc_response_status: string;
}
const REQUEST_LABELS = [...LABELS, 'response_code', 'response_flags', 'grpc_response_status'] as const;
/** Istio's buckets for istio_request_duration_milliseconds. */
const DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's buckets for istio_request_bytes and istio_response_bytes (powers of ten, 1 B to 1 GB). */
const BYTES_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** The proxy's metrics. */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly opened: Counter<string>;
  private readonly closed: Counter<string>;
  private readonly sent: Counter<string>;
  private readonly received: Counter<string>;
  readonly denied: Counter<string>;
  readonly refused: Counter<string>;
  readonly active: Gauge<string>;
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly requestBytes: Histogram<string>;
  private readonly responseBytes: Histogram<string>;

  constructor() {
    const r = [this.registry];
    this.opened = new Counter({ name: 'istio_tcp_connections_opened_total', help: 'TCP connections opened', labelNames: LABELS, registers: r });
    this.closed = new Counter({ name: 'istio_tcp_connections_closed_total', help: 'TCP connections closed', labelNames: LABELS, registers: r });
    this.sent = new Counter({ name: 'istio_tcp_sent_bytes_total', help: 'Bytes sent during response in TCP connections', labelNames: LABELS, registers: r });
    this.received = new Counter({ name: 'istio_tcp_received_bytes_total', help: 'Bytes received during request in TCP connections', labelNames: LABELS, registers: r });
    this.denied = new Counter({ name: 'shoal_proxy_authz_denied_total', help: 'Connections denied by AuthorizationPolicy or PeerAuthentication', labelNames: ['listener', 'reason'], registers: r });
    this.refused = new Counter({ name: 'shoal_proxy_connections_refused_total', help: 'Connections refused at the open-files budget or on EMFILE', labelNames: ['listener'], registers: r });
    this.active = new Gauge({ name: 'shoal_proxy_active_connections', help: 'Proxied connections open now', labelNames: ['listener'], registers: r });
    this.requests = new Counter({ name: 'istio_requests_total', help: 'Requests processed', labelNames: REQUEST_LABELS, registers: r });
    this.duration = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration', labelNames: REQUEST_LABELS, buckets: DURATION_BUCKETS, registers: r });
    this.requestBytes = new Histogram({ name: 'istio_request_bytes', help: 'Request body sizes', labelNames: REQUEST_LABELS, buckets: BYTES_BUCKETS, registers: r });
    this.responseBytes = new Histogram({ name: 'istio_response_bytes', help: 'Response sizes (head and body)', labelNames: REQUEST_LABELS, buckets: BYTES_BUCKETS, registers: r });
  }

  /** Counts one finished request (istio_requests_total, istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes). */
  request(l: RequestLabels, ms: number, requestBytes = 0, responseBytes = 0): void {
    const labels = l as unknown as Record<string, string>;
    this.requests.inc(labels);
    this.duration.observe(labels, ms);
    this.requestBytes.observe(labels, requestBytes);
    this.responseBytes.observe(labels, responseBytes);
  }

  /** Counts a connection opened; returns the function that counts its close: `sent` = response bytes, `received` = request bytes (Istio's meaning). */
  connection(l: TcpLabels, protocol: 'tcp' | 'http' = 'tcp'): (sent: number, received: number) => void {
    const labels = { ...l, request_protocol: protocol };
    this.opened.inc(labels);
    return (sent, received) => {
      this.closed.inc(labels);
      if (sent) this.sent.inc(labels, sent);
      if (received) this.received.inc(labels, received);
    };
  }
}
