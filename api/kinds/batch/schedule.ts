// Cron schedules exactly as Kubernetes reads them: robfig/cron v3's ParseStandard (five fields, minute
// hour day-of-month month day-of-week, names JAN-DEC and SUN-SAT, `*` and `?`, ranges, steps, lists;
// descriptors @yearly @annually @monthly @weekly @daily @midnight @hourly and `@every <duration>`;
// an optional `TZ=`/`CRON_TZ=` prefix) with its error texts, and its SpecSchedule.Next algorithm in a
// time zone, DST handling included. No `L`, `W`, `#`, `H` or seconds field: robfig rejects them.
//
// Why not cron-parser (installed): it accepts what Kubernetes refuses (`H`, `L`, `#`, six fields,
// day-of-week 7) and decides the day-of-month/day-of-week OR rule from the values a field covers,
// where robfig uses whether the field was written `*`/`?` (`0 0 13 * 0-6` runs daily in kube, only on
// the 13th in cron-parser). test/api/schedule.test.ts checks our Next against cron-parser on the
// expressions where both agree.

/** A parsed schedule: the next activation strictly after `afterMs` (undefined: none within five years). */
export interface Schedule {
  next(afterMs: number): number | undefined;
  /** IANA zone the schedule runs in ('UTC' unless a TZ= prefix gave one) */
  readonly timeZone: string;
}

interface Field {
  bits: boolean[];
  star: boolean;
}

const BOUNDS = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dom: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } as Record<string, number> },
  dow: { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } as Record<string, number> },
};
type Bounds = { min: number; max: number; names?: Record<string, number> };

/** strconv.Atoi's accepted syntax and its error text. */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

function mustParseInt(s: string): number {
  const n = atoi(s);
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function parseIntOrName(s: string, names?: Record<string, number>): number {
  const v = names?.[s.toLowerCase()];
  return v !== undefined ? v : mustParseInt(s);
}

/** getRange: one `a`, `a-b`, `*`, `?`, with an optional `/step`. */
function getRange(expr: string, r: Bounds, f: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r.names);
    else throw new Error(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    if (singleDigit) end = r.max; // "N/step" means "N-max/step"
    if (step > 1) star = false;
  } else throw new Error(`too many slashes: ${expr}`);
  if (start < r.min) throw new Error(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new Error(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) f.bits[i] = true;
  if (star) f.star = true;
}

function getField(text: string, r: Bounds): Field {
  const f: Field = { bits: [], star: false };
  for (const part of text.split(',').filter((x) => x !== '')) getRange(part, r, f);
  return f;
}

function all(r: Bounds): Field {
  const f: Field = { bits: [], star: true };
  for (let i = r.min; i <= r.max; i++) f.bits[i] = true;
  return f;
}
function only(...vs: number[]): Field {
  const f: Field = { bits: [], star: false };
  for (const v of vs) f.bits[v] = true;
  return f;
}

/** Go's time.ParseDuration for the units cron users write (h, m, s, ms, us, µs, ns; fractions; sequences). */
function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  const body = s.replace(/^[+]/, '');
  if (body === '' || body.startsWith('-')) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  while ((m = re.exec(body))) {
    ms += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  if (at !== body.length || at === 0) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  return ms;
}

/** Whether `tz` is an IANA zone this runtime knows (what time.LoadLocation would load). */
export function isKnownTimeZone(tz: string): boolean {
  if (tz === '' || tz.toLowerCase() === 'local') return tz === '';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wall-clock arithmetic in a zone (Go's time.Date / Time.In semantics)

interface Wall { y: number; mo: number; d: number; h: number; mi: number; s: number; dow: number }

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallOf(ms: number, tz: string): Wall {
  if (tz === 'UTC') {
    const x = new Date(ms);
    return { y: x.getUTCFullYear(), mo: x.getUTCMonth() + 1, d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes(), s: x.getUTCSeconds(), dow: x.getUTCDay() };
  }
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  const dows: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour) % 24, mi: Number(p.minute), s: Number(p.second), dow: dows[p.weekday!]! };
}

function offsetAt(ms: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const w = wallOf(ms, tz);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** RFC 3339 with the zone's offset (Go's Time.In(loc).Format(time.RFC3339)): `2026-03-01T09:00:00+01:00`, `Z` for UTC. */
export function formatInZone(ms: number, tz: string | undefined): string {
  const zone = tz || 'UTC';
  const w = wallOf(ms, zone);
  const off = Math.round(offsetAt(ms, zone) / 60_000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const sign = off < 0 ? '-' : '+';
  const z = off === 0 ? 'Z' : `${sign}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${String(w.y).padStart(4, '0')}-${p2(w.mo)}-${p2(w.d)}T${p2(w.h)}:${p2(w.mi)}:${p2(w.s)}${z}`;
}

/** time.Date(y, mo, d, h, mi, s, 0, tz): out-of-range values normalise; a wall time in a DST gap or overlap picks an offset as Go does. */
function dateIn(y: number, mo: number, d: number, h: number, mi: number, s: number, tz: string): number {
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const off = offsetAt(asUtc, tz);
  if (off === 0) return asUtc;
  let utc = asUtc - off;
  const off2 = offsetAt(utc, tz);
  if (off2 !== off) utc = asUtc - off2;
  return utc;
}

// ---------------------------------------------------------------------------------------------
// Parse

class SpecSchedule implements Schedule {
  constructor(private readonly f: { minute: Field; hour: Field; dom: Field; month: Field; dow: Field }, readonly timeZone: string) {}

  private dayMatches(w: Wall): boolean {
    const dom = !!this.f.dom.bits[w.d];
    const dow = !!this.f.dow.bits[w.dow];
    return this.f.dom.star || this.f.dow.star ? dom && dow : dom || dow;
  }

  next(afterMs: number): number | undefined {
    const tz = this.timeZone;
    let t = Math.floor(afterMs / 1000) * 1000 + 1000;
    let added = false;
    const yearLimit = wallOf(t, tz).y + 5;
    for (let guard = 0; guard < 100_000; guard++) {
      let w = wallOf(t, tz);
      if (w.y > yearLimit) return undefined;
      let wrapped = false;
      while (!this.f.month.bits[w.mo]) {
        if (!added) {
          added = true;
          t = dateIn(w.y, w.mo, 1, 0, 0, 0, tz);
          w = wallOf(t, tz);
        }
        t = dateIn(w.y, w.mo + 1, w.d, w.h, w.mi, w.s, tz);
        w = wallOf(t, tz);
        if (w.mo === 1) {
          wrapped = true;
          break;
        }
      }
      if (wrapped) continue;
      while (!this.dayMatches(w)) {
        if (!added) {
          added = true;
          t = dateIn(w.y, w.mo, w.d, 0, 0, 0, tz);
          w = wallOf(t, tz);
        }
        t = dateIn(w.y, w.mo, w.d + 1, w.h, w.mi, w.s, tz);
        w = wallOf(t, tz);
        if (w.h !== 0) {
          t = w.h > 12 ? t + (24 - w.h) * 3_600_000 : t - w.h * 3_600_000;
          w = wallOf(t, tz);
        }
        if (w.d === 1) {
          wrapped = true;
          break;
        }
      }
      if (wrapped) continue;
      while (!this.f.hour.bits[w.h]) {
        if (!added) {
          added = true;
          t = dateIn(w.y, w.mo, w.d, w.h, 0, 0, tz);
        }
        t += 3_600_000;
        w = wallOf(t, tz);
        if (w.h === 0) {
          wrapped = true;
          break;
        }
      }
      if (wrapped) continue;
      while (!this.f.minute.bits[w.mi]) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
        }
        t += 60_000;
        w = wallOf(t, tz);
        if (w.mi === 0) {
          wrapped = true;
          break;
        }
      }
      if (wrapped) continue;
      while (w.s !== 0) {
        if (!added) {
          added = true;
          t = Math.floor(t / 1000) * 1000;
        }
        t += 1000;
        w = wallOf(t, tz);
        if (w.s === 0) {
          wrapped = true;
          break;
        }
      }
      if (wrapped) continue;
      return t;
    }
    return undefined;
  }
}

class EverySchedule implements Schedule {
  readonly timeZone = 'UTC';
  constructor(private readonly delayMs: number) {}
  next(afterMs: number): number {
    return afterMs + this.delayMs - (afterMs % 1000);
  }
}

/** robfig/cron's ParseStandard. Throws an Error whose message is robfig's (Kubernetes puts it in the field error). */
export function parseStandard(spec: string): Schedule {
  if (spec.length === 0) throw new Error('empty spec string');
  let tz = 'UTC';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = spec.slice(eq + 1, i < 0 ? undefined : i);
    if (!isKnownTimeZone(name)) throw new Error(`provided bad location ${name}: unknown time zone ${name}`);
    tz = name || 'UTC';
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    const d = spec;
    const every = '@every ';
    if (d.startsWith(every)) {
      let ms: number;
      try {
        ms = parseGoDuration(d.slice(every.length));
      } catch (e) {
        throw new Error(`failed to parse duration ${d}: ${(e as Error).message}`);
      }
      ms = Math.max(1000, ms - (ms % 1000));
      return new EverySchedule(ms);
    }
    const midnight = { minute: only(0), hour: only(0) };
    const fields: Record<string, { minute: Field; hour: Field; dom: Field; month: Field; dow: Field }> = {
      '@yearly': { ...midnight, dom: only(1), month: only(1), dow: all(BOUNDS.dow) },
      '@annually': { ...midnight, dom: only(1), month: only(1), dow: all(BOUNDS.dow) },
      '@monthly': { ...midnight, dom: only(1), month: all(BOUNDS.month), dow: all(BOUNDS.dow) },
      '@weekly': { ...midnight, dom: all(BOUNDS.dom), month: all(BOUNDS.month), dow: only(0) },
      '@daily': { ...midnight, dom: all(BOUNDS.dom), month: all(BOUNDS.month), dow: all(BOUNDS.dow) },
      '@midnight': { ...midnight, dom: all(BOUNDS.dom), month: all(BOUNDS.month), dow: all(BOUNDS.dow) },
      '@hourly': { minute: only(0), hour: all(BOUNDS.hour), dom: all(BOUNDS.dom), month: all(BOUNDS.month), dow: all(BOUNDS.dow) },
    };
    const f = fields[d];
    if (!f) throw new Error(`unrecognized descriptor: ${d}`);
    return new SpecSchedule(f, tz);
  }
  const parts = spec.split(/\s+/).filter((x) => x !== '');
  if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const [mi, h, dom, mo, dow] = parts as [string, string, string, string, string];
  return new SpecSchedule({
    minute: getField(mi, BOUNDS.minute),
    hour: getField(h, BOUNDS.hour),
    dom: getField(dom, BOUNDS.dom),
    month: getField(mo, BOUNDS.month),
    dow: getField(dow, BOUNDS.dow),
  }, tz);
}

/** The schedule of a CronJob: its spec.schedule read in spec.timeZone (UTC when unset, as kube-controller-manager on a UTC host). */
export function cronJobSchedule(schedule: string, timeZone?: string): Schedule {
  return parseStandard(timeZone ? `TZ=${timeZone} ${schedule}` : schedule);
}
