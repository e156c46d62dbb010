// SQLite only, with real processes: (1) every write acknowledged before a `kill -9` is there after reopening
// the file; (2) readers in this process see consistent snapshots while another process writes.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openSqliteStore } from '../../control-plane/store/sqlite.js';

const writerJs = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'writer.js');
const dir = mkdtempSync(join(tmpdir(), `shoalt-store-dur-${process.pid}-`));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface Writer {
  child: ChildProcess;
  acked: Array<{ revision: number; key: string }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  onAck: (fn: () => void) => void;
}

// Start the writer child; kill it by PID in teardown if it is still running.
function startWriter(tt: { teardown(fn: () => unknown): void }, path: string, prefix: string, count: number): Writer {
  const child = spawn(process.execPath, [writerJs, path, prefix, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: Writer['acked'] = [];
  const listeners: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [rev, key] = line.split(' ');
    acked.push({ revision: Number(rev), key: key! });
    for (const fn of listeners) fn();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  tt.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  });
  return { child, acked, exited, onAck: (fn) => listeners.push(fn) };
}

t.test('kill -9 loses no acknowledged write', async (t) => {
  const path = join(dir, 'kill.db');
  const w = startWriter(t, path, '/dur/k', 1_000_000);
  const KILL_AFTER = 400;
  await new Promise<void>((resolve) => w.onAck(() => w.acked.length >= KILL_AFTER && resolve()));
  process.kill(w.child.pid!, 'SIGKILL');
  const exit = await w.exited;
  // let readline drain every line the child wrote before it died
  await new Promise((r) => setTimeout(r, 50));
  t.equal(exit.signal, 'SIGKILL', 'the writer died by SIGKILL, mid-run');
  t.ok(w.acked.length >= KILL_AFTER, `${w.acked.length} writes were acknowledged before the kill`);

  const s = openSqliteStore(path);
  t.teardown(() => s.close());
  const stored = new Map((await s.list('/dur/')).items.map((kv) => [kv.key, kv.modRevision]));
  const lost = w.acked.filter((a) => stored.get(a.key) !== a.revision);
  t.same(lost, [], 'every acknowledged write is there, at its acknowledged revision');
  const last = w.acked[w.acked.length - 1]!.revision;
  t.ok((await s.currentRevision()) >= last, 'the revision counter is at least the last acknowledged one');
  const next = await s.create('/dur/after-restart', 'x');
  t.ok(next.modRevision > last, 'numbering continues after the crash with no reuse');
  t.ok(stored.size <= w.acked.length + 1, 'at most the one unacknowledged in-flight write extra');
});

t.test('readers see consistent snapshots while another process writes', async (t) => {
  const path = join(dir, 'readers.db');
  const s = openSqliteStore(path);
  t.teardown(() => s.close());
  const start = await s.currentRevision();
  const N = 1500;
  const w = startWriter(t, path, '/rd/k', N);
  let reads = 0;
  const problems: string[] = [];
  let running = true;
  void w.exited.then(() => {
    running = false;
  });
  // The writer only creates, one key per revision, so at revision R exactly R - start keys exist and the
  // newest has modRevision R. A list that mixed two snapshots would break one of these.
  while (running || reads === 0) {
    const l = await s.list('/rd/');
    const n = await s.count('/rd/');
    const maxRev = l.items.reduce((m, kv) => Math.max(m, kv.modRevision), start);
    if (l.items.length !== l.revision - start) problems.push(`list at ${l.revision} had ${l.items.length} items`);
    if (maxRev !== l.revision) problems.push(`list at ${l.revision} had newest modRevision ${maxRev}`);
    if (n < l.items.length) problems.push(`count ${n} after a list of ${l.items.length}`);
    if (l.revision > start + 1) {
      const past = await s.list('/rd/', { revision: l.revision - 1 });
      if (past.items.length !== l.items.length - 1) problems.push(`list at ${l.revision - 1} had ${past.items.length} items`);
    }
    reads++;
    await new Promise((r) => setImmediate(r));
  }
  const exit = await w.exited;
  t.equal(exit.code, 0, 'the writer finished');
  t.ok(reads > 10, `${reads} concurrent reads ran while it wrote`);
  t.same(problems.slice(0, 5), [], 'every read was one consistent snapshot');
  t.equal(await s.count('/rd/'), N, 'all writes are visible at the end');
  t.equal(w.acked.length, N, 'the writer acknowledged every write');
});
