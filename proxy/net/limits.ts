// Open-files budget. At the process limit (RLIMIT_NOFILE; 20,000 on our machines and not raisable) an
// accept or connect fails with EMFILE; rather than meet that at random places, the proxy counts the
// descriptors its connections hold and refuses new connections (accept, then close at once) while the
// budget is spent, keeping every connection it has. EMFILE that still happens (other descriptors of the
// process) is handled where it occurs: on accept (the server's 'error') and on connect (that connection).
import { readFileSync } from 'node:fs';

/** The soft RLIMIT_NOFILE of this process (from /proc/self/limits), or 1024 when unreadable. */
export function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return 1 << 20;
    const n = Number(soft);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** Counts file descriptors held by proxied connections against a budget. */
export class FdBudget {
  private used = 0;
  /** Connections refused because the budget was spent, and EMFILE errors met. */
  readonly counters = { refused: 0, emfile: 0 };

  /** `limit` descriptors minus `reserve` for listeners, admin, TLS sessions and Node itself. */
  constructor(readonly limit: number, readonly reserve = 64) {}

  get available(): number { return this.limit - this.reserve - this.used; }
  get inUse(): number { return this.used; }

  /** Takes `n` descriptors if available. */
  take(n: number): boolean {
    if (this.used + n > this.limit - this.reserve) {
      this.counters.refused++;
      return false;
    }
    this.used += n;
    return true;
  }

  /** Gives back `n` descriptors. */
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** True for the errors that mean "out of descriptors". */
export function isFdExhausted(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}
