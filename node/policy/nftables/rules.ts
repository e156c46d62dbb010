// Rule pieces (peer and port matches, chain names) shared with desired/compiler.ts, and the first
// slice's inline layout (`fullTable`: every peer address written into the rules), kept as the baseline
// that bench-sync compares against; the enforcer uses nftables/transaction.ts. The inline layout is
// the model's per-pod policy as the text of one nftables table `shoal-policy[-<suffix>]` (family inet),
// written as a whole-table replacement so that one `nft -f -` transaction swaps old for new atomically:
// if it fails the old table stays, so pods already isolated stay isolated (fail closed).
//
//   forward (hook forward, priority filter, policy accept)
//     ct state established,related accept          replies to allowed connections
//     ip saddr vmap @egress-pods                    jump egr-<ns>/<pod> for egress-isolated sources
//     ip daddr vmap @ingress-pods                   jump ing-<ns>/<pod> for ingress-isolated destinations
//   egr-…: one rule per allow entry → return (go on to the destination's ingress check); last: drop
//   ing-…: one rule per allow entry → accept; last: drop
//
// Bridged pod-to-pod traffic reaches the inet forward hook through br_netfilter (see README.md).

import type { Allow, Block, PodPolicy, PortRange, Protocol } from '../model/policy.js';

/** The table's name: `shoal-policy` or `shoal-policy-<suffix>`. */
export const tableName = (suffix = '') => (suffix ? `shoal-policy-${suffix}` : 'shoal-policy');

/** Chain names per pod and direction (pod keys are DNS names and `/`, valid in nft identifiers). */
export const ingressChain = (key: string) => `ing-${key}`;
/** Egress chain of a pod. */
export const egressChain = (key: string) => `egr-${key}`;

/** nft's protocol names. */
export const proto: Record<Protocol, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** An address or CIDR as nft writes it (`/32` dropped). */
const addr = (cidr: string) => (cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr);

const isV4 = (b: Block) => !b.cidr.includes(':');

const setOf = (items: string[]) => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);

/**
 * The address matches of one allow entry: `['']` for any address, else one match per rule. With
 * `anonymousSets` false (the enforcer's layout) no `{ … }` is written: one match per CIDR, excepts as
 * chained `!=` matches. Anonymous sets cost: nft 1.0.6 fetches every set of the table, anonymous ones
 * with their elements one netlink request each, before any element update.
 */
export function peerMatches(dir: 'saddr' | 'daddr', peers: Allow['peers'], anonymousSets = true): string[] {
  if (peers === 'all') return [''];
  const v4 = peers.filter(isV4);
  const plain = [...new Set(v4.filter((b) => !b.except.length).map((b) => addr(b.cidr)))];
  const out: string[] = [];
  if (plain.length && anonymousSets) out.push(`ip ${dir} ${setOf(plain)} `);
  else for (const a of plain) out.push(`ip ${dir} ${a} `);
  for (const b of v4.filter((x) => x.except.length)) {
    const not = anonymousSets ? `ip ${dir} != ${setOf(b.except.map(addr))} ` : b.except.map((e) => `ip ${dir} != ${addr(e)} `).join('');
    out.push(`ip ${dir} ${addr(b.cidr)} ${not}`);
  }
  return out;
}

/**
 * The port matches of one allow entry: `['']` for any port, else one match per protocol (and per bare
 * protocol); with `anonymousSets` false, one match per port or range instead of a `{ … }` list.
 */
export function portMatches(ports: Allow['ports'], anonymousSets = true): string[] {
  if (ports === 'all') return [''];
  const out: string[] = [];
  for (const p of ['TCP', 'UDP', 'SCTP'] as Protocol[]) {
    const mine = ports.filter((x) => x.protocol === p);
    if (!mine.length) continue;
    if (mine.some((x) => x.port === undefined)) {
      out.push(`meta l4proto ${proto[p]} `);
      continue;
    }
    const vals = [...new Set(mine.map(portText))];
    if (anonymousSets) out.push(`meta l4proto ${proto[p]} th dport ${setOf(vals)} `);
    else for (const v of vals) out.push(`meta l4proto ${proto[p]} th dport ${v} `);
  }
  return out;
}

const portText = (p: PortRange) => (p.endPort !== undefined && p.endPort !== p.port ? `${p.port}-${p.endPort}` : `${p.port}`);

/** The rules of one pod's chain in one direction: each allow entry, then drop. */
export function chainRules(dir: 'ingress' | 'egress', allows: Allow[]): string[] {
  const verdict = dir === 'ingress' ? 'accept' : 'return';
  const rules = new Set<string>();
  for (const a of allows) {
    for (const peer of peerMatches(dir === 'ingress' ? 'saddr' : 'daddr', a.peers))
      for (const port of portMatches(a.ports)) rules.add(`${peer}${port}${verdict}`);
  }
  return [...rules, 'counter drop'];
}

function map(name: string, elements: string[]): string {
  const els = elements.length ? `\n\t\telements = { ${elements.join(',\n\t\t\t')} }` : '';
  return `\tmap ${name} {\n\t\ttype ipv4_addr : verdict${els}\n\t}\n`;
}

function chain(name: string, rules: string[]): string {
  return `\tchain ${name} {\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;
}

/** The whole table as one transaction: create (so delete cannot fail), delete, define anew. */
export function fullTable(suffix: string, model: PodPolicy[]): string {
  const name = tableName(suffix);
  const ing = model.filter((p) => p.ingress);
  const egr = model.filter((p) => p.egress);
  let body = '';
  body += map('ingress-pods', ing.map((p) => `${p.ip} : jump ${ingressChain(p.key)}`));
  body += map('egress-pods', egr.map((p) => `${p.ip} : jump ${egressChain(p.key)}`));
  body += chain('forward', [
    'type filter hook forward priority filter; policy accept;',
    'ct state established,related accept',
    'ip saddr vmap @egress-pods',
    'ip daddr vmap @ingress-pods',
  ]);
  for (const p of egr) body += chain(egressChain(p.key), chainRules('egress', p.egress!));
  for (const p of ing) body += chain(ingressChain(p.key), chainRules('ingress', p.ingress!));
  return `add table inet ${name}\ndelete table inet ${name}\ntable inet ${name} {\n${body}}\n`;
}

/** Removes the table (for shutdown and tests); run with `nft -f -`, fails when absent. */
export const deleteTable = (suffix: string) => `delete table inet ${tableName(suffix)}\n`;
