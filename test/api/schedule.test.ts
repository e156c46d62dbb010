// Cron schedules as Kubernetes reads them (robfig/cron v3 ParseStandard + SpecSchedule.Next): accepted
// forms, robfig's error texts, the day-of-month/day-of-week OR rule, descriptors, @every, time zones
// with DST, and a cross-check of Next against cron-parser on expressions where the two agree.

import t from 'tap';
import { CronExpressionParser } from 'cron-parser';
import { cronJobSchedule, parseStandard } from '../../api/kinds/batch/schedule.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString().replace('.000Z', 'Z'));
function nexts(expr: string, from: string, n = 3, tz?: string): string[] {
  const s = cronJobSchedule(expr, tz);
  const out: string[] = [];
  let cur = at(from);
  for (let i = 0; i < n; i++) {
    const x = s.next(cur);
    out.push(iso(x));
    if (x === undefined) break;
    cur = x;
  }
  return out;
}

t.test('next activations', async (t) => {
  const rows: [string, string, string[], string?][] = [
    ['*/15 * * * *', '2026-01-01T00:07:30Z', ['2026-01-01T00:15:00Z', '2026-01-01T00:30:00Z', '2026-01-01T00:45:00Z']],
    ['0 9 * * MON-FRI', '2026-01-02T10:00:00Z', ['2026-01-05T09:00:00Z', '2026-01-06T09:00:00Z', '2026-01-07T09:00:00Z']],
    ['0 0 13 * 5', '2026-01-01T00:00:00Z', ['2026-01-02T00:00:00Z', '2026-01-09T00:00:00Z', '2026-01-13T00:00:00Z'], 'dom or dow when both are restricted'],
    ['0 0 */10 * 1', '2026-01-01T00:00:00Z', ['2026-01-05T00:00:00Z', '2026-01-11T00:00:00Z', '2026-01-12T00:00:00Z'], 'a step > 1 clears the star: OR'],
    ['0 0 */1 * 1', '2026-01-01T00:00:00Z', ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z', '2026-01-19T00:00:00Z'], '*/1 keeps the star: AND'],
    ['0 0 ? * 1', '2026-01-01T00:00:00Z', ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z', '2026-01-19T00:00:00Z'], '? is *'],
    ['0 0 13 * 0-6', '2026-01-01T00:00:00Z', ['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z'], 'a full written range is not a star (robfig): every day'],
    ['30 4 1 JAN,jul *', '2026-02-01T00:00:00Z', ['2026-07-01T04:30:00Z', '2027-01-01T04:30:00Z', '2027-07-01T04:30:00Z']],
    ['5/20 * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:05:00Z', '2026-01-01T00:25:00Z', '2026-01-01T00:45:00Z'], 'N/step means N-max/step'],
    ['0 0 29 2 *', '2026-01-01T00:00:00Z', ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']],
    ['0 0 30 2 *', '2026-01-01T00:00:00Z', ['none'], 'never: none within five years'],
    ['@hourly', '2026-01-01T00:00:00Z', ['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', '2026-01-01T03:00:00Z']],
    ['@daily', '2026-01-01T10:00:00Z', ['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z']],
    ['@midnight', '2026-01-01T10:00:00Z', ['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z']],
    ['@weekly', '2026-01-01T00:00:00Z', ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z', '2026-01-18T00:00:00Z']],
    ['@monthly', '2026-01-15T00:00:00Z', ['2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z']],
    ['@yearly', '2026-01-15T00:00:00Z', ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    ['@annually', '2026-01-15T00:00:00Z', ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    ['@every 90s', '2026-01-01T00:00:10.500Z', ['2026-01-01T00:01:40Z', '2026-01-01T00:03:10Z', '2026-01-01T00:04:40Z'], '@every: a constant delay'],
  ];
  for (const [expr, from, want, why] of rows) t.same(nexts(expr, from, want.length), want, `${expr}${why ? ` (${why})` : ''}`);
});

t.test('time zones and DST (America/New_York)', async (t) => {
  t.same(nexts('0 9 * * *', '2026-01-01T00:00:00Z', 2, 'America/New_York'), ['2026-01-01T14:00:00Z', '2026-01-02T14:00:00Z'], 'EST is UTC-5');
  t.same(nexts('0 9 * * *', '2026-07-01T00:00:00Z', 1, 'America/New_York'), ['2026-07-01T13:00:00Z'], 'EDT is UTC-4');
  t.same(nexts('30 2 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York'), ['2026-03-09T06:30:00Z', '2026-03-10T06:30:00Z'], '02:30 does not exist on 8 March: robfig skips that day (cron-parser would run at 03:30)');
  t.same(nexts('30 1 * * *', '2026-10-31T12:00:00Z', 2, 'America/New_York'), ['2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z'], '01:30 happens twice on 1 November: robfig runs at both');
  t.same(nexts('0 0 * * *', '2026-01-01T00:00:00Z', 1, 'Asia/Kolkata'), ['2026-01-01T18:30:00Z'], 'half-hour offsets');
  t.same(nexts('0 * * * *', '2026-03-08T06:30:00Z', 3, 'America/New_York'), ['2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z', '2026-03-08T09:00:00Z'], 'hourly across the gap');
});

t.test('robfig errors, as Kubernetes prints them', async (t) => {
  const rows: [string, string][] = [
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['0 * * * * *', 'expected exactly 5 fields, found 6: [0 * * * * *]'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* 24 * * *', 'end of range (24) above maximum (23): 24'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['H * * * *', 'failed to parse int from H: strconv.Atoi: parsing "H": invalid syntax'],
    ['0 0 L * *', 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'],
    ['0 0 * * 1#2', 'failed to parse int from 1#2: strconv.Atoi: parsing "1#2": invalid syntax'],
    ['@every', 'unrecognized descriptor: @every'],
    ['@every x', 'failed to parse duration @every x: time: invalid duration "x"'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['TZ=Nope/Zone * * * * *', 'provided bad location Nope/Zone: unknown time zone Nope/Zone'],
  ];
  for (const [expr, msg] of rows) t.throws(() => parseStandard(expr), { message: msg }, JSON.stringify(expr));
});

t.test('Next agrees with cron-parser where both read the expression the same way', async (t) => {
  const exprs = ['*/7 * * * *', '0 */3 * * *', '15 10 * * 1-5', '0 0 1,15 * *', '45 23 * 2-11 *', '0 12 * * 0', '10-20/5 4 * * *', '0 6 1 * *'];
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Sydney'];
  let checked = 0;
  for (const expr of exprs)
    for (const tz of zones) {
      let from = at('2026-02-27T22:13:00Z');
      const ours = cronJobSchedule(expr, tz === 'UTC' ? undefined : tz);
      const theirs = CronExpressionParser.parse(expr, { currentDate: new Date(from), tz });
      for (let i = 0; i < 25; i++) {
        const a = ours.next(from)!;
        const b = theirs.next().getTime();
        if (a !== b) {
          t.fail(`${expr} in ${tz} after ${iso(from)}: ours ${iso(a)}, cron-parser ${iso(b)}`);
          break;
        }
        checked++;
        from = a;
      }
    }
  t.equal(checked, exprs.length * zones.length * 25, `${checked} activations identical`);
});
