// A Prometheus scrape configuration for sidecars, the way Istio's `envoy-stats` job scrapes them: every
// injected pod's :15090/stats/prometheus, labelled with its pod name and namespace. Generated from the
// pods' IPs (the cluster's pod list, or a test's pods) as YAML text for `prometheus --config.file`.

/** A sidecar to scrape. */
export interface ScrapeTarget {
  pod: string;
  namespace: string;
  /** Address Prometheus reaches the pod's :15090 at (the pod IP, or a host-side address in tests). */
  address: string;
  port?: number;
}

/** prometheus.yml text with one `envoy-stats` job, one static target group per pod. */
export function sidecarScrapeConfig(targets: readonly ScrapeTarget[], intervalSeconds = 15): string {
  const lines = [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: envoy-stats',
    '    metrics_path: /stats/prometheus',
    '    static_configs:',
  ];
  for (const t of targets) {
    lines.push(`      - targets: ['${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port ?? 15090}']`);
    lines.push(`        labels: { pod: '${t.pod}', namespace: '${t.namespace}' }`);
  }
  return lines.join('\n') + '\n';
}
