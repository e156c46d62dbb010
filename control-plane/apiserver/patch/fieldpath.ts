// Field sets: which fields of an object a manager owns, as a tree of path elements, with the
// FieldsV1 encoding Kubernetes stores in `metadata.managedFields[].fieldsV1`:
//   f:<field>            a field of a struct or map
//   k:{"name":"nginx"}   an item of an associative list, by its keys (JSON, keys sorted)
//   v:"value"            an item of a set (a list of scalars)
//   i:<n>                an item of a list by index (only read, never produced here)
//   .                    the node itself is a member (written only when it also has children)
// A node with no children that is serialized as {} is a member. Mirrors structured-merge-diff's
// fieldpath.Set, including its element ordering, so encodings match kube-apiserver byte for byte.

/** One path element in its FieldsV1 spelling (`f:spec`, `k:{"name":"x"}`, `v:"a"`, `i:0`). */
export type PathElement = string;

/** A set of field paths, stored as a tree. */
export class FieldSet {
  /** true when the path ending at this node is itself in the set */
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  /** Add a path (the empty path is ignored: the root is never a member). */
  insert(path: readonly PathElement[]): void {
    if (path.length === 0) return;
    let children = this.children;
    let n: FieldSet | undefined;
    for (const pe of path) {
      n = children.get(pe);
      if (!n) children.set(pe, (n = new FieldSet()));
      children = n.children;
    }
    n!.member = true;
  }

  /** The node at `path`, if any. */
  node(path: readonly PathElement[]): FieldSet | undefined {
    let children = this.children;
    let n: FieldSet | undefined;
    if (path.length === 0) return this;
    for (const pe of path) {
      n = children.get(pe);
      if (!n) return undefined;
      children = n.children;
    }
    return n;
  }

  /** True when `path` is a member. */
  has(path: readonly PathElement[]): boolean {
    return this.node(path)?.member === true;
  }

  /** True when `path` or anything below it is a member. */
  hasAtOrBelow(path: readonly PathElement[]): boolean {
    const n = this.node(path);
    return n !== undefined && !n.empty();
  }

  /** True when no path is a member. */
  empty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  /** Every member path, depth first in FieldsV1 order. */
  paths(prefix: PathElement[] = [], out: PathElement[][] = []): PathElement[][] {
    if (this.member && prefix.length) out.push(prefix);
    for (const pe of sortedKeys(this.children)) this.children.get(pe)!.paths([...prefix, pe], out);
    return out;
  }

  /** A new set with the members of either. */
  union(o: FieldSet): FieldSet {
    const r = new FieldSet();
    r.member = this.member || o.member;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      r.children.set(pe, oc ? c.union(oc) : c.clone());
    }
    for (const [pe, oc] of o.children) if (!this.children.has(pe)) r.children.set(pe, oc.clone());
    return r;
  }

  /** A new set with the members of this one that are not members of `o`. */
  difference(o: FieldSet): FieldSet {
    const r = new FieldSet();
    r.member = this.member && !o.member;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      const d = oc ? c.difference(oc) : c.clone();
      if (!d.empty()) r.children.set(pe, d);
    }
    return r;
  }

  /** A new set with the members of both. */
  intersection(o: FieldSet): FieldSet {
    const r = new FieldSet();
    r.member = this.member && o.member;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) continue;
      const i = c.intersection(oc);
      if (!i.empty()) r.children.set(pe, i);
    }
    return r;
  }

  /** A deep copy. */
  clone(): FieldSet {
    const r = new FieldSet();
    r.member = this.member;
    for (const [pe, c] of this.children) r.children.set(pe, c.clone());
    return r;
  }

  /** The FieldsV1 JSON object for this set (children in structured-merge-diff order). */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size) out['.'] = {};
    for (const pe of sortedKeys(this.children)) {
      const c = this.children.get(pe)!;
      if (!c.empty()) out[pe] = c.toFieldsV1();
    }
    return out;
  }

  /** Decode a FieldsV1 JSON object; throws on anything that is not one. */
  static fromFieldsV1(v: unknown, where = 'fieldsV1'): FieldSet {
    const s = new FieldSet();
    decodeInto(s, v, where);
    return s;
  }
}

function decodeInto(n: FieldSet, v: unknown, where: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected an object`);
  for (const [k, cv] of Object.entries(v)) {
    if (k === '.') {
      n.member = true;
      continue;
    }
    if (!/^[fkvi]:/.test(k)) throw new Error(`${where}: unknown path element ${JSON.stringify(k)}`);
    const c = new FieldSet();
    decodeInto(c, cv, `${where}.${k}`);
    if (c.children.size === 0) c.member = true;
    n.children.set(k, c);
  }
}

// ---- path elements ----

/** The path element for a struct or map field. */
export const fieldPE = (name: string): PathElement => `f:${name}`;

/** The path element for an associative-list item with these key fields (sorted by name). */
export function keyPE(keys: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k];
  return `k:${JSON.stringify(sorted)}`;
}

/** The path element for a set item. */
export const valuePE = (v: unknown): PathElement => `v:${JSON.stringify(v)}`;

const kindRank: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** structured-merge-diff's PathElement ordering: fields, then keys, then values, then indexes. */
export function comparePE(a: PathElement, b: PathElement): number {
  const ra = kindRank[a[0]!] ?? 4;
  const rb = kindRank[b[0]!] ?? 4;
  if (ra !== rb) return ra - rb;
  const x = a.slice(2);
  const y = b.slice(2);
  switch (a[0]) {
    case 'f':
      return x < y ? -1 : x > y ? 1 : 0;
    case 'k': {
      const ka = Object.entries(JSON.parse(x) as Record<string, unknown>);
      const kb = Object.entries(JSON.parse(y) as Record<string, unknown>);
      for (let i = 0; i < ka.length; i++) {
        if (i >= kb.length) return 1;
        if (ka[i]![0] !== kb[i]![0]) return ka[i]![0] < kb[i]![0] ? -1 : 1;
        const c = compareValues(ka[i]![1], kb[i]![1]);
        if (c !== 0) return c;
      }
      return ka.length < kb.length ? -1 : 0;
    }
    case 'v':
      return compareValues(JSON.parse(x), JSON.parse(y));
    default:
      return Number(x) - Number(y);
  }
}

function sortedKeys(m: Map<PathElement, FieldSet>): PathElement[] {
  return [...m.keys()].sort(comparePE);
}

/** A path as structured-merge-diff prints it: `.spec.containers[name="nginx"].image`. */
export function pathString(path: readonly PathElement[]): string {
  let s = '';
  for (const pe of path) {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f':
        s += `.${body}`;
        break;
      case 'k': {
        const keys = JSON.parse(body) as Record<string, unknown>;
        s += `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
        break;
      }
      case 'v':
        s += `[=${body}]`;
        break;
      default:
        s += `[${body}]`;
    }
  }
  return s;
}
