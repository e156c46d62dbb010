// The nftables transaction engine every table owner uses (service proxy `shoal-proxy`, policy enforcer
// `shoal-policy`, the sidecar's capture rules): a table's desired state as plain objects (sets, verdict
// maps, chains), turned into text in exactly one of two ways, and sent as ONE `nft -f -` transaction.
//
//   desired objects ──► fullText / fullStatements   whole-table replacement (`add table; delete table;
//                                                    define anew`), atomic; first sync and after ANY failure
//                  └──► diffText(applied, desired)   only the difference, ordered to be valid in one
//                                                    transaction (below)
//   NftTable.sync(plan)   remembers what it applied; forgets it before sending, so a failed (or unknown)
//                         transaction always makes the next one a full replacement
//
// diffText order: 1. new sets, then set elements removed/added (rules below may name new sets);
// 2. new chains (all created first: chains jump to chains), flush + refill changed ones; 3. verdict map
// elements, removed or changed first, then added (an element can name a new chain); 4. flush every chain
// nothing keeps, then delete them, then the sets nothing keeps. A set or map without `decl` belongs to
// the table's fixed part: only its elements are diffed, it is never added or deleted.
// `nft -f -` applies a file as one transaction: if any command fails nothing changes (fail closed).

import { mustRun, type Runner } from './run.js';

/** A named set: its declaration (`type ipv4_addr`, without braces) and its elements. */
export interface NftSet {
  /** undefined: declared by the table's fixed part (never added or deleted by a diff) */
  decl?: string;
  elements: ReadonlySet<string>;
}

/** A verdict map: its declaration and `key → verdict` (`10.0.0.2 → jump ing-x/a`). */
export interface NftMap {
  decl?: string;
  elements: ReadonlyMap<string, string>;
}

/** The changing part of a table. */
export interface NftObjects {
  sets: ReadonlyMap<string, NftSet>;
  maps: ReadonlyMap<string, NftMap>;
  chains: ReadonlyMap<string, readonly string[]>;
}

/** No objects. */
export const emptyObjects = (): NftObjects => ({ sets: new Map(), maps: new Map(), chains: new Map() });

/** Elements per line in `add/delete element` statements. */
const BATCH = 1000;
const sorted = <T>(xs: Iterable<T>) => [...xs].sort();
const list = (xs: Iterable<string>) => `{ ${[...xs].join(', ')} }`;
const sameRules = (a: readonly string[], b: readonly string[]) => a === b || (a.length === b.length && a.every((r, i) => r === b[i]));

/** Items in `a` and not in `b`, sorted (identity shortcut: compilers reuse unchanged sets). */
function minus(a: ReadonlySet<string>, b: ReadonlySet<string> | undefined): string[] {
  if (a === b) return [];
  const out: string[] = [];
  for (const x of a) if (!b?.has(x)) out.push(x);
  return out.sort();
}

function elementLines(out: string[], verb: 'add' | 'delete', table: string, name: string, els: string[]): void {
  for (let i = 0; i < els.length; i += BATCH) out.push(`${verb} element ${table} ${name} ${list(els.slice(i, i + BATCH))}`);
}

// ---------------------------------------------------------------------------------------------------
// text

/** `add table T; delete table T`: removes the table whether or not it exists (shutdown, tests). */
export function deleteTableText(table: string): string {
  return `add table ${table}\ndelete table ${table}\n`;
}

/**
 * The whole table as one block (`table inet t { set …; map …; <fixed>; chain … }`) after deleting the old
 * one: sets sorted, maps in their order, `fixed` (declarations and hook chains, tab-indented lines), then
 * chains sorted, then `add element` lines for the fixed part's sets and maps. nft resolves jumps inside
 * one block in any order.
 */
export function fullText(table: string, o: NftObjects, fixed = ''): string {
  let body = '';
  for (const n of sorted(o.sets.keys())) {
    const s = o.sets.get(n)!;
    if (s.decl === undefined) continue;
    const els = s.elements.size ? `\n\t\telements = ${list(sorted(s.elements))}` : '';
    body += `\tset ${n} {\n\t\t${s.decl}${els}\n\t}\n`;
  }
  for (const [n, m] of o.maps) {
    if (m.decl === undefined) continue;
    const els = m.elements.size ? `\n\t\telements = { ${sorted(m.elements).map(([k, v]) => `${k} : ${v}`).join(',\n\t\t\t')} }` : '';
    body += `\tmap ${n} {\n\t\t${m.decl}${els}\n\t}\n`;
  }
  body += fixed;
  for (const n of sorted(o.chains.keys())) body += `\tchain ${n} {\n${o.chains.get(n)!.map((r) => `\t\t${r}\n`).join('')}\t}\n`;
  // elements of the fixed part's sets and maps (declared in `fixed`) follow the block
  const tail: string[] = [];
  for (const [n, s] of o.sets) if (s.decl === undefined) elementLines(tail, 'add', table, n, sorted(s.elements));
  for (const [n, m] of o.maps) if (m.decl === undefined) elementLines(tail, 'add', table, n, sorted(m.elements).map(([k, v]) => `${k} : ${v}`));
  return `${deleteTableText(table)}table ${table} {\n${body}}\n${tail.map((l) => `${l}\n`).join('')}`;
}

/**
 * The whole table as statements after `base` (a `table … { … }` block with the fixed part): `add set`,
 * `add chain` for every chain, then their rules, then elements in batches (the service proxy's layout;
 * its README has the figures).
 */
export function fullStatements(table: string, o: NftObjects, base: string): string {
  const lines = [deleteTableText(table).trimEnd(), base.trimEnd()];
  for (const [n, s] of o.sets) if (s.decl !== undefined) lines.push(`add set ${table} ${n} { ${s.decl} ; }`);
  for (const c of o.chains.keys()) lines.push(`add chain ${table} ${c}`);
  for (const [c, rules] of o.chains) for (const r of rules) lines.push(`add rule ${table} ${c} ${r}`);
  for (const [n, s] of o.sets) elementLines(lines, 'add', table, n, [...s.elements]);
  for (const [n, m] of o.maps) elementLines(lines, 'add', table, n, [...m.elements].map(([k, v]) => `${k} : ${v}`));
  return lines.join('\n') + '\n';
}

/** The commands that turn `old` (as applied) into `next`; '' when they are equal. Throws when a set's declaration changed. */
export function diffText(table: string, old: NftObjects, next: NftObjects): string {
  const out: string[] = [];
  // 1. sets and their elements
  for (const [n, s] of next.sets) {
    const was = old.sets.get(n);
    if (was && was.decl !== s.decl) throw new Error(`set ${n}: declaration changed from ${JSON.stringify(was.decl)} to ${JSON.stringify(s.decl)}`);
    if (!was && s.decl !== undefined) out.push(`add set ${table} ${n} { ${s.decl}; }`);
    elementLines(out, 'delete', table, n, was ? minus(was.elements, s.elements) : []);
    elementLines(out, 'add', table, n, minus(s.elements, was?.elements));
  }
  for (const [n, s] of old.sets) if (s.decl === undefined && !next.sets.has(n)) elementLines(out, 'delete', table, n, sorted(s.elements));
  // 2. chains: every new chain exists before any rule is added
  for (const n of next.chains.keys()) if (!old.chains.has(n)) out.push(`add chain ${table} ${n}`);
  for (const [n, rules] of next.chains) {
    const was = old.chains.get(n);
    if (was && sameRules(was, rules)) continue;
    if (was) out.push(`flush chain ${table} ${n}`);
    for (const r of rules) out.push(`add rule ${table} ${n} ${r}`);
  }
  // 3. verdict maps: removed or changed keys first, then the new values
  const empty = new Map<string, string>();
  for (const n of new Set([...old.maps.keys(), ...next.maps.keys()])) {
    const o = old.maps.get(n)?.elements ?? empty;
    const nx = next.maps.get(n)?.elements ?? empty;
    if (o === nx) continue;
    const del: string[] = [];
    const add: string[] = [];
    for (const [k, v] of o) if (nx.get(k) !== v) del.push(k);
    for (const [k, v] of nx) if (o.get(k) !== v) add.push(`${k} : ${v}`);
    elementLines(out, 'delete', table, n, del.sort());
    elementLines(out, 'add', table, n, add.sort());
  }
  // 4. what nothing keeps (all flushed before any is deleted: a vanished chain may jump to another)
  const gone = [...old.chains.keys()].filter((n) => !next.chains.has(n));
  for (const n of gone) out.push(`flush chain ${table} ${n}`);
  for (const n of gone) out.push(`delete chain ${table} ${n}`);
  for (const [n, s] of old.sets) if (s.decl !== undefined && !next.sets.has(n)) out.push(`delete set ${table} ${n}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

// ---------------------------------------------------------------------------------------------------
// the engine

/** What a sync is to send: its text ('' = nothing), its kind, and the state as applied once it succeeds. */
export interface NftPlan<S> {
  kind: 'full' | 'diff';
  text: string;
  next: S;
  /** names the transaction in errors (default: `nft <table> transaction (<kind>)`) */
  label?: string;
}

/** One sync's outcome. */
export interface NftSyncResult {
  /** 'none': the plan had nothing to send, nft was not called */
  kind: 'full' | 'diff' | 'none';
  bytes: number;
  ms: number;
}

/**
 * One nftables table and what was last applied to it. `sync` asks the owner's `plan` for a transaction,
 * given the applied state (undefined at start and after any failure: the plan must then replace the whole
 * table), forgets the applied state while nft runs and records `plan.next` only when nft succeeded.
 */
export class NftTable<S> {
  private state: S | undefined;

  /** `table` is `<family> <name>` (`ip shoal-proxy`). */
  constructor(private readonly runner: Runner, readonly table: string) {}

  /** The state as last applied, or undefined when unknown (start, after a failure, after invalidate()). */
  get applied(): S | undefined {
    return this.state;
  }

  /** Sends the plan's transaction; throws (a CommandError) when nft fails, leaving the next sync full. */
  async sync(plan: (applied: S | undefined) => NftPlan<S>): Promise<NftSyncResult> {
    const t0 = performance.now();
    const p = plan(this.state);
    if (!p.text) {
      this.state = p.next;
      return { kind: 'none', bytes: 0, ms: performance.now() - t0 };
    }
    this.state = undefined; // unknown until the transaction succeeds
    await mustRun(this.runner, p.label ?? `nft ${this.table} transaction (${p.kind})`, 'nft', ['-f', '-'], { input: p.text });
    this.state = p.next;
    return { kind: p.kind, bytes: p.text.length, ms: performance.now() - t0 };
  }

  /** Makes the next sync a full replacement (something else about the table failed). */
  invalidate(): void {
    this.state = undefined;
  }

  /** Deletes the table (whether or not it exists) and forgets the applied state. */
  async remove(): Promise<void> {
    this.state = undefined;
    await this.runner.run('nft', ['-f', '-'], { input: deleteTableText(this.table) });
  }
}
