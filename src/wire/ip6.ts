// IPv6 header: RFC 8200 §3; extension headers: RFC 8200 §4 (AH: RFC 4302 §2.2,
// Mobility: RFC 6275 §6.1, HIP: RFC 7401 §5.1, Shim6: RFC 5533 §5).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Traffic Class |           Flow Label                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                    Source Address (16 bytes)                  +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                 Destination Address (16 bytes)                +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension headers the walk follows (first two bytes: Next Header, length):
//   HBH 0, Routing 43, DstOpts 60, Mobility 135, HIP 139, Shim6 140:
//       (Hdr Ext Len + 1) * 8 bytes
//   AH 51:  (Payload Len + 2) * 4 bytes
//   Fragment 44 (8 bytes):
//   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//   |                         Identification                        |
//
// Units: payloadLen counts everything after the 40-byte header, extension
// headers included; fragOffset is in BYTES. Addresses stay in the packet
// (srcOffset/dstOffset are absolute indices); Reprs own 16-byte copies.

import { be16, be32, put16, spanOk } from './bytes.js';
import { Drop } from './drop.js';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HIP, IPPROTO_HOPOPTS, IPPROTO_MH, IPPROTO_ROUTING,
  IPPROTO_SHIM6,
} from './ipproto.js';

export const IP6_HDR_LEN = 40;
/** IPV6_MIN_MTU (include/linux/ipv6.h, RFC 8200 §5). */
export const IP6_MIN_MTU = 1280;
export const IP6_ADDR_LEN = 16;
/** Fragment header length (RFC 8200 §4.5). */
export const IP6_FRAG_HDR_LEN = 8;
/** walkExtensions() accepts at most this many extension headers (one more is BadExtHeader). */
export const IP6_MAX_EXT_HEADERS = 64;

const VER_TC = 0;
const PAYLOAD_LEN = 4;
const NEXT_HEADER = 6;
const HOP_LIMIT = 7;
const SRC = 8;
const DST = 24;

const EMPTY = new Uint8Array(0);

/** off/len are integers and b[off, off+len) lies inside b. */

/**
 * The check() gate as a pure function (ip6_rcv_core order). Payload length 0
 * with a Hop-by-Hop header next would be a jumbogram (RFC 2675), which is not
 * supported: BadTotalLen.
 */
function ip6Check(b: Uint8Array, off: number, len: number): Drop {
  if (!spanOk(b, off, len) || len < IP6_HDR_LEN) return Drop.Truncated;
  if (b[off + VER_TC]! >>> 4 !== 6) return Drop.BadVersion;
  const pl = be16(b, off + PAYLOAD_LEN);
  if (pl === 0 && b[off + NEXT_HEADER] === IPPROTO_HOPOPTS) return Drop.BadTotalLen;
  if (IP6_HDR_LEN + pl > len) return Drop.BadTotalLen;
  return Drop.None;
}

/** Extension headers whose length is (byte 1 + 1) * 8. */
const isOptLike = (nh: number): boolean =>
  nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_DSTOPTS ||
  nh === IPPROTO_MH || nh === IPPROTO_HIP || nh === IPPROTO_SHIM6;

/**
 * A rebindable view of one IPv6 header, plus the result of the last
 * walkExtensions() (stored in fields so the walk allocates nothing). After
 * check() succeeds 40 + payloadLen ≤ length; bytes beyond are padding.
 */
export class Ip6Packet {
  private b: Uint8Array;
  private o: number;
  private n: number;
  private upProto: number;
  private upOff: number;
  private frag: boolean;
  private fragOff: number;
  private fragM: boolean;
  private fragId: number;

  constructor() {
    this.b = EMPTY;
    this.o = 0;
    this.n = 0;
    this.upProto = 0;
    this.upOff = 0;
    this.frag = false;
    this.fragOff = 0;
    this.fragM = false;
    this.fragId = 0;
  }

  /** Parse gate for received bytes; binds and returns Drop.None, else the reason (view unchanged). */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    const d = ip6Check(b, off, len);
    if (d === Drop.None) this.bindRaw(b, off, len);
    return d;
  }

  /** check(...) === Drop.None. */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds for emitting into garbage: only b[off, off+len) in b and len ≥ 40. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!spanOk(b, off, len) || len < IP6_HDR_LEN) return false;
    this.bindRaw(b, off, len);
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  get version(): number { return this.b[this.o + VER_TC]! >>> 4; }
  set version(v: number) { this.b[this.o] = ((v & 0xf) << 4) | (this.b[this.o]! & 0xf); }
  /** The 8-bit Traffic Class (DSCP << 2 | ECN), straddling bytes 0 and 1. */
  get trafficClass(): number { return ((this.b[this.o]! & 0xf) << 4) | (this.b[this.o + 1]! >>> 4); }
  set trafficClass(v: number) {
    const b = this.b;
    const o = this.o;
    b[o] = (b[o]! & 0xf0) | ((v >>> 4) & 0xf);
    b[o + 1] = ((v & 0xf) << 4) | (b[o + 1]! & 0xf);
  }
  /** Same as the trafficClass setter: IPv6 has no header checksum to patch. */
  setTrafficClass(tc: number): void { this.trafficClass = tc; }
  get dscp(): number { return this.trafficClass >>> 2; }
  set dscp(v: number) { this.trafficClass = ((v & 0x3f) << 2) | (this.trafficClass & 3); }
  get ecn(): number { return this.trafficClass & 3; }
  set ecn(v: number) { this.trafficClass = (this.trafficClass & 0xfc) | (v & 3); }
  /** 20-bit flow label. */
  get flowLabel(): number { return ((this.b[this.o + 1]! & 0xf) << 16) | be16(this.b, this.o + 2); }
  set flowLabel(v: number) {
    this.b[this.o + 1] = (this.b[this.o + 1]! & 0xf0) | ((v >>> 16) & 0xf);
    put16(this.b, this.o + 2, v);
  }
  /** Bytes after the fixed header, extension headers included. */
  get payloadLen(): number { return be16(this.b, this.o + PAYLOAD_LEN); }
  set payloadLen(v: number) { put16(this.b, this.o + PAYLOAD_LEN, v); }
  get nextHeader(): number { return this.b[this.o + NEXT_HEADER]!; }
  set nextHeader(v: number) { this.b[this.o + NEXT_HEADER] = v; }
  get hopLimit(): number { return this.b[this.o + HOP_LIMIT]!; }
  set hopLimit(v: number) { this.b[this.o + HOP_LIMIT] = v; }

  /** Absolute index of the 16-byte source address. */
  get srcOffset(): number { return this.o + SRC; }
  /** Absolute index of the 16-byte destination address. */
  get dstOffset(): number { return this.o + DST; }
  /** Copies the source address to out[outOff, outOff+16). RangeError if it does not fit. */
  copySrc(out: Uint8Array, outOff: number): void { copy16(this.b, this.o + SRC, out, outOff); }
  copyDst(out: Uint8Array, outOff: number): void { copy16(this.b, this.o + DST, out, outOff); }
  /** Writes the source address from src[srcOff, srcOff+16). RangeError if src is too short. */
  setSrc(src: Uint8Array, srcOff: number): void { copy16(src, srcOff, this.b, this.o + SRC); }
  setDst(src: Uint8Array, srcOff: number): void { copy16(src, srcOff, this.b, this.o + DST); }

  /** Absolute index of the payload (o + 40): the first extension header, if any. */
  get payloadOffset(): number { return this.o + IP6_HDR_LEN; }

  /**
   * Walks the extension header chain in place (no allocation), then sets
   * upperProtocol/upperOffset and the fragment getters. Stops at the first
   * non-extension next header (ESP, No Next Header, TCP, UDP, ICMPv6, IPv4,
   * IPv6, GRE, ...) or after a Fragment header with a non-zero offset (the
   * rest of the chain is in the first fragment). Returns BadExtHeader when a
   * header runs past 40 + payloadLen, when Hop-by-Hop is not the first header
   * (RFC 8200 §4.1; the kernel answers it with a Parameter Problem), or when
   * more than IP6_MAX_EXT_HEADERS headers chain; the getters then name the
   * offending header (upperProtocol = its type, upperOffset = its start).
   * Returns BadTotalLen only on a view bound with bind() whose payloadLen
   * exceeds the bound range (never after check()).
   */
  walkExtensions(): Drop {
    const b = this.b;
    const pl = be16(b, this.o + PAYLOAD_LEN);
    const end = this.o + IP6_HDR_LEN + pl;
    let nh = b[this.o + NEXT_HEADER]!;
    let pos = this.o + IP6_HDR_LEN;
    this.frag = false;
    this.fragOff = 0;
    this.fragM = false;
    this.fragId = 0;
    this.upProto = nh;
    this.upOff = pos;
    if (IP6_HDR_LEN + pl > this.n) return Drop.BadTotalLen;
    // Terminates: i is capped, and every extension header is ≥ 8 bytes.
    for (let i = 0; ; i++) {
      this.upProto = nh;
      this.upOff = pos;
      const opt = isOptLike(nh);
      if (!opt && nh !== IPPROTO_AH && nh !== IPPROTO_FRAGMENT) return Drop.None;
      if (i === IP6_MAX_EXT_HEADERS || pos + 8 > end) return Drop.BadExtHeader;
      if (nh === IPPROTO_HOPOPTS && i !== 0) return Drop.BadExtHeader;
      const next = b[pos]!;
      if (nh === IPPROTO_FRAGMENT) {
        const word = be16(b, pos + 2);
        this.frag = true;
        this.fragOff = word & 0xfff8;
        this.fragM = (word & 1) !== 0;
        this.fragId = be32(b, pos + 4);
        pos += IP6_FRAG_HDR_LEN;
        nh = next;
        if (this.fragOff !== 0) {
          this.upProto = nh;
          this.upOff = pos;
          return Drop.None;
        }
        continue;
      }
      const hlen = opt ? (b[pos + 1]! + 1) << 3 : (b[pos + 1]! + 2) << 2;
      if (pos + hlen > end) return Drop.BadExtHeader;
      pos += hlen;
      nh = next;
    }
  }

  /** After walkExtensions(): the first non-extension next header (or the one after a non-first fragment). */
  get upperProtocol(): number { return this.upProto; }
  /** After walkExtensions(): absolute index of the upper-layer header. */
  get upperOffset(): number { return this.upOff; }
  /** After walkExtensions(): a Fragment header was seen. */
  get isFragment(): boolean { return this.frag; }
  /** After walkExtensions(): not a fragment, or the fragment at offset 0. */
  get isFirstFragment(): boolean { return this.fragOff === 0; }
  /** After walkExtensions(): fragment offset in bytes (0 if not a fragment). */
  get fragOffset(): number { return this.fragOff; }
  /** After walkExtensions(): the M (more fragments) flag. */
  get fragMore(): boolean { return this.fragM; }
  /** After walkExtensions(): the fragment Identification (u32). */
  get fragIdent(): number { return this.fragId; }

  private bindRaw(b: Uint8Array, off: number, len: number): void {
    this.b = b;
    this.o = off;
    this.n = len;
  }
}

function copy16(from: Uint8Array, fromOff: number, to: Uint8Array, toOff: number): void {
  if (!spanOk(from, fromOff, IP6_ADDR_LEN) || !spanOk(to, toOff, IP6_ADDR_LEN)) {
    throw new RangeError('ip6 address copy out of range');
  }
  for (let i = 0; i < IP6_ADDR_LEN; i++) to[toOff + i] = from[fromOff + i]!;
}

/** A decoded IPv6 fixed header; extension headers are part of the payload. */
export interface Ip6Repr {
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Bytes after the 40-byte header, extension headers included. */
  readonly payloadLen: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  /** 16 bytes. */
  readonly src: Uint8Array;
  /** 16 bytes. */
  readonly dst: Uint8Array;
}

/** Decodes the bound header; null if the check() invariants fail on the view's range. Addresses are copied. */
export function parseIp6(p: Ip6Packet): Ip6Repr | null {
  if (ip6Check(p.buffer, p.offset, p.length) !== Drop.None) return null;
  const src = new Uint8Array(IP6_ADDR_LEN);
  const dst = new Uint8Array(IP6_ADDR_LEN);
  p.copySrc(src, 0);
  p.copyDst(dst, 0);
  return {
    trafficClass: p.trafficClass,
    flowLabel: p.flowLabel,
    payloadLen: p.payloadLen,
    nextHeader: p.nextHeader,
    hopLimit: p.hopLimit,
    src,
    dst,
  };
}

/** Bytes emitIp6 writes: always 40 (the Repr parameter keeps the contract's signature). */
 
export const ip6HeaderLen = (_r: Ip6Repr): number => IP6_HDR_LEN;

function assertField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`ip6 ${name} ${v} outside [0, ${max}]`);
}

/** Writes the 40-byte header at p.offset. Throws RangeError on a malformed Repr or p.length < 40. */
export function emitIp6(r: Ip6Repr, p: Ip6Packet): void {
  if (p.length < IP6_HDR_LEN) throw new RangeError(`ip6 emit needs 40 bytes, view has ${p.length}`);
  assertField('trafficClass', r.trafficClass, 0xff);
  assertField('flowLabel', r.flowLabel, 0xfffff);
  assertField('payloadLen', r.payloadLen, 0xffff);
  assertField('nextHeader', r.nextHeader, 0xff);
  assertField('hopLimit', r.hopLimit, 0xff);
  if (r.src.length !== IP6_ADDR_LEN || r.dst.length !== IP6_ADDR_LEN) throw new RangeError('ip6 addresses must be 16 bytes');
  const b = p.buffer;
  const o = p.offset;
  b[o] = 0x60 | (r.trafficClass >>> 4);
  b[o + 1] = ((r.trafficClass & 0xf) << 4) | (r.flowLabel >>> 16);
  put16(b, o + 2, r.flowLabel);
  p.payloadLen = r.payloadLen;
  p.nextHeader = r.nextHeader;
  p.hopLimit = r.hopLimit;
  p.setSrc(r.src, 0);
  p.setDst(r.dst, 0);
}
