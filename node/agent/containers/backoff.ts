// Restart policy and Kubernetes' crash back-off: the first restart is immediate, then 10 s doubling to
// 5 min; a container that ran for 10 min resets the sequence. Pure functions, so the math is tested
// by tables and the worker only asks "restart? after how long?".

/** Back-off parameters (Kubernetes' values by default; tests shrink them). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/** kubelet's values. */
export const kubeletBackoff: BackoffPolicy = Object.freeze({ initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 });

/** Whether a container that exited with `exitCode` is restarted under `policy`. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true; // Always (the default)
}

/** The back-off state kept per container. */
export interface BackoffState {
  /** the delay used last time (undefined: no crash yet, or reset) */
  lastDelayMs?: number;
}

/**
 * The delay before the next start after an exit, and the state to keep. `ranMs` is how long the
 * container ran before this exit; a long run resets the sequence.
 */
export function nextDelay(state: BackoffState, ranMs: number, p: BackoffPolicy = kubeletBackoff): { delayMs: number; state: BackoffState } {
  if (ranMs >= p.resetAfterMs || state.lastDelayMs === undefined) {
    // first crash (or after a long healthy run): restart at once, arm the 10 s step for next time
    return { delayMs: 0, state: { lastDelayMs: 0 } };
  }
  const delayMs = state.lastDelayMs === 0 ? p.initialMs : Math.min(state.lastDelayMs * 2, p.maxMs);
  return { delayMs, state: { lastDelayMs: delayMs } };
}
