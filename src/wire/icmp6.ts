// ICMPv6: RFC 4443 §2.1 (message format), §2.3 (checksum over the RFC 8200
// §8.1 pseudo-header), §2.4 (when an error must not be sent), §3.2 / RFC 8201
// (Packet Too Big). Kernel reference: net/ipv6/icmp.c (icmp6_send,
// is_ineligible, opt_unrec), net/ipv6/exthdrs_core.c (ipv6_skip_exthdr),
// include/uapi/linux/icmpv6.h and include/net/ndisc.h.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Rest of header (type-specific)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data: echo payload, or as much of the invoking packet as fits  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Rest of header by type:
//   ECHO_REQUEST / ECHO_REPLY  | Identifier (16) | Sequence Number (16) |
//   PKT_TOOBIG                 | MTU (32)                               |
//   PARAMPROB                  | Pointer (32): octet offset of the error|
//   DEST_UNREACH, TIME_EXCEED  | unused (32)                            |
//
// Types 0..127 are errors, 128..255 informational (ICMPV6_INFOMSG_MASK). The
// checksum covers the pseudo-header (src, dst, upper-layer length, next header
// 58) and the whole message. Buffer ownership: views read and write the
// caller's bytes in place; buildIcmp6Error writes into a caller-owned buffer.

import { be16, be32, put16, put32, spanOk } from './bytes.js';
import { checksum16, pseudoSum6, verify16 } from './checksum.js';
import { Drop } from './drop.js';
import { IP6_ADDR_LEN, IP6_HDR_LEN, IP6_MIN_MTU } from './ip6.js';
import type { Ip6Packet } from './ip6.js';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_ROUTING,
} from './ipproto.js';

// ---- error types and codes (include/uapi/linux/icmpv6.h) ----
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_NOROUTE = 0;
export const ICMPV6_ADM_PROHIBITED = 1;
export const ICMPV6_NOT_NEIGHBOUR = 2;
export const ICMPV6_ADDR_UNREACH = 3;
export const ICMPV6_PORT_UNREACH = 4;
export const ICMPV6_POLICY_FAIL = 5;
export const ICMPV6_REJECT_ROUTE = 6;

export const ICMPV6_PKT_TOOBIG = 2;

export const ICMPV6_TIME_EXCEED = 3;
export const ICMPV6_EXC_HOPLIMIT = 0;
export const ICMPV6_EXC_FRAGTIME = 1;

export const ICMPV6_PARAMPROB = 4;
export const ICMPV6_HDR_FIELD = 0;
export const ICMPV6_UNK_NEXTHDR = 1;
export const ICMPV6_UNK_OPTION = 2;
/** RFC 8200 §4.5: first fragment lacks the full header chain. */
export const ICMPV6_HDR_INCOMP = 3;

/** Highest error type; types with this bit set are informational. */
export const ICMPV6_ERRMSG_MAX = 127;
export const ICMPV6_INFOMSG_MASK = 0x80;

// ---- informational types ----
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_MGM_QUERY = 130;
export const ICMPV6_MGM_REPORT = 131;
export const ICMPV6_MGM_REDUCTION = 132;
/** Neighbour discovery (RFC 4861 §4; include/net/ndisc.h). */
export const NDISC_ROUTER_SOLICITATION = 133;
export const NDISC_ROUTER_ADVERTISEMENT = 134;
export const NDISC_NEIGHBOUR_SOLICITATION = 135;
export const NDISC_NEIGHBOUR_ADVERTISEMENT = 136;
export const NDISC_REDIRECT = 137;
export const ICMPV6_MLD2_REPORT = 143;

export const ICMPV6_HDR_LEN = 8;

/** IPV6_MIN_MTU - sizeof(ipv6hdr) - sizeof(icmp6hdr): the most invoking-packet bytes icmp6_send quotes. */
export const ICMP6_ERROR_MAX_QUOTE = IP6_MIN_MTU - IP6_HDR_LEN - ICMPV6_HDR_LEN;

const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
const REST = 4;

const EMPTY = new Uint8Array(0);

/** RFC 4443 §2.1: types 0..127 are errors (!(type & ICMPV6_INFOMSG_MASK)). */
export const isIcmp6Error = (type: number): boolean => type >= 0 && type < ICMPV6_INFOMSG_MASK;


/**
 * A rebindable view of one ICMPv6 message: the 8-byte header and the data
 * after it. The bound length is the whole message: it is the upper-layer
 * length in the checksum pseudo-header. Nothing here allocates.
 */
export class Icmp6Packet {
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
   * shorter than the 8-byte header (icmpv6_rcv: pskb_pull of the header).
   * The checksum is NOT checked here: call verifyChecksum() (Drop.BadIcmp).
   */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!spanOk(b, off, len) || len < ICMPV6_HDR_LEN) return Drop.Truncated;
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
    if (!spanOk(b, off, len) || len < ICMPV6_HDR_LEN) return false;
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
  /** The raw 32-bit "rest of header" word (icmp6hdr.icmp6_dataun). */
  get rest(): number { return be32(this.b, this.o + REST); }
  set rest(v: number) { put32(this.b, this.o + REST, v); }
  /** PKT_TOOBIG: the next-hop link MTU (u32, RFC 4443 §3.2). */
  get mtu(): number { return be32(this.b, this.o + REST); }
  set mtu(v: number) { put32(this.b, this.o + REST, v); }
  /** PARAMPROB: octet offset of the error within the invoking packet (u32, RFC 4443 §3.4). */
  get pointer(): number { return be32(this.b, this.o + REST); }
  set pointer(v: number) { put32(this.b, this.o + REST, v); }
  get echoId(): number { return be16(this.b, this.o + REST); }
  set echoId(v: number) { put16(this.b, this.o + REST, v); }
  get echoSeq(): number { return be16(this.b, this.o + REST + 2); }
  set echoSeq(v: number) { put16(this.b, this.o + REST + 2, v); }

  /** Absolute index of the data after the 8-byte header. */
  get payloadOffset(): number { return this.o + ICMPV6_HDR_LEN; }
  get payloadLen(): number { return this.n - ICMPV6_HDR_LEN; }

  /**
   * True when the checksum verifies over the pseudo-header (addresses at
   * srcBuf[srcOff] / dstBuf[dstOff], e.g. an Ip6Packet's buffer with its
   * srcOffset/dstOffset) and the whole bound message.
   */
  verifyChecksum(srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number): boolean {
    return verify16(this.b, this.o, this.n, pseudoSum6(srcBuf, srcOff, dstBuf, dstOff, IPPROTO_ICMPV6, this.n));
  }

  /** Zeroes the checksum field and stores the checksum over the pseudo-header and the bound message. */
  fillChecksum(srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number): void {
    put16(this.b, this.o + CHECKSUM, 0);
    const ps = pseudoSum6(srcBuf, srcOff, dstBuf, dstOff, IPPROTO_ICMPV6, this.n);
    put16(this.b, this.o + CHECKSUM, checksum16(this.b, this.o, this.n, ps));
  }
}

/**
 * A decoded ICMPv6 header. `rest` is the raw type-specific word: echo id << 16
 * | seq, the MTU for PKT_TOOBIG, the pointer for PARAMPROB. The checksum is
 * not part of the Repr (it covers the data and the pseudo-header).
 */
export interface Icmp6Repr {
  readonly type: number;
  readonly code: number;
  readonly rest: number;
}

/**
 * Decodes the bound header. Every type/code is structurally valid (icmpv6_rcv
 * passes unknown errors up and drops unknown informational messages without
 * calling them malformed), so this returns null only for an unbound view.
 * Does not verify the checksum (it needs the addresses: verifyChecksum()).
 */
export function parseIcmp6(p: Icmp6Packet): Icmp6Repr | null {
  if (p.length < ICMPV6_HDR_LEN) return null;
  return { type: p.type, code: p.code, rest: p.rest };
}

/** Bytes emitIcmp6 writes: always the 8-byte header. */
export const icmp6HeaderLen: (r: Icmp6Repr) => number = () => ICMPV6_HDR_LEN;

/**
 * Writes type, code, a zero checksum and rest at p.offset. Once the data is
 * in place the caller runs p.fillChecksum(...). Throws RangeError if the view
 * holds fewer than 8 bytes (programmer error).
 */
export function emitIcmp6(r: Icmp6Repr, p: Icmp6Packet): void {
  if (p.length < ICMPV6_HDR_LEN) throw new RangeError(`icmp6 emit needs ${ICMPV6_HDR_LEN} bytes, view has ${p.length}`);
  p.type = r.type;
  p.code = r.code;
  p.checksum = 0;
  p.rest = r.rest;
}

/** Echo request (or reply when isReply) with identifier and sequence number. */
export const icmp6Echo = (id: number, seq: number, isReply: boolean): Icmp6Repr => ({
  type: isReply ? ICMPV6_ECHO_REPLY : ICMPV6_ECHO_REQUEST,
  code: 0,
  rest: (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0,
});

/** Packet Too Big with the next-hop MTU (RFC 4443 §3.2, RFC 8201). */
export const icmp6PacketTooBig = (mtu: number): Icmp6Repr => ({ type: ICMPV6_PKT_TOOBIG, code: 0, rest: mtu >>> 0 });

export const icmp6DestUnreach = (code: number): Icmp6Repr => ({ type: ICMPV6_DEST_UNREACH, code, rest: 0 });

export const icmp6TimeExceeded = (code: number): Icmp6Repr => ({ type: ICMPV6_TIME_EXCEED, code, rest: 0 });

/** Parameter Problem with the octet pointer into the invoking packet. */
export const icmp6ParamProb = (code: number, pointer: number): Icmp6Repr => ({
  type: ICMPV6_PARAMPROB,
  code,
  rest: pointer >>> 0,
});

// ---- sending errors (icmp6_send) ----

/** ipv6_addr_type() & IPV6_ADDR_MULTICAST: ff00::/8. */
const isMulticast6 = (b: Uint8Array, off: number): boolean => b[off] === 0xff;

/** ipv6_addr_type() == IPV6_ADDR_ANY: ::. */
function isUnspecified6(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < IP6_ADDR_LEN; i++) if (b[off + i] !== 0) return false;
  return true;
}

/** ipv6_ext_hdr() (net/ipv6/exthdrs_core.c): the headers ipv6_skip_exthdr steps over. */
const isKernelExtHdr = (nh: number): boolean =>
  nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT ||
  nh === IPPROTO_AH || nh === IPPROTO_NONE || nh === IPPROTO_DSTOPTS;

/**
 * is_ineligible() (net/ipv6/icmp.c) over the packet bytes b[o, end), with
 * ipv6_skip_exthdr() inlined step for step: "never answer an ICMP error".
 * Deliberately the kernel's own walk, not Ip6Packet.walkExtensions(): the
 * kernel treats a failed walk (truncated chain, No Next Header) as ELIGIBLE,
 * knows only HBH/Routing/Fragment/AH/None/DstOpts, stops with next header 44
 * at a non-first fragment, and does not bound a header's declared length
 * (a chain that claims to reach past the end makes the ICMPv6 type unreadable,
 * which is ineligible unless inside a fragment).
 */
function isIneligible6(b: Uint8Array, o: number, end: number): boolean {
  let nh = b[o + 6]!;
  let pos = o + IP6_HDR_LEN;
  let fragOff = 0;
  while (isKernelExtHdr(nh)) {
    if (nh === IPPROTO_NONE || pos + 2 > end) return false; // ipv6_skip_exthdr → -1
    let hdrLen: number;
    if (nh === IPPROTO_FRAGMENT) {
      if (pos + 4 > end) return false;
      fragOff = be16(b, pos + 2);
      if ((fragOff & ~7) !== 0) break; // not the first fragment: nexthdr stays 44
      hdrLen = 8;
    } else if (nh === IPPROTO_AH) {
      hdrLen = (b[pos + 1]! + 2) << 2; // ipv6_authlen
    } else {
      hdrLen = (b[pos + 1]! + 1) << 3; // ipv6_optlen
    }
    nh = b[pos]!;
    pos += hdrLen;
  }
  if (nh !== IPPROTO_ICMPV6) return false;
  if (pos + 1 > end) return fragOff === 0; // no type byte: "fragment packet with no icmp header info" is eligible
  return (b[pos]! & ICMPV6_INFOMSG_MASK) === 0;
}

/**
 * Whether icmp6_send() (net/ipv6/icmp.c) would send an ICMPv6 error of
 * `type`/`code` about the checked IPv6 packet `off`:
 * - offending destination multicast (ff00::/8): only PKT_TOOBIG, or PARAMPROB
 *   UNK_OPTION when opt_unrec() holds: the option type at offset `info` (from
 *   the IPv6 header) has its top two bits 10, or lies past the end. Pass the
 *   pointer you will send as `info`; omitted (-1), UNK_OPTION is allowed;
 * - offending source unspecified (::) or multicast: never ("the source does
 *   not uniquely identify a single node", RFC 4443 §2.4 (e));
 * - is_ineligible(): the packet is an ICMPv6 error, or its ICMPv6 type byte
 *   cannot be read (except in a fragment), found by ipv6_skip_exthdr.
 * Not modelled: pkt_type != PACKET_HOST, anycast destinations
 * (icmpv6_route_lookup) and rate limiting (icmpv6_global_allow/xrlim_allow).
 */
export function mayReplyIcmp6Error(off: Ip6Packet, type: number, code: number, info = -1): boolean {
  const b = off.buffer;
  const o = off.offset;
  const end = off.payloadOffset + off.payloadLen; // skb->len after ip6_rcv_core's trim
  if (isMulticast6(b, off.dstOffset)) {
    const optUnrec = info < 0 || o + info >= end || (b[o + info]! & 0xc0) === 0x80;
    if (type !== ICMPV6_PKT_TOOBIG && !(type === ICMPV6_PARAMPROB && code === ICMPV6_UNK_OPTION && optUnrec)) {
      return false;
    }
  }
  const s = off.srcOffset;
  if (isUnspecified6(b, s) || isMulticast6(b, s)) return false;
  return !isIneligible6(b, o, end);
}

/**
 * What buildIcmp6Error needs besides the invoking bytes. Callers keep one
 * mutable instance and refill it per error (no allocation per packet). The
 * addresses are read from 16-byte ranges, e.g. the offending packet's own
 * destination/source (srcBuf = pkt.buffer, srcOff = pkt.dstOffset, ...).
 */
export interface Icmp6ErrorArgs {
  type: number;
  code: number;
  /** The rest-of-header word: the MTU for PKT_TOOBIG, the pointer for PARAMPROB, 0 otherwise. */
  info: number;
  hopLimit: number;
  srcBuf: Uint8Array;
  srcOff: number;
  dstBuf: Uint8Array;
  dstOff: number;
}

/** Address scratch: the source/destination may live inside bytes the quote overwrites. */
const ADDRS = new Uint8Array(2 * IP6_ADDR_LEN);

/** Copies n bytes with memmove semantics (views over the same memory may overlap). No allocation. */
function moveBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  if (dst.buffer === src.buffer && dst.byteOffset + dOff > src.byteOffset + sOff) {
    for (let i = n - 1; i >= 0; i--) dst[dOff + i] = src[sOff + i]!;
  } else {
    for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]!;
  }
}

/**
 * Writes a complete ICMPv6 error packet at out[outOff]: a 40-byte IPv6 header
 * (traffic class 0, flow label 0, next header 58, hop limit a.hopLimit,
 * addresses from `a`), the ICMPv6 header (type, code, rest = a.info) and the
 * first min(offLen, ICMP6_ERROR_MAX_QUOTE) bytes of the invoking packet from
 * its IPv6 header on (icmp6_send: len = min(skb->len, IPV6_MIN_MTU -
 * sizeof(ipv6hdr) - sizeof(icmp6hdr))), with the checksum over the
 * pseudo-header. `out` and `offending` may be the same buffer and may overlap
 * (memmove semantics). Returns the packet length (≤ 1280). Throws RangeError
 * if a range is outside its buffer or `out` lacks room (programmer errors).
 * No allocation.
 */
export function buildIcmp6Error(
  out: Uint8Array, outOff: number, a: Icmp6ErrorArgs, offending: Uint8Array, offOff: number, offLen: number,
): number {
  if (!spanOk(offending, offOff, offLen)) throw new RangeError(`icmp6 offending range ${offOff}+${offLen} outside buffer`);
  if (!spanOk(a.srcBuf, a.srcOff, IP6_ADDR_LEN) || !spanOk(a.dstBuf, a.dstOff, IP6_ADDR_LEN)) {
    throw new RangeError('icmp6 error address range outside its buffer');
  }
  const quote = offLen < ICMP6_ERROR_MAX_QUOTE ? offLen : ICMP6_ERROR_MAX_QUOTE;
  const icmpLen = ICMPV6_HDR_LEN + quote;
  const total = IP6_HDR_LEN + icmpLen;
  if (!spanOk(out, outOff, total)) throw new RangeError(`icmp6 error needs ${total} bytes at ${outOff}`);
  moveBytes(ADDRS, 0, a.srcBuf, a.srcOff, IP6_ADDR_LEN);
  moveBytes(ADDRS, IP6_ADDR_LEN, a.dstBuf, a.dstOff, IP6_ADDR_LEN);
  // Quote first: with overlapping ranges the headers would clobber its source.
  const i = outOff + IP6_HDR_LEN;
  moveBytes(out, i + ICMPV6_HDR_LEN, offending, offOff, quote);
  put32(out, outOff, 0x60000000); // version 6, traffic class 0, flow label 0
  put16(out, outOff + 4, icmpLen);
  out[outOff + 6] = IPPROTO_ICMPV6;
  out[outOff + 7] = a.hopLimit;
  moveBytes(out, outOff + 8, ADDRS, 0, 2 * IP6_ADDR_LEN);
  out[i + TYPE] = a.type;
  out[i + CODE] = a.code;
  put16(out, i + CHECKSUM, 0);
  put32(out, i + REST, a.info);
  const ps = pseudoSum6(out, outOff + 8, out, outOff + 24, IPPROTO_ICMPV6, icmpLen);
  put16(out, i + CHECKSUM, checksum16(out, i, icmpLen, ps));
  return total;
}
