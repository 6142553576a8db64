// The data path's one slab geometry (style.md §5), sized from the MTUs:
//
//   device slot = | HEADROOM 128 | largest device frame | TAILROOM 64 |  (rounded to 64)
//   frame       = device MTU, + 14 for a TAP (gretap: Ethernet header)
//
// HEADROOM and TAILROOM are io/pool.ts's (the one copy of the constants;
// the worst cases they cover are documented there). Every device read batch
// uses this stride (the read arena's, arena.ts ReadArena, made anew when the
// stride grows), so a packet read from any device has the headroom for
// every encapsulation tunkit builds and the tailroom for the ESP trailer,
// and the cores are given its slot end, not the slab's.
//
// Receive slots (raw sockets, the NAT-T socket) are not sized from here:
// the kernel hands raw sockets reassembled datagrams of up to 65535 bytes
// (an outer packet fragmented on the way, a peer with a larger MTU), and
// the kernel's own tunnel receive handles those too. io/raw.ts therefore
// keeps MTU_MAX-sized receive slots: a few conns × 64 slots × 64 KiB of
// virtual memory whose pages are committed only as far as packets reach,
// instead of a truncation drop that the kernel would not make.

import { MTU_MAX, strideFor } from '../io/pool.js';

/** Ethernet header a TAP frame carries beyond the device MTU (ETH_HLEN). */
export const ETH_HLEN = 14;
/** The smallest frame slots are sized for: a TUN's default MTU (ETH_DATA_LEN). */
export const MIN_FRAME = 1500;

export class SlotGeometry {
  /** Largest device frame a slot holds, bytes. */
  private frameLen = MIN_FRAME;

  /** Bytes per slot for the current largest frame. */
  get stride(): number { return strideFor(this.frameLen); }
  get frame(): number { return this.frameLen; }

  /**
   * Makes room for frames of `frame` bytes (a device's MTU + ETH_HLEN for a
   * TAP); returns true when the stride grew (batches must be reallocated).
   * Slots never shrink: a smaller MTU later costs memory, never packets.
   */
  fit(frame: number): boolean {
    const f = Math.min(Math.max(frame, MIN_FRAME), MTU_MAX + ETH_HLEN);
    if (f <= this.frameLen) return false;
    this.frameLen = f;
    return true;
  }
}
