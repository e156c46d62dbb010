// The numbers `shoal top` shows (and a canary analysis reads) from sidecars' Prometheus text: per
// destination service and version, requests per second, success rate (non-5xx share) and p50/p99 latency,
// from two scrapes `seconds` apart (counter and histogram bucket deltas, quantiles interpolated within a
// bucket as Prometheus' histogram_quantile does). The destination side (reporter="destination") is used
// when a service has it, else the source side, so a request is not counted twice. Pure.

/** One sample of the metrics this reads. */
interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples of istio_requests_total and istio_request_duration_milliseconds_bucket in Prometheus text. */
export function parseIstioSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('istio_requests_total{') && !line.startsWith('istio_request_duration_milliseconds_bucket{')) continue;
    const open = line.indexOf('{'), close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(open + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2].replace(/\\(.)/g, '$1');
    out.push({ name: line.slice(0, open), labels, value: Number(line.slice(close + 1).trim().split(' ')[0]) });
  }
  return out;
}

/** One row of `shoal top`. */
export interface TopRow {
  service: string;
  version: string;
  rps: number;
  /** 0..1, NaN when there were no requests. */
  successRate: number;
  p50: number;
  p99: number;
  reporter: 'destination' | 'source';
}

interface Acc { total: number; ok: number; buckets: Map<number, number> }

function accumulate(samples: Sample[], reporter: string): Map<string, Acc> {
  const m = new Map<string, Acc>();
  for (const s of samples) {
    if (s.labels.reporter !== reporter) continue;
    const key = `${s.labels.destination_service}\u0000${s.labels.destination_version || 'unknown'}`;
    let a = m.get(key);
    if (!a) m.set(key, (a = { total: 0, ok: 0, buckets: new Map() }));
    if (s.name === 'istio_requests_total') {
      a.total += s.value;
      if (!s.labels.response_code.startsWith('5') && s.labels.response_code !== '0') a.ok += s.value;
    } else {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      a.buckets.set(le, (a.buckets.get(le) ?? 0) + s.value);
    }
  }
  return m;
}

/** histogram_quantile over cumulative buckets (linear within the bucket; the highest finite bound past the last). */
export function quantile(q: number, buckets: Map<number, number>): number {
  const bs = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = bs.length ? bs[bs.length - 1][1] : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of bs) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Rows from the scrapes of every sidecar at two times `seconds` apart. */
export function topRows(before: string[], after: string[], seconds: number): TopRow[] {
  const rows: TopRow[] = [];
  const acc = (texts: string[], reporter: string) => accumulate(texts.flatMap(parseIstioSamples), reporter);
  const dst0 = acc(before, 'destination'), dst1 = acc(after, 'destination');
  const src0 = acc(before, 'source'), src1 = acc(after, 'source');
  const keys = new Set([...dst1.keys(), ...src1.keys()]);
  for (const key of keys) {
    const reporter = dst1.has(key) ? 'destination' : 'source';
    const a1 = (reporter === 'destination' ? dst1 : src1).get(key)!;
    const a0 = (reporter === 'destination' ? dst0 : src0).get(key) ?? { total: 0, ok: 0, buckets: new Map<number, number>() };
    const total = a1.total - a0.total, ok = a1.ok - a0.ok;
    const d = new Map([...a1.buckets].map(([le, c]) => [le, c - (a0.buckets.get(le) ?? 0)]));
    const [service, version] = key.split('\u0000');
    rows.push({ service, version, rps: total / seconds, successRate: total > 0 ? ok / total : NaN, p50: quantile(0.5, d), p99: quantile(0.99, d), reporter });
  }
  return rows.sort((x, y) => x.service.localeCompare(y.service) || x.version.localeCompare(y.version));
}
