// Truth tables of the NetworkPolicy e2e as data, and their comparison printed as readable grids, after
// upstream Kubernetes' netpol `TruthTable`: one table per (protocol, port), rows = source pod, columns =
// destination pod, `.` allowed, `X` denied. A mismatch prints expected, observed and a difference grid
// (`!` where they disagree) plus one line per differing pair with what the prober saw. Pure: no I/O.

/** A probed protocol and port: one table each. */
export interface Case {
  protocol: 'TCP' | 'UDP';
  port: number;
}

/** The four tables of the suite: {TCP, UDP} × {80, 81}. */
export const CASES: readonly Case[] = Object.freeze([
  { protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 81 }, { protocol: 'UDP', port: 80 }, { protocol: 'UDP', port: 81 },
]);

/** `TCP/80` */
export const caseKey = (c: Case) => `${c.protocol}/${c.port}`;

/** from → to → allowed, pods as `ns/name`. */
export type Truth = Record<string, Record<string, boolean>>;

/** caseKey → truth table. */
export type Tables = Record<string, Truth>;

/** What one probe saw, for the mismatch report. */
export type Detail = (c: string, from: string, to: string) => string;

/** A table of `pods` × `pods` filled by `f`. */
export function makeTruth(pods: readonly string[], f: (from: string, to: string) => boolean): Truth {
  const t: Truth = {};
  for (const a of pods) {
    t[a] = {};
    for (const b of pods) t[a]![b] = f(a, b);
  }
  return t;
}

/** Tables for every case filled by `f`. */
export function makeTables(pods: readonly string[], f: (c: Case, from: string, to: string) => boolean): Tables {
  return Object.fromEntries(CASES.map((c) => [caseKey(c), makeTruth(pods, (a, b) => f(c, a, b))]));
}

/** A grid: a header of destinations, one row per source, one cell per pair. */
export function renderGrid(title: string, pods: readonly string[], cell: (from: string, to: string) => string): string {
  const w = Math.max(title.length, ...pods.map((p) => p.length));
  const lines = [[title.padEnd(w), ...pods.map((p) => p.padStart(3))].join(' ')];
  for (const a of pods) lines.push([a.padEnd(w), ...pods.map((b, i) => cell(a, b).padStart(Math.max(3, pods[i]!.length)))].join(' '));
  return lines.join('\n');
}

/** `.` allowed, `X` denied, `?` missing. */
export const mark = (v: boolean | undefined) => (v === undefined ? '?' : v ? '.' : 'X');

/** The pairs where two tables differ, as `case from -> to`. */
export function differences(pods: readonly string[], expected: Tables, observed: Tables): { case: string; from: string; to: string; want: boolean; got: boolean | undefined }[] {
  const out = [];
  for (const c of CASES.map(caseKey))
    for (const a of pods)
      for (const b of pods) {
        const want = expected[c]?.[a]?.[b];
        const got = observed[c]?.[a]?.[b];
        if (want === undefined) throw new Error(`expected table ${c} has no cell ${a} -> ${b}`);
        if (want !== got) out.push({ case: c, from: a, to: b, want, got });
      }
  return out;
}

/** Equal tables → `''`; else expected, observed and difference grids for each differing case, and a line per pair. */
export function mismatchReport(pods: readonly string[], expected: Tables, observed: Tables, detail?: Detail): string {
  const diff = differences(pods, expected, observed);
  if (!diff.length) return '';
  const parts: string[] = [];
  for (const c of [...new Set(diff.map((d) => d.case))]) {
    const bad = new Set(diff.filter((d) => d.case === c).map((d) => `${d.from} ${d.to}`));
    parts.push(
      renderGrid(`expected ${c}`, pods, (a, b) => mark(expected[c]![a]![b])),
      renderGrid(`observed ${c}`, pods, (a, b) => mark(observed[c]?.[a]?.[b])),
      renderGrid(`diff ${c}`, pods, (a, b) => (bad.has(`${a} ${b}`) ? '!' : '.')),
    );
  }
  const lines = [`${diff.length} of ${CASES.length * pods.length * pods.length} pairs differ:`];
  for (const d of diff.slice(0, MAX_PAIR_LINES)) lines.push(`  ${d.case} ${d.from} -> ${d.to}: want ${d.want ? 'allowed' : 'denied'}, got ${d.got === undefined ? 'no result' : d.got ? 'allowed' : 'denied'}${detail ? ` (${detail(d.case, d.from, d.to)})` : ''}`);
  if (diff.length > MAX_PAIR_LINES) lines.push(`  … and ${diff.length - MAX_PAIR_LINES} more`);
  parts.push(lines.join('\n'));
  return parts.join('\n\n');
}

/** Pair lines printed at most (the grids show the rest). */
export const MAX_PAIR_LINES = 24;

/** How many pairs a set of tables denies (a scenario that denies nothing tests nothing). */
export function deniedCount(t: Tables): number {
  let n = 0;
  for (const truth of Object.values(t)) for (const row of Object.values(truth)) for (const v of Object.values(row)) if (!v) n++;
  return n;
}
