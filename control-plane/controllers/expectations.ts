// Controller expectations (kube's ControllerExpectations): after a controller asks for N creations or
// deletions it waits until the informer has seen them before counting pods again, so a slow watch never
// makes it create twice. Expectations older than five minutes are ignored, as in kube.

const TTL_MS = 5 * 60 * 1000;

interface Expect {
  add: number;
  del: number;
  at: number;
}

/** Per-controller-key outstanding creates and deletes. */
export class Expectations {
  private readonly m = new Map<string, Expect>();
  constructor(private readonly now: () => number = Date.now) {}

  /** True when nothing is outstanding (or the record is stale). */
  satisfied(key: string): boolean {
    const e = this.m.get(key);
    return !e || (e.add <= 0 && e.del <= 0) || this.now() - e.at > TTL_MS;
  }

  /** Record that `add` creations and `del` deletions are in flight. */
  expect(key: string, add: number, del: number): void {
    this.m.set(key, { add, del, at: this.now() });
  }

  /** One creation was seen (or failed). */
  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.add--;
  }

  /** One deletion was seen (or failed). */
  deletionObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.del--;
  }

  /** Forget `key` (its object is gone). */
  delete(key: string): void {
    this.m.delete(key);
  }
}
