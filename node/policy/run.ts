// The enforcer as a running component: enforcer plus its `/healthz` (200 while the last sync succeeded,
// 503 with the error otherwise) and `/metrics` (sync durations, Prometheus text). Used by main.ts (its own process) and by `shoal up`'s grouped node process.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KubeClient } from '../../api/client/index.js';
import { realHost } from '../../lib/host/sysctl.js';
import { checkRoute, metricsRoute, serve, type Served } from '../../lib/serve/serve.js';
import { startEnforcer, type SyncStats } from './enforcer.js';
import type { PolicyConfig } from './flags.js';

/** A running enforcer with its health endpoint. */
export interface RunningPolicy {
  healthUrl?: string;
  /** stops; the table stays unless the config says --cleanup-on-exit (fail closed) */
  close(): Promise<void>;
}

/**
 * Prometheus metrics of the syncs, named like kube-proxy's `sync_proxy_rules_*`: where each sync's time
 * went (compiling the desired table vs `nft` applying it) and how many bytes of rules it sent.
 */
function metrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
  const compile = new Histogram({ name: 'shoal_policy_sync_compile_duration_seconds', help: 'Time to compute the desired policy table and its transaction text', buckets, registers: [registry] });
  const apply = new Histogram({ name: 'shoal_policy_sync_apply_duration_seconds', help: 'Time nft took to apply one policy transaction', labelNames: ['kind'], buckets, registers: [registry] });
  const bytes = new Counter({ name: 'shoal_policy_sync_bytes_total', help: 'Bytes of nft rules sent', labelNames: ['kind'], registers: [registry] });
  const syncs = new Counter({ name: 'shoal_policy_syncs_total', help: 'Successful syncs by kind (full, diff, none)', labelNames: ['kind'], registers: [registry] });
  return {
    registry,
    observe(s: SyncStats) {
      compile.observe(s.compileMs / 1000);
      syncs.inc({ kind: s.kind });
      if (s.kind === 'none') return;
      apply.observe({ kind: s.kind }, s.applyMs / 1000);
      bytes.inc({ kind: s.kind }, s.bytes);
    },
  };
}

/** Starts the enforcer and its health server (`/healthz`, `/metrics`). */
export async function runPolicy(config: PolicyConfig, log: (level: 'info' | 'warn' | 'error', msg: string) => void): Promise<RunningPolicy> {
  const client = KubeClient.fromKubeconfig(config.kubeconfig);
  const m = metrics();
  const enforcer = await startEnforcer(client, realHost, { ...config, log, onSync: m.observe });
  const routes = [checkRoute('/healthz', () => enforcer.lastError(), { failPrefix: 'last sync failed: ' }), metricsRoute(m.registry)];
  const health: Served | undefined = config.healthPort ? await serve(config.bindAddress, config.healthPort, routes) : undefined;
  return {
    healthUrl: health && `${health.url}/healthz`,
    async close() {
      await health?.close();
      await enforcer.close({ removeTable: config.cleanupOnExit });
      await client.close();
    },
  };
}
