// The one fake clock for every test: time stands still until the test moves it. `advance(ms)` runs every
// timer that falls due, in order of due time (timers set by a firing timer run too if they fall inside
// the step), and awaits the microtasks they queue, so async work started by a timer settles before the
// next one fires.

import type { Clock } from './clock.js';

interface Timer {
  id: number;
  due: number;
  fn: () => void;
  every?: number;
}

/** A Clock driven by the test. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { id, due: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { id, due: this.t + Math.max(1, ms), fn, every: Math.max(1, ms) });
    return id;
  }

  clearInterval(h: unknown): void {
    this.timers.delete(h as number);
  }

  /** How many timers are pending. */
  pending(): number {
    return this.timers.size;
  }

  /** When the next timer falls due (undefined: none). */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const x of this.timers.values()) if (min === undefined || x.due < min) min = x.due;
    return min;
  }

  /** Moves time forward by `ms`, firing what falls due on the way (and letting its promises settle). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let x = this.takeDue(end); x; x = this.takeDue(end)) {
      x.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /** `advance` without awaiting microtasks in between (for purely synchronous timer callbacks). */
  advanceSync(ms: number): void {
    const end = this.t + ms;
    for (let x = this.takeDue(end); x; x = this.takeDue(end)) x.fn();
    this.t = end;
  }

  /** The earliest timer due by `end` (time moves to it; an interval is rescheduled, a timeout removed). */
  private takeDue(end: number): Timer | undefined {
    const next = [...this.timers.values()].filter((x) => x.due <= end).sort((a, b) => a.due - b.due || a.id - b.id)[0];
    if (!next) return undefined;
    this.t = Math.max(this.t, next.due);
    if (next.every) next.due += next.every;
    else this.timers.delete(next.id);
    return next;
  }
}

/** Lets queued promise callbacks run (a few macrotask-free turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
