// The nftables backend: one user of the shared transaction engine (lib/host/nft.ts), which remembers
// what was applied per Service and makes a sync one `nft -f -` transaction (the whole table after start
// or any failure, else only the changed Services). Here: which Services changed, the VIP addresses kept
// in step, and stale UDP conntrack entries flushed for UDP ports whose endpoints changed.

import type { Host } from '../../../lib/host/sysctl.js';
import { NftTable } from '../../../lib/host/nft.js';
import type { Backend } from '../backend.js';
import type { VipInterface } from '../host/vips.js';
import { hasEndpoints, usableEndpoints, type ServicePort } from '../model/servicemap.js';
import { fullSync, partialSync, type RuleConfig } from './rules.js';

type Applied = Map<string, ServicePort[]>;
type Pair = { key: string; old: ServicePort[]; cur: ServicePort[] };

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
  private readonly table: NftTable<Applied>;
  private prevLocalnet?: string;
  /** the last sync's figures */
  last?: SyncStats;

  constructor(private readonly cfg: RuleConfig, private readonly host: Host, private readonly vips: VipInterface) {
    this.table = new NftTable<Applied>(host, `ip ${cfg.table}`);
  }

  async init(): Promise<void> {
    await this.vips.init();
    // NodePort on 127.0.0.1: the DNATed packet leaves with a loopback source (kube-proxy does the same)
    const cur = this.host.readSysctl('net.ipv4.conf.all.route_localnet');
    if (cur !== undefined && cur !== '1') {
      this.prevLocalnet = cur;
      this.host.writeSysctl('net.ipv4.conf.all.route_localnet', '1');
    }
    this.table.invalidate();
  }

  async sync(desired: Map<string, ServicePort[]>, changed: Set<string> | undefined): Promise<void> {
    const t0 = performance.now();
    let pairs: Pair[] = [];
    const r = await this.table.sync((applied) => {
      const full = applied === undefined || changed === undefined;
      const keys = full ? new Set([...desired.keys(), ...(applied?.keys() ?? [])]) : changed;
      pairs = [];
      for (const key of keys) {
        const old = applied?.get(key) ?? [];
        const cur = desired.get(key) ?? [];
        if (full || JSON.stringify(old) !== JSON.stringify(cur)) pairs.push({ key, old, cur });
      }
      const next: Applied = full ? new Map() : new Map(applied);
      for (const p of pairs) {
        if (p.cur.length) next.set(p.key, p.cur);
        else next.delete(p.key);
      }
      const label = `nft transaction (${full ? 'full' : `${pairs.length} services`})`;
      return full ? { kind: 'full', text: fullSync(this.cfg, desired.values()), next, label } : { kind: 'diff', text: pairs.length ? partialSync(this.cfg, pairs) : '', next, label };
    });
    if (r.kind === 'none') return;
    const applied = this.table.applied!;
    try {
      await this.vips.sync(vipSet(applied));
      await this.flushUdp(pairs);
    } catch (e) {
      this.table.invalidate(); // the rules went in but the rest did not: start over with a full sync
      throw e;
    }
    this.last = { full: r.kind === 'full', services: applied.size, changed: pairs.length, ruleBytes: r.bytes, ms: performance.now() - t0 };
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
    await this.table.remove();
    await this.vips.remove();
    if (this.prevLocalnet !== undefined) this.host.writeSysctl('net.ipv4.conf.all.route_localnet', this.prevLocalnet);
  }
}

/** The addresses to keep on the VIP interface: ClusterIPs and LoadBalancer IPs of programmed Services. */
export function vipSet(services: Map<string, ServicePort[]>): Set<string> {
  const s = new Set<string>();
  for (const ports of services.values()) for (const sp of ports) for (const ip of [...sp.clusterIPs, ...sp.loadBalancerIPs]) s.add(ip);
  return s;
}
