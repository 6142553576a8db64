// Runs an expensive "bring the kernel in line with the tables" step (policy
// routes, the nf_tables ruleset) after changes, without running it once per
// change: tunkit -batch adding N policies would otherwise redo O(N) work N
// times (2,000 SA pairs took minutes) and stall the packet loop meanwhile.
//
//   schedule()  the first change after a quiet spell runs fn on the next turn
//               of the loop (setImmediate: after the control reply); changes
//               that follow within max(minGapMs, 4 × fn's last cost) are
//               folded into one later run, so fn takes at most about a fifth
//               of the time however fast changes come.
//   flush()     runs fn now if a run is pending (before a reply that must see it).
//   stop()      cancels a pending run.

import { performance } from 'node:perf_hooks';

export class Coalescer {
  private pending: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastRunAt = -Infinity;
  private lastCostMs = 0;

  constructor(private readonly fn: () => void, private readonly minGapMs = 20) {}

  schedule(): void {
    if (this.pending !== null || this.timer !== null) return;
    const wait = Math.max(this.minGapMs, 4 * this.lastCostMs) - (performance.now() - this.lastRunAt);
    if (wait <= 0) this.pending = setImmediate(() => this.run());
    else this.timer = setTimeout(() => this.run(), Math.ceil(wait));
  }

  flush(): void {
    if (this.pending !== null || this.timer !== null) this.run();
  }

  /** Runs fn now (cancelling a pending run), timing it for the next gap. */
  run(): void {
    this.stop();
    const t0 = performance.now();
    try {
      this.fn();
    } finally {
      this.lastRunAt = performance.now();
      this.lastCostMs = this.lastRunAt - t0;
    }
  }

  stop(): void {
    if (this.pending !== null) clearImmediate(this.pending);
    if (this.timer !== null) clearTimeout(this.timer);
    this.pending = null;
    this.timer = null;
  }
}
