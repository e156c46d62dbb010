// Mesh control's Prometheus metrics, with istiod's names where it has them.

import client from 'prom-client';

/** The metrics registry and the instruments. */
export class MeshMetrics {
  readonly registry = new client.Registry();
  readonly pushes = new client.Counter({ name: 'pilot_xds_pushes', help: 'Discovery responses pushed, by type.', labelNames: ['type'], registers: [this.registry] });
  readonly rejects = new client.Counter({ name: 'pilot_total_xds_rejects', help: 'Responses NACKed by proxies, by type.', labelNames: ['type'], registers: [this.registry] });
  readonly connections = new client.Gauge({ name: 'pilot_xds', help: 'Connected proxies.', registers: [this.registry] });
  readonly debounce = new client.Histogram({ name: 'pilot_debounce_time', help: 'Seconds from the first change of a burst to its push.', buckets: [0.05, 0.1, 0.2, 0.5, 1, 2], registers: [this.registry] });
  readonly pushTime = new client.Histogram({ name: 'pilot_push_time_seconds', help: 'Seconds to compile and write one push to every proxy.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [this.registry] });
  private readonly csrCount = new client.Counter({ name: 'citadel_server_csr_count', help: 'CSRs received.', registers: [this.registry] });
  private readonly issued = new client.Counter({ name: 'citadel_server_success_cert_issuance_count', help: 'Certificates issued.', registers: [this.registry] });
  private readonly authFail = new client.Counter({ name: 'citadel_server_authentication_failure_count', help: 'CSRs whose caller did not authenticate.', registers: [this.registry] });
  private readonly signErr = new client.Counter({ name: 'citadel_server_csr_sign_err_count', help: 'CSRs refused (identity or format).', registers: [this.registry] });

  /** One CSR's outcome. */
  csr(outcome: 'issued' | 'denied' | 'invalid' | 'unauthenticated'): void {
    this.csrCount.inc();
    if (outcome === 'issued') this.issued.inc();
    else if (outcome === 'unauthenticated') this.authFail.inc();
    else this.signErr.inc();
  }
}
