// Per-condition log rate limit: at most `burst` lines per condition in each
// window of `intervalMs`, the window starting at the condition's first line.
// What is held back is counted, so the caller can report "suppressed K".
// Times are monotonic ms passed in (no clock read here).

interface Window<T> {
  readonly meta: T;
  startMs: number;
  lines: number;
  suppressed: number;
}

export class RateLimiter<T> {
  private readonly windows = new Map<string, Window<T>>();

  constructor(readonly burst: number, readonly intervalMs: number) {
    if (!(burst >= 1) || !(intervalMs > 0)) throw new RangeError(`rate limit ${burst} per ${intervalMs} ms`);
  }

  /**
   * One line of condition `key` at nowMs: -1 when it must be held back (and
   * is counted); otherwise how many lines of this condition were held back
   * in its previous window and not yet reported (report them first).
   */
  admit(key: string, meta: T, nowMs: number): number {
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { meta, startMs: nowMs, lines: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    let held = 0;
    if (nowMs - w.startMs >= this.intervalMs) {
      held = w.suppressed;
      w.startMs = nowMs;
      w.lines = 0;
      w.suppressed = 0;
    }
    if (w.lines >= this.burst) {
      w.suppressed++;
      return -1;
    }
    w.lines++;
    return held;
  }

  /**
   * Conditions whose window has ended by nowMs, forgotten (so the table only
   * holds conditions active in the last interval); returned with their
   * unreported count when it is above 0.
   */
  drain(nowMs: number): [T, number][] {
    const out: [T, number][] = [];
    for (const [k, w] of this.windows) {
      if (nowMs - w.startMs < this.intervalMs) continue;
      if (w.suppressed > 0) out.push([w.meta, w.suppressed]);
      this.windows.delete(k);
    }
    return out;
  }

  /** Conditions tracked (tests). */
  get size(): number { return this.windows.size; }
}
