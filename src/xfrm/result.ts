// The caller-owned, reusable outcome of one xfrm core call (no per-packet
// allocation: the core fills this object and returns its verdict).

import type { XfrmState } from './state.js';

export const XVerdict = {
  /** Refused: `mib` names the /proc/net/xfrm_stat counter (or -1), `drop` a tunkit reason. */
  Drop: 0,
  /** Send the outer IPv4 packet buf[off, off+len) to `dst` (u32 bits, int32), IP header included. */
  Xmit: 1,
  /** Deliver the (decapsulated) IP packet buf[off, off+len); `ifId` picks the device. */
  Deliver: 2,
  /** No IPsec applies: pass the packet on unchanged (clear text allowed by policy). */
  Bypass: 3,
  /** Consumed without effect: a NAT keepalive (RFC 3948 §2.3), an ESP dummy packet (RFC 4303 §2.6). */
  Consumed: 4,
  /** Not for the ESP path (a UDP datagram to another port): leave it to the caller. */
  NotEsp: 5,
  /** An IKE message on the NAT-T port (non-ESP marker, RFC 3948 §2.2): buf[off, off+len) is the IKE message. */
  Ike: 6,
} as const;
export type XVerdict = (typeof XVerdict)[keyof typeof XVerdict];

/** tunkit's own reasons for drops the kernel's MIB has no counter for. */
export const XDrop = {
  None: 0,
  /** Outer IPv4 header malformed (ip_rcv_core would have dropped it). */
  BadOuter: 1,
  /** A packet reached the policy TUN or an xfrm interface but no out policy covers it. */
  NoPolicy: 2,
  /** The inner packet after decryption is not a well-formed IP packet of the announced protocol. */
  BadInner: 3,
  /** No room in the buffer for the ESP overhead (programmer error surfaced as a drop). */
  NoRoom: 4,
  /** Inner packet larger than the path allows: ICMP sent back (xfrm4_tunnel_check_size). */
  TooBig: 5,
} as const;
export type XDrop = (typeof XDrop)[keyof typeof XDrop];

export class XfrmResult {
  verdict: XVerdict = XVerdict.Drop;
  /** XfrmStat index of the counter incremented for a Drop, -1 if none. */
  mib = -1;
  drop: XDrop = XDrop.None;
  off = 0;
  len = 0;
  /** Outer destination for Xmit: the u32's bits as an int32 (a Uint32Array store makes it unsigned again). */
  dst = 0;
  /** if_id of the SA that decrypted a Deliver (0 = the policy TUN). */
  ifId = 0;
  /** The SA used (Xmit, Deliver) or refused, null if none. */
  state: XfrmState | null = null;
  /** True when a transport-mode SA delivered (the payload is the host's own, e.g. GRE). */
  isTransport = false;
  /** This packet took its SA across a soft byte/packet limit: raise the soft expire event (once). */
  softExpired = false;
  /** When > 0: an ICMP/ICMPv6 error (PMTU) of icmpLen bytes in `icmp`, to write back to the inner sender. */
  icmpLen = 0;
  /** Xmit with a SealQueue: the packet's entry there (sealed at XfrmStack.sealPending); -1 when already sealed. */
  sealIdx = -1;
  /** Largest error: IPv6 40 + ICMPv6 8 + 1232 quoted. */
  readonly icmp = new Uint8Array(1280);

  clear(): void {
    this.icmpLen = 0;
    this.softExpired = false;
    this.verdict = XVerdict.Drop;
    this.mib = -1;
    this.drop = XDrop.None;
    this.off = 0;
    this.len = 0;
    this.dst = 0;
    this.ifId = 0;
    this.state = null;
    this.isTransport = false;
    this.sealIdx = -1;
  }
}
