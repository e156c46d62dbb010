// The agent's flags, parsed and validated in one place: every bad flag is reported (main exits 64).

import { parseArgs } from 'node:util';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { PATHS, PORTS, RANGES, homeDir } from '../../lib/defaults/defaults.js';
import { isIPv4Cidr } from '../../lib/net/ip.js';

/** Validated settings of the agent. */
export interface AgentConfig {
  /** on SIGTERM/SIGINT stop every pod and remove host routes (`shoal up`'s shutdown) instead of leaving pods for adoption */
  cleanupOnExit?: boolean;
  kubeconfig: string | Record<string, unknown>;
  nodeName: string;
  nodeIP: string;
  home: string;
  cniConfDir: string;
  cniBinDirs: string[];
  /** embed the CNI daemon on this socket ('' = do not) */
  cniSocket: string;
  clusterDns: string[];
  clusterDomain: string;
  podCidr: string;
  clusterCidr: string;
  serviceCidr: string;
  netnsPrefix: string;
  bindAddress: string;
  port: number;
  /** cgroup directory name under each controller */
  cgroupName: string;
  /** install unreachable routes for service and foreign pod ranges */
  hostRoutes: boolean;
}

/** The first non-internal IPv4 address of the host, else 127.0.0.1. */
export function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

function checkCidr(flag: string, v: string, problems: string[]): void {
  if (!isIPv4Cidr(v)) problems.push(`--${flag}: must be an IPv4 CIDR like 10.244.0.0/24, got ${JSON.stringify(v)}`);
}

/** Parses flags; returns the config or every problem. */
export function parseAgentFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: AgentConfig; problems: string[] } {
  const known = ['kubeconfig', 'node-name', 'node-ip', 'home', 'cni-conf-dir', 'cni-bin-dir', 'cni-socket', 'cluster-dns', 'cluster-domain', 'pod-cidr', 'cluster-cidr', 'service-cidr', 'netns-prefix', 'bind-address', 'port', 'cgroup-name', 'host-routes', 'cleanup-on-exit'];
  const problems: string[] = [];
  const { values, tokens } = parseArgs({ args: argv, options: Object.fromEntries(known.map((k) => [k, { type: 'string' as const }])), strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && !known.includes(t.name)) problems.push(`unknown flag: ${t.rawName}`);
    else if (t.kind === 'option' && t.value === undefined) problems.push(`${t.rawName}: needs a value`);
    else if (t.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(t.value)}`);
  }
  const s = (k: string) => values[k] as string | undefined;
  const home = homeDir(s('home'), env);
  const portText = s('port') ?? String(PORTS.agent);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) problems.push(`--port: must be an integer between 0 and 65535, got ${JSON.stringify(portText)}`);
  const dns = (s('cluster-dns') ?? RANGES.clusterDns).split(',').filter(Boolean);
  for (const d of dns) if (!isIP(d)) problems.push(`--cluster-dns: ${JSON.stringify(d)} is not an IP address`);
  const nodeIP = s('node-ip') ?? defaultNodeIP();
  if (!isIP(nodeIP)) problems.push(`--node-ip: ${JSON.stringify(nodeIP)} is not an IP address`);
  const podCidr = s('pod-cidr') ?? RANGES.podCidr;
  const clusterCidr = s('cluster-cidr') ?? RANGES.clusterCidr;
  const serviceCidr = s('service-cidr') ?? RANGES.serviceCidr;
  checkCidr('pod-cidr', podCidr, problems);
  checkCidr('cluster-cidr', clusterCidr, problems);
  checkCidr('service-cidr', serviceCidr, problems);
  const nodeName = (s('node-name') ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) problems.push(`--node-name: must be a DNS subdomain, got ${JSON.stringify(nodeName)}`);
  const domain = s('cluster-domain') ?? 'cluster.local';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(domain)) problems.push(`--cluster-domain: must be a DNS domain, got ${JSON.stringify(domain)}`);
  const prefix = s('netns-prefix') ?? 'shoal-';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/.test(prefix)) problems.push(`--netns-prefix: letters, digits, '.', '_' and '-' only, got ${JSON.stringify(prefix)}`);
  const hostRoutes = s('host-routes') ?? 'true';
  if (!['true', 'false'].includes(hostRoutes)) problems.push(`--host-routes: must be true or false, got ${JSON.stringify(hostRoutes)}`);
  const cleanup = s('cleanup-on-exit') ?? 'false';
  if (!['true', 'false'].includes(cleanup)) problems.push(`--cleanup-on-exit: must be true or false, got ${JSON.stringify(cleanup)}`);
  if (problems.length) return { problems };
  return {
    problems,
    config: {
      cleanupOnExit: cleanup === 'true',
      kubeconfig: s('kubeconfig') ?? join(home, 'kubeconfig'),
      nodeName, nodeIP, home,
      cniConfDir: s('cni-conf-dir') ?? PATHS.cniConfDir,
      cniBinDirs: (s('cni-bin-dir') ?? `${PATHS.cniBinDir},/usr/lib/cni`).split(/[,:]/).filter(Boolean),
      cniSocket: s('cni-socket') ?? PATHS.cniSocket,
      clusterDns: dns, clusterDomain: domain, podCidr, clusterCidr, serviceCidr, netnsPrefix: prefix,
      bindAddress: s('bind-address') ?? '0.0.0.0', port: Number(portText), cgroupName: s('cgroup-name') ?? 'shoal', hostRoutes: hostRoutes === 'true',
    },
  };
}
