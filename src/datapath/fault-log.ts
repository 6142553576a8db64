// Faults of the packet loop: an exception while handling a packet (a bug, or
// a device or socket that died) drops that packet, is counted, and is logged
// at most once every FAULT_LOG_INTERVAL_MS with how many were suppressed, so
// a fault on every packet cannot flood the log or kill the daemon.

import type { DatapathClocks, DatapathStats } from './datapath.js';

/** At most one fault message per this many ms. */
export const FAULT_LOG_INTERVAL_MS = 10_000;

export class FaultLog {
  private lastLogMs = -Infinity;
  private unlogged = 0;

  constructor(private readonly stats: DatapathStats, private readonly clock: DatapathClocks, private readonly log: (msg: string) => void) {}

  /** Counts `packets` dropped at `where` because of e; logs if the interval has passed. */
  note(where: string, e: unknown, packets = 1): void {
    this.stats.faults += packets;
    this.unlogged++;
    const now = this.clock.now();
    if (now - this.lastLogMs < FAULT_LOG_INTERVAL_MS) return;
    this.lastLogMs = now;
    const more = this.unlogged > 1 ? ` (${this.unlogged - 1} more since the last report)` : '';
    this.unlogged = 0;
    this.log(`datapath ${where}: ${e instanceof Error ? e.message : String(e)}${more}`);
  }
}
