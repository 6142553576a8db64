// IPv4 header: RFC 791 §3.1 (DSCP/ECN split of the TOS byte: RFC 2474 §3,
// RFC 3168 §5).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |0|D|M|     Fragment Offset     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options (IHL*4 - 20 bytes)     |  Padding  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Units: ihl is in 32-bit words, headerLen/totalLen/payloadLen in bytes, and
// fragOffset is in BYTES (the 13-bit field times 8). Addresses are u32 numbers.
// Buffer ownership: the view never copies; it reads and writes the caller's
// bytes in place. Reprs own their option bytes (parseIp4 copies them).

import { be16, be32, put16, put32, spanOk } from './bytes.js';
import { csumReplace16, sum16, fold16, finish16 } from './checksum.js';
import { Drop } from './drop.js';

export const IP4_HDR_LEN = 20;
/** Largest header: IHL 15 → 60 bytes, i.e. at most 40 option bytes. */
export const IP4_MAX_HDR_LEN = 60;
/** Flags/fragment word masks (include/net/ip.h IP_CE/IP_DF/IP_MF/IP_OFFSET). */
export const IP4_RESERVED = 0x8000;
export const IP4_DF = 0x4000;
export const IP4_MF = 0x2000;
export const IP4_OFFSET_MASK = 0x1fff;
/** IPV4_MIN_MTU (include/net/ip.h, RFC 791: every host must accept 68 bytes). */
export const IP4_MIN_MTU = 68;
/** IP_MAX_MTU (include/net/ip.h). */
export const IP4_MAX_MTU = 0xffff;

const VER_IHL = 0;
const TOS = 1;
const TOTAL_LEN = 2;
const IDENT = 4;
const FLAGS_FRAG = 6;
const TTL = 8;
const PROTOCOL = 9;
const CHECKSUM = 10;
const SRC = 12;
const DST = 16;

const EMPTY = new Uint8Array(0);

/** off/len are integers and b[off, off+len) lies inside b. */

/**
 * The check() gate as a pure function (ip_rcv_core order): Truncated,
 * BadVersion, BadHeaderLen, BadTotalLen. The header checksum is not checked.
 */
function ip4Check(b: Uint8Array, off: number, len: number): Drop {
  if (!spanOk(b, off, len) || len < IP4_HDR_LEN) return Drop.Truncated;
  const vihl = b[off + VER_IHL]!;
  if (vihl >>> 4 !== 4) return Drop.BadVersion;
  const hl = (vihl & 0xf) << 2;
  if (hl < IP4_HDR_LEN || hl > len) return Drop.BadHeaderLen;
  const total = be16(b, off + TOTAL_LEN);
  if (total < hl || total > len) return Drop.BadTotalLen;
  return Drop.None;
}

/**
 * A rebindable view of one IPv4 header. After check() succeeds every getter
 * is in range, headerLen ≤ totalLen ≤ length, and payloadLen is bounded by
 * totalLen (bytes past totalLen, e.g. Ethernet padding, are ignored, as
 * ip_rcv_core trims with pskb_trim_rcsum). After bind() only the fixed
 * 20-byte header is guaranteed in range. Nothing here allocates.
 */
export class Ip4Packet {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = EMPTY;
    this.o = 0;
    this.n = 0;
  }

  /** Parse gate for received bytes; binds and returns Drop.None, else the reason (view unchanged). */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    const d = ip4Check(b, off, len);
    if (d === Drop.None) {
      this.b = b;
      this.o = off;
      this.n = len;
    }
    return d;
  }

  /** check(...) === Drop.None. */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds for emitting into garbage: only b[off, off+len) in b and len ≥ 20. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!spanOk(b, off, len) || len < IP4_HDR_LEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  get version(): number { return this.b[this.o + VER_IHL]! >>> 4; }
  set version(v: number) { this.b[this.o + VER_IHL] = ((v & 0xf) << 4) | (this.b[this.o + VER_IHL]! & 0xf); }
  /** Header length in 32-bit words (5..15). */
  get ihl(): number { return this.b[this.o + VER_IHL]! & 0xf; }
  set ihl(v: number) { this.b[this.o + VER_IHL] = (this.b[this.o + VER_IHL]! & 0xf0) | (v & 0xf); }
  /** Header length in bytes (ihl * 4). */
  get headerLen(): number { return (this.b[this.o + VER_IHL]! & 0xf) << 2; }

  /** The whole TOS / DS byte (DSCP << 2 | ECN). Raw: does not patch the checksum. */
  get tos(): number { return this.b[this.o + TOS]!; }
  set tos(v: number) { this.b[this.o + TOS] = v; }
  get dscp(): number { return this.b[this.o + TOS]! >>> 2; }
  set dscp(v: number) { this.b[this.o + TOS] = ((v & 0x3f) << 2) | (this.b[this.o + TOS]! & 3); }
  get ecn(): number { return this.b[this.o + TOS]! & 3; }
  set ecn(v: number) { this.b[this.o + TOS] = (this.b[this.o + TOS]! & 0xfc) | (v & 3); }

  get totalLen(): number { return be16(this.b, this.o + TOTAL_LEN); }
  set totalLen(v: number) { put16(this.b, this.o + TOTAL_LEN, v); }
  get ident(): number { return be16(this.b, this.o + IDENT); }
  set ident(v: number) { put16(this.b, this.o + IDENT, v); }

  /** The raw 16-bit flags + fragment offset word (reserved bit included). */
  get flagsFrag(): number { return be16(this.b, this.o + FLAGS_FRAG); }
  set flagsFrag(v: number) { put16(this.b, this.o + FLAGS_FRAG, v); }
  get df(): boolean { return (this.b[this.o + FLAGS_FRAG]! & (IP4_DF >>> 8)) !== 0; }
  set df(v: boolean) { this.setFlag(IP4_DF >>> 8, v); }
  get mf(): boolean { return (this.b[this.o + FLAGS_FRAG]! & (IP4_MF >>> 8)) !== 0; }
  set mf(v: boolean) { this.setFlag(IP4_MF >>> 8, v); }
  /** Fragment offset in BYTES (field * 8). */
  get fragOffset(): number { return (be16(this.b, this.o + FLAGS_FRAG) & IP4_OFFSET_MASK) << 3; }
  /** Takes bytes; throws RangeError unless a multiple of 8 in [0, 0xfff8] (programmer error). */
  set fragOffset(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > IP4_OFFSET_MASK << 3 || (v & 7) !== 0) {
      throw new RangeError(`ip4 fragOffset ${v} is not a multiple of 8 in [0, 65528]`);
    }
    const i = this.o + FLAGS_FRAG;
    put16(this.b, i, (be16(this.b, i) & ~IP4_OFFSET_MASK) | (v >>> 3));
  }
  /** MF set or a non-zero offset (ip_is_fragment, include/net/ip.h). */
  get isFragment(): boolean { return (be16(this.b, this.o + FLAGS_FRAG) & (IP4_MF | IP4_OFFSET_MASK)) !== 0; }

  get ttl(): number { return this.b[this.o + TTL]!; }
  set ttl(v: number) { this.b[this.o + TTL] = v; }
  get protocol(): number { return this.b[this.o + PROTOCOL]!; }
  set protocol(v: number) { this.b[this.o + PROTOCOL] = v; }
  /** The raw header checksum field. */
  get checksum(): number { return be16(this.b, this.o + CHECKSUM); }
  set checksum(v: number) { put16(this.b, this.o + CHECKSUM, v); }
  get src(): number { return be32(this.b, this.o + SRC); }
  set src(v: number) { put32(this.b, this.o + SRC, v); }
  get dst(): number { return be32(this.b, this.o + DST); }
  set dst(v: number) { put32(this.b, this.o + DST, v); }

  /** Absolute index of the first option byte (o + 20). */
  get optionsOffset(): number { return this.o + IP4_HDR_LEN; }
  get optionsLen(): number { return this.headerLen - IP4_HDR_LEN; }
  /** Absolute index of the payload (o + headerLen). */
  get payloadOffset(): number { return this.o + this.headerLen; }
  /** totalLen - headerLen: bytes past totalLen in the bound range are not payload. */
  get payloadLen(): number { return this.totalLen - this.headerLen; }

  /** True when the header checksum verifies over headerLen bytes (false if headerLen exceeds the bound range). */
  verifyChecksum(): boolean {
    const hl = this.headerLen;
    if (hl < IP4_HDR_LEN || hl > this.n) return false;
    return fold16(sum16(this.b, this.o, hl)) === 0xffff;
  }

  /** Zeroes the checksum field and stores the checksum over headerLen bytes. Throws RangeError if headerLen is out of the bound range. */
  fillChecksum(): void {
    const hl = this.headerLen;
    if (hl < IP4_HDR_LEN || hl > this.n) throw new RangeError(`ip4 headerLen ${hl} outside bound length ${this.n}`);
    put16(this.b, this.o + CHECKSUM, 0);
    put16(this.b, this.o + CHECKSUM, finish16(sum16(this.b, this.o, hl)));
  }

  /**
   * Rewrites the TOS byte and patches the checksum incrementally (RFC 1624
   * eqn. 3) over the version/IHL/TOS word, as ipv4_change_dsfield
   * (include/net/dsfield.h) and IP_ECN_set_ce (include/net/inet_ecn.h) do.
   */
  setTosIncremental(tos: number): void {
    this.replaceByte(this.o + VER_IHL, TOS, tos);
  }

  /** Rewrites TTL and patches the checksum over the TTL/protocol word (ip_decrease_ttl). */
  setTtlIncremental(ttl: number): void {
    this.replaceByte(this.o + TTL, TTL, ttl);
  }

  /** Sets byte `field` inside the 16-bit word at `word`, patching the checksum. */
  private replaceByte(word: number, field: number, v: number): void {
    const b = this.b;
    const old = be16(b, word);
    b[this.o + field] = v;
    const c = this.o + CHECKSUM;
    put16(b, c, csumReplace16(be16(b, c), old, be16(b, word)));
  }

  private setFlag(bit: number, v: boolean): void {
    const i = this.o + FLAGS_FRAG;
    this.b[i] = v ? this.b[i]! | bit : this.b[i]! & ~bit;
  }
}

/** A decoded IPv4 header (control plane, CLI, tests). */
export interface Ip4Repr {
  readonly tos: number;
  readonly ident: number;
  readonly df: boolean;
  readonly mf: boolean;
  /** Bytes, a multiple of 8. */
  readonly fragOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
  /** totalLen - headerLen. */
  readonly payloadLen: number;
  /** Raw option bytes incl. padding; length a multiple of 4, ≤ 40; usually empty. */
  readonly options: Uint8Array;
}

/**
 * Decodes the bound header. Null when: the check() invariants fail on the
 * view's range; the reserved flag bit (RFC 791 "must be zero", RFC 3514) is
 * set, which the Repr cannot carry; or the header checksum does not verify
 * (ip_rcv_core drops those too). Options are copied, never aliased.
 */
export function parseIp4(p: Ip4Packet): Ip4Repr | null {
  const b = p.buffer;
  const o = p.offset;
  if (ip4Check(b, o, p.length) !== Drop.None) return null;
  if ((p.flagsFrag & IP4_RESERVED) !== 0) return null;
  if (!p.verifyChecksum()) return null;
  return {
    tos: p.tos,
    ident: p.ident,
    df: p.df,
    mf: p.mf,
    fragOffset: p.fragOffset,
    ttl: p.ttl,
    protocol: p.protocol,
    src: p.src,
    dst: p.dst,
    payloadLen: p.payloadLen,
    options: new Uint8Array(b.subarray(p.optionsOffset, p.payloadOffset)), // a copy: the Repr owns it
  };
}

/** Bytes emitIp4 writes: 20 + options.length. */
export const ip4HeaderLen = (r: Ip4Repr): number => IP4_HDR_LEN + r.options.length;

function assertField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`ip4 ${name} ${v} outside [0, ${max}]`);
}

/**
 * Writes the header (version 4, IHL from options, totalLen = headerLen +
 * payloadLen, reserved bit 0) and its checksum at p.offset. Throws RangeError
 * on a malformed Repr or if p.length < ip4HeaderLen(r) (programmer errors).
 */
export function emitIp4(r: Ip4Repr, p: Ip4Packet): void {
  const ol = r.options.length;
  if (ol % 4 !== 0 || ol > IP4_MAX_HDR_LEN - IP4_HDR_LEN) throw new RangeError(`ip4 options length ${ol}`);
  const hl = IP4_HDR_LEN + ol;
  if (p.length < hl) throw new RangeError(`ip4 emit needs ${hl} bytes, view has ${p.length}`);
  assertField('tos', r.tos, 0xff);
  assertField('ident', r.ident, 0xffff);
  assertField('ttl', r.ttl, 0xff);
  assertField('protocol', r.protocol, 0xff);
  assertField('src', r.src, 0xffffffff);
  assertField('dst', r.dst, 0xffffffff);
  assertField('payloadLen', r.payloadLen, IP4_MAX_MTU - hl);
  assertField('fragOffset', r.fragOffset, IP4_OFFSET_MASK << 3);
  if (r.fragOffset % 8 !== 0) throw new RangeError(`ip4 fragOffset ${r.fragOffset} is not a multiple of 8`);
  const b = p.buffer;
  const o = p.offset;
  b[o + VER_IHL] = 0x40 | (hl >>> 2);
  p.tos = r.tos;
  p.totalLen = hl + r.payloadLen;
  p.ident = r.ident;
  p.flagsFrag = (r.df ? IP4_DF : 0) | (r.mf ? IP4_MF : 0);
  p.fragOffset = r.fragOffset;
  p.ttl = r.ttl;
  p.protocol = r.protocol;
  p.src = r.src;
  p.dst = r.dst;
  b.set(r.options, o + IP4_HDR_LEN);
  p.fillChecksum();
}
