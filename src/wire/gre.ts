// Generic Routing Encapsulation: RFC 2784 §2 (header, checksum), RFC 2890 §2
// (Key and Sequence Number extensions), as Linux parses it
// (net/ipv4/gre_demux.c gre_parse_header) and builds it
// (include/net/gre.h gre_build_header, gre_calc_hlen).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Checksum (optional)      |       Reserved1 (optional)    |  if C
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Key (optional)                        |  if K
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Sequence Number (optional)                    |  if S
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Receive rules (gre_parse_header): version != 0 or R set -> -EINVAL; the
// other Reserved0 bits (RFC 1701's s/Recur/A/flags) are ignored. Header length
// is 4 + 4*C + 4*K + 4*S (gre_calc_hlen). The checksum (RFC 2784 §2.2) covers
// the GRE header and the whole payload; Linux validates it with
// skb_checksum_simple_validate and writes it in gre_build_header with the
// checksum and Reserved1 words zeroed first. A computed 0 is sent as 0
// (csum_fold, no 0xffff substitution as in UDP).

import { be16, be32, be32s, inBounds, put16, put32 } from './bytes.js';
import { checksum16, verify16 } from './checksum.js';
import { Drop } from './drop.js';

/** Flag bits of the first 16-bit word, as include/uapi/linux/if_tunnel.h names them (host order). */
export const GRE_CSUM = 0x8000;
export const GRE_ROUTING = 0x4000;
export const GRE_KEY = 0x2000;
export const GRE_SEQ = 0x1000;
export const GRE_STRICT = 0x0800;
export const GRE_REC = 0x0700;
export const GRE_ACK = 0x0080;
export const GRE_FLAGS = 0x0078;
export const GRE_VERSION = 0x0007;

/** The fixed part: flags/version word + protocol type. */
export const GRE_BASE_HLEN = 4;

/** gre_calc_hlen: 4 + 4 per C, K and S bit of the first word. */
export const greHeaderLenFromFlags = (flags16: number): number =>
  4 + ((flags16 >>> 13) & 4) + ((flags16 >>> 11) & 4) + ((flags16 >>> 10) & 4);

const FLAGS = 0;
const PROTO = 2;
const CSUM = 4;

/** A rebindable view of one GRE packet (header + payload). Accessors allocate nothing. */
export class GrePacket {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = new Uint8Array(0);
    this.o = 0;
    this.n = 0;
  }

  /**
   * Parse gate for received bytes, in gre_parse_header's order: Truncated
   * (< 4 bytes, or range outside b), GreVersion, GreRouting, then Truncated if
   * the optional fields do not fit. `len` must be the GRE packet length (the
   * outer IP payload length) because the checksum covers all of it.
   */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!inBounds(b, off, len) || len < GRE_BASE_HLEN) return Drop.Truncated;
    const flags = be16(b, off + FLAGS);
    if ((flags & GRE_VERSION) !== 0) return Drop.GreVersion;
    if ((flags & GRE_ROUTING) !== 0) return Drop.GreRouting;
    if (greHeaderLenFromFlags(flags) > len) return Drop.Truncated;
    this.b = b;
    this.o = off;
    this.n = len;
    return Drop.None;
  }

  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds an output range (content may be garbage); needs at least the 4-byte base header. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len) || len < GRE_BASE_HLEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  /** The whole first 16-bit word (C|R|K|S|Reserved0|Ver). */
  get flags(): number { return be16(this.b, this.o + FLAGS); }
  set flags(v: number) { put16(this.b, this.o + FLAGS, v); }

  get hasChecksum(): boolean { return (this.flags & GRE_CSUM) !== 0; }
  get hasRouting(): boolean { return (this.flags & GRE_ROUTING) !== 0; }
  get hasKey(): boolean { return (this.flags & GRE_KEY) !== 0; }
  get hasSeq(): boolean { return (this.flags & GRE_SEQ) !== 0; }

  get version(): number { return this.flags & GRE_VERSION; }
  set version(v: number) { this.flags = (this.flags & ~GRE_VERSION) | (v & GRE_VERSION); }

  get protocolType(): number { return be16(this.b, this.o + PROTO); }
  set protocolType(v: number) { put16(this.b, this.o + PROTO, v); }

  /** The Checksum field; 0 when C is clear. */
  get checksum(): number { return this.hasChecksum ? be16(this.b, this.o + CSUM) : 0; }
  set checksum(v: number) {
    if (!this.hasChecksum) throw new RangeError('GRE checksum field absent (C clear)');
    put16(this.b, this.o + CSUM, v);
  }

  /** The Key field (RFC 2890 §2.1), after the checksum word if C; 0 when K is clear. */
  get key(): number { return this.hasKey ? be32(this.b, this.keyOffset()) : 0; }
  /** The key as a signed int32 (a small integer, never a heap number); 0 without K. */
  get keyS(): number { return this.hasKey ? be32s(this.b, this.keyOffset()) : 0; }
  set key(v: number) {
    if (!this.hasKey) throw new RangeError('GRE key field absent (K clear)');
    put32(this.b, this.keyOffset(), v);
  }

  /** The Sequence Number (RFC 2890 §2.2), after the checksum and key words; 0 when S is clear. */
  get seq(): number { return this.hasSeq ? be32(this.b, this.seqOffset()) : 0; }
  /** The sequence number as a signed int32; 0 without S. */
  get seqS(): number { return this.hasSeq ? be32s(this.b, this.seqOffset()) : 0; }
  set seq(v: number) {
    if (!this.hasSeq) throw new RangeError('GRE sequence field absent (S clear)');
    put32(this.b, this.seqOffset(), v);
  }

  /** Bytes of header the flags announce (gre_calc_hlen). */
  get headerLen(): number { return greHeaderLenFromFlags(this.flags); }
  /** Absolute index of the payload in `buffer`. */
  get payloadOffset(): number { return this.o + this.headerLen; }
  get payloadLen(): number { return this.n - this.headerLen; }

  /**
   * RFC 2784 §2.2: the one's-complement sum of the whole bound range (header
   * + payload, checksum field included) folds to 0xffff. True when C is clear
   * (nothing to verify, as gre_parse_header only validates with GRE_CSUM).
   */
  verifyChecksum(): boolean {
    return !this.hasChecksum || verify16(this.b, this.o, this.n);
  }

  /**
   * Zeroes Checksum and Reserved1 (gre_build_header's `*ptr = 0`), then stores
   * the checksum of the bound range. Call once the payload is in place and
   * the view is bound to exactly the GRE packet. Throws if C is clear.
   */
  fillChecksum(): void {
    if (!this.hasChecksum) throw new RangeError('GRE checksum field absent (C clear)');
    put32(this.b, this.o + CSUM, 0);
    put16(this.b, this.o + CSUM, checksum16(this.b, this.o, this.n));
  }

  private keyOffset(): number {
    return this.o + 4 + ((this.flags >>> 13) & 4);
  }

  private seqOffset(): number {
    const f = this.flags;
    return this.o + 4 + ((f >>> 13) & 4) + ((f >>> 11) & 4);
  }
}

/**
 * Control-plane form of a version-0 GRE header. `checksum` says whether the
 * C bit (and its Checksum + Reserved1 word) is present; the value itself is
 * computed by GrePacket.fillChecksum. null key/seq means K/S clear.
 */
export interface GreRepr {
  readonly protocolType: number;
  readonly checksum: boolean;
  readonly key: number | null;
  readonly seq: number | null;
}

/** Reads a bound packet; null if it is not a valid version-0 header of the bound length. */
export function parseGre(p: GrePacket): GreRepr | null {
  if (p.length < GRE_BASE_HLEN) return null;
  const flags = p.flags;
  if ((flags & (GRE_VERSION | GRE_ROUTING)) !== 0 || greHeaderLenFromFlags(flags) > p.length) return null;
  return {
    protocolType: p.protocolType,
    checksum: (flags & GRE_CSUM) !== 0,
    key: (flags & GRE_KEY) !== 0 ? p.key : null,
    seq: (flags & GRE_SEQ) !== 0 ? p.seq : null,
  };
}

export const greHeaderLen = (r: GreRepr): number =>
  4 + (r.checksum ? 4 : 0) + (r.key !== null ? 4 : 0) + (r.seq !== null ? 4 : 0);

/**
 * Writes greHeaderLen(r) bytes at p.offset: flags (reserved bits and version
 * 0), protocol, a zeroed Checksum + Reserved1 word if r.checksum, key, seq.
 * The checksum is filled later by p.fillChecksum() once the payload is in
 * place. Throws RangeError if the view is shorter than the header.
 */
export function emitGre(r: GreRepr, p: GrePacket): void {
  const hlen = greHeaderLen(r);
  if (p.length < hlen) throw new RangeError(`GRE header needs ${hlen} bytes, view has ${p.length}`);
  p.flags = (r.checksum ? GRE_CSUM : 0) | (r.key !== null ? GRE_KEY : 0) | (r.seq !== null ? GRE_SEQ : 0);
  p.protocolType = r.protocolType;
  const b = p.buffer;
  let i = p.offset + 4;
  if (r.checksum) {
    put32(b, i, 0);
    i += 4;
  }
  if (r.key !== null) {
    put32(b, i, r.key);
    i += 4;
  }
  if (r.seq !== null) put32(b, i, r.seq);
}
