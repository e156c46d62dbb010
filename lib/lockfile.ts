// A cross-process lock on a file, for short synchronous critical sections that several processes of one
// host may enter at once: creating a cluster's PKI (`shoal up`, the API server and `shoal kubeconfig`
// racing on one state dir) and the node's host-setting holders (several clusters on one host).
//
// The lock is a file created with O_EXCL holding the owner's PID and start time. A lock whose owner is
// gone (crashed mid-section) is stale and is broken by renaming it aside and checking that what was moved
// is still the stale owner's: a process that was slower to break it and moved a fresh lock instead puts
// that one back, so two breakers never both enter.

import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (the callers are synchronous and the sections last milliseconds). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** /proc/<pid>/stat start time ('' when the process is gone): tells a live owner from a reused PID. */
export function processStartTime(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process recorded as `pid` + `start` still runs (same PID, same start time). */
export function ownerAlive(pid: number, start: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  return now !== '' && (start === '' || now === start);
}

/** Options of `withLockSync`. */
export interface LockOptions {
  /** give up after this long (default 30 s) */
  timeoutMs?: number;
  /** a lock file without a readable owner is stale after this long (default 10 s) */
  unownedStaleMs?: number;
}

/** Runs `fn` while holding the lock file `path`; throws naming the owner when it cannot get it in time. */
export function withLockSync<T>(path: string, fn: () => T, o: LockOptions = {}): T {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${processStartTime(process.pid)}\n`);
      } finally {
        closeSync(fd);
      }
      try {
        return fn();
      } finally {
        rmSync(path, { force: true });
      }
    }
    const owner = readOwner(path);
    if (owner && isStale(owner, o.unownedStaleMs ?? 10_000)) breakStale(path, owner);
    else if (Date.now() > deadline) throw new Error(`${path}: locked by ${owner?.pid ? `pid ${owner.pid}` : 'another process'} for more than ${o.timeoutMs ?? 30_000} ms`);
    else sleepSync(10);
  }
}

function readOwner(path: string): { pid: number; start: string; mtimeMs: number } | undefined {
  try {
    const [pid, start] = readFileSync(path, 'utf8').trim().split(' ');
    return { pid: Number(pid), start: start ?? '', mtimeMs: statSync(path).mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

function isStale(owner: { pid: number; start: string; mtimeMs: number }, unownedStaleMs: number): boolean {
  // an empty file is a lock being written right now, unless it has stayed empty for long
  if (!owner.pid) return Date.now() - owner.mtimeMs > unownedStaleMs;
  return !ownerAlive(owner.pid, owner.start);
}

function breakStale(path: string, stale: { pid: number; start: string }): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(16).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readOwner(aside);
  if (moved && (moved.pid !== stale.pid || moved.start !== stale.start)) {
    // a fresh lock taken after another process broke the stale one: give it back
    try {
      linkSync(aside, path);
    } catch {
      /* yet another lock exists: its owner holds it */
    }
  }
  rmSync(aside, { force: true });
}
