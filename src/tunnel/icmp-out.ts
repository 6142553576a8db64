// ICMP errors the tunnel sends back to the *inner* sender, written into the
// PacketResult's scratch buffer (icmp_ndo_send / icmpv6_ndo_send from
// tnl_update_pmtu and ipip6_tunnel_xmit, dst_link_failure).
//
// Source address: the kernel lets icmp_send pick the address of the route
// back to the sender. A userspace daemon writes the error *into* the TUN, and
// a packet entering from the TUN with one of the host's own addresses as its
// source would be dropped as martian, so the error is sourced from the
// offending packet's destination (the far side of the tunnel) — any source is
// accepted for FRAG_NEEDED / PKT_TOOBIG as long as the quote matches a flow.
// On gretap the error is framed in Ethernet (see ethReply).
// Neither FRAG_NEEDED nor PKT_TOOBIG is rate limited by the kernel
// (icmpv4_xrlim_allow: "Don't limit PMTU discovery"; icmpv6_xrlim_allow).

import { buildIcmp4Error, icmp4ErrorTos, mayReplyIcmp4Error } from '../wire/icmp4.js';
import type { Icmp4ErrorArgs } from '../wire/icmp4.js';
import { buildIcmp6Error, mayReplyIcmp6Error } from '../wire/icmp6.js';
import type { Icmp6ErrorArgs } from '../wire/icmp6.js';
import { Ip4Packet } from '../wire/ip4.js';
import { Ip6Packet } from '../wire/ip6.js';
import type { PacketResult } from './result.js';
import type { Tunnel } from './tunnel.js';
import { IP_DEFAULT_TTL } from './types.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../wire/eth.js';
import { be16 } from '../wire/bytes.js';

/**
 * gretap: the error goes back into the TAP as an Ethernet frame, from the
 * offending frame's destination MAC to its source MAC.
 */
function ethReply(out: Uint8Array, frame: Uint8Array, frameOff: number, etherType: number): void {
  for (let i = 0; i < 6; i++) {
    out[i] = frame[frameOff + 6 + i]!;
    out[6 + i] = frame[frameOff + i]!;
  }
  out[12] = etherType >>> 8;
  out[13] = etherType & 0xff;
}

/** The views and argument records an ICMP error is built with; each PacketResult owns one (no module state). */
export class IcmpOutScratch {
  readonly ip4 = new Ip4Packet();
  readonly ip6 = new Ip6Packet();
  readonly args4: Icmp4ErrorArgs = { type: 0, code: 0, info: 0, src: 0, dst: 0, ttl: IP_DEFAULT_TTL, tos: 0, ident: 0 };
  readonly args6: Icmp6ErrorArgs = {
    type: 0, code: 0, info: 0, hopLimit: IP_DEFAULT_TTL,
    srcBuf: new Uint8Array(16), srcOff: 0, dstBuf: new Uint8Array(16), dstOff: 0,
  };
  /** ::ffff:a.b.c.d, the relayed error's forced source. */
  readonly mapped = new Uint8Array(16);
  /** A relayed error's quote, length-trimmed. */
  readonly quote6 = new Uint8Array(1280);
}

/**
 * Builds an ICMPv4 error about the IPv4 packet at b[off, off+len) into r.icmp,
 * addressed to its sender, if icmp_send's eligibility rules allow one.
 * Returns true when an error was built.
 */
export function icmp4ToSender(
  t: Tunnel, r: PacketResult, b: Uint8Array, off: number, len: number, type: number, code: number, info: number,
): boolean {
  const at = t.hhLen;
  const { ip4, args4 } = r.scratch;
  if (ip4.check(b, off, len) !== 0 || !mayReplyIcmp4Error(ip4)) return false;
  args4.type = type;
  args4.code = code;
  args4.info = info;
  args4.src = ip4.dst;
  args4.dst = ip4.src;
  args4.tos = icmp4ErrorTos(ip4.tos);
  args4.ident = t.ident = (t.ident + 1) & 0xffff;
  // Quote no more than the datagram claims (ip_rcv trims to tot_len).
  r.icmpLen = at + buildIcmp4Error(r.icmp, at, args4, b, off, ip4.totalLen);
  if (at !== 0) ethReply(r.icmp, b, off - at, ETH_P_IP);
  r.icmpTunnel = t;
  return true;
}

/** As icmp4ToSender for an IPv6 packet (icmp6_send eligibility, 1280-byte limit). */
export function icmp6ToSender(
  t: Tunnel, r: PacketResult, b: Uint8Array, off: number, len: number, type: number, code: number, info: number,
): boolean {
  const at = t.hhLen;
  const { ip6, args6 } = r.scratch;
  if (ip6.check(b, off, len) !== 0 || !mayReplyIcmp6Error(ip6, type, code)) return false;
  args6.type = type;
  args6.code = code;
  args6.info = info;
  args6.srcBuf = b;
  args6.srcOff = ip6.dstOffset;
  args6.dstBuf = b;
  args6.dstOff = ip6.srcOffset;
  r.icmpLen = at + buildIcmp6Error(r.icmp, at, args6, b, off, 40 + ip6.payloadLen);
  if (at !== 0) ethReply(r.icmp, b, off - at, ETH_P_IPV6);
  r.icmpTunnel = t;
  return true;
}

/**
 * ip6_err_gen_icmpv6_unreach's send: an ICMPv6 error about the *quoted*
 * IPv6 packet b[off, off+len) (usually truncated by the router that quoted
 * it), forced to come from ::ffff:<v4From> (icmp6_send's force_saddr). The
 * quote is copied into scratch with its payload length trimmed to what is
 * present so the eligibility walk stays inside it; the original field is
 * restored in the bytes quoted back.
 */
export function relayIcmp6(
  t: Tunnel, r: PacketResult, b: Uint8Array, off: number, len: number, type: number, code: number, v4From: number,
): boolean {
  const { mapped, quote6, args6 } = r.scratch;
  const n = Math.min(len, quote6.length);
  if (n < 48) return false;
  quote6.set(b.subarray(off, off + n));
  const claimed = be16(quote6, 4);
  const present = Math.min(claimed, n - 40);
  quote6[4] = present >>> 8;
  quote6[5] = present & 0xff;
  if (!icmp6ToSender(t, r, quote6, 0, 40 + present, type, code, 0)) return false;
  mapped.fill(0);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped[12] = v4From >>> 24;
  mapped[13] = (v4From >>> 16) & 0xff;
  mapped[14] = (v4From >>> 8) & 0xff;
  mapped[15] = v4From & 0xff;
  quote6[4] = claimed >>> 8;
  quote6[5] = claimed & 0xff;
  args6.srcBuf = mapped;
  args6.srcOff = 0;
  const at = t.hhLen;
  r.icmpLen = at + buildIcmp6Error(r.icmp, at, args6, quote6, 0, 40 + present);
  return true;
}
