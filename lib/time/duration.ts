// Durations as flags and fields write them, parsed once for every process: Go's time.ParseDuration
// syntax, which Kubernetes uses for every duration flag (`--sync-period=30s`,
// `--leader-elect-lease-duration=15s`, kubectl's `--request-timeout=1m30s`): a sequence of decimal numbers
// each with a unit, ns, us (µs, μs), ms, s, m, h; an optional leading sign; "0" alone. The result is in
// milliseconds (fractions kept). `bareSeconds` also accepts a plain number as seconds (kubectl's
// --request-timeout and `shoal` CLI flags do).

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Options of parseDuration. */
export interface DurationOptions {
  /** accept `30` as 30 seconds */
  bareSeconds?: boolean;
  /** reject negative durations (default true) */
  nonNegative?: boolean;
}

/** `1m30s`, `250ms`, `1.5h`, `0` → milliseconds; undefined when malformed. */
export function parseDuration(text: string, o: DurationOptions = {}): number | undefined {
  if (typeof text !== 'string') return undefined;
  let s = text.trim();
  if (o.bareSeconds && /^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (!s) return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    consumed = re.lastIndex;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (consumed !== s.length) return undefined;
  const ms = sign * total;
  if (ms < 0 && o.nonNegative !== false) return undefined;
  return ms;
}

/** Milliseconds as Go prints a duration (`1m30s`, `250ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = +((ms % 60_000) / 1000).toFixed(3);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
