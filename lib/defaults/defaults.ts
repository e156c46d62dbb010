// Every default the processes, `shoal up`, the flags' help and the README tables share, in one place:
// address ranges, ports, paths and timeouts. Kubernetes' values where Kubernetes has one (kube-proxy's
// 10256, the controller manager's 10257, CoreDNS's 8080/8181/9153, the 30000-32767 NodePort range);
// `test/lib/defaults.test.ts` checks the README tables against this file.

/** Address ranges. */
export const RANGES = Object.freeze({
  /** every pod address (a /24 per node) */
  clusterCidr: '10.244.0.0/16',
  /** the first node's pods */
  podCidr: '10.244.0.0/24',
  /** ClusterIPs; its first address is the `kubernetes` Service */
  serviceCidr: '10.96.0.0/12',
  /** the cluster DNS Service */
  clusterDns: '10.96.0.10',
  /** NodePorts */
  nodePortRange: '30000-32767',
});

/** Ports. */
export const PORTS = Object.freeze({
  apiServer: 6443,
  controllerManagerHealth: 10257,
  schedulerHealth: 10259,
  agent: 10250,
  serviceProxyHealth: 10256,
  /** Calico Felix's health port */
  policyHealth: 9099,
  dns: 53,
  dnsHealth: 8080,
  dnsReady: 8181,
  dnsMetrics: 9153,
  /** mesh control: xDS-style discovery and CA over TLS (istiod's 15012), debug/health (15014) */
  meshGrpc: 15012,
  meshDebug: 15014,
});

/** Paths. */
export const PATHS = Object.freeze({
  /** state, store file, logs ($SHOAL_HOME overrides) */
  home: '/var/lib/shoal',
  /** sockets, pids, route holders */
  run: '/run/shoal',
  cniSocket: '/run/shoal/cni.sock',
  routeHolders: '/run/shoal/route-holders',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: '/opt/cni/bin',
});

/** Timeouts and periods, as the duration flags write them (lib/time/duration.ts parses them). */
export const TIMEOUTS = Object.freeze({
  /** service proxy: --min-sync-period, --sync-period (kube-proxy's 1s/30s; 100ms keeps tests quick) */
  proxyMinSync: '100ms',
  proxySync: '30s',
  /** policy enforcer: --min-sync-period, --sync-period, --retry-period */
  policyMinSync: '10ms',
  policySync: '30s',
  policyRetry: '1s',
  /** leader election (kube-controller-manager's) */
  leaseDuration: '15s',
  renewDeadline: '10s',
  retryPeriod: '2s',
});

/** The state directory: --home, else $SHOAL_HOME, else /var/lib/shoal. */
export function homeDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.SHOAL_HOME || PATHS.home;
}
