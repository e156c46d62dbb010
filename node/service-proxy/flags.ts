// Flags of the service proxy (kube-proxy's names where they exist). Every bad flag is collected so
// main.ts can report all of them and exit 64.

import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { PORTS, RANGES, TIMEOUTS } from '../../lib/defaults/defaults.js';
import { isIPv4Cidr as isCidr } from '../../lib/net/ip.js';
import { parseDuration } from '../../lib/time/duration.js';

/** The validated, frozen configuration. */
export interface ProxyConfig {
  kubeconfig?: string;
  mode: 'nftables' | 'userspace';
  nodeName: string;
  clusterCidr: string;
  serviceCidr: string;
  nodePortAddresses: string[];
  /** kube-proxy's --pod-bridge-interface: only routed ClusterIP traffic from this bridge is proxied ('' = any) */
  podBridgeInterface: string;
  /** table `shoal-proxy` or `shoal-proxy-<suffix>`; also names the VIP interface */
  tableSuffix: string;
  healthPort: number;
  bindAddress: string;
  minSyncMs: number;
  maxSyncMs: number;
  loadBalancerCidr: string;
  logLevel: string;
}

/** A duration flag in milliseconds, NaN when malformed (lib/time: Go's syntax). */
const durationMs = (s: string) => parseDuration(s) ?? NaN;

/** The table name for a suffix. */
export const tableName = (suffix: string) => (suffix ? `shoal-proxy-${suffix}` : 'shoal-proxy');

/** The VIP dummy interface for a suffix (at most 15 characters). */
export const vipIfname = (suffix: string) => (suffix ? `shp-${suffix}`.slice(0, 15) : 'shoal-proxy0');

/** Parses argv; `problems` lists every bad flag as `--flag: why`. */
export function parseProxyFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: ProxyConfig; problems: string[] } {
  const problems: string[] = [];
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: Object.fromEntries(['kubeconfig', 'mode', 'node-name', 'cluster-cidr', 'service-cidr', 'nodeport-addresses', 'pod-bridge-interface', 'table-suffix',
        'health-port', 'bind-address', 'min-sync-period', 'sync-period', 'load-balancer-cidr', 'log-level'].map((k) => [k, { type: 'string' as const }])),
    }).values as Record<string, string | undefined>;
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const mode = values.mode ?? 'nftables';
  if (mode !== 'nftables' && mode !== 'userspace') problems.push(`--mode: must be nftables or userspace, got ${JSON.stringify(mode)}`);
  const clusterCidr = values['cluster-cidr'] ?? RANGES.clusterCidr;
  if (clusterCidr !== '' && !isCidr(clusterCidr)) problems.push(`--cluster-cidr: must be an IPv4 CIDR or '', got ${JSON.stringify(clusterCidr)}`);
  const serviceCidr = values['service-cidr'] ?? RANGES.serviceCidr;
  if (!isCidr(serviceCidr)) problems.push(`--service-cidr: must be an IPv4 CIDR, got ${JSON.stringify(serviceCidr)}`);
  const nodePortAddresses = (values['nodeport-addresses'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of nodePortAddresses) if (!isCidr(c)) problems.push(`--nodeport-addresses: ${JSON.stringify(c)} is not an IPv4 CIDR`);
  const podBridgeInterface = values['pod-bridge-interface'] ?? '';
  if (!/^[A-Za-z0-9_.-]{0,15}$/.test(podBridgeInterface)) problems.push(`--pod-bridge-interface: an interface name of at most 15 letters, digits, '.', '_' or '-', got ${JSON.stringify(podBridgeInterface)}`);
  const tableSuffix = values['table-suffix'] ?? '';
  if (!/^[a-z0-9]{0,11}$/.test(tableSuffix)) problems.push(`--table-suffix: at most 11 lowercase letters or digits, got ${JSON.stringify(tableSuffix)}`);
  const healthPort = Number(values['health-port'] ?? String(PORTS.serviceProxyHealth));
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535) problems.push(`--health-port: must be 0..65535, got ${JSON.stringify(values['health-port'])}`);
  const minSyncMs = durationMs(values['min-sync-period'] ?? TIMEOUTS.proxyMinSync);
  if (Number.isNaN(minSyncMs)) problems.push(`--min-sync-period: must be a duration like 1s or 100ms, got ${JSON.stringify(values['min-sync-period'])}`);
  const maxSyncMs = durationMs(values['sync-period'] ?? TIMEOUTS.proxySync);
  if (Number.isNaN(maxSyncMs) || maxSyncMs <= 0) problems.push(`--sync-period: must be a positive duration, got ${JSON.stringify(values['sync-period'])}`);
  const loadBalancerCidr = values['load-balancer-cidr'] ?? '';
  if (loadBalancerCidr !== '' && !isCidr(loadBalancerCidr)) problems.push(`--load-balancer-cidr: must be an IPv4 CIDR or '', got ${JSON.stringify(loadBalancerCidr)}`);
  const nodeName = values['node-name'] ?? env.NODE_NAME ?? hostname();
  if (!nodeName) problems.push('--node-name: must not be empty');
  if (problems.length) return { problems };
  return {
    problems,
    config: Object.freeze({
      kubeconfig: values.kubeconfig, mode: mode as ProxyConfig['mode'], nodeName, clusterCidr, serviceCidr, nodePortAddresses, podBridgeInterface, tableSuffix,
      healthPort, bindAddress: values['bind-address'] ?? '127.0.0.1', minSyncMs, maxSyncMs, loadBalancerCidr, logLevel: values['log-level'] ?? 'info',
    }),
  };
}
