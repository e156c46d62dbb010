// Where shoal-ipam keeps allocations: the on-disk layout of the reference host-local plugin, so the
// two can read each other's data. In `<dataDir>/<network>/`:
//   <ip>                  one file per allocated address, holding `<containerID>\r\n<ifname>`
//   last_reserved_ip.<n>  the last address handed out from range set n (round-robin resumes after it)
//   lock                  host-local's lock file (created for format parity)
// Node has no flock(2), so mutual exclusion uses `lock.shoal`, created with O_EXCL and holding the
// owner's pid; a lock whose owner died is taken over. Inside one process (the daemon) an async
// mutex queues callers first, so they never spin on their own lock file.
// MemoryStore is the seam's fake for unit tests.

import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CniCode, CniError } from '../spec/errors.js';

/** One allocation as stored. */
export interface Allocation {
  ip: string;
  id: string;
  ifname: string;
}

/** The IPAM persistence seam. All methods except `lock` are synchronous and run under the lock. */
export interface IpamStore {
  /** Runs fn holding the store's exclusive lock. */
  lock<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Records ip for (id, ifname); false when the address is already taken. */
  reserve(ip: string, id: string, ifname: string, rangeSet: number): boolean;
  lastReserved(rangeSet: number): string | undefined;
  /** Removes every allocation of (id, ifname); returns the freed addresses. */
  releaseByID(id: string, ifname: string): string[];
  /** Removes the allocation of one address. */
  release(ip: string): void;
  list(): Allocation[];
  isReserved(ip: string): boolean;
}

const lineBreak = '\r\n';
const lockWaitMs = 10_000;

function parseAllocation(ip: string, text: string): Allocation {
  const [id, ifname = ''] = text.trim().split(/\r?\n/);
  return { ip, id: id.trim(), ifname: ifname.trim() };
}

const processLocks = new Map<string, Promise<unknown>>();

/** Serialises async work per key inside this process. */
async function inProcess<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = processLocks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  processLocks.set(key, tail);
  try {
    return await run;
  } finally {
    if (processLocks.get(key) === tail) processLocks.delete(key);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The host-local-compatible directory store. */
export class DiskStore implements IpamStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }

  private acquireFile(): void {
    const path = join(this.dir, 'lock.shoal');
    const deadline = Date.now() + lockWaitMs;
    let pause = 1;
    for (;;) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released between open and read
      }
      if (owner > 0 && !pidAlive(owner)) {
        try {
          if (Number(readFileSync(path, 'utf8')) === owner) unlinkSync(path);
        } catch {
          /* someone else took it over first */
        }
        continue;
      }
      if (Date.now() > deadline) throw new CniError(CniCode.TryAgainLater, `ipam: lock ${path} held by pid ${owner} for over ${lockWaitMs} ms`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
      pause = Math.min(pause * 2, 20);
    }
  }

  lock<T>(fn: () => Promise<T> | T): Promise<T> {
    return inProcess(this.dir, async () => {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      writeFileSync(join(this.dir, 'lock'), '', { flag: 'a' });
      this.acquireFile();
      try {
        return await fn();
      } finally {
        try {
          unlinkSync(join(this.dir, 'lock.shoal'));
        } catch {
          /* already gone */
        }
      }
    });
  }

  reserve(ip: string, id: string, ifname: string, rangeSet: number): boolean {
    try {
      writeFileSync(join(this.dir, ip), `${id}${lineBreak}${ifname}`, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    writeFileSync(join(this.dir, `last_reserved_ip.${rangeSet}`), ip);
    return true;
  }

  lastReserved(rangeSet: number): string | undefined {
    try {
      return readFileSync(join(this.dir, `last_reserved_ip.${rangeSet}`), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  list(): Allocation[] {
    const out: Allocation[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name === 'lock' || name === 'lock.shoal' || name.startsWith('last_reserved_ip')) continue;
      try {
        out.push(parseAllocation(name, readFileSync(join(this.dir, name), 'utf8')));
      } catch {
        /* removed concurrently */
      }
    }
    return out;
  }

  releaseByID(id: string, ifname: string): string[] {
    const freed: string[] = [];
    for (const a of this.list()) {
      // Old host-local files hold only the id: they match any ifname.
      if (a.id === id && (a.ifname === '' || a.ifname === ifname)) {
        this.release(a.ip);
        freed.push(a.ip);
      }
    }
    return freed;
  }

  release(ip: string): void {
    try {
      unlinkSync(join(this.dir, ip));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  isReserved(ip: string): boolean {
    try {
      readFileSync(join(this.dir, ip));
      return true;
    } catch {
      return false;
    }
  }
}

/** An in-memory store with the same semantics, for unit tests. */
export class MemoryStore implements IpamStore {
  readonly allocations = new Map<string, Allocation>();
  readonly last = new Map<number, string>();
  private chain: Promise<unknown> = Promise.resolve();

  lock<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
  reserve(ip: string, id: string, ifname: string, rangeSet: number): boolean {
    if (this.allocations.has(ip)) return false;
    this.allocations.set(ip, { ip, id, ifname });
    this.last.set(rangeSet, ip);
    return true;
  }
  lastReserved(rangeSet: number): string | undefined {
    return this.last.get(rangeSet);
  }
  list(): Allocation[] {
    return [...this.allocations.values()];
  }
  releaseByID(id: string, ifname: string): string[] {
    const freed = this.list().filter((a) => a.id === id && a.ifname === ifname).map((a) => a.ip);
    for (const ip of freed) this.allocations.delete(ip);
    return freed;
  }
  release(ip: string): void {
    this.allocations.delete(ip);
  }
  isReserved(ip: string): boolean {
    return this.allocations.has(ip);
  }
}
