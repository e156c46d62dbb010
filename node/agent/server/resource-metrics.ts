// kubelet's resource metrics endpoint (`GET /metrics/resource`, Prometheus text 0.0.4): the cumulative CPU
// and working-set memory of every running container, of each pod (the sum of its containers) and of the
// node, each sample with its timestamp in milliseconds, as metrics-server scrapes it. Names, help texts
// and labels are kubelet's (pkg/kubelet/metrics/collectors/resource_metrics.go).

import type { Cgroups } from '../containers/cgroups.js';
import { nodeUsage, type CgroupUsage } from '../containers/stats.js';
import type { PodManager } from '../pods/manager.js';

/** What the endpoint reads: the running containers with their cgroups, and the node. */
export interface UsageSource {
  containers(): { namespace: string; pod: string; uid?: string; container: string; usage: CgroupUsage; startTime?: number }[];
  node(): CgroupUsage;
  nodeName?: string;
}

/** The usage of the pods an agent runs, read from their cgroups. */
export function agentUsageSource(pods: PodManager, cgroups: Cgroups, nodeName?: string): UsageSource {
  return {
    nodeName,
    containers() {
      const out: ReturnType<UsageSource['containers']> = [];
      for (const w of pods.workers.values()) {
        const uid = w.pod.metadata.uid!;
        for (const c of [...w.init, ...w.app]) {
          const running = c.status.state.running;
          if (!running) continue;
          const usage = cgroups.usage?.(uid, c.spec.name);
          if (usage) out.push({ namespace: w.pod.metadata.namespace!, pod: w.pod.metadata.name!, uid, container: c.spec.name, usage, startTime: Date.parse(running.startedAt ?? '') || undefined });
        }
      }
      return out;
    },
    node: () => nodeUsage(),
  };
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(12).replace(/\.?0+$/, ''));

/** The Prometheus text kubelet serves at /metrics/resource. */
export function resourceMetricsText(src: UsageSource, nowMs: number): string {
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: [Record<string, string>, number | undefined][]) => {
    lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      if (v === undefined) continue;
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${num(v)} ${nowMs}`);
    }
  };
  const cs = src.containers();
  const pods = new Map<string, { namespace: string; pod: string; cpuNs?: number; mem?: number }>();
  for (const c of cs) {
    const k = `${c.namespace}/${c.pod}`;
    const p = pods.get(k) ?? { namespace: c.namespace, pod: c.pod };
    if (c.usage.cpuNs !== undefined) p.cpuNs = (p.cpuNs ?? 0) + c.usage.cpuNs;
    if (c.usage.memoryWorkingSetBytes !== undefined) p.mem = (p.mem ?? 0) + c.usage.memoryWorkingSetBytes;
    pods.set(k, p);
  }
  const lbl = (c: { namespace: string; pod: string; container?: string }) => ({ ...(c.container ? { container: c.container } : {}), namespace: c.namespace, pod: c.pod });
  family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds', cs.map((c) => [lbl(c), c.usage.cpuNs === undefined ? undefined : c.usage.cpuNs / 1e9]));
  family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes', cs.map((c) => [lbl(c), c.usage.memoryWorkingSetBytes]));
  family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds', cs.map((c) => [lbl(c), c.startTime === undefined ? undefined : c.startTime / 1000]));
  const node = src.node();
  family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds', [[{}, node.cpuNs === undefined ? undefined : node.cpuNs / 1e9]]);
  family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes', [[{}, node.memoryWorkingSetBytes]]);
  const ps = [...pods.values()];
  family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds', ps.map((p) => [lbl(p), p.cpuNs === undefined ? undefined : p.cpuNs / 1e9]));
  family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes', ps.map((p) => [lbl(p), p.mem]));
  lines.push('# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise', '# TYPE resource_scrape_error gauge', 'resource_scrape_error 0');
  return lines.join('\n') + '\n';
}

/**
 * kubelet's summary API (`GET /stats/summary`, stats/v1alpha1), the cumulative subset: node and per-pod,
 * per-container `cpu.usageCoreNanoSeconds` and `memory.workingSetBytes` with their `time`. Rates
 * (`usageNanoCores`) need two samples and are left to the metrics API.
 */
export function summaryOf(src: UsageSource, nowMs: number): Record<string, unknown> {
  const time = new Date(nowMs).toISOString();
  const cpu = (u: CgroupUsage) => (u.cpuNs === undefined ? undefined : { time, usageCoreNanoSeconds: u.cpuNs });
  const memory = (u: CgroupUsage) => (u.memoryWorkingSetBytes === undefined ? undefined : { time, workingSetBytes: u.memoryWorkingSetBytes });
  const byPod = new Map<string, { podRef: Record<string, string>; containers: Record<string, unknown>[]; total: CgroupUsage }>();
  for (const c of src.containers()) {
    const k = `${c.namespace}/${c.pod}`;
    const p = byPod.get(k) ?? { podRef: { name: c.pod, namespace: c.namespace, ...(c.uid ? { uid: c.uid } : {}) }, containers: [], total: {} };
    p.containers.push({ name: c.container, ...(c.startTime ? { startTime: new Date(c.startTime).toISOString() } : {}), cpu: cpu(c.usage), memory: memory(c.usage) });
    if (c.usage.cpuNs !== undefined) p.total.cpuNs = (p.total.cpuNs ?? 0) + c.usage.cpuNs;
    if (c.usage.memoryWorkingSetBytes !== undefined) p.total.memoryWorkingSetBytes = (p.total.memoryWorkingSetBytes ?? 0) + c.usage.memoryWorkingSetBytes;
    byPod.set(k, p);
  }
  const node = src.node();
  return {
    node: { nodeName: src.nodeName ?? '', cpu: cpu(node), memory: memory(node) },
    pods: [...byPod.values()].map((p) => ({ podRef: p.podRef, containers: p.containers, cpu: cpu(p.total), memory: memory(p.total) })),
  };
}
