// The files a pod gets instead of the host's: /etc/resolv.conf (cluster DNS, Kubernetes' search path,
// ndots:5, per dnsPolicy and dnsConfig), /etc/hosts (localhost, the pod's own name, hostAliases) and
// /etc/hostname. Pure text builders; the sandbox writes and bind-mounts them.

import type { Pod } from '../pods/types.js';

/** Cluster-wide DNS settings of the node. */
export interface DnsSettings {
  clusterDns: string[];
  clusterDomain: string;
  /** the host's resolv.conf text, for dnsPolicy Default and hostNetwork pods */
  hostResolvConf: string;
}

/** The pod's hostname: spec.hostname, else the pod name (truncated to 63 characters like the kubelet). */
export function podHostname(pod: Pod): string {
  return (pod.spec.hostname || pod.metadata.name || 'pod').slice(0, 63).replace(/[-.]+$/, '');
}

/** /etc/resolv.conf for the pod. */
export function resolvConf(pod: Pod, s: DnsSettings): string {
  const ns = pod.metadata.namespace ?? 'default';
  let policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.spec.hostNetwork) policy = 'Default';
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    servers = [...s.clusterDns];
    searches = [`${ns}.svc.${s.clusterDomain}`, `svc.${s.clusterDomain}`, s.clusterDomain];
    options = ['ndots:5'];
  } else if (policy === 'Default') {
    for (const line of s.hostResolvConf.split('\n')) {
      const [k, ...rest] = line.trim().split(/\s+/);
      if (k === 'nameserver' && rest[0]) servers.push(rest[0]);
      else if (k === 'search' || k === 'domain') searches.push(...rest);
      else if (k === 'options') options.push(...rest);
    }
  }
  const dc = pod.spec.dnsConfig;
  for (const n of dc?.nameservers ?? []) if (!servers.includes(n)) servers.push(n);
  for (const d of dc?.searches ?? []) if (!searches.includes(d)) searches.push(d);
  for (const o of dc?.options ?? []) {
    options = options.filter((x) => x.split(':')[0] !== o.name);
    options.push(o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  }
  const lines = servers.slice(0, 3).map((n) => `nameserver ${n}`);
  if (searches.length) lines.push(`search ${searches.slice(0, 32).join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** /etc/hosts for the pod (kubelet's managed hosts file). */
export function hostsFile(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const lines = [
    '# Kubernetes-managed hosts file (Shoal node agent).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const host = podHostname(pod);
  const ns = pod.metadata.namespace ?? 'default';
  const names = pod.spec.subdomain ? [`${host}.${pod.spec.subdomain}.${ns}.svc.${clusterDomain}`, host] : [host];
  if (!pod.spec.hostNetwork) for (const ip of podIPs) lines.push(`${ip}\t${names.join('\t')}`);
  for (const a of pod.spec.hostAliases ?? []) {
    lines.push('', `# Entries added by HostAliases.`);
    lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}
