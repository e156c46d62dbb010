// SQLite performance floor, measured in-run: sequential creates (each its own committed transaction) and
// a latest list of 10k 1 KiB values, against the targets in README.md (creates >= 2000/s, list < 300 ms).
// Generous margins: a failure here means a lost index or a per-write fsync, not a slow CI machine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openSqliteStore } from '../../control-plane/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), `shoalt-store-perf-${process.pid}-`));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('10k creates and a 10k list', async (t) => {
  const s = openSqliteStore(join(dir, 'perf.db'));
  t.teardown(() => s.close());
  const N = 10_000;
  const value = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { pad: 'x'.repeat(1000) } });
  for (let i = 0; i < 200; i++) await s.create(`/warm/${i}`, value); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < N; i++) await s.create(`/registry/configmaps/default/cm-${String(i).padStart(5, '0')}`, value);
  const createMs = performance.now() - t0;
  const perSec = Math.round(N / (createMs / 1000));

  await s.list('/registry/configmaps/'); // warm-up
  const listMs: number[] = [];
  let items = 0;
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    items = (await s.list('/registry/configmaps/')).items.length;
    listMs.push(performance.now() - t0);
  }
  const bestList = Math.min(...listMs);
  t0 = performance.now();
  const rev = await s.currentRevision();
  await s.list('/registry/configmaps/', { revision: rev - 1 });
  const listAtMs = performance.now() - t0;
  t.comment(`sqlite: ${perSec} creates/s (1 KiB values); list of ${items} x 1 KiB: ${bestList.toFixed(1)} ms latest, ${listAtMs.toFixed(1)} ms at a past revision`);
  t.equal(items, N, 'the list returned every item');
  t.ok(perSec >= 2000, `creates/s ${perSec} >= 2000`);
  t.ok(bestList < 300, `latest list ${bestList.toFixed(1)} ms < 300 ms`);
  t.ok(listAtMs < 1500, `list at a past revision ${listAtMs.toFixed(1)} ms < 1500 ms`);
});
