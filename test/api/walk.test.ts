// The schema walker on small schemas: every JSON type, enums, required, null, nesting, maps.

import t from 'tap';
import { formatFieldError } from '../../api/field.js';
import { any, arr, bool, enm, int, intOrStr, map, num, obj, qty, str } from '../../api/schema/schema.js';
import { walk } from '../../api/schema/walk.js';

const schema = obj(
  {
    s: str,
    i: int,
    n: num,
    b: bool,
    ios: intOrStr,
    q: qty,
    e: enm('A', 'B'),
    free: any,
    list: arr(obj({ name: str }, ['name'])),
    labels: map(),
    nested: obj({ deeper: obj({ leaf: int }) }),
  },
  ['s'],
);

const rows: { name: string; value: unknown; want: string[]; typesOk?: boolean }[] = [
  { name: 'all good', value: { s: 'x', i: 1, n: 1.5, b: true, ios: '25%', q: '1Gi', e: 'A', free: { any: [1] }, list: [{ name: 'a' }], labels: { a: 'b' } }, want: [] },
  { name: 'nulls are absent', value: { s: 'x', i: null, list: null, nested: { deeper: null } }, want: [] },
  { name: 'a null array item is a type error', value: { s: 'x', list: [{ name: 'a' }, null] }, want: ['list[1]: Invalid value: null: must be of type object'], typesOk: false },
  { name: 'required', value: {}, want: ['s: Required value'] },
  { name: 'required null', value: { s: null }, want: ['s: Required value'] },
  { name: 'not an object', value: 'x', want: [': Invalid value: "x": must be of type object'], typesOk: false },
  { name: 'int vs float', value: { s: 'x', i: 1.5 }, want: ['i: Invalid value: 1.5: must be of type integer'], typesOk: false },
  { name: 'string for int', value: { s: 'x', i: '1' }, want: ['i: Invalid value: "1": must be of type integer'], typesOk: false },
  { name: 'object for string', value: { s: { a: 1 } }, want: ['s: Invalid value: "object": must be of type string'], typesOk: false },
  { name: 'bool', value: { s: 'x', b: 'true' }, want: ['b: Invalid value: "true": must be of type boolean'], typesOk: false },
  { name: 'intOrString', value: { s: 'x', ios: 1.5 }, want: ['ios: Invalid value: 1.5: must be of type integer or string'], typesOk: false },
  { name: 'quantity', value: { s: 'x', q: '1 Gi' }, want: ["q: Invalid value: \"1 Gi\": must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"] },
  { name: 'enum', value: { s: 'x', e: 'C' }, want: ['e: Unsupported value: "C": supported values: "A", "B"'] },
  { name: 'array expected', value: { s: 'x', list: {} }, want: ['list: Invalid value: "object": must be of type array'], typesOk: false },
  { name: 'array items', value: { s: 'x', list: [{ name: 'a' }, {}, { name: 'c', extra: 1 }] }, want: ['list[1].name: Required value', 'list[2].extra: Invalid value: "extra": field not declared in schema'] },
  { name: 'map values', value: { s: 'x', labels: { a: 1 } }, want: ['labels[a]: Invalid value: 1: must be of type string'], typesOk: false },
  { name: 'deep unknown', value: { s: 'x', nested: { deeper: { leaf: 1, leef: 2 } } }, want: ['nested.deeper.leef: Invalid value: "leef": field not declared in schema'] },
  { name: 'every error collected', value: { i: 'x', e: 'Z', zz: 1 }, want: ['i: Invalid value: "x": must be of type integer', 'e: Unsupported value: "Z": supported values: "A", "B"', 'zz: Invalid value: "zz": field not declared in schema', 's: Required value'], typesOk: false },
];

t.test('walk rows', async (t) => {
  for (const r of rows) {
    const res = walk(schema, r.value);
    t.same(res.errors.map(formatFieldError), r.want, r.name);
    t.equal(res.typesOk, r.typesOk ?? true, `${r.name}: typesOk`);
  }
});

t.test('path prefix', async (t) => {
  t.same(walk(obj({ a: int }), { a: 'x' }, 'spec').errors.map((e) => e.field), ['spec.a']);
});

t.test('obj() refuses a required field it does not declare', async (t) => {
  t.throws(() => obj({ a: str }, ['b']), /required field b is not declared/);
});
