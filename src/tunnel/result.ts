// The caller-owned, reusable outcome of one core call (no per-packet
// allocation: a core fills this object and returns its verdict).

import { IcmpOutScratch } from './icmp-out.js';
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

/** What became of an Xmit packet after the core built it (txDone, iptunnel_xmit's accounting). */
export const TxOutcome = {
  /** ip_local_out took it: tx_packets, tx_bytes. */
  Sent: 0,
  /** ip_local_out refused it (the send failed, or the socket buffer was full): tx_dropped. */
  Dropped: 1,
  /** The route lookup failed after encapsulation (xfrm_lookup refused it): tx_carrier_errors, tx_errors. */
  NoRoute: 2,
} as const;
export type TxOutcome = (typeof TxOutcome)[keyof typeof TxOutcome];

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
  /** Xmit: the inner network length iptunnel_xmit_stats counts in tx_bytes (pass it to txDone). */
  innerLen = 0;
  /** The device concerned (sender for Xmit, receiver for Deliver, null if none matched). */
  tunnel: Tunnel | null = null;
  /**
   * When > 0, an ICMP/ICMPv6 error of icmpLen bytes sits in `icmp` and must be
   * written into `icmpTunnel`'s device (back to the inner sender, as
   * icmp_ndo_send does).
   */
  icmpLen = 0;
  icmpTunnel: Tunnel | null = null;
  readonly icmp = new Uint8Array(ICMP_SCRATCH_LEN);
  /** What icmp-out.ts builds errors with (views, argument records). */
  readonly scratch = new IcmpOutScratch();

  clear(): void {
    this.verdict = Verdict.Drop;
    this.drop = 0;
    this.off = 0;
    this.len = 0;
    this.dst = 0;
    this.innerLen = 0;
    this.tunnel = null;
    this.icmpLen = 0;
    this.icmpTunnel = null;
  }
}
