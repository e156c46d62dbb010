// The Service allocator as an API server admission plugin: at create (and update) time a Service gets its
// ClusterIP from the service CIDR and a NodePort (30000-32767) for each port of a NodePort/LoadBalancer
// Service, and an explicit IP or port that is taken or out of range is rejected with 422, as
// kube-apiserver does (`spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated`).
//
// The bitmaps are not a second source of truth: they are rebuilt from the stored Services (the `list`
// function) plus "pending" allocations this server made in admission but has not yet seen stored.
// Admission runs before the store write, so a write that fails leaves a pending entry; it expires after
// `pendingTtlMs` unless the Service shows up. Several API servers each rebuild before checking an explicit
// value and at most every `resyncMs` otherwise, so a conflict between servers can only slip through in
// that window (kube closes it with allocation objects in etcd; see README.md).

import type { AdmissionPlugin, AdmissionRequest, AdmissionResult } from '../apiserver/admission/chain.js';
import type { KubeObject } from '../../api/meta.js';
import { type FieldError, fieldError } from '../../api/field.js';
import { intToIpv4, ipv4ToInt } from '../../lib/net/ip.js';
import { RangeAllocator, parseCidr, parsePortRange, serviceIpRange } from './range.js';

/** A core/v1 Service as stored. */
export type Service = KubeObject;

/** Settings of the allocator. */
export interface ServiceAllocatorOptions {
  /** e.g. `10.96.0.0/12`; its first IP is kept for the `kubernetes` Service */
  serviceCidr: string;
  /** e.g. `30000-32767` */
  nodePortRange: string;
  /** every stored Service (all namespaces) */
  list: () => Promise<Service[]>;
  /** how long an allocation not yet seen in the store is kept (default 60 s) */
  pendingTtlMs?: number;
  /** the longest the bitmaps may go without a rebuild (default 1 s) */
  resyncMs?: number;
  now?: () => number;
  random?: () => number;
}

/** The plugin plus what tests and the server's repair loop use. */
export interface ServiceAllocatorPlugin extends AdmissionPlugin {
  /** Rebuild the bitmaps from the store (the repair loop). */
  repair(): Promise<void>;
  /** Is this IP taken (stored or pending)? */
  ipAllocated(ip: string): boolean;
  /** Is this node port taken? */
  portAllocated(port: number): boolean;
  /** Counts, for metrics and tests. */
  stats(): { ips: number; ports: number; pendingIps: number; pendingPorts: number };
}

interface Pending {
  owner: string;
  at: number;
}

const needsNodePorts = (t: string | undefined) => t === 'NodePort' || t === 'LoadBalancer';
const allocatesIp = (spec: any) => (spec?.type ?? 'ClusterIP') !== 'ExternalName' && spec?.clusterIP !== 'None';

/** Validate settings once; throws naming the bad one. */
export function serviceAllocatorPlugin(o: ServiceAllocatorOptions): ServiceAllocatorPlugin {
  const cidr = parseCidr(o.serviceCidr);
  const ipr = serviceIpRange(cidr);
  const pr = parsePortRange(o.nodePortRange);
  const ips = new RangeAllocator(ipr.base, ipr.size, o.random);
  const ports = new RangeAllocator(pr.base, pr.size, o.random);
  const reserved = ipr.base; // 10.96.0.1: only ever given by asking for it (the `kubernetes` Service)
  const now = o.now ?? Date.now;
  const ttl = o.pendingTtlMs ?? 60_000;
  const resyncMs = o.resyncMs ?? 1000;
  const pendingIps = new Map<number, Pending>();
  const pendingPorts = new Map<number, Pending>();
  let lastSync = -Infinity;
  let syncing: Promise<void> | undefined;

  async function rebuild(): Promise<void> {
    const started = now();
    const services = await o.list();
    ips.clear();
    ports.clear();
    ips.allocate(reserved);
    const storedIp = new Map<number, string>();
    const storedPort = new Map<number, string>();
    for (const s of services) {
      const key = `${s.metadata.namespace}/${s.metadata.name}`;
      for (const ip of ipsOf(s)) storedIp.set(ip, key);
      for (const p of portsOf(s)) storedPort.set(p, key);
    }
    for (const v of storedIp.keys()) ips.allocate(v);
    for (const v of storedPort.keys()) ports.allocate(v);
    for (const [pending, bitmap, stored] of [[pendingIps, ips, storedIp], [pendingPorts, ports, storedPort]] as const) {
      for (const [v, p] of pending) {
        if (stored.get(v) === p.owner || started - p.at > ttl) pending.delete(v);
        else bitmap.allocate(v);
      }
    }
    lastSync = started;
  }

  function sync(force: boolean): Promise<void> {
    if (!force && now() - lastSync < resyncMs) return Promise.resolve();
    syncing ??= rebuild().finally(() => (syncing = undefined));
    return syncing;
  }

  function ipsOf(s: Service): number[] {
    if (!allocatesIp(s.spec)) return [];
    const all = [s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])].filter((x) => typeof x === 'string' && x !== '' && x !== 'None');
    return [...new Set(all.map((x: string) => ipv4ToInt(x)).filter((x): x is number => x !== undefined))];
  }

  function portsOf(s: Service): number[] {
    if (!needsNodePorts(s.spec?.type)) return [];
    const out = (s.spec?.ports ?? []).map((p: any) => p?.nodePort).filter((n: unknown) => typeof n === 'number' && n > 0);
    if (typeof s.spec?.healthCheckNodePort === 'number' && s.spec.healthCheckNodePort > 0) out.push(s.spec.healthCheckNodePort);
    return out;
  }

  async function admitWrite(req: AdmissionRequest): Promise<AdmissionResult> {
    const svc = req.object!;
    const spec = (svc.spec ??= {});
    const old = req.oldObject;
    const owner = `${req.namespace}/${req.name || svc.metadata.name}`;
    const errs: FieldError[] = [];
    const taken: { map: Map<number, Pending>; bitmap: RangeAllocator; v: number }[] = [];
    const oldIps = old ? ipsOf(old) : [];
    const oldPorts = new Set(old ? portsOf(old) : []);
    const explicitIp = allocatesIp(spec) && (spec.clusterIP || spec.clusterIPs?.[0]) && !oldIps.length;
    const explicitPort = needsNodePorts(spec.type) && (spec.ports ?? []).some((p: any) => p?.nodePort && !oldPorts.has(p.nodePort));
    await sync(Boolean(explicitIp || explicitPort));

    const take = (map: Map<number, Pending>, bitmap: RangeAllocator, v: number) => {
      taken.push({ map, bitmap, v });
      map.set(v, { owner, at: now() });
    };

    // ---- ClusterIP
    if (allocatesIp(spec)) {
      const want: string | undefined = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
      if (want !== undefined && oldIps.includes(ipv4ToInt(want) ?? -1)) {
        // unchanged on update
      } else if (want !== undefined) {
        const v = ipv4ToInt(want);
        if (v === undefined) errs.push(fieldError.invalid('spec.clusterIP', want, 'must be a valid IP address'));
        else if (!ips.contains(v)) errs.push(fieldError.invalid('spec.clusterIP', want, `provided IP is not in the valid range. The range of valid IPs is ${cidr.text}`));
        else if (v !== reserved && !ips.allocate(v)) errs.push(fieldError.invalid('spec.clusterIP', want, 'provided IP is already allocated'));
        else if (v === reserved && (pendingIps.has(v) || (await anyServiceHas(v)))) errs.push(fieldError.invalid('spec.clusterIP', want, 'provided IP is already allocated'));
        else take(pendingIps, ips, v);
      } else {
        const v = ips.allocateNext();
        if (v === undefined) errs.push(fieldError.invalid('spec.clusterIP', '', `failed to allocate a serviceIP: range is full (${cidr.text})`));
        else take(pendingIps, ips, v);
      }
      if (!errs.length) {
        const ipText = spec.clusterIP || spec.clusterIPs?.[0] || intToIpv4(taken[taken.length - 1]!.v);
        spec.clusterIP = ipText;
        spec.clusterIPs = [ipText];
      }
    } else if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    }

    // ---- NodePorts
    if (needsNodePorts(spec.type)) {
      const seen = new Set<number>();
      (spec.ports ?? []).forEach((p: any, i: number) => {
        if (!p || typeof p !== 'object') return;
        const field = `spec.ports[${i}].nodePort`;
        if (p.nodePort) {
          if (seen.has(p.nodePort)) return; // same port for TCP and UDP is allowed
          seen.add(p.nodePort);
          if (oldPorts.has(p.nodePort)) return;
          if (!ports.contains(p.nodePort)) errs.push(fieldError.invalid(field, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${pr.text}`));
          else if (!ports.allocate(p.nodePort)) errs.push(fieldError.invalid(field, p.nodePort, 'provided port is already allocated'));
          else take(pendingPorts, ports, p.nodePort);
        } else {
          const v = ports.allocateNext();
          if (v === undefined) errs.push(fieldError.invalid(field, 0, `failed to allocate a nodePort: range is full (${pr.text})`));
          else {
            take(pendingPorts, ports, v);
            p.nodePort = v;
            seen.add(v);
          }
        }
      });
    } else if (old && needsNodePorts(old.spec?.type)) {
      // Changing to ClusterIP drops the node ports the server gave out.
      for (const p of spec.ports ?? []) if (p && oldPorts.has(p.nodePort)) delete p.nodePort;
    }

    if (errs.length || req.dryRun) {
      for (const t of taken) {
        t.bitmap.release(t.v);
        t.map.delete(t.v);
      }
    }
    if (errs.length) return { allowed: false, reason: errs.map((e) => `${e.field}: ${e.detail}`).join(', '), code: 422, causes: errs };
    return { allowed: true };
  }

  async function anyServiceHas(v: number): Promise<boolean> {
    return (await o.list()).some((s) => ipsOf(s).includes(v));
  }

  return {
    name: 'ServiceAllocator',
    resources: ['services'],
    async mutate(req) {
      if (req.subresource !== '' || !req.object || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return { allowed: true };
      return admitWrite(req);
    },
    validate(req) {
      // An admitted delete frees at once on this server; a delete that then fails is repaired at the next rebuild.
      if (req.operation === 'DELETE' && req.subresource === '' && req.oldObject && !req.dryRun && !req.oldObject.metadata.finalizers?.length) {
        for (const v of ipsOf(req.oldObject)) if (v !== reserved) ips.release(v);
        for (const v of portsOf(req.oldObject)) ports.release(v);
      }
      return { allowed: true };
    },
    repair: () => sync(true),
    ipAllocated: (ip) => ips.has(ipv4ToInt(ip) ?? -1),
    portAllocated: (p) => ports.has(p),
    stats: () => ({ ips: ips.count(), ports: ports.count(), pendingIps: pendingIps.size, pendingPorts: pendingPorts.size }),
  };
}
