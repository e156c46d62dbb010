// The HPA's metrics client: PodMetrics from metrics.k8s.io/v1beta1 for the pods a selector picks, summed
// per pod over its containers (or the one container a ContainerResource metric names), in milli-units as
// kube's resource metrics client returns them.

import type { KubeClient } from '../../../api/client/index.js';
import { milliValue } from '../../../api/quantity.js';
import type { PodMetric } from './replicas.js';

/** Where the controller reads pod metrics from (a fake in unit tests). */
export interface MetricsSource {
  podMetrics(namespace: string, selector: string, resource: string, container?: string): Promise<Map<string, PodMetric>>;
}

/** `15s`, `1m0s`, `10.5s`, `500ms` → ms (0 when unreadable). */
export function parseWindow(s: string | undefined): number {
  if (!s) return 0;
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms'];
  return ms;
}

/** PodMetrics items → per pod metric. */
export function podMetricsFrom(items: any[], resource: string, container?: string): Map<string, PodMetric> {
  const out = new Map<string, PodMetric>();
  for (const it of items) {
    let sum = 0;
    let found = false;
    for (const c of it.containers ?? []) {
      if (container && c.name !== container) continue;
      const v = c.usage?.[resource];
      if (v === undefined) continue;
      sum += milliValue(v);
      found = true;
    }
    if (!found) continue;
    out.set(it.metadata.name, { value: sum, timestamp: Date.parse(it.timestamp) || 0, windowMs: parseWindow(it.window) });
  }
  return out;
}

/** The metrics API through the API server. */
export function apiMetricsSource(client: KubeClient): MetricsSource {
  return {
    async podMetrics(namespace, selector, resource, container) {
      const list = await client.request<{ items?: any[] }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, { query: { labelSelector: selector } });
      return podMetricsFrom(list.items ?? [], resource, container);
    },
  };
}
