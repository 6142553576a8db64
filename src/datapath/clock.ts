// The daemon's clocks for the data path (DatapathClocks), read once per
// batch without making garbage.
//
// A JS number that is not a small integer (performance.now()'s fraction,
// Date.now()'s 1.7e12) lives in a heap box, and both functions return a new
// box per call; passing such a value on makes boxes too. Two clock readings
// per batch were two or more allocations per batch: at full speed, a
// young-generation GC every few seconds from the clocks alone. Here the
// addon writes both clocks into a Float64Array (native/tk_clock.h, nothing
// allocated) and the last reading of each is kept as a JS number: until the
// clock reaches the next millisecond, every caller gets that same number, so
// each clock makes at most one box per millisecond, whatever the packet rate.
// now() counts from 0 and stays a small integer (no box at all) for the
// first 2^31 ms, 24.8 days; wallNow() (1.7e12) always needs its box.
//
// Contract: now() is CLOCK_MONOTONIC in whole ms since this object was made
// (performance.now()'s kind of clock, rounded down); wallNow() is
// CLOCK_REALTIME in whole ms (Date.now()). Both are bound: they may be
// passed around as plain functions.

import { loadNative } from '../io/native.js';
import type { NativeAddon } from '../io/native.js';
import type { DatapathClocks } from './events.js';

export class MsClocks implements DatapathClocks {
  private readonly n: NativeAddon = loadNative();
  /** clockRead's output: [monotonic ms, wall ms]; this object's own, rewritten by every reading. */
  private readonly raw = new Float64Array(2);
  private readonly origin: number;
  // The last readings. Starting as null keeps V8's field representation
  // "tagged" (the field points at the number's box) rather than "double" (a
  // box of the field's own, copied into a new box on every read), which is
  // what makes a repeated reading free.
  private mono: number | null = null;
  private wall: number | null = null;

  constructor() {
    this.n.clockRead(this.raw);
    this.origin = this.raw[0]!;
  }

  /** Monotonic ms (whole, since construction), for the tunnel cores. */
  readonly now = (): number => {
    this.n.clockRead(this.raw);
    const t = this.raw[0]! - this.origin;
    if (t !== this.mono) this.mono = t;
    return this.mono!;
  };

  /** Wall-clock ms (whole, Unix epoch), for the xfrm core. */
  readonly wallNow = (): number => {
    this.n.clockRead(this.raw);
    const t = this.raw[1]!;
    if (t !== this.wall) this.wall = t;
    return this.wall!;
  };
}
