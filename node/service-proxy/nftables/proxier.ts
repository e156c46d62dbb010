// The nftables backend: remembers what it applied per Service, turns a sync into one `nft -f -`
// transaction (the whole table after start or any failure, else only the changed Services), keeps the
// VIP addresses in step, and flushes stale UDP conntrack entries for UDP ports whose endpoints changed.

import type { Backend } from '../backend.js';
import { mustRun, type Host } from '../host/host.js';
import type { VipInterface } from '../host/vips.js';
import { hasEndpoints, usableEndpoints, type ServicePort } from '../model/servicemap.js';
import { deleteTable, fullSync, partialSync, type RuleConfig } from './rules.js';

/** Figures of the last sync, for health and the benchmark. */
export interface SyncStats {
  full: boolean;
  services: number;
  changed: number;
  ruleBytes: number;
  ms: number;
}

/** nftables mode. */
export class NftProxier implements Backend {
  private applied = new Map<string, ServicePort[]>();
  private needFull = true;
  private prevLocalnet?: string;
  /** the last sync's figures */
  last?: SyncStats;

  constructor(private readonly cfg: RuleConfig, private readonly host: Host, private readonly vips: VipInterface) {}

  async init(): Promise<void> {
    await this.vips.init();
    // NodePort on 127.0.0.1: the DNATed packet leaves with a loopback source (kube-proxy does the same)
    const cur = this.host.readSysctl('net.ipv4.conf.all.route_localnet');
    if (cur !== undefined && cur !== '1') {
      this.prevLocalnet = cur;
      this.host.writeSysctl('net.ipv4.conf.all.route_localnet', '1');
    }
    this.needFull = true;
  }

  async sync(desired: Map<string, ServicePort[]>, changed: Set<string> | undefined): Promise<void> {
    const t0 = performance.now();
    const full = this.needFull || changed === undefined;
    const keys = full ? new Set([...desired.keys(), ...this.applied.keys()]) : changed;
    const pairs: { key: string; old: ServicePort[]; cur: ServicePort[] }[] = [];
    for (const key of keys) {
      const old = this.applied.get(key) ?? [];
      const cur = desired.get(key) ?? [];
      if (full || JSON.stringify(old) !== JSON.stringify(cur)) pairs.push({ key, old, cur });
    }
    if (!full && !pairs.length) return;
    const text = full ? fullSync(this.cfg, [...desired.values()]) : partialSync(this.cfg, pairs);
    this.needFull = true; // until this sync has fully succeeded
    await mustRun(this.host, `nft transaction (${full ? 'full' : `${pairs.length} services`})`, 'nft', ['-f', '-'], text);
    for (const p of pairs) {
      if (p.cur.length) this.applied.set(p.key, p.cur);
      else this.applied.delete(p.key);
    }
    if (full) for (const k of [...this.applied.keys()]) if (!desired.has(k)) this.applied.delete(k);
    await this.vips.sync(vipSet(this.applied));
    await this.flushUdp(pairs);
    this.needFull = false;
    this.last = { full, services: this.applied.size, changed: pairs.length, ruleBytes: text.length, ms: performance.now() - t0 };
  }

  /**
   * UDP has no connection to break: entries made before an endpoint went away (or while the port had no
   * endpoint and was rejected) would keep steering packets, so delete them.
   */
  private async flushUdp(pairs: { old: ServicePort[]; cur: ServicePort[] }[]): Promise<void> {
    for (const { old, cur } of pairs) {
      for (const sp of old) {
        if (sp.protocol !== 'UDP') continue;
        const now = cur.find((c) => c.id === sp.id);
        const before = new Set(usableEndpoints(sp.endpoints).map((e) => e.ip));
        const after = new Set(now ? usableEndpoints(now.endpoints).map((e) => e.ip) : []);
        for (const ip of before) {
          if (after.has(ip)) continue;
          for (const vip of sp.clusterIPs) await this.conntrackDelete(['--orig-dst', vip, '--dst-nat', ip]);
          if (sp.nodePort) await this.conntrackDelete(['--orig-port-dst', String(sp.nodePort), '--dst-nat', ip]);
        }
        if (now && !hasEndpoints(sp) && hasEndpoints(now)) {
          for (const vip of sp.clusterIPs) await this.conntrackDelete(['--orig-dst', vip, '--orig-port-dst', String(sp.port)]);
        }
      }
    }
  }

  private async conntrackDelete(filter: string[]): Promise<void> {
    // exit 1 with "0 flow entries" is the common case; a missing conntrack binary must not stop syncing
    await this.host.run('conntrack', ['-D', '-p', 'udp', ...filter]);
  }

  async close(): Promise<void> {
    await this.host.run('nft', ['-f', '-'], deleteTable(this.cfg));
    await this.vips.remove();
    if (this.prevLocalnet !== undefined) this.host.writeSysctl('net.ipv4.conf.all.route_localnet', this.prevLocalnet);
    this.applied.clear();
    this.needFull = true;
  }
}

/** The addresses to keep on the VIP interface: ClusterIPs and LoadBalancer IPs of programmed Services. */
export function vipSet(services: Map<string, ServicePort[]>): Set<string> {
  const s = new Set<string>();
  for (const ports of services.values()) for (const sp of ports) for (const ip of [...sp.clusterIPs, ...sp.loadBalancerIPs]) s.add(ip);
  return s;
}
