// TCP header: RFC 9293 §3.1 (CWR/ECE: RFC 3168 §6.1; AE, formerly NS: RFC 9768).
// A view only (no Repr): tunkit never originates TCP; the offload core
// (src/offload/) reads and rewrites the fields TSO and GRO touch.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Sequence Number                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Acknowledgment Number                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data |     |A|C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsvd|E|W|C|R|C|S|S|Y|I|            Window             |
//   |       |     | |R|E|G|K|H|T|N|N|                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Checksum            |         Urgent Pointer        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options (Data Offset*4 - 20)               |
//
// Units: headerLen in bytes (Data Offset * 4, 20..60). `flags` is byte 13
// (CWR..FIN); the AE bit lives in byte 12 and is not part of it.

import { be16, be32, be32s, put16, put32, spanOk } from './bytes.js';

export const TCP_HDR_LEN = 20;
export const TCP_MAX_HDR_LEN = 60;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** Byte offsets inside the header (for code that sums or compares ranges). */
export const TCP_OFF_SEQ = 4;
export const TCP_OFF_ACK = 8;
export const TCP_OFF_DATA_OFFSET = 12;
export const TCP_OFF_FLAGS = 13;
export const TCP_OFF_WINDOW = 14;
export const TCP_OFF_CHECKSUM = 16;

/**
 * A rebindable view of one TCP header. check() is the bounds gate: after it
 * returns true, 20 ≤ headerLen ≤ the bound length, and every getter and the
 * option bytes are in range. Nothing here allocates.
 */
export class TcpHeader {
  private b: Uint8Array = new Uint8Array(0);
  private o = 0;
  private n = 0;

  /** Binds b[off, off+len) when it holds a whole header (Data Offset ≥ 5 and within len). */
  check(b: Uint8Array, off: number, len: number): boolean {
    if (!spanOk(b, off, len) || len < TCP_HDR_LEN) return false;
    const hl = (b[off + TCP_OFF_DATA_OFFSET]! >>> 4) << 2;
    if (hl < TCP_HDR_LEN || hl > len) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  /** Bytes bound: header + payload. */
  get length(): number { return this.n; }

  get srcPort(): number { return be16(this.b, this.o); }
  get dstPort(): number { return be16(this.b, this.o + 2); }
  get seq(): number { return be32(this.b, this.o + TCP_OFF_SEQ); }
  /** The sequence number as a signed int32 (mod 2^32 arithmetic with | 0; never a heap number). */
  get seqS(): number { return be32s(this.b, this.o + TCP_OFF_SEQ); }
  set seq(v: number) { put32(this.b, this.o + TCP_OFF_SEQ, v); }
  get ack(): number { return be32(this.b, this.o + TCP_OFF_ACK); }
  /** Header length in bytes (Data Offset * 4). */
  get headerLen(): number { return (this.b[this.o + TCP_OFF_DATA_OFFSET]! >>> 4) << 2; }
  /** Byte 13: CWR ECE URG ACK PSH RST SYN FIN. */
  get flags(): number { return this.b[this.o + TCP_OFF_FLAGS]!; }
  set flags(v: number) { this.b[this.o + TCP_OFF_FLAGS] = v; }
  get window(): number { return be16(this.b, this.o + TCP_OFF_WINDOW); }
  get checksum(): number { return be16(this.b, this.o + TCP_OFF_CHECKSUM); }
  set checksum(v: number) { put16(this.b, this.o + TCP_OFF_CHECKSUM, v); }
  get urgentPointer(): number { return be16(this.b, this.o + 18); }
  /** Absolute index of the payload. */
  get payloadOffset(): number { return this.o + this.headerLen; }
  get payloadLen(): number { return this.n - this.headerLen; }
}
