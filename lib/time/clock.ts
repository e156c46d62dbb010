// The one time seam: every component that waits (work queues, leader election, probes, restarts,
// bounded-frequency sync runners, the store compactor, the API server's repair loop) takes a Clock;
// tests hand in FakeClock (fake.ts) and move time by hand instead of sleeping. Real timers are unref'd so
// a timer alone never holds a process open (servers and sockets do that).

/** Time and timers, injectable for tests. */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(h: unknown): void;
}

const unref = <T>(h: T): T => {
  (h as { unref?: () => void }).unref?.();
  return h;
};

/** The real clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => unref(setTimeout(fn, ms)),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => unref(setInterval(fn, ms)),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock` (a real, ref'd timer by default: awaiting a sleep keeps the process up). */
export function sleep(ms: number, clock?: Clock): Promise<void> {
  return new Promise((r) => (clock ? clock.setTimeout(r, ms) : setTimeout(r, ms)));
}

/** RFC 3339 with whole seconds (`2024-05-01T10:00:00Z`), as Kubernetes writes `metav1.Time`. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Polls `f` until it returns a value (not undefined) or `ms` pass, every `stepMs`; undefined on timeout. */
export async function pollFor<T>(f: () => T | undefined, ms: number, stepMs = 2, clock?: Clock): Promise<T | undefined> {
  const now = () => (clock ?? realClock).now();
  const end = now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (now() > end) return undefined;
    await sleep(stepMs, clock);
  }
}
