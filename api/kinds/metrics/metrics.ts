// metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics, read-only (get, list) as metrics-server serves them:
// never stored; the API server computes them from its scrapes of the node agents
// (control-plane/apiserver/metrics-api). Declared here so discovery, kubectl's name resolution and the
// Table come from the one registry.

import type { KubeObject } from '../../meta.js';
import { any, arr, map, obj, str } from '../../schema/schema.js';
import { kindSchema } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const usage = map(any);

const podMetricsDef = defineKind({
  group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', namespaced: true,
  schema: kindSchema({ timestamp: str, window: str, containers: arr(obj({ name: str, usage })) }),
  columns: [nameCol, col('CPU', 'string', false, 'cpu usage'), col('Memory', 'string', false, 'memory usage'), col('Window', 'string', false, 'the window of the cpu rate')],
  cells: (o: KubeObject) => {
    const cs: any[] = (o as any).containers ?? [];
    return [o.metadata.name, cs.map((c) => c.usage?.cpu).join(','), cs.map((c) => c.usage?.memory).join(','), (o as any).window];
  },
});
const nodeMetricsDef = defineKind({
  group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', namespaced: false,
  schema: kindSchema({ timestamp: str, window: str, usage }),
  columns: [nameCol, col('CPU'), col('Memory'), col('Window'), ageCol],
  cells: (o: KubeObject) => [o.metadata.name, (o as any).usage?.cpu, (o as any).usage?.memory, (o as any).window, ''],
});

/** metrics.k8s.io/v1beta1 PodMetrics (get, list, watch-less, never stored). */
export const podMetrics = { ...podMetricsDef, verbs: ['get', 'list'] };
/** metrics.k8s.io/v1beta1 NodeMetrics. */
export const nodeMetrics = { ...nodeMetricsDef, verbs: ['get', 'list'] };
