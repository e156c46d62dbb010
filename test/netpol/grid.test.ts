// The truth-table grids of the NetworkPolicy e2e: construction, differences and the mismatch report.
import t from 'tap';
import { CASES, MAX_PAIR_LINES, deniedCount, differences, makeTables, mismatchReport, renderGrid } from './grid.js';

const pods = ['x/a', 'x/b', 'y/a'];
const allAllowed = makeTables(pods, () => true);
const denyToXa = makeTables(pods, (_c, _from, to) => to !== 'x/a');

t.test('differences, table-driven', async (t) => {
  const rows: { name: string; observed: ReturnType<typeof makeTables>; want: string[] }[] = [
    { name: 'equal', observed: allAllowed, want: [] },
    { name: 'all denied to x/a', observed: denyToXa, want: CASES.flatMap((c) => pods.map((p) => `${c.protocol}/${c.port} ${p}->x/a`)) },
    { name: 'one UDP pair', observed: makeTables(pods, (c, from, to) => !(c.protocol === 'UDP' && c.port === 81 && from === 'y/a' && to === 'x/b')), want: ['UDP/81 y/a->x/b'] },
  ];
  for (const r of rows) t.same(differences(pods, allAllowed, r.observed).map((d) => `${d.case} ${d.from}->${d.to}`), r.want, r.name);
  t.throws(() => differences(pods, { 'TCP/80': {} }, allAllowed), /expected table TCP\/80 has no cell x\/a -> x\/a/, 'a hole in the expected table is an error, not a pass');
});

t.test('a missing observed row counts as a difference', async (t) => {
  const observed = makeTables(pods, () => true);
  delete observed['TCP/81']!['x/b'];
  t.same(differences(pods, allAllowed, observed).map((d) => `${d.case} ${d.from}->${d.to} ${d.got}`), ['TCP/81 x/b->x/a undefined', 'TCP/81 x/b->x/b undefined', 'TCP/81 x/b->y/a undefined']);
});

t.test('the report prints expected, observed and diff grids and a line per pair', async (t) => {
  t.equal(mismatchReport(pods, allAllowed, allAllowed), '', 'equal tables: no report');
  const observed = makeTables(pods, (c, from, to) => !(c.protocol === 'TCP' && c.port === 80 && from === 'x/b' && to === 'y/a'));
  const r = mismatchReport(pods, allAllowed, observed, (c, from, to) => `${c} ${from} ${to}: timeout`);
  t.equal(r, [
    'expected TCP/80 x/a x/b y/a\nx/a               .   .   .\nx/b               .   .   .\ny/a               .   .   .',
    'observed TCP/80 x/a x/b y/a\nx/a               .   .   .\nx/b               .   .   X\ny/a               .   .   .',
    'diff TCP/80 x/a x/b y/a\nx/a           .   .   .\nx/b           .   .   !\ny/a           .   .   .',
    '1 of 36 pairs differ:\n  TCP/80 x/b -> y/a: want allowed, got denied (TCP/80 x/b y/a: timeout)',
  ].join('\n\n'));
});

t.test('the pair lines are capped, the grids carry the rest', async (t) => {
  const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((p) => `x/${p}`);
  const r = mismatchReport(many, makeTables(many, () => true), makeTables(many, () => false));
  t.equal(r.split('\n').filter((l) => l.startsWith('  TCP') || l.startsWith('  UDP')).length, MAX_PAIR_LINES);
  t.match(r, `… and ${4 * 49 - MAX_PAIR_LINES} more`);
  t.match(r, '196 of 196 pairs differ');
});

t.test('renderGrid and deniedCount', async (t) => {
  t.equal(renderGrid('T', ['p', 'q'], (a, b) => (a === b ? 'X' : '.')), 'T   p   q\np   X   .\nq   .   X');
  t.equal(deniedCount(allAllowed), 0);
  t.equal(deniedCount(denyToXa), 4 * 3, 'three sources × four cases');
});
