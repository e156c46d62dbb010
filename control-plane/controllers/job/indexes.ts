// The compressed index lists of an Indexed Job's status (`completedIndexes: "0-2,5"`): parse what a
// previous sync wrote, and write a set back in ascending intervals, as kube's indexed_job_utils does.

/** Indexes in `text` below `completions` (malformed parts are skipped). */
export function parseIndexes(text: string, completions: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** `{0,1,2,5,7,8}` → `"0-2,5,7,8"` (two neighbours are written as a pair, as kube does). */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(j === i ? String(xs[i]) : `${xs[i]}${j === i + 1 ? ',' : '-'}${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
