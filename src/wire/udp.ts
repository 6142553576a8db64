// User Datagram Protocol: RFC 768; checksum over the IPv4 pseudo-header
// (RFC 768) or the IPv6 one (RFC 8200 §8.1). Used for IKE (port 500) and
// ESP-in-UDP / NAT-T (RFC 3948, port 4500).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            Length             |           Checksum            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                          Data ...
//
// Length counts header + data. A receiver trims the datagram to Length
// (the kernel's udp_rcv: `ulen > skb->len` or `ulen < 8` -> drop, then
// pskb_trim_rcsum to ulen), so check() binds exactly Length bytes.
// Checksum: 0 on IPv4 means "not computed" (RFC 768); on IPv6 it is
// mandatory and 0 is invalid (RFC 8200 §8.1). A computed 0 is transmitted as
// 0xffff on both. The kernel sends ESP-in-UDP with checksum 0 on IPv4.
//
// Naming: `length` is the RFC 768 Length field. After check() it equals the
// bound length; the bound range itself is `boundLen` (what other views call
// `length`).

import { be16, inBounds, put16 } from './bytes.js';
import { checksum16, pseudoSum4, pseudoSum6, verify16 } from './checksum.js';
import { Drop } from './drop.js';
import { IPPROTO_UDP } from './ipproto.js';

export const UDP_HDR_LEN = 8;
/** IKE (RFC 7296 §2). */
export const UDP_PORT_IKE = 500;
/** IKE and ESP-in-UDP after NAT detection (RFC 3948, RFC 7296 §2.23). */
export const UDP_PORT_NAT_T = 4500;

const SPORT = 0;
const DPORT = 2;
const LEN = 4;
const CSUM = 6;

/** A rebindable view of one UDP datagram. Accessors and checksum methods allocate nothing. */
export class UdpPacket {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = new Uint8Array(0);
    this.o = 0;
    this.n = 0;
  }

  /**
   * Parse gate for received bytes: Truncated if fewer than 8 bytes (or the
   * range is outside b); BadUdp if the Length field is < 8 or > len. Binds
   * b[off, off+Length): bytes after Length (link padding) are not part of the
   * datagram.
   */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!inBounds(b, off, len) || len < UDP_HDR_LEN) return Drop.Truncated;
    const ulen = be16(b, off + LEN);
    if (ulen < UDP_HDR_LEN || ulen > len) return Drop.BadUdp;
    this.b = b;
    this.o = off;
    this.n = ulen;
    return Drop.None;
  }

  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /**
   * Binds an output range (content may be garbage) of at least 8 bytes. Bind
   * exactly the datagram (header + data): the checksum methods cover it all.
   */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len) || len < UDP_HDR_LEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  /** Bytes bound: the Length field after check(), the bound range after bind(). */
  get boundLen(): number { return this.n; }

  get srcPort(): number { return be16(this.b, this.o + SPORT); }
  set srcPort(v: number) { put16(this.b, this.o + SPORT, v); }
  get dstPort(): number { return be16(this.b, this.o + DPORT); }
  set dstPort(v: number) { put16(this.b, this.o + DPORT, v); }
  /** The Length field (header + data, RFC 768). */
  get length(): number { return be16(this.b, this.o + LEN); }
  set length(v: number) { put16(this.b, this.o + LEN, v); }
  get checksum(): number { return be16(this.b, this.o + CSUM); }
  set checksum(v: number) { put16(this.b, this.o + CSUM, v); }

  /** Absolute index of the data in `buffer`. */
  get payloadOffset(): number { return this.o + UDP_HDR_LEN; }
  get payloadLen(): number { return this.n - UDP_HDR_LEN; }

  /**
   * IPv4 (RFC 768): a zero checksum means none was computed -> true. Else the
   * pseudo-header (src, dst: u32 addresses) + datagram must sum to 0xffff.
   */
  verifyChecksum4(src: number, dst: number): boolean {
    if (this.checksum === 0) return true;
    return verify16(this.b, this.o, this.n, pseudoSum4(src, dst, IPPROTO_UDP, this.n));
  }

  /**
   * IPv6 (RFC 8200 §8.1): the checksum is mandatory, so zero -> false. The
   * 16-byte addresses are read at srcBuf[srcOff] and dstBuf[dstOff].
   */
  verifyChecksum6(srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number): boolean {
    if (this.checksum === 0) return false;
    return verify16(this.b, this.o, this.n, pseudoSum6(srcBuf, srcOff, dstBuf, dstOff, IPPROTO_UDP, this.n));
  }

  /** Computes and stores the IPv4 checksum over the bound datagram; a computed 0 is sent as 0xffff. */
  fillChecksum4(src: number, dst: number): void {
    this.checksum = 0;
    this.store(checksum16(this.b, this.o, this.n, pseudoSum4(src, dst, IPPROTO_UDP, this.n)));
  }

  /** Computes and stores the IPv6 checksum over the bound datagram; a computed 0 is sent as 0xffff. */
  fillChecksum6(srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number): void {
    this.checksum = 0;
    this.store(checksum16(this.b, this.o, this.n, pseudoSum6(srcBuf, srcOff, dstBuf, dstOff, IPPROTO_UDP, this.n)));
  }

  /** Sets the checksum to 0 ("none", IPv4 only), as the kernel sends ESP-in-UDP. */
  clearChecksum(): void { this.checksum = 0; }

  private store(c: number): void { this.checksum = c === 0 ? 0xffff : c; }
}

/** Control-plane form of the header. The checksum is not part of it (see emitUdp). */
export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Header + data length in bytes, 8..65535. */
  readonly length: number;
}

/** Reads a bound datagram; null if its Length field is not in 8..boundLen. */
export function parseUdp(p: UdpPacket): UdpRepr | null {
  const ulen = p.length;
  if (ulen < UDP_HDR_LEN || ulen > p.boundLen) return null;
  return { srcPort: p.srcPort, dstPort: p.dstPort, length: ulen };
}

/** Bytes emit writes: always UDP_HDR_LEN (the parameter keeps the Repr contract uniform). */
export function udpHeaderLen(r: UdpRepr): number {
  void r;
  return UDP_HDR_LEN;
}

/**
 * Writes the 8-byte header at p.offset with checksum 0 (none); the caller
 * fills it with fillChecksum4/6 once the data is in place. Throws RangeError
 * on a short view or a length outside 8..65535.
 */
export function emitUdp(r: UdpRepr, p: UdpPacket): void {
  if (p.boundLen < UDP_HDR_LEN) throw new RangeError(`UDP header needs ${UDP_HDR_LEN} bytes, view has ${p.boundLen}`);
  if (r.length < UDP_HDR_LEN || r.length > 0xffff) throw new RangeError(`UDP length ${r.length} outside 8..65535`);
  p.srcPort = r.srcPort;
  p.dstPort = r.dstPort;
  p.length = r.length;
  p.checksum = 0;
}
