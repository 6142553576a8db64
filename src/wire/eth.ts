// Ethernet II framing (IEEE 802.3 §3.1.1 with the DIX EtherType in the
// Length/Type field; kernel include/uapi/linux/if_ether.h). Used for TAP
// devices, gretap (GRE protocol 0x6558, Transparent Ethernet Bridging) and
// the golden pcaps (LINKTYPE_ETHERNET). No FCS: Linux hands frames to
// userspace (TAP, AF_PACKET) without it.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0|                 Destination MAC Address (48)                  |
//   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4|                               |                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//  8|                   Source MAC Address (48)                     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12|          EtherType            |  Payload ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The I/G bit (least significant bit of the first octet, IEEE 802-2014 §8.2)
// marks a group (multicast) address; ff:ff:ff:ff:ff:ff is broadcast.
// 802.1Q/802.1ad tags are not parsed here: the EtherType then reads 0x8100 /
// 0x88a8 and the caller decides.

import { be16, inBounds, put16 } from './bytes.js';
import { Drop } from './drop.js';

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
/** Transparent Ethernet Bridging: the GRE protocol type of gretap. */
export const ETH_P_TEB = 0x6558;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_MPLS_UC = 0x8847;
/** ERSPAN type II over GRE. */
export const ETH_P_ERSPAN = 0x88be;
/** ERSPAN type III over GRE. */
export const ETH_P_ERSPAN2 = 0x22eb;
/** Web Cache Communication Protocol redirection over GRE (gre_parse_header). */
export const ETH_P_WCCP = 0x883e;

const DST = 0;
const SRC = 6;
const TYPE = 12;

/** A rebindable view of one Ethernet II frame. Accessors allocate nothing. */
export class EthFrame {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = new Uint8Array(0);
    this.o = 0;
    this.n = 0;
  }

  /**
   * Parse gate for received frames: BadEthernet when shorter than the
   * 14-byte header, Truncated when [off, off+len) is not inside b. Binds and
   * returns Drop.None on success; never throws, never allocates.
   */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!inBounds(b, off, len)) return Drop.Truncated;
    if (len < ETH_HLEN) return Drop.BadEthernet;
    this.b = b;
    this.o = off;
    this.n = len;
    return Drop.None;
  }

  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds an output range (content may be garbage): only needs room for the header. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len) || len < ETH_HLEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  /** Absolute index of the destination address in `buffer`. */
  get dstOffset(): number { return this.o + DST; }
  /** Absolute index of the source address in `buffer`. */
  get srcOffset(): number { return this.o + SRC; }

  get etherType(): number { return be16(this.b, this.o + TYPE); }
  set etherType(v: number) { put16(this.b, this.o + TYPE, v); }

  /** Copies 6 bytes mac[macOff..] into the destination field. */
  setDst(mac: Uint8Array, macOff = 0): void { copy6(mac, macOff, this.b, this.o + DST); }
  /** Copies 6 bytes mac[macOff..] into the source field. */
  setSrc(mac: Uint8Array, macOff = 0): void { copy6(mac, macOff, this.b, this.o + SRC); }
  /** Copies the destination address to out[outOff..outOff+6). */
  copyDst(out: Uint8Array, outOff = 0): void { copy6(this.b, this.o + DST, out, outOff); }
  /** Copies the source address to out[outOff..outOff+6). */
  copySrc(out: Uint8Array, outOff = 0): void { copy6(this.b, this.o + SRC, out, outOff); }

  /** Destination is ff:ff:ff:ff:ff:ff. */
  get isBroadcast(): boolean {
    const b = this.b;
    const i = this.o + DST;
    return (b[i]! & b[i + 1]! & b[i + 2]! & b[i + 3]! & b[i + 4]! & b[i + 5]!) === 0xff;
  }

  /** Destination has the I/G (group) bit set; true for broadcast too. */
  get isMulticast(): boolean { return (this.b[this.o + DST]! & 1) === 1; }

  /** Absolute index of the payload in `buffer`. */
  get payloadOffset(): number { return this.o + ETH_HLEN; }
  get payloadLen(): number { return this.n - ETH_HLEN; }
}

function copy6(from: Uint8Array, fromOff: number, to: Uint8Array, toOff: number): void {
  if (fromOff < 0 || fromOff + ETH_ALEN > from.length || toOff < 0 || toOff + ETH_ALEN > to.length) {
    throw new RangeError('MAC address range outside the buffer');
  }
  for (let i = 0; i < ETH_ALEN; i++) to[toOff + i] = from[fromOff + i]!;
}

/** Control-plane form of the header. dst/src are 6-byte arrays owned by the repr. */
export interface EthRepr {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly etherType: number;
}

/** Copies the header out of a bound frame (allocates two 6-byte arrays). */
export function parseEth(p: EthFrame): EthRepr {
  const dst = new Uint8Array(ETH_ALEN);
  const src = new Uint8Array(ETH_ALEN);
  p.copyDst(dst, 0);
  p.copySrc(src, 0);
  return { dst, src, etherType: p.etherType };
}

/** Bytes emit writes: always ETH_HLEN (the parameter keeps the Repr contract uniform). */
export function ethHeaderLen(r: EthRepr): number {
  void r;
  return ETH_HLEN;
}

/** Writes the 14-byte header at p.offset. Throws RangeError on a short view or a MAC that is not 6 bytes. */
export function emitEth(r: EthRepr, p: EthFrame): void {
  if (p.length < ETH_HLEN) throw new RangeError(`Ethernet header needs ${ETH_HLEN} bytes, view has ${p.length}`);
  if (r.dst.length !== ETH_ALEN || r.src.length !== ETH_ALEN) throw new RangeError('MAC addresses must be 6 bytes');
  p.setDst(r.dst, 0);
  p.setSrc(r.src, 0);
  p.etherType = r.etherType;
}

/**
 * Parses "52:54:00:00:00:02" (six colon-separated groups of one or two hex
 * digits, as iproute2's ll_addr_a2n accepts). Null when malformed.
 */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(':');
  if (parts.length !== ETH_ALEN) return null;
  const out = new Uint8Array(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** Lower-case "aa:bb:cc:dd:ee:ff" of b[off, off+6). Control plane only. */
export function formatMac(b: Uint8Array, off = 0): string {
  if (off < 0 || off + ETH_ALEN > b.length) throw new RangeError('MAC address range outside the buffer');
  let s = '';
  for (let i = 0; i < ETH_ALEN; i++) {
    if (i > 0) s += ':';
    s += b[off + i]!.toString(16).padStart(2, '0');
  }
  return s;
}
