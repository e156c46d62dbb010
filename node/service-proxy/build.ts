// Builds a running proxy from a ProxyConfig: the backend for the mode, its host seams, and the wiring.
// main.ts and the tests both come through here.

import { KubeClient } from '../../api/client/index.js';
import type { Backend } from './backend.js';
import type { ProxyConfig } from './flags.js';
import { tableName, vipIfname } from './flags.js';
import { realHost, type Host } from '../../lib/host/sysctl.js';
import { VipInterface } from './host/vips.js';
import { NftProxier } from './nftables/proxier.js';
import { startProxy, type Proxy } from './proxy.js';
import { UserspaceProxier } from './userspace/proxier.js';

/** Seams for tests. */
export interface BuildSeams {
  host?: Host;
  client?: KubeClient;
  log?(level: 'info' | 'warn' | 'error', msg: string): void;
}

/** The backend of the configured mode. */
export function buildBackend(cfg: ProxyConfig, host: Host, log: (l: 'info' | 'warn' | 'error', m: string) => void): Backend {
  const vips = new VipInterface(host, vipIfname(cfg.tableSuffix));
  if (cfg.mode === 'userspace') return new UserspaceProxier({ nodeName: cfg.nodeName, nodePortAddress: '0.0.0.0', udpIdleMs: 30_000, log }, vips);
  return new NftProxier({ table: tableName(cfg.tableSuffix), nodeName: cfg.nodeName, clusterCidr: cfg.clusterCidr, nodePortAddresses: cfg.nodePortAddresses, podInterface: cfg.podBridgeInterface }, host, vips);
}

/** Starts the proxy (first sync done when it resolves). */
export async function runProxy(cfg: ProxyConfig, seams: BuildSeams = {}): Promise<Proxy> {
  const log = seams.log ?? ((l, m) => process.stderr.write(`${JSON.stringify({ level: l, time: new Date().toISOString(), msg: m })}\n`));
  const client = seams.client ?? KubeClient.fromKubeconfig(cfg.kubeconfig);
  const backend = buildBackend(cfg, seams.host ?? realHost, log);
  try {
    return await startProxy(client, backend, {
      nodeName: cfg.nodeName, minSyncMs: cfg.minSyncMs, maxSyncMs: cfg.maxSyncMs, healthPort: cfg.healthPort,
      bindAddress: cfg.bindAddress, loadBalancerCidr: cfg.loadBalancerCidr, log,
    });
  } catch (e) {
    await backend.close().catch(() => undefined);
    throw e;
  }
}
