// Addresses, prefixes, selectors and flows for the SAD/SPD.
//
// Addresses are kept as 16 bytes (IPv4 in the first 4, like the kernel's
// xfrm_address_t union) with their family, so one matcher serves both
// families and compares against packet bytes in place. A Flow is the
// decoded session of one packet (the kernel's flowi from
// decode_session4/decode_session6 in net/xfrm/xfrm_policy.c): addresses,
// protocol and the two "port" fields, which carry ICMP type/code and the
// GRE key halves for those protocols (xfrm_flowi_sport/xfrm_flowi_dport).
// A selector match is __xfrm4_selector_match / __xfrm6_selector_match
// (include/net/xfrm.h). Nothing here allocates per packet.

import { be16, be32 } from '../wire/bytes.js';
import { formatIp4, formatIp6, parseIp4, parseIp6 } from '../wire/addr.js';
import { ConfigError } from '../wire/errors.js';
import {
  IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ROUTING,
} from '../wire/ipproto.js';
import type { SelectorSpec } from './spec.js';

export type Family = 4 | 6;

export interface XAddr { readonly family: Family; readonly bytes: Uint8Array }
export interface Prefix extends XAddr { readonly plen: number }

/** Parses "ADDR" (IPv4 or IPv6 text); throws ConfigError naming `field`. */
export function parseXAddr(field: string, s: unknown): XAddr {
  if (typeof s !== 'string') throw new ConfigError(field, 'an address is required');
  const bytes = new Uint8Array(16);
  const v4 = parseIp4(s);
  if (v4 !== null) {
    bytes[0] = v4 >>> 24; bytes[1] = v4 >>> 16; bytes[2] = v4 >>> 8; bytes[3] = v4;
    return { family: 4, bytes };
  }
  const v6 = parseIp6(s);
  if (v6 === null) throw new ConfigError(field, `"${s}" is not an IPv4 or IPv6 address`);
  bytes.set(v6);
  return { family: 6, bytes };
}

/** Parses "ADDR[/PLEN]" (a bare address is a host prefix). */
export function parsePrefix(field: string, s: unknown): Prefix {
  if (typeof s !== 'string') throw new ConfigError(field, 'a prefix is required');
  const slash = s.indexOf('/');
  const a = parseXAddr(field, slash < 0 ? s : s.substring(0, slash));
  const max = a.family === 4 ? 32 : 128;
  let plen = max;
  if (slash >= 0) {
    const t = s.substring(slash + 1);
    if (!/^[0-9]{1,3}$/.test(t) || Number(t) > max) throw new ConfigError(field, `prefix length "${t}" is not 0..${max}`);
    plen = Number(t);
  }
  return { ...a, plen };
}

/** The address as text. */
export const formatXAddr = (a: XAddr): string => (a.family === 4 ? formatIp4(be32(a.bytes, 0)) : formatIp6(a.bytes, 0));
export const formatPrefix = (p: Prefix): string => `${formatXAddr(p)}/${p.plen}`;

/** True when b[off, +plen bits) equals the prefix's first plen bits (addr_match in include/net/xfrm.h). */
export function prefixMatch(p: Prefix, b: Uint8Array, off: number): boolean {
  const full = p.plen >>> 3;
  for (let i = 0; i < full; i++) if (b[off + i] !== p.bytes[i]) return false;
  const rest = p.plen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((b[off + full]! ^ p.bytes[full]!) & mask) === 0;
}

/** Equal addresses of the same family. */
export function xaddrEqual(a: XAddr, b: XAddr): boolean {
  if (a.family !== b.family) return false;
  const n = a.family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

/** True when the address at b[off] (4 or 16 bytes by a.family) equals a. */
export function xaddrAt(a: XAddr, b: Uint8Array, off: number): boolean {
  const n = a.family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) if (b[off + i] !== a.bytes[i]) return false;
  return true;
}

/** struct xfrm_selector. family 0 = AF_UNSPEC (matches either family, wildcard prefixes). */
export interface Selector {
  readonly family: Family | 0;
  readonly src: Prefix;
  readonly dst: Prefix;
  readonly proto: number;
  readonly sport: number;
  readonly sportMask: number;
  readonly dport: number;
  readonly dportMask: number;
  readonly ifindex: number;
}

const ANY4: Prefix = { family: 4, bytes: new Uint8Array(16), plen: 0 };
const ANY6: Prefix = { family: 6, bytes: new Uint8Array(16), plen: 0 };

/** The all-matching selector of a family (0 = either). */
export function anySelector(family: Family | 0): Selector {
  const p = family === 6 ? ANY6 : ANY4;
  return { family, src: p, dst: p, proto: 0, sport: 0, sportMask: 0, dport: 0, dportMask: 0, ifindex: 0 };
}

const u16 = (field: string, v: unknown, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new ConfigError(field, 'must be 0..65535');
  return v;
};

/** Validates a SelectorSpec; `ifindexOf` resolves `dev` (null = unknown device). */
export function makeSelector(field: string, s: SelectorSpec, ifindexOf: (dev: string) => number | null): Selector {
  if (typeof s !== 'object' || s === null) throw new ConfigError(field, 'a selector object is required');
  const src = parsePrefix(`${field}.src`, s.src);
  const dst = parsePrefix(`${field}.dst`, s.dst);
  if (src.family !== dst.family) throw new ConfigError(`${field}.dst`, 'src and dst must be of one family');
  const proto = s.proto ?? 0;
  if (typeof proto !== 'number' || !Number.isInteger(proto) || proto < 0 || proto > 255) throw new ConfigError(`${field}.proto`, 'must be 0..255');
  const sport = u16(`${field}.sport`, s.sport, 0);
  const dport = u16(`${field}.dport`, s.dport, 0);
  const sportMask = u16(`${field}.sportMask`, s.sportMask, s.sport !== undefined ? 0xffff : 0);
  const dportMask = u16(`${field}.dportMask`, s.dportMask, s.dport !== undefined ? 0xffff : 0);
  let ifindex = 0;
  if (s.dev !== undefined) {
    const ix = typeof s.dev === 'string' ? ifindexOf(s.dev) : null;
    if (ix === null) throw new ConfigError(`${field}.dev`, `Cannot find device "${String(s.dev)}"`);
    ifindex = ix;
  }
  return { family: src.family, src, dst, proto, sport, sportMask, dport, dportMask, ifindex };
}

/** Back to the JSON form (for records). */
export function selectorSpec(s: Selector, devName: (ix: number) => string | null): SelectorSpec {
  const dev = s.ifindex !== 0 ? devName(s.ifindex) : null;
  return {
    src: formatPrefix(s.src), dst: formatPrefix(s.dst),
    ...(s.proto !== 0 ? { proto: s.proto } : {}),
    ...(s.sportMask !== 0 ? { sport: s.sport, sportMask: s.sportMask } : {}),
    ...(s.dportMask !== 0 ? { dport: s.dport, dportMask: s.dportMask } : {}),
    ...(dev !== null ? { dev } : {}),
  };
}

/** Selectors equal field by field (xfrm_selector_match of policies: xfrm_policy_insert's key). */
export function selectorEqual(a: Selector, b: Selector): boolean {
  return a.family === b.family && a.src.plen === b.src.plen && a.dst.plen === b.dst.plen && xaddrEqual(a.src, b.src)
    && xaddrEqual(a.dst, b.dst) && a.proto === b.proto && a.sport === b.sport && a.sportMask === b.sportMask
    && a.dport === b.dport && a.dportMask === b.dportMask && a.ifindex === b.ifindex;
}

/**
 * One packet's session (flowi). Reused: decode() overwrites every field.
 * Addresses point into the packet's buffer (srcOff/dstOff) — valid only
 * while that buffer holds the packet.
 */
export class Flow {
  family: Family = 4;
  buf: Uint8Array = new Uint8Array(0);
  srcOff = 0;
  dstOff = 0;
  proto = 0;
  sport = 0;
  dport = 0;
  ifindex = 0;
  /** Offset and length of the whole IP packet the flow was decoded from. */
  off = 0;
  len = 0;

  /**
   * decode_session4 / decode_session6 for the IP packet b[off, off+len):
   * false when it is not a well-formed IPv4/IPv6 header. Ports stay 0 for
   * any fragment (as the kernel keys fragments) and for truncated transport headers.
   */
  decode(b: Uint8Array, off: number, len: number, ifindex: number): boolean {
    this.buf = b; this.off = off; this.len = len; this.ifindex = ifindex;
    this.sport = 0; this.dport = 0;
    if (len < 1) return false;
    const v = b[off]! >>> 4;
    if (v === 4) return this.decode4(b, off, len);
    if (v === 6) return this.decode6(b, off, len);
    return false;
  }

  private decode4(b: Uint8Array, off: number, len: number): boolean {
    if (len < 20) return false;
    const hl = (b[off]! & 0xf) << 2;
    if (hl < 20 || hl > len) return false;
    this.family = 4;
    this.srcOff = off + 12;
    this.dstOff = off + 16;
    this.proto = b[off + 9]!;
    // ip_is_fragment (MF or an offset): decode_session4 reads no ports from any fragment.
    if ((be16(b, off + 6) & 0x3fff) === 0) this.ports(b, off + hl, off + len);
    return true;
  }

  private decode6(b: Uint8Array, off: number, len: number): boolean {
    if (len < 40) return false;
    this.family = 6;
    this.srcOff = off + 8;
    this.dstOff = off + 24;
    let nh = b[off + 6]!;
    let p = off + 40;
    const end = off + len;
    // decode_session6: skip hop-by-hop, routing, destination options and fragment headers
    // (ipv6_optlen each); after a fragment header only the protocol is kept (onlyproto).
    let onlyProto = false;
    for (let guard = 0; guard < 16; guard++) {
      if (nh !== IPPROTO_HOPOPTS && nh !== IPPROTO_ROUTING && nh !== IPPROTO_DSTOPTS && nh !== IPPROTO_FRAGMENT) break;
      if (p + 2 > end) break;
      if (nh === IPPROTO_FRAGMENT) onlyProto = true;
      const next = b[p]!;
      p += (b[p + 1]! + 1) << 3;
      nh = next;
    }
    this.proto = nh;
    if (!onlyProto && p <= end) this.ports(b, p, end);
    return true;
  }

  /** Transport "ports": TCP/UDP/SCTP/DCCP ports, ICMP type/code, GRE key halves (xfrm_flowi_sport/dport). */
  private ports(b: Uint8Array, p: number, end: number): void {
    const pr = this.proto;
    if (pr === IPPROTO_ICMP || pr === IPPROTO_ICMPV6) {
      if (p + 2 <= end) { this.sport = b[p]!; this.dport = b[p + 1]!; }
    } else if (pr === IPPROTO_GRE) {
      // decode_session4: the key if the K bit is set (after the checksum word when C is set).
      if (p + 4 <= end && (b[p]! & 0x20) !== 0) {
        const k = p + ((b[p]! & 0x80) !== 0 ? 8 : 4);
        if (k + 4 <= end) { this.sport = be16(b, k); this.dport = be16(b, k + 2); }
      }
    } else if (pr === 6 || pr === 17 || pr === 132 || pr === 33 || pr === 136) {
      if (p + 4 <= end) { this.sport = be16(b, p); this.dport = be16(b, p + 2); }
    }
  }
}

/** __xfrm4_selector_match / __xfrm6_selector_match (xfrm_selector_match). */
export function selectorMatch(s: Selector, f: Flow): boolean {
  if (s.family !== 0 && s.family !== f.family) return false;
  if (s.family === 0 && (s.src.plen !== 0 || s.dst.plen !== 0)) return false;
  if (s.family !== 0 && (!prefixMatch(s.dst, f.buf, f.dstOff) || !prefixMatch(s.src, f.buf, f.srcOff))) return false;
  if (((f.dport ^ s.dport) & s.dportMask) !== 0 || ((f.sport ^ s.sport) & s.sportMask) !== 0) return false;
  if (s.proto !== 0 && s.proto !== f.proto) return false;
  return s.ifindex === 0 || s.ifindex === f.ifindex;
}
