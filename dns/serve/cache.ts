// The fast path's store: answers kept encoded per question — (qname lowercased, qtype, qclass, EDNS/size
// class) — so a hit costs one map lookup and a copy with the ID patched. Entries are dropped exactly when
// the ZoneIndex reports their owner name changed, or a name they followed (CNAME target, SRV target)
// changed. Rotating answers (headless A/AAAA) keep one encoding per rotation and hand them out in turn.

/** One cached question: its encodings (one per rotation) and the next one to hand out. */
export interface CacheEntry {
  variants: Buffer[];
  next: number;
}

/** The per-question key below the name: qtype, qclass and the size class (see `sizeClass`). */
export function subKey(qtype: number, qclass: number, sizeClass: number): number {
  return (qtype * 65536 + qclass) * 16 + sizeClass;
}

/** 0: TCP; 1-3: UDP without EDNS / with EDNS ≥ 512, ≥ 1232, ≥ 4096 (the byte limit the answer was built for). */
export function sizeClass(tcp: boolean, ednsSize: number): { cls: number; limit: number } {
  if (tcp) return { cls: 0, limit: 65535 };
  if (!ednsSize) return { cls: 1, limit: 512 };
  if (ednsSize >= 4096) return { cls: 4, limit: 4096 };
  if (ednsSize >= 1232) return { cls: 3, limit: 1232 };
  return { cls: 2, limit: 512 };
}

/** Encoded answers by name, with dependency tracking and a size bound. */
export class AnswerCache {
  private readonly byName = new Map<string, Map<number, CacheEntry>>();
  private readonly dependents = new Map<string, Set<string>>();
  private count = 0;

  constructor(private readonly maxEntries = 100_000) {}

  /** The next encoding for this question, or undefined. */
  get(qname: string, sub: number): Buffer | undefined {
    const e = this.byName.get(qname)?.get(sub);
    if (!e) return undefined;
    if (e.variants.length === 1) return e.variants[0];
    const b = e.variants[e.next];
    e.next = (e.next + 1) % e.variants.length;
    return b;
  }

  /** Store encodings; `deps` are other names whose change must drop this entry too. */
  set(qname: string, sub: number, variants: Buffer[], deps: string[] = []): void {
    if (this.count >= this.maxEntries) this.clear(); // crude bound: a full flush is rare and always correct
    let m = this.byName.get(qname);
    if (!m) this.byName.set(qname, (m = new Map()));
    if (!m.has(sub)) this.count++;
    m.set(sub, { variants, next: variants.length > 1 ? 1 : 0 });
    for (const d of deps) {
      let s = this.dependents.get(d);
      if (!s) this.dependents.set(d, (s = new Set()));
      s.add(qname);
    }
  }

  /** Drop every entry for these names and for names that depend on them. */
  invalidate(names: Iterable<string>): void {
    for (const n of names) {
      this.drop(n);
      const d = this.dependents.get(n);
      if (d) {
        this.dependents.delete(n);
        for (const q of d) this.drop(q);
      }
    }
  }

  /** Drop everything. */
  clear(): void {
    this.byName.clear();
    this.dependents.clear();
    this.count = 0;
  }

  /** How many questions are cached. */
  size(): number {
    return this.count;
  }

  private drop(name: string): void {
    const m = this.byName.get(name);
    if (!m) return;
    this.count -= m.size;
    this.byName.delete(name);
  }
}
