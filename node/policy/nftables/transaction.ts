// The policy table as nft transactions, from TableStates (desired/compiler.ts), pure text, through the
// shared engine (lib/host/nft.ts; this file says only what the table's fixed part and objects are):
//   fullText(suffix, state)      whole-table replacement (`add table; delete table; table … { … }`), atomic;
//                                used for the first sync and after any failure
//   diffText(suffix, old, new)   only the difference, in an order that is valid inside one transaction:
//     1. new sets, then element additions/removals      (chains below may refer to the new sets)
//     2. new chains (all created first: pod chains jump to policy chains), flush + re-add rules of changed ones
//     3. verdict map elements: removed/changed first, then added (a map element can name a new chain)
//     4. flush all chains nothing jumps to any more, then delete them, then sets no rule refers to any more
// `nft -f -` applies a file as one transaction: if any command fails nothing changes (fail closed).

import { diffText as nftDiff, fullText as nftFull, type NftObjects } from '../../../lib/host/nft.js';
import { INGRESS_CHECK, type TableState } from '../desired/compiler.js';
import { tableName } from './rules.js';

const FORWARD = [
  'type filter hook forward priority filter; policy accept;',
  'ct state established,related accept',
  'ip saddr vmap @egress-pods',
  `goto ${INGRESS_CHECK}`,
];
/** Reached when the source may send (not egress-isolated, or one of its policies allowed it). */
const CHECK = ['ip daddr vmap @ingress-pods', 'accept'];

const chainBlock = (name: string, rules: readonly string[]) => `\tchain ${name} {\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;
/** The fixed part: the hook chain and the ingress check (the verdict maps are objects below). */
const FIXED = chainBlock('forward', FORWARD) + chainBlock(INGRESS_CHECK, CHECK);
const MAP_DECL = 'type ipv4_addr : verdict';

const jumps = (m: ReadonlyMap<string, string>) => new Map([...m].map(([ip, c]) => [ip, `jump ${c}`]));

/** The table state as the engine's objects (sets keep their element Sets, so unchanged ones diff in O(1)). */
export function toObjects(s: TableState): NftObjects {
  return {
    sets: new Map([...s.sets].map(([n, x]) => [n, { decl: `type ${x.type}`, elements: x.elements }])),
    maps: new Map([['ingress-pods', { decl: MAP_DECL, elements: jumps(s.ingress) }], ['egress-pods', { decl: MAP_DECL, elements: jumps(s.egress) }]]),
    chains: s.chains,
  };
}

/** The whole table as one atomic replacement (create so that delete cannot fail, delete, define anew). */
export function fullText(suffix: string, s: TableState | NftObjects): string {
  return nftFull(`inet ${tableName(suffix)}`, 'ingress' in s ? toObjects(s) : s, FIXED);
}

/** The commands that turn table `old` (as applied) into `next`; '' when they are equal. */
export function diffText(suffix: string, old: TableState | NftObjects, next: TableState | NftObjects): string {
  return nftDiff(`inet ${tableName(suffix)}`, 'ingress' in old ? toObjects(old) : old, 'ingress' in next ? toObjects(next) : next);
}
