// The Prometheus text exposition format (version 0.0.4), as the sidecars serve it on :15090: one sample per
// line, `name{label="value",…} value [timestamp]`, with `# HELP` / `# TYPE` comments. Only what the
// dashboard needs: names, labels (with the format's `\\`, `\"`, `\n` escapes) and values (`+Inf`, `NaN`
// included). A malformed line is skipped and counted, never fatal: one bad sidecar must not blank the graph.

/** One sample. */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
  /** the series' identity: its name and label text as written (an exposition writes a series' labels the same way each time) */
  key: string;
}

/** What `parseProm` returns: the samples and how many lines it could not read. */
export interface Parsed {
  samples: Sample[];
  bad: number;
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
// one `name="value"` pair and what follows it (a comma, or the closing brace); sticky, so no substrings
const PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,?)\s*/y;

function number(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  return text !== '' && !Number.isNaN(v) ? v : undefined;
}

const unescape = (v: string): string => (v.includes('\\') ? v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : v);

/** Reads `{a="x",b="y"}` from `line` at `at` (the `{`); returns the labels and the index after `}`. */
function labelsAt(line: string, at: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    PAIR.lastIndex = i;
    const m = PAIR.exec(line);
    if (!m) return undefined;
    labels[m[1]!] = unescape(m[2]!);
    i = PAIR.lastIndex;
    if (!m[3] && line[i] !== '}') return undefined;
  }
}

/** Options of `parseProm`. */
export interface ParseOptions {
  /** only samples of these metric names (the others are skipped unread) */
  names?: ReadonlySet<string>;
  /** label sets by series text, kept across scrapes of one target: a series seen before is not parsed again */
  cache?: Map<string, Readonly<Record<string, string>>>;
}

/** Parses a whole exposition. */
export function parseProm(text: string, o: ParseOptions = {}): Parsed {
  const samples: Sample[] = [];
  let bad = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    NAME.lastIndex = 0;
    const m = NAME.exec(line);
    if (!m) {
      bad++;
      continue;
    }
    if (o.names && !o.names.has(m[0])) continue;
    let at = m[0].length;
    let labels: Readonly<Record<string, string>> = {};
    if (line[at] === '{') {
      const close = line.lastIndexOf('}');
      const cached = close > at ? o.cache?.get(line.slice(0, close + 1)) : undefined;
      if (cached) {
        labels = cached;
        at = close + 1;
      } else {
        const l = labelsAt(line, at);
        if (!l) {
          bad++;
          continue;
        }
        labels = l.labels;
        at = l.end;
        o.cache?.set(line.slice(0, at), labels);
      }
    }
    const value = number(line.slice(at).trim().split(/\s+/)[0] ?? '');
    if (value === undefined) {
      bad++;
      continue;
    }
    samples.push({ name: m[0], labels, value, key: line.slice(0, at) });
  }
  return { samples, bad };
}

/** A stable key of a sample's series: its name and sorted labels (`except` left out). */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>, except = ''): string {
  return `${name}{${Object.keys(labels).filter((k) => k !== except).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
