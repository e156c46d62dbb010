// The one polling helper for tests that wait on real processes, sockets or background loops: `f` until it
// returns a truthy value or `ms` pass, every `stepMs`; errors thrown by `f` are retried, and the last one
// is named in the timeout message. (Tests on timers use lib/time's FakeClock instead of waiting.)

/** Poll `f` until it returns a truthy value or `ms` pass; the error names `what`. */
export async function waitFor<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000, stepMs = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) break;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
