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

/**
 * I/O conditions of the loop that last (a send refused with ENOBUFS or
 * ENETUNREACH, a full socket buffer, a device read failing): each is logged
 * once when it starts and once when it ends ("recovered", with the packets
 * lost meanwhile), however many batches it spans; the packets themselves
 * are counted where they are dropped (the device's tx_dropped/tx_errors,
 * the conn's stats). Keys are short fixed strings such as "send ENOBUFS"
 * or "read gre1": the set stays as small as the set of devices.
 *
 * A condition that flickers (a socket buffer kept nearly full by a slow
 * qdisc: most batches refused, now and then one that fits) would log a
 * start and an end per flicker; clear() with a hold declares the end only
 * once the condition has not been seen for that long, so it is one start
 * and one end for the whole episode.
 */
export class ConditionLog {
  /** key → packets lost to it, and when it was last seen (ms, `now`). */
  private readonly lost = new Map<string, { n: number; lastMs: number }>();

  constructor(private readonly log: (msg: string, isRecovery: boolean) => void, private readonly now: () => number = () => 0) {}

  /** Conditions in progress (0 on the fast path: callers test it before anything else). */
  get active(): number { return this.lost.size; }

  /** Condition `key` seen again, `packets` lost to it; logs only when it starts. */
  note(key: string, packets: number, why: string): void {
    const c = this.lost.get(key);
    if (c !== undefined) {
      c.n += packets;
      c.lastMs = this.now();
      return;
    }
    this.lost.set(key, { n: packets, lastMs: this.now() });
    this.log(`datapath ${key}: ${why} (logged once until it clears)`, false);
  }

  /**
   * Conditions whose key starts with `prefix` have ended: one "recovered"
   * line each — for those not seen in the last `holdMs` ms; the others stay
   * (a later clear() ends them).
   */
  clear(prefix: string, holdMs = 0): void {
    const now = holdMs > 0 ? this.now() : 0;
    for (const [key, c] of this.lost) {
      if (!key.startsWith(prefix) || (holdMs > 0 && now - c.lastMs < holdMs)) continue;
      this.lost.delete(key);
      this.log(`datapath ${key}: recovered, ${c.n} packets lost meanwhile`, true);
    }
  }

  /** Whether condition `key` is in progress. */
  has(key: string): boolean { return this.lost.has(key); }
}
