// The zone's record index: what every source (a Service key, or the zone itself) contributes, merged by
// owner name, plus which names exist (owners and their ancestors up to the zone), so the answer builder
// can tell NXDOMAIN from NOERROR/no data. `set()` returns exactly the names whose answers changed, which is
// what invalidates the encoded-answer cache: nothing more (other names keep their cached bytes), nothing less.

import type { Rec } from './records.js';

function recKey(r: Rec): string {
  return JSON.stringify(r);
}

/** Records by owner name, with per-source bookkeeping and change detection. */
export class ZoneIndex {
  private readonly bySource = new Map<string, Rec[]>();
  private readonly byName = new Map<string, Map<string, Rec[]>>();
  /** how many (source, owner) pairs sit at or below each name */
  private readonly nodes = new Map<string, number>();
  private version = 0;

  /** `apex` names the suffixes that bound ancestor walks (the zone and the reverse zones). */
  constructor(private readonly apexes: string[]) {}

  /** Replace what `source` contributes; returns the owner names whose record sets or existence changed. */
  set(source: string, recs: Rec[]): Set<string> {
    const old = this.bySource.get(source) ?? [];
    const changed = new Set<string>();
    const group = (rs: Rec[]) => {
      const m = new Map<string, Rec[]>();
      for (const r of rs) {
        const l = m.get(r.name);
        if (l) l.push(r);
        else m.set(r.name, [r]);
      }
      return m;
    };
    const before = group(old);
    const after = group(recs);
    for (const [name, rs] of before) {
      const now = after.get(name);
      if (now && now.map(recKey).join('\n') === rs.map(recKey).join('\n')) continue;
      changed.add(name);
      const m = this.byName.get(name)!;
      m.delete(source);
      if (!m.size) this.byName.delete(name);
      if (!now) this.walk(name, -1, changed);
    }
    for (const [name, rs] of after) {
      const prev = before.get(name);
      if (prev && prev.map(recKey).join('\n') === rs.map(recKey).join('\n')) continue;
      changed.add(name);
      let m = this.byName.get(name);
      if (!m) this.byName.set(name, (m = new Map()));
      m.set(source, rs);
      if (!prev) this.walk(name, +1, changed);
    }
    if (recs.length) this.bySource.set(source, recs);
    else this.bySource.delete(source);
    if (changed.size) this.version++;
    return changed;
  }

  /** Remove a source; same result as `set(source, [])`. */
  delete(source: string): Set<string> {
    return this.set(source, []);
  }

  /** The records owned by `name` (lowercase), optionally of one type. */
  lookup(name: string): Rec[] {
    const m = this.byName.get(name);
    if (!m) return [];
    if (m.size === 1) return m.values().next().value!;
    return [...m.values()].flat();
  }

  /** True when `name` owns records or has descendants that do (an empty non-terminal). */
  exists(name: string): boolean {
    return this.nodes.has(name) || this.apexes.includes(name);
  }

  /** Increases on every change; for metrics and tests. */
  generation(): number {
    return this.version;
  }

  /** Add `delta` to `name` and its ancestors up to an apex; names that appear or vanish go to `changed`. */
  private walk(name: string, delta: number, changed: Set<string>): void {
    let n = name;
    for (;;) {
      const c = (this.nodes.get(n) ?? 0) + delta;
      if (c <= 0) {
        this.nodes.delete(n);
        changed.add(n);
      } else {
        if (c === 1 && delta > 0) changed.add(n);
        this.nodes.set(n, c);
      }
      if (this.apexes.includes(n)) return;
      const dot = n.indexOf('.');
      if (dot < 0) return;
      n = n.slice(dot + 1);
      if (!this.apexes.some((a) => n === a || n.endsWith('.' + a))) return;
    }
  }
}
