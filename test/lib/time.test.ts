// lib/time: Go duration syntax (table-driven), formatting, the FakeClock's ordering and settling.
import t from 'tap';
import { formatDuration, parseDuration } from '../../lib/time/duration.js';
import { FakeClock } from '../../lib/time/fake.js';
import { realClock, rfc3339, sleep } from '../../lib/time/clock.js';

t.test('parseDuration', async (t) => {
  const rows: { in: string; want: number | undefined; bare?: boolean }[] = [
    { in: '300ms', want: 300 }, { in: '1.5h', want: 5_400_000 }, { in: '2h45m', want: 9_900_000 }, { in: '1m30s', want: 90_000 },
    { in: '10us', want: 0.01 }, { in: '10µs', want: 0.01 }, { in: '500ns', want: 0.0005 }, { in: '0', want: 0 }, { in: '+5s', want: 5000 },
    { in: '-5s', want: undefined }, { in: '', want: undefined }, { in: '5', want: undefined }, { in: '5x', want: undefined }, { in: 's', want: undefined },
    { in: '1s2', want: undefined }, { in: '30', want: 30_000, bare: true }, { in: '1.5', want: 1500, bare: true },
  ];
  for (const r of rows) t.equal(parseDuration(r.in, { bareSeconds: r.bare }), r.want, `${JSON.stringify(r.in)}${r.bare ? ' (bare seconds)' : ''}`);
  t.equal(parseDuration('-5s', { nonNegative: false }), -5000);
  t.equal(formatDuration(90_000), '1m30s');
  t.equal(formatDuration(250), '250ms');
  t.equal(formatDuration(3_600_000), '1h0m0s');
  t.equal(formatDuration(0), '0s');
  t.equal(rfc3339(Date.UTC(2024, 4, 1, 10, 0, 0, 123)), '2024-05-01T10:00:00Z');
});

t.test('FakeClock', async (t) => {
  const c = new FakeClock(1000);
  const seen: string[] = [];
  c.setTimeout(() => seen.push(`b@${c.now()}`), 20);
  c.setTimeout(() => {
    seen.push(`a@${c.now()}`);
    c.setTimeout(() => seen.push(`c@${c.now()}`), 5); // falls inside the same step
  }, 10);
  const gone = c.setTimeout(() => seen.push('never'), 15);
  c.clearTimeout(gone);
  const iv = c.setInterval(() => seen.push(`i@${c.now()}`), 12);
  t.equal(c.pending(), 3, "two timeouts and the interval");
  t.equal(c.nextDue(), 1010);
  await c.advance(25);
  t.same(seen, ['a@1010', 'i@1012', 'c@1015', 'b@1020', 'i@1024']);
  t.equal(c.now(), 1025);
  c.clearInterval(iv);
  let settled = false;
  c.setTimeout(() => void Promise.resolve().then(() => (settled = true)), 1);
  await c.advance(1);
  t.ok(settled, 'promises started by a timer settle within advance');
  c.setTimeout(() => seen.push('sync'), 1);
  c.advanceSync(1);
  t.equal(seen.at(-1), 'sync');
});

t.test('realClock and sleep', async (t) => {
  const t0 = realClock.now();
  await sleep(20);
  t.ok(realClock.now() - t0 >= 15);
  const c = new FakeClock();
  let done = false;
  void sleep(50, c).then(() => (done = true));
  await c.advance(49);
  t.notOk(done);
  await c.advance(1);
  t.ok(done);
});
