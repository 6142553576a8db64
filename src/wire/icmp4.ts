// ICMP for IPv4: RFC 792 (message formats), RFC 1191 §4 (the Next-Hop MTU
// in Destination Unreachable / Fragmentation Needed), RFC 1122 §3.2.2 (when
// an error must not be sent). Kernel reference: net/ipv4/icmp.c
// (__icmp_send, icmp_pointers[], icmp_rcv) and include/uapi/linux/icmp.h.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Rest of header (type-specific)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data: echo payload, or the offending IP header + leading bytes |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Rest of header by type:
//   ECHO / ECHOREPLY     | Identifier (16)  | Sequence Number (16) |
//   DEST_UNREACH         | unused (16)      | Next-Hop MTU (16)    |  (MTU only for FRAG_NEEDED, RFC 1191 §4)
//   PARAMETERPROB        | Pointer (8) | unused (24)               |
//   REDIRECT             | Gateway Internet Address (32)           |
//   TIME_EXCEEDED, SOURCE_QUENCH: unused (32)
//
// The checksum covers the whole ICMP message (header + data), no
// pseudo-header. Buffer ownership: views read and write the caller's bytes in
// place and never copy; buildIcmp4Error writes into a caller-owned buffer.

import { be16, be32, put16, put32, spanOk } from './bytes.js';
import { checksum16, verify16 } from './checksum.js';
import { Drop } from './drop.js';
import { IP4_HDR_LEN } from './ip4.js';
import type { Ip4Packet } from './ip4.js';
import { IPPROTO_ICMP } from './ipproto.js';

// ---- types (include/uapi/linux/icmp.h) ----
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;
export const ICMP_INFO_REQUEST = 15;
export const ICMP_INFO_REPLY = 16;
export const ICMP_ADDRESS = 17;
export const ICMP_ADDRESSREPLY = 18;
/** Highest type in icmp_pointers[]; icmp_rcv drops anything above (except EXT_ECHO*). */
export const NR_ICMP_TYPES = 18;
/** RFC 8335 PROBE, handled by icmp_rcv before the NR_ICMP_TYPES check. */
export const ICMP_EXT_ECHO = 42;
export const ICMP_EXT_ECHOREPLY = 43;

// ---- DEST_UNREACH codes ----
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
/** Fragmentation needed and DF set: Next-Hop MTU in the low 16 bits of rest (RFC 1191 §4). */
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_NET_UNKNOWN = 6;
export const ICMP_HOST_UNKNOWN = 7;
export const ICMP_HOST_ISOLATED = 8;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_NET_UNR_TOS = 11;
export const ICMP_HOST_UNR_TOS = 12;
export const ICMP_PKT_FILTERED = 13;
export const ICMP_PREC_VIOLATION = 14;
export const ICMP_PREC_CUTOFF = 15;
export const NR_ICMP_UNREACH = 15;

// ---- REDIRECT codes ----
export const ICMP_REDIR_NET = 0;
export const ICMP_REDIR_HOST = 1;
export const ICMP_REDIR_NETTOS = 2;
export const ICMP_REDIR_HOSTTOS = 3;

// ---- TIME_EXCEEDED codes ----
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

export const ICMP_HDR_LEN = 8;

/** IPTOS_PREC_INTERNETCONTROL (include/uapi/linux/ip.h). */
export const IPTOS_PREC_INTERNETCONTROL = 0xc0;
/** IPTOS_TOS_MASK, the bits RT_TOS() keeps. */
export const IPTOS_TOS_MASK = 0x1e;
/** The datagram size every host accepts; __icmp_send caps the reply at it ("RFC says return as much as we can without exceeding 576 bytes"). */
export const ICMP4_ERROR_MAX_LEN = 576;
/** 576 - sizeof(iphdr) - sizeof(icmphdr): the most offending bytes an error quotes (no IP options in our replies). */
export const ICMP4_ERROR_MAX_QUOTE = ICMP4_ERROR_MAX_LEN - IP4_HDR_LEN - ICMP_HDR_LEN;

const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
const REST = 4;

const EMPTY = new Uint8Array(0);

/**
 * icmp_pointers[type].error from net/ipv4/icmp.c: besides the five named
 * error types the kernel also marks the unassigned/deprecated types 1, 2, 6,
 * 7, 9 and 10 as errors. Bit i set = type i is an error.
 */
const ERROR_TYPES =
  (1 << 1) | (1 << 2) | (1 << ICMP_DEST_UNREACH) | (1 << ICMP_SOURCE_QUENCH) | (1 << ICMP_REDIRECT) |
  (1 << 6) | (1 << 7) | (1 << 9) | (1 << 10) | (1 << ICMP_TIME_EXCEEDED) | (1 << ICMP_PARAMETERPROB);

/**
 * True for the types icmp_pointers[] marks `.error` (net/ipv4/icmp.c). Types
 * above NR_ICMP_TYPES are not in the table and return false here; note that
 * __icmp_send treats them as errors when deciding whether to reply
 * (see mayReplyIcmp4Error).
 */
export const isIcmp4Error = (type: number): boolean =>
  type >= 0 && type <= NR_ICMP_TYPES && ((ERROR_TYPES >>> type) & 1) === 1;


/**
 * A rebindable view of one ICMP message: the 8-byte header and the data
 * after it. The bound length is the whole message (the checksum covers it).
 * Nothing here allocates.
 */
export class Icmp4Packet {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = EMPTY;
    this.o = 0;
    this.n = 0;
  }

  /**
   * Parse gate for received bytes: Truncated when the range is outside b or
   * shorter than the 8-byte header (ICMP has no length field to validate).
   * The checksum is NOT checked here: call verifyChecksum() (Drop.BadIcmp).
   */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!spanOk(b, off, len) || len < ICMP_HDR_LEN) return Drop.Truncated;
    this.b = b;
    this.o = off;
    this.n = len;
    return Drop.None;
  }

  /** check(...) === Drop.None. */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds for emitting into garbage: b[off, off+len) inside b and len ≥ 8. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!spanOk(b, off, len) || len < ICMP_HDR_LEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  get type(): number { return this.b[this.o + TYPE]!; }
  set type(v: number) { this.b[this.o + TYPE] = v; }
  get code(): number { return this.b[this.o + CODE]!; }
  set code(v: number) { this.b[this.o + CODE] = v; }
  get checksum(): number { return be16(this.b, this.o + CHECKSUM); }
  set checksum(v: number) { put16(this.b, this.o + CHECKSUM, v); }
  /** The raw 32-bit "rest of header" word (icmphdr.un). */
  get rest(): number { return be32(this.b, this.o + REST); }
  set rest(v: number) { put32(this.b, this.o + REST, v); }
  /** FRAG_NEEDED: Next-Hop MTU, the low 16 bits of rest (RFC 1191 §4; icmphdr.un.frag.mtu). */
  get nextHopMtu(): number { return be16(this.b, this.o + REST + 2); }
  set nextHopMtu(v: number) { put16(this.b, this.o + REST + 2, v); }
  /** PARAMETERPROB: octet index of the problem in the offending packet (the top byte of rest). */
  get pointer(): number { return this.b[this.o + REST]!; }
  set pointer(v: number) { this.b[this.o + REST] = v; }
  /** REDIRECT: the gateway address (u32). */
  get gateway(): number { return be32(this.b, this.o + REST); }
  set gateway(v: number) { put32(this.b, this.o + REST, v); }
  get echoId(): number { return be16(this.b, this.o + REST); }
  set echoId(v: number) { put16(this.b, this.o + REST, v); }
  get echoSeq(): number { return be16(this.b, this.o + REST + 2); }
  set echoSeq(v: number) { put16(this.b, this.o + REST + 2, v); }

  /** Absolute index of the data after the 8-byte header. */
  get payloadOffset(): number { return this.o + ICMP_HDR_LEN; }
  get payloadLen(): number { return this.n - ICMP_HDR_LEN; }

  /** True when the checksum verifies over the whole bound message (icmp_rcv: skb_checksum_simple_validate). */
  verifyChecksum(): boolean {
    return verify16(this.b, this.o, this.n);
  }

  /** Zeroes the checksum field and stores the checksum over the whole bound message. */
  fillChecksum(): void {
    put16(this.b, this.o + CHECKSUM, 0);
    put16(this.b, this.o + CHECKSUM, checksum16(this.b, this.o, this.n));
  }
}

/**
 * A decoded ICMP header. `rest` is the raw type-specific word: echo id << 16 |
 * seq, the MTU for FRAG_NEEDED, pointer << 24 for PARAMETERPROB, the gateway
 * for REDIRECT. The checksum is not part of the Repr (it covers the data).
 */
export interface Icmp4Repr {
  readonly type: number;
  readonly code: number;
  readonly rest: number;
}

/**
 * Decodes the bound header. Null for a type icmp_rcv discards as unknown
 * ("18 is the highest 'known' ICMP type": > NR_ICMP_TYPES, except the RFC
 * 8335 EXT_ECHO/EXT_ECHOREPLY it handles first). Does not verify the
 * checksum; the caller does that with verifyChecksum().
 */
export function parseIcmp4(p: Icmp4Packet): Icmp4Repr | null {
  if (p.length < ICMP_HDR_LEN) return null;
  const type = p.type;
  if (type > NR_ICMP_TYPES && type !== ICMP_EXT_ECHO && type !== ICMP_EXT_ECHOREPLY) return null;
  return { type, code: p.code, rest: p.rest };
}

/** Bytes emitIcmp4 writes: always the 8-byte header. */
export const icmp4HeaderLen: (r: Icmp4Repr) => number = () => ICMP_HDR_LEN;

/**
 * Writes type, code, a zero checksum and rest at p.offset. Once the data is
 * in place the caller runs p.fillChecksum(). Throws RangeError if the view
 * holds fewer than 8 bytes (programmer error).
 */
export function emitIcmp4(r: Icmp4Repr, p: Icmp4Packet): void {
  if (p.length < ICMP_HDR_LEN) throw new RangeError(`icmp4 emit needs ${ICMP_HDR_LEN} bytes, view has ${p.length}`);
  p.type = r.type;
  p.code = r.code;
  p.checksum = 0;
  p.rest = r.rest;
}

/** Echo request (or reply when isReply) with identifier and sequence number. */
export const icmp4Echo = (id: number, seq: number, isReply: boolean): Icmp4Repr => ({
  type: isReply ? ICMP_ECHOREPLY : ICMP_ECHO,
  code: 0,
  rest: (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0,
});

/** Destination Unreachable / Fragmentation Needed with the Next-Hop MTU (RFC 1191 §4). */
export const icmp4FragNeeded = (mtu: number): Icmp4Repr => ({
  type: ICMP_DEST_UNREACH,
  code: ICMP_FRAG_NEEDED,
  rest: mtu & 0xffff,
});

export const icmp4DestUnreach = (code: number): Icmp4Repr => ({ type: ICMP_DEST_UNREACH, code, rest: 0 });

export const icmp4TimeExceeded = (code: number): Icmp4Repr => ({ type: ICMP_TIME_EXCEEDED, code, rest: 0 });

/** Parameter Problem with the octet pointer in the top byte of rest (icmp_unreach: gateway >> 24). */
export const icmp4ParamProb = (pointer: number): Icmp4Repr => ({
  type: ICMP_PARAMETERPROB,
  code: 0,
  rest: ((pointer & 0xff) << 24) >>> 0,
});

// ---- sending errors (__icmp_send) ----

/** ipv4_is_zeronet: 0.0.0.0/8. */
const isZeronet = (a: number): boolean => (a >>> 24) === 0;
/** ipv4_is_multicast: 224.0.0.0/4. */
const isMulticast = (a: number): boolean => (a >>> 28) === 0xe;
/** ipv4_is_lbcast: 255.255.255.255. */
const isLbcast = (a: number): boolean => a >>> 0 === 0xffffffff;

/**
 * Whether an ICMP error may be sent about the checked IPv4 packet `off`,
 * mirroring the refusals of __icmp_send (net/ipv4/icmp.c) plus those the
 * kernel applies before icmp_send can run (RFC 1122 §3.2.2):
 * - a non-first fragment: __icmp_send "Only reply to fragment 0"
 *   (iph->frag_off & IP_OFFSET);
 * - a multicast (224/4) or limited-broadcast destination: __icmp_send's
 *   rt->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST); a 0/8 destination
 *   never gets that far (ip_route_input_slow: martian_destination);
 * - a source that is not one host, 0/8, 224/4 or 255.255.255.255: such
 *   packets are martians in ip_route_input_slow (martian_source) and are
 *   dropped before any error could be generated;
 * - an ICMP error, or an ICMP of a type above NR_ICMP_TYPES ("Assume any
 *   unknown ICMP type is an error"), or an ICMP packet whose type byte is
 *   missing (skb_header_pointer fails → goto out).
 * Assumes the error to send is itself an error type (icmp_pointers[type].error),
 * which is all this project sends. Not modelled: pkt_type != PACKET_HOST
 * (link-layer broadcast) and subnet-directed broadcasts, which need routing
 * state, and rate limiting (icmpv4_global_allow / icmpv4_xrlim_allow).
 */
export function mayReplyIcmp4Error(off: Ip4Packet): boolean {
  if (off.fragOffset !== 0) return false;
  const dst = off.dst;
  if (isMulticast(dst) || isLbcast(dst) || isZeronet(dst)) return false;
  const src = off.src;
  if (isMulticast(src) || isLbcast(src) || isZeronet(src)) return false;
  if (off.protocol === IPPROTO_ICMP) {
    if (off.payloadLen < 1) return false;
    const t = off.buffer[off.payloadOffset]!;
    if (t > NR_ICMP_TYPES || isIcmp4Error(t)) return false;
  }
  return true;
}

/** RT_TOS(iph->tos) | IPTOS_PREC_INTERNETCONTROL: the TOS __icmp_send gives an error about a packet with this TOS. */
export const icmp4ErrorTos = (offendingTos: number): number =>
  (offendingTos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;

/**
 * What buildIcmp4Error needs besides the offending bytes. Callers keep one
 * mutable instance and refill it per error (no allocation per packet).
 */
export interface Icmp4ErrorArgs {
  type: number;
  code: number;
  /** The rest-of-header word: the MTU for FRAG_NEEDED, pointer << 24 for PARAMETERPROB, 0 otherwise. */
  info: number;
  /** Outer IPv4 source (u32): usually the address the offending packet was sent to, or ours. */
  src: number;
  /** Outer IPv4 destination (u32): the offending packet's source. */
  dst: number;
  ttl: number;
  /** Usually icmp4ErrorTos(offending tos). */
  tos: number;
  ident: number;
}

/**
 * Copies n bytes with memmove semantics: src and dst may be views over the
 * same memory and overlap. No allocation.
 */
function moveBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  if (dst.buffer === src.buffer && dst.byteOffset + dOff > src.byteOffset + sOff) {
    for (let i = n - 1; i >= 0; i--) dst[dOff + i] = src[sOff + i]!;
  } else {
    for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]!;
  }
}

/**
 * Writes a complete ICMP error datagram at out[outOff]: a 20-byte IPv4 header
 * (version 4, IHL 5, tos/ident/ttl/src/dst from `a`, flags 0: DF clear
 * because the kernel's ICMP socket uses IP_PMTUDISC_DONT, protocol 1, header
 * checksum), the ICMP header (type, code, rest = a.info, checksum) and the
 * first min(offLen, ICMP4_ERROR_MAX_QUOTE) bytes of the offending packet
 * starting at its IP header (__icmp_send: room = min(dst_mtu, 576) -
 * sizeof(iphdr) - optlen - sizeof(icmphdr)). `out` and `offending` may be the
 * same buffer and may overlap (memmove semantics); when the header lands
 * right before the offending packet (outOff + 28 === offOff) nothing moves.
 * Returns the datagram length. Throws RangeError if the offending range is
 * outside its buffer or `out` lacks room (programmer errors). No allocation.
 */
export function buildIcmp4Error(
  out: Uint8Array, outOff: number, a: Icmp4ErrorArgs, offending: Uint8Array, offOff: number, offLen: number,
): number {
  if (!spanOk(offending, offOff, offLen)) throw new RangeError(`icmp4 offending range ${offOff}+${offLen} outside buffer`);
  const quote = offLen < ICMP4_ERROR_MAX_QUOTE ? offLen : ICMP4_ERROR_MAX_QUOTE;
  const icmpLen = ICMP_HDR_LEN + quote;
  const total = IP4_HDR_LEN + icmpLen;
  if (!spanOk(out, outOff, total)) throw new RangeError(`icmp4 error needs ${total} bytes at ${outOff}`);
  // Quote first: with overlapping ranges the headers would clobber its source.
  const i = outOff + IP4_HDR_LEN;
  moveBytes(out, i + ICMP_HDR_LEN, offending, offOff, quote);
  out[i + TYPE] = a.type;
  out[i + CODE] = a.code;
  put16(out, i + CHECKSUM, 0);
  put32(out, i + REST, a.info);
  put16(out, i + CHECKSUM, checksum16(out, i, icmpLen));
  out[outOff] = 0x45;
  out[outOff + 1] = a.tos;
  put16(out, outOff + 2, total);
  put16(out, outOff + 4, a.ident);
  put16(out, outOff + 6, 0);
  out[outOff + 8] = a.ttl;
  out[outOff + 9] = IPPROTO_ICMP;
  put16(out, outOff + 10, 0);
  put32(out, outOff + 12, a.src);
  put32(out, outOff + 16, a.dst);
  put16(out, outOff + 10, checksum16(out, outOff, IP4_HDR_LEN));
  return total;
}
