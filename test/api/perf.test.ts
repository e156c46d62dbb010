// Validation cost: the API server validates every write (target 500 creates/s, p99 <= 50 ms on two
// cores), so defaulting + validating a ~2 KB Pod must be a small multiple of merely copying it.
// Timings on shared machines drift, so the check is a ratio against a JSON round trip of the same
// object measured in the same run (best of several interleaved rounds, after a warm-up). It catches
// per-call schema compilation or a quadratic walk, which would cost hundreds of round trips.

import t from 'tap';
import { admit } from '../../api/admit.js';
import { registry } from '../../api/registry.js';
import { defaulted } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

function perCallMicros(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

t.test('validating a pod costs a small multiple of copying it', async (t) => {
  const pod = defaulted(fixture('/Pod'));
  const size = JSON.stringify(pod).length;
  const rt = registry.byKind('v1', 'Pod')!;
  const fns = {
    copy: () => JSON.parse(JSON.stringify(pod)),
    validate: () => rt.validate(pod),
    admit: () => admit(pod),
  };
  for (const f of Object.values(fns)) perCallMicros(f, 500); // warm-up
  const best = { copy: Infinity, validate: Infinity, admit: Infinity };
  for (let round = 0; round < 5; round++)
    for (const [k, f] of Object.entries(fns)) best[k as keyof typeof best] = Math.min(best[k as keyof typeof best], perCallMicros(f, 400));
  t.comment(`pod JSON ${size} bytes: copy ${best.copy.toFixed(1)} us, validate ${best.validate.toFixed(1)} us, admit ${best.admit.toFixed(1)} us (best of 5 x 400)`);
  t.ok(size > 1000 && size < 4000, `fixture is about 2 KB (${size})`);
  t.ok(best.validate < 20 * best.copy, `validate ${(best.validate / best.copy).toFixed(1)}x a JSON round trip (< 20x)`);
  t.ok(best.admit < 40 * best.copy, `admit ${(best.admit / best.copy).toFixed(1)}x a JSON round trip (< 40x)`);
});
