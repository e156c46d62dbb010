// The policy table as nft transactions, from TableStates (desired/compiler.ts), pure text:
//   fullText(suffix, state)      whole-table replacement (`add table; delete table; table … { … }`), atomic;
//                                used for the first sync and after any failure
//   diffText(suffix, old, new)   only the difference, in an order that is valid inside one transaction:
//     1. new sets, then element additions/removals      (chains below may refer to the new sets)
//     2. new chains (all created first: pod chains jump to policy chains), flush + re-add rules of changed ones
//     3. verdict map elements: removed/changed first, then added (a map element can name a new chain)
//     4. flush all chains nothing jumps to any more, then delete them, then sets no rule refers to any more
// `nft -f -` applies a file as one transaction: if any command fails nothing changes (fail closed).

import { INGRESS_CHECK, type SetState, type TableState } from '../desired/compiler.js';
import { tableName } from './rules.js';

const FORWARD = [
  'type filter hook forward priority filter; policy accept;',
  'ct state established,related accept',
  'ip saddr vmap @egress-pods',
  `goto ${INGRESS_CHECK}`,
];
/** Reached when the source may send (not egress-isolated, or one of its policies allowed it). */
const CHECK = ['ip daddr vmap @ingress-pods', 'accept'];

const sorted = <T>(xs: Iterable<T>) => [...xs].sort();
const list = (xs: Iterable<string>) => `{ ${[...xs].join(', ')} }`;

function setBlock(name: string, s: SetState): string {
  const els = s.elements.size ? `\n\t\telements = ${list(sorted(s.elements))}` : '';
  return `\tset ${name} {\n\t\ttype ${s.type}${els}\n\t}\n`;
}

function mapBlock(name: string, m: ReadonlyMap<string, string>): string {
  const els = m.size ? `\n\t\telements = { ${sorted(m).map(([ip, c]) => `${ip} : jump ${c}`).join(',\n\t\t\t')} }` : '';
  return `\tmap ${name} {\n\t\ttype ipv4_addr : verdict${els}\n\t}\n`;
}

const chainBlock = (name: string, rules: readonly string[]) => `\tchain ${name} {\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;

/** The whole table as one atomic replacement (create so that delete cannot fail, delete, define anew). */
export function fullText(suffix: string, s: TableState): string {
  const name = tableName(suffix);
  let body = '';
  for (const n of sorted(s.sets.keys())) body += setBlock(n, s.sets.get(n)!);
  body += mapBlock('ingress-pods', s.ingress);
  body += mapBlock('egress-pods', s.egress);
  body += chainBlock('forward', FORWARD);
  body += chainBlock(INGRESS_CHECK, CHECK);
  // nft resolves jumps inside one table block in any order, so chains may come before their targets
  for (const n of sorted(s.chains.keys())) body += chainBlock(n, s.chains.get(n)!);
  return `add table inet ${name}\ndelete table inet ${name}\ntable inet ${name} {\n${body}}\n`;
}

const sameRules = (a: readonly string[], b: readonly string[]) => a === b || (a.length === b.length && a.every((r, i) => r === b[i]));

/** Elements in `a` and not in `b` (identity shortcut: the compiler reuses unchanged sets). */
function minus(a: ReadonlySet<string>, b: ReadonlySet<string> | undefined): string[] {
  if (a === b) return [];
  const out: string[] = [];
  for (const x of a) if (!b?.has(x)) out.push(x);
  return out.sort();
}

/** The commands that turn table `old` (as applied) into `next`; '' when they are equal. */
export function diffText(suffix: string, old: TableState, next: TableState): string {
  const t = `inet ${tableName(suffix)}`;
  const out: string[] = [];
  // 1. sets and elements
  for (const [n, s] of next.sets) {
    const was = old.sets.get(n);
    if (was && was.type !== s.type) throw new Error(`set ${n}: type changed from ${was.type} to ${s.type}`);
    if (!was) out.push(`add set ${t} ${n} { type ${s.type}; }`);
    const add = minus(s.elements, was?.elements);
    const del = was ? minus(was.elements, s.elements) : [];
    if (del.length) out.push(`delete element ${t} ${n} ${list(del)}`);
    if (add.length) out.push(`add element ${t} ${n} ${list(add)}`);
  }
  // 2. chains: every new chain exists before any rule is added (a pod chain jumps to policy chains)
  for (const n of next.chains.keys()) if (!old.chains.has(n)) out.push(`add chain ${t} ${n}`);
  for (const [n, rules] of next.chains) {
    const was = old.chains.get(n);
    if (was && sameRules(was, rules)) continue;
    if (was) out.push(`flush chain ${t} ${n}`);
    for (const r of rules) out.push(`add rule ${t} ${n} ${r}`);
  }
  // 3. verdict maps
  for (const [map, o, nx] of [['ingress-pods', old.ingress, next.ingress], ['egress-pods', old.egress, next.egress]] as const) {
    const del: string[] = [];
    const add: string[] = [];
    for (const [ip, c] of o) if (nx.get(ip) !== c) del.push(ip);
    for (const [ip, c] of nx) if (o.get(ip) !== c) add.push(`${ip} : jump ${c}`);
    if (del.length) out.push(`delete element ${t} ${map} ${list(del.sort())}`);
    if (add.length) out.push(`add element ${t} ${map} ${list(add.sort())}`);
  }
  // 4. whatever nothing refers to any more
  // (all flushed before any is deleted: a vanished pod chain may jump to a vanished policy chain)
  const gone = [...old.chains.keys()].filter((n) => !next.chains.has(n));
  for (const n of gone) out.push(`flush chain ${t} ${n}`);
  for (const n of gone) out.push(`delete chain ${t} ${n}`);
  for (const n of old.sets.keys()) if (!next.sets.has(n)) out.push(`delete set ${t} ${n}`);
  return out.length ? `${out.join('\n')}\n` : '';
}
