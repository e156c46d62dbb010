// Polling for tests that wait on real processes: `f` until it returns a truthy value or `ms` pass, every
// 100 ms; errors thrown by `f` are retried, and the last one is named in the timeout message.

/** Poll `f` until it returns a truthy value or `ms` pass; the error names `what`. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
