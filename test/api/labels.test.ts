// Label selectors: string parsing (table of input -> canonical string), parse errors naming the
// position, matching, metav1.LabelSelector conversion.

import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { fromLabelSelector, fromSet, matches, parseSelector, toString } from '../../api/labels.js';

t.test('parse and print', async (t) => {
  const rows: [string, string][] = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a=b'],
    ['a!=b', 'a!=b'],
    ['a=', 'a='],
    ['  app = web , tier!=db ', 'app=web,tier!=db'],
    ['e in (y,x)', 'e in (x,y)'],
    ['f notin (z)', 'f notin (z)'],
    ['g', 'g'],
    ['!h', '!h'],
    ['a=b,c!=d,e in (x,y),f notin (z),g,!h', 'a=b,c!=d,e in (x,y),f notin (z),g,!h'],
    ['z=1,a=2', 'a=2,z=1'],
    ['example.com/app=web', 'example.com/app=web'],
    ['n>3,m<5', 'm<5,n>3'],
    ['e in (x, ,y)', 'e in (,x,y)'],
  ];
  for (const [input, want] of rows) t.equal(toString(parseSelector(input)), want, JSON.stringify(input));
});

t.test('parse errors name the position', async (t) => {
  const rows: [string, RegExp][] = [
    ['a in x', /found 'x', expected: '\(' \(at position 5/],
    ['a in (x', /found end of string, expected: ',' or '\)' \(at position 7/],
    ['=b', /found '=', expected: identifier or '!' \(at position 0/],
    ['a=b c', /found 'c', expected: ',' or end of string \(at position 4/],
    ['a b', /found 'b', expected: '=', '==', '!=', 'in', 'notin', '>', '<', ',' or end of string \(at position 2/],
    ['a>b', /expected: an integer \(at position 2/],
    ['!', /found end of string, expected: identifier/],
    ['a,', /found end of string, expected: identifier or '!'/],
    ['bad key=1', /found 'key'/],
    ['-a=b', /key "-a" at position 0/],
    ['a=b c d', /found 'c'/],
    ['a=-b-', /value "-b-" for key "a"/],
  ];
  for (const [input, re] of rows) {
    try {
      parseSelector(input);
      t.fail(`${input} should not parse`);
    } catch (e) {
      t.ok(e instanceof ApiError && e.code === 400, `${input}: 400`);
      t.match((e as Error).message, re, input);
    }
  }
});

t.test('matches', async (t) => {
  const labels = { app: 'web', tier: 'front', n: '7' };
  const rows: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier notin (front)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['n>5', true],
    ['n<5', false],
    ['app=web,tier=back', false],
    ['app=web,!missing,tier in (front)', true],
  ];
  for (const [sel, want] of rows) t.equal(matches(parseSelector(sel), labels), want, sel);
});

t.test('metav1.LabelSelector', async (t) => {
  const sel = fromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'canary', operator: 'DoesNotExist' }] });
  t.equal(toString(sel), 'app=web,!canary,tier in (a,b)', 'requirements sorted by key, values sorted');
  t.ok(matches(sel, { app: 'web', tier: 'a' }));
  t.notOk(matches(sel, { app: 'web', tier: 'a', canary: 'y' }));
  t.notOk(matches(fromLabelSelector(undefined), { app: 'web' }), 'nil selector selects nothing');
  t.ok(matches(fromLabelSelector({}), { app: 'web' }), 'empty selector selects everything');
  t.equal(toString(fromSet({ b: '2', a: '1' })), 'a=1,b=2');
  t.throws(() => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Has' }] }), /not a valid label selector operator/);
});
