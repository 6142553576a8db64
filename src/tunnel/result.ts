// The caller-owned, reusable outcome of one core call (no per-packet
// allocation: a core fills this object and returns its verdict).

import type { Tunnel } from './tunnel.js';

export const Verdict = {
  /** Nothing to emit; `drop` says why. */
  Drop: 0,
  /** Send the outer IPv4 packet buf[off, off+len) to `dst` (u32) on the underlay (IP header included). */
  Xmit: 1,
  /** Write the inner packet buf[off, off+len) into `tunnel`'s TUN/TAP device. */
  Deliver: 2,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Largest ICMP error the cores build: IPv6 40 + ICMPv6 8 + 1232 quoted = 1280 bytes. */
export const ICMP_SCRATCH_LEN = 1280;

export class PacketResult {
  verdict: Verdict = Verdict.Drop;
  /** Drop code when verdict is Drop (Drop.None otherwise). */
  drop = 0;
  off = 0;
  len = 0;
  /** Outer destination for Xmit. */
  dst = 0;
  /** The device concerned (sender for Xmit, receiver for Deliver, null if none matched). */
  tunnel: Tunnel | null = null;
  /**
   * When > 0, an ICMP/ICMPv6 error of icmpLen bytes sits in `icmp` and must be
   * written into `icmpTunnel`'s device (back to the inner sender, as
   * icmp_ndo_send does) — or, when `icmpToUnderlay`, sent on the underlay.
   */
  icmpLen = 0;
  icmpToUnderlay = false;
  icmpTunnel: Tunnel | null = null;
  readonly icmp = new Uint8Array(ICMP_SCRATCH_LEN);

  clear(): void {
    this.verdict = Verdict.Drop;
    this.drop = 0;
    this.off = 0;
    this.len = 0;
    this.dst = 0;
    this.tunnel = null;
    this.icmpLen = 0;
    this.icmpToUnderlay = false;
    this.icmpTunnel = null;
  }
}
