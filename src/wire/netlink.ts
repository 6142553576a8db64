// Netlink framing: the message header, attributes (TLVs) and the error/ACK
// message. Source: include/uapi/linux/netlink.h; netlink(7); the kernel's
// lib/nlattr.c (nla_ok, __nla_parse) and net/netlink/af_netlink.c
// (netlink_ack, netlink_dump_done). rtnetlink's bodies are in rtnetlink.ts.
//
// Every field is in HOST byte order (h16/h32 in bytes.ts), not network order.
// A datagram holds one or more messages, each starting NLMSG_ALIGN(4)ed:
//
//   struct nlmsghdr (16 bytes)
//    0               4               6               8              12             16
//   +---------------+-------+-------+---------------+---------------+
//   | nlmsg_len u32 | type  | flags | nlmsg_seq u32 | nlmsg_pid u32 | payload ... pad to 4
//   +---------------+-------+-------+---------------+---------------+
//   nlmsg_len counts header + payload, not the trailing pad.
//
//   struct nlattr / rtattr (4 bytes), then the value, padded to 4:
//   | nla_len u16 | nla_type u16 | value ... | pad |    nla_len = 4 + value length
//   nla_type bit 15 NLA_F_NESTED, bit 14 NLA_F_NET_BYTEORDER; the type is the low 14 bits.
//
//   NLMSG_ERROR payload (struct nlmsgerr):
//   | error s32 (0 = ACK, else -errno) | the request's nlmsghdr | rest of the request
//     unless NLM_F_CAPPED | extack TLVs if NLM_F_ACK_TLVS (NLMSGERR_ATTR_*) |
//
// Decoding never throws: wrap() is the only bounds gate and returns false,
// parse functions return null. Emitting into a range that is too short is a
// programmer error and throws RangeError.

import { h16, h32, inBounds, putH16, putH32 } from './bytes.js';

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
/** NLMSG_ALIGN / NLA_ALIGN: round up to 4 bytes. */
export const nlAlign = (n: number): number => (n + 3) & ~3;

// Message types below NLMSG_MIN_TYPE (0x10) are control messages.
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// Modifiers to GET requests.
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// Modifiers to NEW requests.
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// Flags of an NLMSG_ERROR message.
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// enum nlmsgerr_attrs
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

const LEN = 0;
const TYPE = 4;
const FLAGS = 6;
const SEQ = 8;
const PID = 12;
const EMPTY = new Uint8Array(0);

/** A rebindable view of one netlink message (header + payload). */
export class NlMsg {
  private b: Uint8Array = EMPTY;
  private o = 0;
  private n = 0;

  /**
   * Parse gate: binds the message at b[off, off+nlmsg_len). False if fewer
   * than 16 bytes, or nlmsg_len is < 16 or > len (a truncated message).
   */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    if (!inBounds(b, off, len) || len < NLMSG_HDRLEN) return false;
    const n = h32(b, off + LEN);
    if (n < NLMSG_HDRLEN || n > len) return false;
    this.b = b; this.o = off; this.n = n;
    return true;
  }

  /** Binds an output range of at least 16 bytes (contents may be garbage). */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len) || len < NLMSG_HDRLEN) return false;
    this.b = b; this.o = off; this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  /** nlmsg_len after wrap(); the bound range after bind(). */
  get boundLen(): number { return this.n; }

  get length(): number { return h32(this.b, this.o + LEN); }
  set length(v: number) { putH32(this.b, this.o + LEN, v); }
  get type(): number { return h16(this.b, this.o + TYPE); }
  set type(v: number) { putH16(this.b, this.o + TYPE, v); }
  get flags(): number { return h16(this.b, this.o + FLAGS); }
  set flags(v: number) { putH16(this.b, this.o + FLAGS, v); }
  get seq(): number { return h32(this.b, this.o + SEQ); }
  set seq(v: number) { putH32(this.b, this.o + SEQ, v); }
  /** Sender's port id: 0 from the kernel; a reply carries the requester's. */
  get pid(): number { return h32(this.b, this.o + PID); }
  set pid(v: number) { putH32(this.b, this.o + PID, v); }

  /** Absolute index of the payload in `buffer`. */
  get payloadOffset(): number { return this.o + NLMSG_HDRLEN; }
  get payloadLen(): number { return this.n - NLMSG_HDRLEN; }
  /** Absolute index where the next message of the datagram starts (NLMSG_ALIGN). */
  get nextOffset(): number { return this.o + nlAlign(this.n); }
}

/** The header as a value. `length` is written by the emit functions. */
export interface NlHdrRepr {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

export const parseNlHdr = (p: NlMsg): NlHdrRepr => ({ type: p.type, flags: p.flags, seq: p.seq, pid: p.pid });

/** Writes the 16-byte header with nlmsg_len = `length` (header + payload). */
export function emitNlHdr(h: NlHdrRepr, length: number, p: NlMsg): void {
  if (p.boundLen < length || length < NLMSG_HDRLEN) throw new RangeError(`netlink message of ${length} bytes, view has ${p.boundLen}`);
  p.length = length;
  p.type = h.type;
  p.flags = h.flags;
  p.seq = h.seq;
  p.pid = h.pid;
}

/**
 * A rebindable iterator over a run of attributes (rtattr/nlattr). next()
 * follows the kernel's nla_ok(): an attribute shorter than its header or
 * running past the end stops iteration and sets isMalformed; fewer than 4
 * trailing bytes end it quietly (__nla_parse only warns about them).
 */
export class NlAttrs {
  private b: Uint8Array = EMPTY;
  private end = 0;
  private cur = 0;
  private nxt = 0;
  private len = 0;
  private t = 0;
  isMalformed = false;

  /** Binds b[off, off+len) and rewinds; false if the range is outside b. */
  wrap(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len)) return false;
    this.b = b; this.end = off + len; this.nxt = off; this.cur = off; this.len = 0; this.t = 0;
    this.isMalformed = false;
    return true;
  }

  /** Moves to the next attribute; false at the end or at a malformed one. */
  next(): boolean {
    const rem = this.end - this.nxt;
    if (rem < NLA_HDRLEN) return false;
    const len = h16(this.b, this.nxt);
    if (len < NLA_HDRLEN || len > rem) {
      this.isMalformed = true;
      this.nxt = this.end;
      return false;
    }
    this.cur = this.nxt; this.len = len; this.t = h16(this.b, this.cur + 2);
    this.nxt = Math.min(this.cur + nlAlign(len), this.end);
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  /** nla_type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits. */
  get type(): number { return this.t & NLA_TYPE_MASK; }
  get isNested(): boolean { return (this.t & NLA_F_NESTED) !== 0; }
  /** Absolute index of the value in `buffer`, and its length (nla_len - 4). */
  get valueOffset(): number { return this.cur + NLA_HDRLEN; }
  get valueLen(): number { return this.len - NLA_HDRLEN; }

  /** The value as u8/u16/u32 (host order); null unless it is exactly that size. */
  u8(): number | null { return this.valueLen === 1 ? this.b[this.valueOffset]! : null; }
  u16(): number | null { return this.valueLen === 2 ? h16(this.b, this.valueOffset) : null; }
  u32(): number | null { return this.valueLen === 4 ? h32(this.b, this.valueOffset) : null; }
  /** A copy of the value, or null unless it is `n` bytes long (n < 0: any length). */
  bytes(n = -1): Uint8Array | null {
    if (n >= 0 && this.valueLen !== n) return null;
    return new Uint8Array(this.b.subarray(this.valueOffset, this.valueOffset + this.valueLen)); // a copy: the Repr owns it
  }
  /** An NLA_NUL_STRING / NLA_STRING value: the bytes up to the first NUL, as UTF-8. */
  str(): string {
    const v = this.b.subarray(this.valueOffset, this.valueOffset + this.valueLen);
    const nul = v.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? v : v.subarray(0, nul));
  }
}

/** Bytes an attribute with a `valueLen`-byte value takes, padding included (NLA_ALIGN). */
export const nlAttrSpace = (valueLen: number): number => nlAlign(NLA_HDRLEN + valueLen);

/**
 * Writes an attribute header at b[off] for a `valueLen`-byte value and zeroes
 * the value's padding; returns the value's offset. The caller has bound a
 * range holding nlAttrSpace(valueLen) bytes at off.
 */
export function putNlAttrHdr(b: Uint8Array, off: number, type: number, valueLen: number): number {
  putH16(b, off, NLA_HDRLEN + valueLen);
  putH16(b, off + 2, type);
  b.fill(0, off + NLA_HDRLEN + valueLen, off + nlAttrSpace(valueLen));
  return off + NLA_HDRLEN;
}

/** Emitters for one value each; every one returns the offset after the padded attribute. */
export function putNlAttrU8(b: Uint8Array, off: number, type: number, v: number): number {
  b[putNlAttrHdr(b, off, type, 1)] = v;
  return off + nlAttrSpace(1);
}

export function putNlAttrU32(b: Uint8Array, off: number, type: number, v: number): number {
  putH32(b, putNlAttrHdr(b, off, type, 4), v);
  return off + nlAttrSpace(4);
}

export function putNlAttrBytes(b: Uint8Array, off: number, type: number, v: Uint8Array): number {
  b.set(v, putNlAttrHdr(b, off, type, v.length));
  return off + nlAttrSpace(v.length);
}

/** A NUL-terminated string value (NLA_NUL_STRING, as iproute2 sends IFLA_IFNAME). */
export function putNlAttrStr(b: Uint8Array, off: number, type: number, s: Uint8Array): number {
  const at = putNlAttrHdr(b, off, type, s.length + 1);
  b.set(s, at);
  b[at + s.length] = 0;
  return off + nlAttrSpace(s.length + 1);
}

/** Bytes of a NUL-terminated string attribute holding `s` (UTF-8). */
export const nlStrSpace = (s: string): number => nlAttrSpace(utf8(s).length + 1);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * NLMSG_ERROR: an ACK (error 0) or a failure (-errno), with the request it
 * answers (netlink_ack): its header only when NLM_F_CAPPED, else the whole
 * request; with NLM_F_ACK_TLVS, the kernel's extended ACK (NETLINK_EXT_ACK).
 */
export interface NlErrRepr {
  /** 0 = ACK, else a negative errno (-ENETDOWN = -100). */
  readonly error: number;
  /** The echoed request: 16 header bytes when capped, else all of it. */
  readonly echo: Uint8Array;
  /** NLMSGERR_ATTR_MSG: the kernel's text ("Device for nexthop is not up"), or null. */
  readonly msg: string | null;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the request, or null. */
  readonly offs: number | null;
}

/** Reads an NLMSG_ERROR message; null if it is not one or is malformed. */
export function parseNlErr(p: NlMsg): NlErrRepr | null {
  if (p.type !== NLMSG_ERROR || p.payloadLen < 4 + NLMSG_HDRLEN) return null;
  const b = p.buffer;
  const at = p.payloadOffset;
  const error = h32(b, at) | 0;
  const capped = (p.flags & NLM_F_CAPPED) !== 0;
  const echoLen = capped ? NLMSG_HDRLEN : h32(b, at + 4);
  const avail = p.payloadLen - 4;
  if (echoLen < NLMSG_HDRLEN || echoLen > avail) return null;
  let msg: string | null = null;
  let offs: number | null = null;
  if ((p.flags & NLM_F_ACK_TLVS) !== 0) {
    const tlv = Math.min(nlAlign(echoLen), avail);
    const a = new NlAttrs();
    a.wrap(b, at + 4 + tlv, avail - tlv);
    while (a.next()) {
      if (a.type === NLMSGERR_ATTR_MSG) msg = a.str();
      else if (a.type === NLMSGERR_ATTR_OFFS) offs = a.u32();
    }
    if (a.isMalformed) return null;
  }
  return { error, echo: new Uint8Array(b.subarray(at + 4, at + 4 + echoLen)), msg, offs };
}

const errTlvLen = (r: NlErrRepr): number =>
  (r.msg !== null ? nlStrSpace(r.msg) : 0) + (r.offs !== null ? nlAttrSpace(4) : 0);

/** Bytes emitNlErr writes (header included). */
export const nlErrLen = (r: NlErrRepr): number => NLMSG_HDRLEN + 4 + nlAlign(r.echo.length) + errTlvLen(r);

/**
 * Writes an NLMSG_ERROR message. Its flags are h.flags plus NLM_F_CAPPED when
 * the echo is only a header of a longer request, and NLM_F_ACK_TLVS when
 * there are extack attributes, as netlink_ack sets them.
 */
export function emitNlErr(h: NlHdrRepr, r: NlErrRepr, p: NlMsg): void {
  if (r.echo.length < NLMSG_HDRLEN) throw new RangeError(`nlmsgerr echo of ${r.echo.length} bytes, need ${NLMSG_HDRLEN}`);
  const len = nlErrLen(r);
  const capped = r.echo.length === NLMSG_HDRLEN && h32(r.echo, 0) > NLMSG_HDRLEN;
  const flags = h.flags | (capped ? NLM_F_CAPPED : 0) | (errTlvLen(r) > 0 ? NLM_F_ACK_TLVS : 0);
  emitNlHdr({ ...h, type: NLMSG_ERROR, flags }, len, p);
  const b = p.buffer;
  let o = p.payloadOffset;
  putH32(b, o, r.error >>> 0);
  b.set(r.echo, o + 4);
  b.fill(0, o + 4 + r.echo.length, o + 4 + nlAlign(r.echo.length));
  o += 4 + nlAlign(r.echo.length);
  if (r.msg !== null) o = putNlAttrStr(b, o, NLMSGERR_ATTR_MSG, utf8(r.msg));
  if (r.offs !== null) putNlAttrU32(b, o, NLMSGERR_ATTR_OFFS, r.offs);
}

/** NLMSG_DONE's payload: an int, the dump's error (0, or -errno such as -EINTR), or null if malformed. */
export function parseNlDone(p: NlMsg): number | null {
  if (p.type !== NLMSG_DONE || p.payloadLen < 4) return null;
  return h32(p.buffer, p.payloadOffset) | 0;
}
