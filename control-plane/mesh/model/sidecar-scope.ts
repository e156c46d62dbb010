// Istio's Sidecar resource: which one applies to a proxy, and what it lets the proxy see.
//   selection: a Sidecar in the proxy's namespace whose workloadSelector matches its labels (the oldest if
//   several), else the namespace's Sidecar without a selector, else the root namespace's one without a
//   selector; none → everything is visible and outbound traffic to unknown destinations is allowed.
//   egress[].hosts: `namespace/dnsName` with `.` (the proxy's namespace), `*` (any namespace) and `*` or
//   `*.suffix` in the name; `~` (no namespace) matches nothing. A Service is visible when any host
//   matches `<its namespace>/<its hostname or short name>`.
//   outboundTrafficPolicy.mode REGISTRY_ONLY: the proxy refuses destinations that are not visible Services
//   (Envoy's BlackHoleCluster); ALLOW_ANY (default) passes them through.
import type { KubeObject } from '../../../api/meta.js';
import { olderFirst, ROOT_NAMESPACE, selectorMatches } from './selection.js';

/** The Sidecar that applies to a workload, or undefined. */
export function applicableSidecar(ns: string, labels: Record<string, string>, all: KubeObject[], root = ROOT_NAMESPACE): KubeObject | undefined {
  const sorted = [...all].sort(olderFirst);
  const sel = (o: any) => o.spec?.workloadSelector?.labels;
  return sorted.find((o: any) => o.metadata.namespace === ns && sel(o) && Object.keys(sel(o)).length > 0 && selectorMatches(sel(o), labels))
    ?? sorted.find((o: any) => o.metadata.namespace === ns && !sel(o))
    ?? sorted.find((o: any) => o.metadata.namespace === root && !sel(o));
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** A visibility test for Services (namespace, hostname, short name) from the Sidecar's egress hosts. */
export function egressFilter(sidecar: KubeObject | undefined, proxyNs: string): (svcNs: string, hostname: string) => boolean {
  const hosts: string[] = ((sidecar as any)?.spec?.egress ?? []).flatMap((e: any) => e.hosts ?? []);
  if (!sidecar || hosts.length === 0) return () => true;
  const rules = hosts.map((h) => {
    const slash = h.indexOf('/');
    return slash === -1 ? { ns: '*', name: h } : { ns: h.slice(0, slash), name: h.slice(slash + 1) };
  });
  return (svcNs, hostname) => {
    const short = hostname.split('.')[0]!;
    return rules.some((r) => {
      if (r.ns === '~') return false;
      const nsOk = r.ns === '*' || (r.ns === '.' ? svcNs === proxyNs : svcNs === r.ns);
      return nsOk && (hostMatches(r.name, hostname) || hostMatches(r.name, short));
    });
  };
}

/** REGISTRY_ONLY or ALLOW_ANY (Istio's default). */
export function outboundPolicy(sidecar: KubeObject | undefined): 'REGISTRY_ONLY' | 'ALLOW_ANY' {
  return (sidecar as any)?.spec?.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
}
