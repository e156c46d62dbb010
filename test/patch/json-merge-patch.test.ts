// RFC 7386 appendix A, row by row, plus the copy-not-mutate guarantee and the object-only variant.
import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { jsonMergePatch, jsonMergePatchObject } from '../../control-plane/apiserver/patch/index.js';

/** Run `fn` and return the ApiError it throws, or a string saying what happened instead. */
function apiErrorOf(fn: () => unknown): ApiError | string {
  try {
    fn();
    return 'did not throw';
  } catch (e) {
    return e instanceof ApiError ? e : `threw a non-ApiError: ${String(e)}`;
  }
}


const rfcAppendix: { target: unknown; patch: unknown; want: unknown }[] = [
  { target: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
  { target: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
  { target: { a: 'b' }, patch: { a: null }, want: {} },
  { target: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
  { target: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
  { target: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
  { target: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
  { target: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
  { target: ['a', 'b'], patch: ['c', 'd'], want: ['c', 'd'] },
  { target: { a: 'b' }, patch: ['c'], want: ['c'] },
  { target: { a: 'foo' }, patch: null, want: null },
  { target: { a: 'foo' }, patch: 'bar', want: 'bar' },
  { target: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
  { target: [1, 2], patch: { a: 'b', c: null }, want: { a: 'b' } },
  { target: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
  // section 3's worked example
  {
    target: { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'This will be unchanged' },
    patch: { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] },
    want: { title: 'Hello!', author: { givenName: 'John' }, tags: ['example'], content: 'This will be unchanged', phoneNumber: '+01-123-456-7890' },
  },
];

t.test('RFC 7386 appendix A', async (t) => {
  rfcAppendix.forEach((row, i) => {
    const before = JSON.stringify(row.target);
    t.same(jsonMergePatch(row.target, row.patch), row.want, `row ${i + 1}: ${JSON.stringify(row.patch)}`);
    t.equal(JSON.stringify(row.target), before, `row ${i + 1}: target not mutated`);
  });
});

t.test('result shares nothing with target or patch', async (t) => {
  const target = { a: { b: [1] } };
  const patch = { c: { d: [2] } };
  const out = jsonMergePatch(target, patch) as any;
  out.a.b.push(9);
  out.c.d.push(9);
  t.same(target, { a: { b: [1] } });
  t.same(patch, { c: { d: [2] } });
});

t.test('jsonMergePatchObject rejects non-object patches with 400', async (t) => {
  for (const p of [null, [1], 'x', 3]) {
    t.match(apiErrorOf(() => jsonMergePatchObject({ a: 1 }, p)), { code: 400, reason: 'BadRequest' }, `patch ${JSON.stringify(p)}`);
  }
  t.same(jsonMergePatchObject({ a: 1 }, { b: 2 }), { a: 1, b: 2 });
});
