// kube-proxy's ServiceChangeTracker, in small: event handlers only record which Services changed; the
// bounded-frequency runner (lib/time/bounded.ts) takes them for each sync, or `all` for a full resync
// (at start, after a Node change, after a failure).

/** Keys (`namespace/name`) changed since the last successful sync; `all` after a failure or a node change. */
export class ChangeTracker {
  private pending = new Set<string>();
  private all = true;

  /** Records one changed Service. */
  mark(key: string): void {
    this.pending.add(key);
  }

  /** Asks for a full resync. */
  markAll(): void {
    this.all = true;
  }

  /** Takes the pending changes (`undefined` = everything). */
  take(): Set<string> | undefined {
    const out = this.all ? undefined : this.pending;
    this.pending = new Set();
    this.all = false;
    return out;
  }

  /** Puts changes back after a failed sync (it forces a full resync). */
  restore(): void {
    this.all = true;
  }
}
