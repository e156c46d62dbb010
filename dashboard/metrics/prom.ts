// The Prometheus text exposition format (version 0.0.4), as the sidecars serve it on :15090: one sample per
// line, `name{label="value",…} value [timestamp]`, with `# HELP` / `# TYPE` comments. Only what the
// dashboard needs: names, labels (with the format's `\\`, `\"`, `\n` escapes) and values (`+Inf`, `NaN`
// included). A malformed line is skipped and counted, never fatal: one bad sidecar must not blank the graph.

/** One sample. */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** What `parseProm` returns: the samples and how many lines it could not read. */
export interface Parsed {
  samples: Sample[];
  bad: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function number(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  return text !== '' && !Number.isNaN(v) ? v : undefined;
}

/** Reads `{a="x",b="y"}` from `line` at `at` (the `{`); returns the labels and the index after `}`. */
function labelsAt(line: string, at: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = NAME.exec(line.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    if (line[i] !== '=' || line[i + 1] !== '"') return undefined;
    i += 2;
    let v = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        v += n === 'n' ? '\n' : n === '\\' ? '\\' : n === '"' ? '"' : `\\${n ?? ''}`;
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[m[0]] = v;
    i++;
  }
}

/** Parses a whole exposition. */
export function parseProm(text: string): Parsed {
  const samples: Sample[] = [];
  let bad = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m) {
      bad++;
      continue;
    }
    let rest = line.slice(m[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const l = labelsAt(rest, 0);
      if (!l) {
        bad++;
        continue;
      }
      labels = l.labels;
      rest = rest.slice(l.end);
    }
    const value = number(rest.trim().split(/\s+/)[0] ?? '');
    if (value === undefined) {
      bad++;
      continue;
    }
    samples.push({ name: m[0], labels, value });
  }
  return { samples, bad };
}

/** A stable key of a sample's series: its name and sorted labels (`except` left out). */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>, except = ''): string {
  return `${name}{${Object.keys(labels).filter((k) => k !== except).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
