// GRO candidacy and matching rules, after the kernel's inet_gro_receive /
// ipv6_gro_receive (net/ipv4/af_inet.c, net/ipv6/ip6_offload.c) and
// tcp_gro_receive (net/ipv4/tcp_offload.c). Pure functions over views the
// caller has bound; nothing here allocates or keeps state.

import { bytesEqual } from '../wire/bytes.js';
import { sum16, fold16, pseudoSum4At, pseudoSum6 } from '../wire/checksum.js';
import type { Ip4Packet } from '../wire/ip4.js';
import type { Ip6Packet } from '../wire/ip6.js';
import { IPPROTO_TCP } from '../wire/ipproto.js';
import { TCP_ACK, TCP_CWR, TCP_OFF_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';
import type { TcpHeader } from '../wire/tcp.js';

/** Flags that keep a segment out of any merge (tcp_gro_receive flushes on them). */
export const TCP_NO_MERGE = TCP_SYN | TCP_FIN | TCP_RST | TCP_URG;
/** Flags allowed to differ between a run's head and a later member (PSH ends a run, CWR only on the head). */
export const TCP_FLAGS_MAY_DIFFER = TCP_CWR | TCP_PSH;

/**
 * A TCP segment GRO may merge: ACK set, none of SYN/FIN/RST/URG, payload
 * present. (PSH may end a run; CWR may start one.)
 */
export const tcpMergeable = (tcp: TcpHeader): boolean =>
  (tcp.flags & (TCP_NO_MERGE | TCP_ACK)) === TCP_ACK && tcp.payloadLen > 0;

/**
 * IPv4 header GRO accepts: 20 bytes (inet_gro_receive requires 0x45), TCP,
 * not a fragment, reserved bit clear, total length equal to the bytes we
 * have, and a valid header checksum (inet_gro_receive drops those; we rewrite
 * the checksum, so a bad one must not be laundered).
 */
export const ip4GroCandidate = (ip: Ip4Packet, size: number): boolean =>
  ip.headerLen === 20 && ip.protocol === IPPROTO_TCP && ip.totalLen === size &&
  (ip.flagsFrag & 0xbfff) === 0 && ip.verifyChecksum();

/** IPv6 header GRO accepts here: TCP right after the fixed header, payload length matching the bytes we have. */
export const ip6GroCandidate = (ip: Ip6Packet, size: number): boolean =>
  ip.nextHeader === IPPROTO_TCP && 40 + ip.payloadLen === size;

/** Mixes 32-bit words into a flow hash (Math.imul keeps it in int32; no allocation). */
export const mix = (h: number, w: number): number => Math.imul((h ^ w) >>> 0, 0x9e3779b1) ^ (h >>> 15);

/**
 * All IPv4 fields that must match between a run's head `a` and a member `b`
 * besides lengths, checksum and ID (inet_gro_flush): TOS, TTL, flags word.
 */
export const ip4Compatible = (a: Ip4Packet, b: Ip4Packet): boolean =>
  a.tos === b.tos && a.ttl === b.ttl && a.flagsFrag === b.flagsFrag;

/** IPv6: version, traffic class and flow label (the first word) and hop limit match (ipv6_gro_receive). */
export const ip6Compatible = (a: Ip6Packet, b: Ip6Packet): boolean =>
  a.trafficClass === b.trafficClass && a.flowLabel === b.flowLabel && a.hopLimit === b.hopLimit;

/**
 * TCP fields that must match (tcp_gro_receive): header length, options byte
 * for byte, ACK number, and the flags except CWR/PSH; a member must not carry
 * CWR (the kernel flushes on it: CWR only starts a run).
 */
export function tcpCompatible(head: TcpHeader, m: TcpHeader): boolean {
  const hl = head.headerLen;
  // The ACK numbers compared as bytes: a uint32 above 2^31 read through the
  // getter is a heap number, one allocation per segment in this loop.
  if (hl !== m.headerLen || !bytesEqual(head.buffer, head.offset + TCP_OFF_ACK, m.buffer, m.offset + TCP_OFF_ACK, 4)) return false;
  if ((m.flags & TCP_CWR) !== 0 || ((head.flags ^ m.flags) & ~TCP_FLAGS_MAY_DIFFER) !== 0) return false;
  return hl === 20 || bytesEqual(head.buffer, head.offset + 20, m.buffer, m.offset + 20, hl - 20);
}

/** RFC 9293 §3.1 checksum of the bound TCP segment under an IPv4 pseudo-header. */
export const tcpChecksumOk4 = (ip: Ip4Packet, tcp: TcpHeader): boolean =>
  fold16(sum16(tcp.buffer, tcp.offset, tcp.length, pseudoSum4At(ip.buffer, ip.offset, IPPROTO_TCP, tcp.length))) === 0xffff;

/** Same under the IPv6 pseudo-header (RFC 8200 §8.1). */
export const tcpChecksumOk6 = (ip: Ip6Packet, tcp: TcpHeader): boolean =>
  fold16(sum16(tcp.buffer, tcp.offset, tcp.length,
    pseudoSum6(ip.buffer, ip.srcOffset, ip.buffer, ip.dstOffset, IPPROTO_TCP, tcp.length))) === 0xffff;
