// What every listener of the proxy shares: the live config, the identity, metrics, the open-files
// budget and the log. Built once by the process (sidecar/build.ts) and passed down.
import type { ConfigStore } from './config/store.js';
import type { IdentityManager } from './identity/manager.js';
import type { ProxyMetrics } from './admin/metrics.js';
import type { FdBudget } from './net/limits.js';
import type { AccessLogSink } from './telemetry/access-log.js';
import type { MeshTracing } from './telemetry/tracing.js';

/** A structured log line. */
export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** Shared state of one proxy. */
export interface ProxyContext {
  store: ConfigStore;
  identity: IdentityManager;
  metrics: ProxyMetrics;
  budget: FdBudget;
  log: Log;
  /** This workload's IP (INSTANCE_IP); the workload resource's ip when empty. */
  podIp: string;
  /** POD_NAME and ISTIO_META_WORKLOAD_NAME (the Deployment's name), for metric labels and peer metadata (admin/peer-metadata.ts). */
  podName?: string;
  workloadName?: string;
  /** Access log lines (telemetry/access-log.ts); absent: off. */
  accessLog?: AccessLogSink;
  /** OpenTelemetry spans per hop (telemetry/tracing.ts); absent: off, trace headers untouched. */
  tracing?: MeshTracing;
}

/** JSON-lines logger on stderr. */
export function jsonLog(component: string): Log {
  return (level, msg, fields) => {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
  };
}

/** This workload's IP. */
export function ownIp(ctx: ProxyContext): string {
  return ctx.podIp || ctx.store.snapshot.config.workload?.ip || '';
}
