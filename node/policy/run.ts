// The enforcer as a running component: enforcer plus its `/healthz` (200 while the last sync succeeded,
// 503 with the error otherwise). Used by main.ts (its own process) and by `shoal up`'s grouped node process.

import { createServer } from 'node:http';
import { KubeClient } from '../../api/client/index.js';
import { realHost } from '../service-proxy/host/host.js';
import { startEnforcer } from './enforcer.js';
import type { PolicyConfig } from './flags.js';

/** A running enforcer with its health endpoint. */
export interface RunningPolicy {
  healthUrl?: string;
  /** stops; the table stays unless the config says --cleanup-on-exit (fail closed) */
  close(): Promise<void>;
}

/** Starts the enforcer and its health server. */
export async function runPolicy(config: PolicyConfig, log: (level: 'info' | 'warn' | 'error', msg: string) => void): Promise<RunningPolicy> {
  const client = KubeClient.fromKubeconfig(config.kubeconfig);
  const enforcer = await startEnforcer(client, realHost, { ...config, log });
  const health = createServer((req, res) => {
    if (req.url !== '/healthz') return void res.writeHead(404).end('not found\n');
    const err = enforcer.lastError();
    res.writeHead(err ? 503 : 200, { 'content-type': 'text/plain' }).end(err ? `last sync failed: ${err}\n` : 'ok\n');
  });
  if (config.healthPort) await new Promise<void>((res) => health.listen(config.healthPort, config.bindAddress, res));
  const addr = health.address();
  return {
    healthUrl: addr && typeof addr === 'object' ? `http://${config.bindAddress}:${addr.port}/healthz` : undefined,
    async close() {
      await new Promise((r) => health.close(r));
      await enforcer.close({ removeTable: config.cleanupOnExit });
      await client.close();
    },
  };
}
