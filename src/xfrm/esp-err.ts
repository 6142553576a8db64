// Underlay ICMP errors about our ESP packets: net/ipv4/esp4.c esp4_err (and,
// for ESP-in-UDP, the UDP encap socket's err path, which ends in the same
// state lookup). Only DEST_UNREACH/FRAG_NEEDED matters for the data path:
// the quoted packet names the SA by (daddr, SPI); when one exists, the path
// MTU toward the peer drops to the router's next-hop MTU
// (ipv4_update_pmtu), so the state's payload MTU (esp4_get_mtu) follows,
// until the learnt value expires after ip_rt_mtu_expires (600 s; XfrmStack.tick).
// REDIRECT (ipv4_redirect) has no userspace counterpart and is ignored.
// Nothing allocates; malformed messages are ignored (the kernel's icmp_rcv
// drops them before any handler runs).

import { be16, be32 } from '../wire/bytes.js';
import { Icmp4Packet, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from '../wire/icmp4.js';
import { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_ESP, IPPROTO_ICMP, IPPROTO_UDP } from '../wire/ipproto.js';
import type { Sad } from './sad.js';
import type { XfrmState } from './state.js';

/** The lowest path MTU ipv4_update_pmtu accepts (ip_rt_min_pmtu, 552 by default). */
export const IP_RT_MIN_PMTU = 552;

/** The views espErr rebinds per message (the caller's: XfrmStack owns one). */
export class EspErrViews {
  readonly outer = new Ip4Packet();
  readonly icmp = new Icmp4Packet();
}

/**
 * One ICMP packet b[off, off+len) from the raw ICMP socket (outer IPv4
 * header included) at nowMs (the xfrm core's clock). Returns the SA whose
 * routeMtu was lowered, or null.
 */
export function espErr(sad: Sad, v: EspErrViews, b: Uint8Array, off: number, len: number, nowMs: number): XfrmState | null {
  const outer = v.outer;
  const icmp = v.icmp;
  if (outer.check(b, off, len) !== 0 || outer.protocol !== IPPROTO_ICMP) return null;
  if (icmp.check(b, outer.payloadOffset, outer.payloadLen) !== 0 || !icmp.verifyChecksum()) return null;
  if (icmp.type !== ICMP_DEST_UNREACH || icmp.code !== ICMP_FRAG_NEEDED) return null;
  const q = icmp.payloadOffset;
  const qEnd = q + icmp.payloadLen;
  if (qEnd - q < 20 || b[q]! >>> 4 !== 4) return null;
  const hl = (b[q]! & 0xf) << 2;
  let spiOff = q + hl;
  if (b[q + 9] === IPPROTO_UDP) spiOff += 8; // RFC 3948: the SPI follows the UDP header
  else if (b[q + 9] !== IPPROTO_ESP) return null;
  if (hl < 20 || spiOff + 4 > qEnd) return null;
  const x = sad.lookupIn(be32(b, spiOff), 4, b, q + 16);
  if (x === null) return null;
  // ip_rt_update_pmtu → __ip_rt_update_pmtu: never below ip_rt_min_pmtu, never up; expires (XfrmState.expirePmtu).
  const mtu = Math.max(be16(b, icmp.offset + 6), IP_RT_MIN_PMTU);
  return x.learnPmtu(mtu, nowMs) ? x : null;
}
