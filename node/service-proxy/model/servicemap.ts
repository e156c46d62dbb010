// The proxy's view of the cluster (pure): a Service plus its EndpointSlices become one `ServicePort` per
// service port, with every address it is reachable on and every endpoint with its conditions. Both
// backends (nftables, userspace) consume only this, so the Kubernetes object shapes stay in this file.

import { ipv4ToInt } from '../../../lib/net/ip.js';

const isIPv4 = (s: string) => ipv4ToInt(s) !== undefined;
import type { KubeObject } from '../../../api/meta.js';

/** One endpoint of one service port. */
export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

/** Everything the proxy needs to program one port of one Service. */
export interface ServicePort {
  /** `namespace/name/protocol/portName` (port number when unnamed): stable, unique, used in chain names */
  id: string;
  /** `namespace/name` */
  svcKey: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  clusterIPs: string[];
  nodePort?: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** sessionAffinity ClientIP timeout in seconds, absent for None */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  endpoints: Endpoint[];
}

/** The ports of a Service with its slices (both may be absent); headless and ExternalName services have none. */
export function servicePorts(svc: KubeObject | undefined, slices: KubeObject[]): ServicePort[] {
  if (!svc) return [];
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const clusterIPs: string[] = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip: string) => isIPv4(ip));
  if (!clusterIPs.length) return [];
  const ns = svc.metadata.namespace ?? 'default';
  const svcKey = `${ns}/${svc.metadata.name}`;
  const lbIPs: string[] = spec.type === 'LoadBalancer'
    ? (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip).filter((ip: unknown) => typeof ip === 'string' && isIPv4(ip))
    : [];
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800)
    : undefined;
  const out: ServicePort[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP') as ServicePort['protocol'];
    const portName = p.name ?? '';
    out.push({
      id: `${svcKey}/${protocol.toLowerCase()}/${portName || p.port}`,
      svcKey, protocol, port: Number(p.port), clusterIPs,
      ...(p.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? { nodePort: Number(p.nodePort) } : {}),
      externalIPs: (spec.externalIPs ?? []).filter((ip: string) => isIPv4(ip)),
      loadBalancerIPs: lbIPs,
      ...(affinity !== undefined ? { affinitySeconds: affinity } : {}),
      internalLocal: spec.internalTrafficPolicy === 'Local',
      externalLocal: spec.externalTrafficPolicy === 'Local',
      endpoints: sliceEndpoints(slices, portName, protocol),
    });
  }
  return out;
}

/** The endpoints of the slices' port named `portName` (deduplicated by ip:port; the first slice wins). */
function sliceEndpoints(slices: KubeObject[], portName: string, protocol: string): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const s of slices) {
    if ((s as any).addressType && (s as any).addressType !== 'IPv4') continue;
    const port = ((s as any).ports ?? []).find((p: any) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const e of (s as any).endpoints ?? []) {
      const c = e.conditions ?? {};
      const ready = c.ready !== false;
      for (const ip of e.addresses ?? []) {
        const k = `${ip}:${port.port}`;
        if (seen.has(k) || !isIPv4(ip)) continue;
        seen.set(k, {
          ip, port: Number(port.port), ready,
          serving: c.serving ?? ready, terminating: c.terminating ?? false,
          ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        });
      }
    }
  }
  return [...seen.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : (ipv4ToInt(a.ip) ?? 0) - (ipv4ToInt(b.ip) ?? 0)));
}

/**
 * The endpoints traffic may go to (kube-proxy's CategorizeEndpoints): ready ones; when none is ready, the
 * serving-and-terminating ones. `localNode` restricts to endpoints on that node (traffic policy Local).
 */
export function usableEndpoints(eps: Endpoint[], localNode?: string): Endpoint[] {
  const pool = localNode === undefined ? eps : eps.filter((e) => e.nodeName === localNode);
  const ready = pool.filter((e) => e.ready);
  return ready.length ? ready : pool.filter((e) => e.serving && e.terminating);
}

/** Whether the port has any endpoint at all that traffic may use (else: REJECT). */
export function hasEndpoints(sp: ServicePort): boolean {
  return usableEndpoints(sp.endpoints).length > 0;
}
