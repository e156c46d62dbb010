// Validation cost: the API server validates every write (target 500 creates/s, p99 <= 50 ms on two
// cores), so defaulting + validating a ~1 KB Pod must stay far below a millisecond. The bound here is
// deliberately loose (timings drift); it only catches an accidental per-call schema compilation or
// quadratic walk. Real figures are printed as a comment for the report.

import t from 'tap';
import { admit } from '../../api/admit.js';
import { registry } from '../../api/registry.js';
import { defaulted } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

function perCallMicros(fn: () => void, n: number): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

t.test('validating a 1 KB pod is cheap', async (t) => {
  const pod = defaulted(fixture('/Pod'));
  const size = JSON.stringify(pod).length;
  const rt = registry.byKind('v1', 'Pod')!;
  const validate = perCallMicros(() => rt.validate(pod), 3000);
  const full = perCallMicros(() => admit(fixture('/Pod')), 2000);
  t.comment(`pod JSON ${size} bytes: validate ${validate.toFixed(1)} us/op, admit (clone+default+validate) ${full.toFixed(1)} us/op`);
  t.ok(size > 800 && size < 4000, `fixture is about 1-2 KB (${size})`);
  t.ok(validate < 500, `validate ${validate.toFixed(1)} us < 500 us`);
  t.ok(full < 1000, `admit ${full.toFixed(1)} us < 1000 us`);
});
