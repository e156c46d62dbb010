// The nftables ruleset as text (pure). One table `shoal-proxy[-suffix]` with dispatch maps keyed by
// address . protocol . port whose verdicts jump to per-service chains, which pick an endpoint chain by a
// `numgen` cascade. A change to one Service is a diff against what was
// applied: only the map elements, chains and sets that differ are touched, in one `nft -f -` transaction
// (kube-proxy's nftables mode, simplified; see README.md for the chain layout and why there are no per-chain maps).
// The full and diff texts come from the shared engine (lib/host/nft.ts); this file only says what the
// objects of a Service are.

import { deleteTableText, diffText, fullStatements, type NftObjects } from '../../../lib/host/nft.js';
import { hasEndpoints, usableEndpoints, type Endpoint, type ServicePort } from '../model/servicemap.js';

/** Frozen settings that shape the ruleset. */
export interface RuleConfig {
  /** table name, `shoal-proxy` or `shoal-proxy-<suffix>` */
  table: string;
  /** this node (traffic policy Local) */
  nodeName: string;
  /** traffic to a ClusterIP from outside this CIDR is masqueraded; '' = never */
  clusterCidr: string;
  /** CIDRs on which NodePorts answer; empty = every local address, 127.0.0.1 included */
  nodePortAddresses: string[];
  /**
   * the node's pod bridge: when set, routed traffic to ClusterIPs is taken only from this interface (and
   * the host's own), so several clusters on one machine, each with its own bridge, never take each other's
   * pods' service traffic; NodePorts still answer from any interface. '' or absent: from anywhere.
   */
  podInterface?: string;
}

/** Bit in the packet mark that asks for masquerade (kube-proxy's 0x4000). */
export const MASQ_MARK = 0x4000;

/** What one Service contributes to the table: chains with their rules, affinity sets, map elements. */
export interface ServiceObjects {
  chains: Map<string, string[]>;
  sets: Map<string, string>;
  /** [map name, element text] */
  elements: [string, string][];
}

// ---------------------------------------------------------------------------------------------------
// names

/** FNV-1a, 8 hex digits: keeps chain names unique whatever the id contains. */
function hash8(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Only characters nft identifiers accept after the first letter. */
const clean = (s: string) => s.replace(/[^A-Za-z0-9/_.-]/g, '_');

const svcChain = (sp: ServicePort) => `svc-${hash8(sp.id)}-${clean(sp.id)}`;
const extChain = (sp: ServicePort) => `ext-${hash8(sp.id)}-${clean(sp.id)}`;
const epChain = (sp: ServicePort, e: Endpoint) => `ep-${hash8(sp.id)}-${clean(sp.id)}__${e.ip}/${e.port}`;
const affSet = (sp: ServicePort, e: Endpoint) => `aff-${hash8(sp.id)}-${sp.affinitySeconds}-${clean(sp.id)}__${e.ip}/${e.port}`;
const proto = (sp: ServicePort) => sp.protocol.toLowerCase();

// ---------------------------------------------------------------------------------------------------
// per-service objects

/** The chains, sets and elements of all ports of one Service. */
export function serviceObjects(cfg: RuleConfig, ports: ServicePort[]): ServiceObjects {
  const out: ServiceObjects = { chains: new Map(), sets: new Map(), elements: [] };
  const clusterIPs = new Set<string>();
  for (const sp of ports) {
    for (const ip of sp.clusterIPs) clusterIPs.add(ip);
    addPort(cfg, sp, out);
  }
  for (const ip of clusterIPs) out.elements.push(['cluster-ips', ip]);
  return out;
}

function addPort(cfg: RuleConfig, sp: ServicePort, out: ServiceObjects): void {
  const p = proto(sp);
  const external = [...sp.externalIPs, ...sp.loadBalancerIPs];
  const hasExternal = external.length > 0 || sp.nodePort !== undefined;
  if (!hasEndpoints(sp)) {
    // no endpoint anywhere: an immediate REJECT from the filter hooks instead of a DNAT
    for (const ip of [...sp.clusterIPs, ...external]) out.elements.push(['no-endpoint-services', `${ip} . ${p} . ${sp.port} : goto reject-chain`]);
    if (sp.nodePort !== undefined) out.elements.push(['no-endpoint-nodeports', `${p} . ${sp.nodePort} : goto reject-chain`]);
    return;
  }
  const internal = usableEndpoints(sp.endpoints, sp.internalLocal ? cfg.nodeName : undefined);
  const ext = usableEndpoints(sp.endpoints, sp.externalLocal ? cfg.nodeName : undefined);
  const svc = svcChain(sp);
  const svcRules: string[] = [];
  if (cfg.clusterCidr) svcRules.push(`ip saddr != ${cfg.clusterCidr} jump mark-for-masquerade`);
  svcRules.push(...balance(sp, internal));
  out.chains.set(svc, svcRules);
  for (const ip of sp.clusterIPs) out.elements.push(['service-ips', `${ip} . ${p} . ${sp.port} : goto ${svc}`]);
  if (hasExternal) {
    const xc = extChain(sp);
    const rules: string[] = [];
    if (!sp.externalLocal) {
      rules.push('jump mark-for-masquerade');
      if (sameEndpoints(internal, ext)) rules.push(`goto ${svc}`);
      else rules.push(...balance(sp, ext));
    } else {
      // Local keeps the client's address, except for traffic from this host (it could not come back)
      rules.push('fib saddr type local jump mark-for-masquerade', ...balance(sp, ext));
    }
    out.chains.set(xc, rules);
    for (const ip of external) out.elements.push(['service-ips', `${ip} . ${p} . ${sp.port} : goto ${xc}`]);
    if (sp.nodePort !== undefined) out.elements.push(['service-nodeports', `${p} . ${sp.nodePort} : goto ${xc}`]);
  }
  const seen = new Set<string>();
  for (const e of [...internal, ...ext]) {
    const name = epChain(sp, e);
    if (seen.has(name)) continue;
    seen.add(name);
    const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
    if (sp.affinitySeconds !== undefined) {
      const set = affSet(sp, e);
      out.sets.set(set, `type ipv4_addr ; flags dynamic,timeout ; timeout ${sp.affinitySeconds}s`);
      rules.push(`update @${set} { ip saddr }`);
    }
    rules.push(`meta l4proto ${p} dnat to ${e.ip}:${e.port}`);
    out.chains.set(name, rules);
  }
}

/**
 * Affinity lookups, then a uniformly random endpoint without any map: rule i takes endpoint i with
 * probability 1/(n-i) (`numgen random mod (n-i) == 0`, iptables mode's `statistic` cascade), the last takes
 * the rest; no endpoint: drop. No named map per chain: nft 1.0.6 fetches every set and map of the table
 * before any element update, so 10k `lb-` maps made every change slow; an endpoint change is now a chain
 * rewrite (nft only needs the chain list) and the full sync has no map to bind.
 */
function balance(sp: ServicePort, eps: Endpoint[]): string[] {
  if (!eps.length) return ['drop'];
  const rules: string[] = [];
  if (sp.affinitySeconds !== undefined) for (const e of eps) rules.push(`ip saddr @${affSet(sp, e)} goto ${epChain(sp, e)}`);
  eps.forEach((e, i) => {
    const left = eps.length - i;
    rules.push(left > 1 ? `numgen random mod ${left} == 0 goto ${epChain(sp, e)}` : `goto ${epChain(sp, e)}`);
  });
  return rules;
}

function sameEndpoints(a: Endpoint[], b: Endpoint[]): boolean {
  return a.length === b.length && a.every((e, i) => e.ip === b[i].ip && e.port === b[i].port);
}

// ---------------------------------------------------------------------------------------------------
// transactions

/** The fixed part of the table: maps, hooks, masquerade and reject chains. */
export function baseTable(cfg: RuleConfig): string {
  const np = cfg.nodePortAddresses.length ? `ip daddr { ${cfg.nodePortAddresses.join(', ')} }` : 'fib daddr type local';
  const pre = cfg.podInterface
    ? `iifname "${cfg.podInterface}" jump services ; iifname != "${cfg.podInterface}" ${np} meta l4proto . th dport vmap @service-nodeports ;`
    : 'jump services ;';
  return `table ip ${cfg.table} {
  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
  map service-nodeports { type inet_proto . inet_service : verdict ; }
  map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }
  map no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }
  set cluster-ips { type ipv4_addr ; }
  chain mark-for-masquerade { meta mark set meta mark | 0x${MASQ_MARK.toString(16)} ; }
  chain masquerading {
    meta mark & 0x${MASQ_MARK.toString(16)} == 0 return
    meta mark set meta mark ^ 0x${MASQ_MARK.toString(16)}
    masquerade fully-random
  }
  chain reject-chain { meta l4proto tcp reject with tcp reset ; reject ; }
  chain services {
    ip daddr . meta l4proto . th dport vmap @service-ips
    ${np} meta l4proto . th dport vmap @service-nodeports
  }
  chain service-endpoints-check {
    ip daddr . meta l4proto . th dport vmap @no-endpoint-services
    ${np} meta l4proto . th dport vmap @no-endpoint-nodeports
  }
  chain nat-prerouting { type nat hook prerouting priority dstnat ; policy accept ; ${pre} }
  chain nat-output { type nat hook output priority -100 ; policy accept ; jump services ; }
  chain nat-postrouting { type nat hook postrouting priority srcnat ; policy accept ; jump masquerading ; }
  chain filter-input {
    type filter hook input priority -110 ; policy accept ;
    ct state new jump service-endpoints-check
    ct state new ip daddr @cluster-ips goto reject-chain
  }
  chain filter-forward { type filter hook forward priority -110 ; policy accept ; ct state new jump service-endpoints-check ; }
  chain filter-output { type filter hook output priority -110 ; policy accept ; ct state new jump service-endpoints-check ; }
}
`;
}

/** The whole table, replaced in one transaction (first sync and after any failure). */
export function fullSync(cfg: RuleConfig, services: Iterable<ServicePort[]>): string {
  return fullStatements(`ip ${cfg.table}`, merge(cfg, services), baseTable(cfg));
}

/**
 * Only what differs between the applied and the desired ports of the changed Services (`changes` pairs
 * them), by lib/host/nft's diff: elements that changed or went are deleted, chains whose rules changed are
 * flushed and refilled, new sets and chains are added, vanished ones deleted, new elements added.
 * Unchanged elements and chains are not mentioned, so one endpoint change is one or two chains.
 */
export function partialSync(cfg: RuleConfig, changes: { old: ServicePort[]; cur: ServicePort[] }[]): string {
  return diffText(`ip ${cfg.table}`, merge(cfg, changes.map((c) => c.old)), merge(cfg, changes.map((c) => c.cur)));
}

/** Sets and maps declared by baseTable: the diff moves their elements only. */
const FIXED_SETS = ['cluster-ips'];
const FIXED_MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports'];

/** The objects of many Services as one table's changing part (lib/host/nft). */
function merge(cfg: RuleConfig, services: Iterable<ServicePort[]>): NftObjects {
  const sets = new Map<string, { decl?: string; elements: Set<string> }>(FIXED_SETS.map((n) => [n, { elements: new Set<string>() }]));
  const maps = new Map<string, { elements: Map<string, string> }>(FIXED_MAPS.map((n) => [n, { elements: new Map<string, string>() }]));
  const chains = new Map<string, string[]>();
  for (const ports of services) {
    const o = serviceObjects(cfg, ports);
    for (const [k, v] of o.chains) chains.set(k, v);
    for (const [k, decl] of o.sets) sets.set(k, { decl, elements: new Set() });
    for (const [m, e] of o.elements) {
      const set = sets.get(m);
      if (set) set.elements.add(e);
      else {
        const i = e.indexOf(' : ');
        maps.get(m)!.elements.set(e.slice(0, i), e.slice(i + 3));
      }
    }
  }
  return { sets, maps, chains };
}

/** The statement that removes the whole table (shutdown, tests). */
export function deleteTable(cfg: Pick<RuleConfig, 'table'>): string {
  return deleteTableText(`ip ${cfg.table}`);
}
