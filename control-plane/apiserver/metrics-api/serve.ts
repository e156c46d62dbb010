// metrics.k8s.io/v1beta1 over the scraper, shaped as metrics-server answers: PodMetrics and NodeMetrics
// with `timestamp`, `window`, usage `cpu` in nanocores (`12345678n`) and `memory` in KiB (`2048Ki`);
// list (namespaced or all namespaces for pods) filtered by the label selector of the pods or nodes (and
// `metadata.name` field selectors); get answers NotFound when the object or its reading is missing.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { ApiError, errors } from '../../../api/errors.js';
import { registry } from '../api-adapter.js';
import type { ObjectStore } from '../storage/objects.js';
import type { RequestInfo } from '../request/info.js';
import { buildMatcher } from '../handlers/selectors.js';
import { representationOf, toTable } from '../handlers/table.js';
import type { MetricsScraper, Usage } from './scraper.js';

/** cpu in nanocores, memory in Ki, as metrics-server prints them. */
export function usageQuantities(u: Pick<Usage, 'cpuCores' | 'memoryBytes'>): { cpu: string; memory: string } {
  return { cpu: `${Math.max(0, Math.round(u.cpuCores * 1e9))}n`, memory: `${Math.max(0, Math.round(u.memoryBytes / 1024))}Ki` };
}

/** A Go duration string for a window (`15s`, `10.5s`). */
export function windowText(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function podMetricsOf(pod: KubeObject, s: MetricsScraper): KubeObject | undefined {
  const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const cs = s.pod(pod.metadata.namespace!, pod.metadata.name!, names);
  if (!cs) return undefined;
  const ts = Math.max(...cs.map((c) => c.usage.ts));
  const win = Math.max(...cs.map((c) => c.usage.windowMs));
  return {
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: new Date().toISOString(), ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}) },
    timestamp: new Date(ts).toISOString(), window: windowText(win),
    containers: cs.map((c) => ({ name: c.name, usage: usageQuantities(c.usage) })),
  } as KubeObject;
}

function nodeMetricsOf(node: KubeObject, s: MetricsScraper): KubeObject | undefined {
  const u = s.node(node.metadata.name!);
  if (!u) return undefined;
  return {
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: node.metadata.name, creationTimestamp: new Date().toISOString(), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: new Date(u.ts).toISOString(), window: windowText(u.windowMs), usage: usageQuantities(u),
  } as KubeObject;
}

/** Serve a metrics.k8s.io request (get or list; anything else is 405). */
export async function serveMetricsApi(req: FastifyRequest, reply: FastifyReply, rt: ResourceType, info: RequestInfo, query: Record<string, string>, objects: ObjectStore, s: MetricsScraper | undefined) {
  if (info.subresource) throw new ApiError('NotFound', 'the server could not find the requested resource');
  if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  if (!s) throw new ApiError('ServiceUnavailable', 'the metrics API is not enabled on this server');
  const isPod = rt.kind === 'PodMetrics';
  const source = registry.get('', 'v1', isPod ? 'pods' : 'nodes')!;
  const make = (o: KubeObject) => (isPod ? podMetricsOf(o, s) : nodeMetricsOf(o, s));
  const send = (body: unknown) => reply.type('application/json').send(body);
  if (info.verb === 'get') {
    const o = await objects.get(source, info.namespace, info.name);
    const m = o ? make(o) : undefined;
    if (!m) throw errors.notFound(rt.plural, rt.group, info.name);
    if (representationOf(req.headers.accept) === 'table') return send(toTable(rt, [m], { resourceVersion: '' }, query.includeObject || 'Metadata'));
    return send(m);
  }
  const matcher = buildMatcher(source, query.labelSelector, query.fieldSelector);
  const list = await objects.list(source, info.namespace);
  const items = list.items.filter(matcher).map(make).filter((m): m is KubeObject => m !== undefined);
  if (representationOf(req.headers.accept) === 'table') return send(toTable(rt, items, { resourceVersion: '' }, query.includeObject || 'Metadata'));
  return send({ kind: `${rt.kind}List`, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
}
