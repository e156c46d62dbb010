// RFC 6902 appendix A (all sixteen examples), pointer escaping, error codes and messages.
import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { jsonPatch, parsePointer } from '../../control-plane/apiserver/patch/index.js';

/** Run `fn` and return the ApiError it throws, or a string saying what happened instead. */
function apiErrorOf(fn: () => unknown): ApiError | string {
  try {
    fn();
    return 'did not throw';
  } catch (e) {
    return e instanceof ApiError ? e : `threw a non-ApiError: ${String(e)}`;
  }
}


interface Row {
  name: string;
  doc: unknown;
  patch: unknown;
  want?: unknown;
  wantError?: RegExp;
}

const appendixA: Row[] = [
  { name: 'A.1 adding an object member', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz', value: 'qux' }], want: { baz: 'qux', foo: 'bar' } },
  { name: 'A.2 adding an array element', doc: { foo: ['bar', 'baz'] }, patch: [{ op: 'add', path: '/foo/1', value: 'qux' }], want: { foo: ['bar', 'qux', 'baz'] } },
  { name: 'A.3 removing an object member', doc: { baz: 'qux', foo: 'bar' }, patch: [{ op: 'remove', path: '/baz' }], want: { foo: 'bar' } },
  { name: 'A.4 removing an array element', doc: { foo: ['bar', 'qux', 'baz'] }, patch: [{ op: 'remove', path: '/foo/1' }], want: { foo: ['bar', 'baz'] } },
  { name: 'A.5 replacing a value', doc: { baz: 'qux', foo: 'bar' }, patch: [{ op: 'replace', path: '/baz', value: 'boo' }], want: { baz: 'boo', foo: 'bar' } },
  {
    name: 'A.6 moving a value',
    doc: { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    patch: [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    want: { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  },
  { name: 'A.7 moving an array element', doc: { foo: ['all', 'grass', 'cows', 'eat'] }, patch: [{ op: 'move', from: '/foo/1', path: '/foo/3' }], want: { foo: ['all', 'cows', 'eat', 'grass'] } },
  {
    name: 'A.8 testing a value: success',
    doc: { baz: 'qux', foo: ['a', 2, 'c'] },
    patch: [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
    want: { baz: 'qux', foo: ['a', 2, 'c'] },
  },
  { name: 'A.9 testing a value: error', doc: { baz: 'qux' }, patch: [{ op: 'test', path: '/baz', value: 'bar' }], wantError: /operation 0 \(test\) at "\/baz": test failed/ },
  { name: 'A.10 adding a nested member object', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/child', value: { grandchild: {} } }], want: { foo: 'bar', child: { grandchild: {} } } },
  { name: 'A.11 ignoring unrecognized elements', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], want: { foo: 'bar', baz: 'qux' } },
  { name: 'A.12 adding to a nonexistent target', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz/bat', value: 'qux' }], wantError: /operation 0 \(add\) at "\/baz\/bat": add: path \/baz does not exist/ },
  {
    name: 'A.13 invalid JSON patch document (duplicate "op": the last one wins and fails)',
    doc: { foo: 'bar' },
    patch: JSON.parse('[{ "op": "add", "path": "/baz", "value": "qux", "op": "remove" }]'),
    wantError: /operation 0 \(remove\) at "\/baz"/,
  },
  { name: 'A.14 ~ escape ordering', doc: { '/': 9, '~1': 10 }, patch: [{ op: 'test', path: '/~01', value: 10 }], want: { '/': 9, '~1': 10 } },
  { name: 'A.15 comparing strings and numbers', doc: { '/': 9, '~1': 10 }, patch: [{ op: 'test', path: '/~01', value: '10' }], wantError: /test failed: value is 10, want "10"/ },
  { name: 'A.16 adding an array value', doc: { foo: ['bar'] }, patch: [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], want: { foo: ['bar', ['abc', 'def']] } },
];

const more: Row[] = [
  { name: 'replace the whole document', doc: { a: 1 }, patch: [{ op: 'replace', path: '', value: { b: 2 } }], want: { b: 2 } },
  { name: 'copy is deep', doc: { a: { b: [1] } }, patch: [{ op: 'copy', from: '/a', path: '/c' }, { op: 'add', path: '/c/b/-', value: 2 }], want: { a: { b: [1] }, c: { b: [1, 2] } } },
  { name: 'later ops see earlier ones', doc: { l: [] }, patch: [{ op: 'add', path: '/l/-', value: 1 }, { op: 'add', path: '/l/0', value: 0 }, { op: 'test', path: '/l', value: [0, 1] }], want: { l: [0, 1] } },
  { name: 'index past the end', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/2', value: 3 }], wantError: /operation 0 \(add\) at "\/l\/2": array index 2 out of bounds \(length 1\)/ },
  { name: 'leading zero index', doc: { l: [1, 2] }, patch: [{ op: 'remove', path: '/l/01' }], wantError: /invalid array index "01"/ },
  { name: '- is not an existing element', doc: { l: [1] }, patch: [{ op: 'remove', path: '/l/-' }], wantError: /invalid array index "-"/ },
  { name: 'replace of a missing member', doc: { a: 1 }, patch: [{ op: 'test', path: '/a', value: 1 }, { op: 'replace', path: '/b', value: 2 }], wantError: /operation 1 \(replace\) at "\/b": replace: path does not exist/ },
  { name: 'move into own child', doc: { a: { b: 1 } }, patch: [{ op: 'move', from: '/a', path: '/a/b/c' }], wantError: /cannot move "\/a" into its own child/ },
  { name: 'unknown op', doc: {}, patch: [{ op: 'frob', path: '/a' }], wantError: /operation 0 \(frob\) at "\/a": unknown operation "frob"/ },
  { name: 'missing value', doc: {}, patch: [{ op: 'add', path: '/a' }], wantError: /missing "value"/ },
  { name: 'bad pointer', doc: {}, patch: [{ op: 'add', path: 'a', value: 1 }], wantError: /must start with "\/"/ },
];

t.test('RFC 6902 appendix A and more', async (t) => {
  for (const row of [...appendixA, ...more]) {
    const before = JSON.stringify(row.doc);
    if (row.wantError) {
      const e = apiErrorOf(() => jsonPatch(row.doc, row.patch));
      t.match(e, { code: 422, reason: 'Invalid', message: row.wantError, causes: [{ reason: 'FieldValueInvalid' }] }, row.name);
    } else {
      t.same(jsonPatch(row.doc, row.patch), row.want, row.name);
    }
    t.equal(JSON.stringify(row.doc), before, `${row.name}: target not mutated`);
  }
});

t.test('a body that is not a list of operation objects is 400', async (t) => {
  for (const body of [{ op: 'add' }, 'x', null, [1], [{ op: 'add', path: '/a', value: 1 }, 'nope']]) {
    t.match(apiErrorOf(() => jsonPatch({}, body)), { code: 400, reason: 'BadRequest' }, JSON.stringify(body));
  }
});

t.test('error causes name the path', async (t) => {
  try {
    jsonPatch({ spec: {} }, [{ op: 'remove', path: '/spec/ports/0' }]);
    t.fail('should throw');
  } catch (e) {
    t.equal((e as ApiError).causes[0]!.field, '/spec/ports/0');
    t.match((e as ApiError).toStatus(), { kind: 'Status', code: 422, reason: 'Invalid' });
  }
});

t.test('parsePointer unescapes ~1 before ~0', async (t) => {
  const rows: [string, string[]][] = [
    ['', []],
    ['/', ['']],
    ['/a~1b', ['a/b']],
    ['/m~0n', ['m~n']],
    ['/~01', ['~1']],
    ['/a/0/ ', ['a', '0', ' ']],
  ];
  for (const [p, want] of rows) t.same(parsePointer(p), want, p);
});
