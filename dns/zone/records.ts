// Records by the Kubernetes DNS-Based Service Discovery specification (schema 1.1.0), computed from one
// Service, its EndpointSlices and the Pods that name it as their subdomain. Pure: objects in, records out,
// so the rules are tested by table without an API server. `index.ts` merges what every source contributes.

import { isIP } from 'node:net';

/** One resource record, in the shape the answer builder encodes (owner names lowercase, no trailing dot). */
export type Rec =
  | { name: string; type: 'A' | 'AAAA'; address: string }
  | { name: string; type: 'CNAME' | 'PTR'; target: string }
  | { name: string; type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { name: string; type: 'TXT'; text: string };

/** The fields of a Service this module reads. */
export interface ServiceLike {
  metadata: { name?: string; namespace?: string };
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[]; externalName?: string; publishNotReadyAddresses?: boolean; ports?: { name?: string; port?: number; protocol?: string }[] };
}
/** The fields of an EndpointSlice this module reads. */
export interface SliceLike {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean }; hostname?: string }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}
/** The fields of a Pod this module reads. */
export interface PodLike {
  metadata: { name?: string; namespace?: string };
  spec?: { hostname?: string; subdomain?: string };
  status?: { podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: string; status: string }[] };
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** `1-2-3-4` for 10.x addresses, `fd00--1` for IPv6: the endpoint name CoreDNS uses when there is no hostname. */
export function dashed(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** The reverse-lookup name of an address: `4.3.2.1.in-addr.arpa` or the nibble form under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  const v = isIP(ip);
  if (v === 4) return ip.split('.').reverse().join('.') + '.in-addr.arpa';
  if (v !== 6) return undefined;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return [...hex].reverse().join('.') + '.ip6.arpa';
}

function addrRec(name: string, ip: string): Rec | undefined {
  const v = isIP(ip);
  return v === 4 ? { name, type: 'A', address: ip } : v === 6 ? { name, type: 'AAAA', address: ip } : undefined;
}

function proto(p: string | undefined): string {
  return (p ?? 'TCP').toLowerCase();
}

function podReady(p: PodLike): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function podIps(p: PodLike): string[] {
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip);
  return ips.length ? ips : p.status?.podIP ? [p.status.podIP] : [];
}

/**
 * Every record one Service yields: A/AAAA + SRV + PTR for a ClusterIP service; for a headless service the
 * ready endpoints (all of them with publishNotReadyAddresses) as A/AAAA, per-endpoint names, SRV and PTR;
 * a CNAME for ExternalName; `hostname.subdomain` records for pods whose subdomain is this service.
 */
export function serviceRecords(zone: string, svc: ServiceLike, slices: Iterable<SliceLike>, pods: Iterable<PodLike> = []): Rec[] {
  const ns = String(svc.metadata.namespace ?? 'default').toLowerCase();
  const base = `${String(svc.metadata.name).toLowerCase()}.${ns}.svc.${zone}`;
  const spec = svc.spec ?? {};
  const out: Rec[] = [];
  if (spec.type === 'ExternalName') {
    if (spec.externalName) out.push({ name: base, type: 'CNAME', target: spec.externalName.toLowerCase().replace(/\.$/, '') });
    return out;
  }
  const srvName = (p: { name?: string; protocol?: string }) => `_${p.name!.toLowerCase()}._${proto(p.protocol)}.${base}`;
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (ips.length && ips[0] !== 'None') {
    for (const ip of ips) {
      const r = addrRec(base, ip);
      if (!r) continue;
      out.push(r);
      const rev = reverseName(ip);
      if (rev) out.push({ name: rev, type: 'PTR', target: base });
    }
    for (const p of spec.ports ?? []) if (p.name && p.port) out.push({ name: srvName(p), type: 'SRV', priority: 0, weight: 100, port: p.port, target: base });
    return out;
  }
  // Headless: one record set per ready endpoint address.
  const seen = new Set<string>();
  const hostnames = new Set<string>();
  for (const s of slices) {
    if (s.addressType === 'FQDN') continue;
    for (const ep of s.endpoints ?? []) {
      if (ep.conditions?.ready === false && !spec.publishNotReadyAddresses) continue;
      for (const ip of ep.addresses ?? []) {
        const r = addrRec(base, ip);
        if (!r || seen.has(ip)) continue;
        seen.add(ip);
        out.push(r);
        const host = ep.hostname ? ep.hostname.toLowerCase() : dashed(ip);
        if (ep.hostname) hostnames.add(host);
        const epName = `${host}.${base}`;
        out.push({ ...r, name: epName });
        const rev = reverseName(ip);
        if (rev) out.push({ name: rev, type: 'PTR', target: epName });
        for (const p of s.ports ?? []) if (p.name && p.port) out.push({ name: srvName(p), type: 'SRV', priority: 0, weight: 100, port: p.port, target: epName });
      }
    }
  }
  // Pods with hostname + subdomain = this service (the endpoint slice may not carry their hostname).
  for (const p of pods) {
    if (String(p.metadata.namespace ?? 'default').toLowerCase() !== ns || !p.spec?.hostname) continue;
    if (p.spec.subdomain?.toLowerCase() !== String(svc.metadata.name).toLowerCase()) continue;
    const host = p.spec.hostname.toLowerCase();
    if (hostnames.has(host) || (!podReady(p) && !spec.publishNotReadyAddresses)) continue;
    for (const ip of podIps(p)) {
      const r = addrRec(`${host}.${base}`, ip);
      if (r) out.push(r);
    }
  }
  return out;
}

/** The records every zone has: `dns-version.<zone>` TXT "1.1.0". */
export function zoneRecords(zone: string): Rec[] {
  return [{ name: `dns-version.${zone}`, type: 'TXT', text: '1.1.0' }];
}

/**
 * A ServiceEntry's hosts, answered where Istio's DNS proxy would: each host (outside the cluster zone) has
 * the entry's IP `addresses`, else — resolution STATIC — its endpoints' IP addresses. Wildcard hosts and
 * entries with neither get nothing (they are resolved upstream).
 */
export function serviceEntryRecords(se: { spec?: { hosts?: string[]; addresses?: string[]; resolution?: string; endpoints?: { address?: string }[] } }): Rec[] {
  const spec = se.spec ?? {};
  let ips = (spec.addresses ?? []).filter((a) => isIP(a) !== 0);
  if (!ips.length && spec.resolution === 'STATIC') ips = (spec.endpoints ?? []).map((e) => e.address ?? '').filter((a) => isIP(a) !== 0);
  const out: Rec[] = [];
  for (const h of spec.hosts ?? []) {
    const name = h.toLowerCase().replace(/\.$/, '');
    if (name.includes('*')) continue;
    for (const ip of ips) out.push({ name, type: isIP(ip) === 6 ? 'AAAA' : 'A', address: ip });
  }
  return out;
}
