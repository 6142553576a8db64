// rtnetlink message bodies: links and addresses here, routes in
// rtnetlink-route.ts; the shared constants. Source:
// include/uapi/linux/rtnetlink.h (struct rtmsg, RTM_*, RTA_*, RTAX_*),
// include/uapi/linux/if_link.h (struct ifinfomsg, IFLA_*),
// include/uapi/linux/if_addr.h (struct ifaddrmsg, IFA_*); rtnetlink(7).
// Each body follows the 16-byte nlmsghdr (netlink.ts), in host byte order;
// addresses inside attributes are in network order (4 or 16 bytes).
//
//   struct ifinfomsg (16)          struct ifaddrmsg (8)           struct rtmsg (12)
//   0 family u8   1 pad u8         0 family u8  1 prefixlen u8    0 family 1 dst_len 2 src_len 3 tos
//   2 type u16 (ARPHRD_*)          2 flags u8   3 scope u8        4 table  5 protocol 6 scope  7 type
//   4 index s32                    4 index u32                    8 flags u32 (RTM_F_*)
//   8 flags u32 (IFF_*)
//  12 change u32
//   then attributes (netlink.ts NlAttrs): IFLA_* / IFA_* / RTA_*.
//
// RTA_METRICS nests RTAX_* u32 attributes; only RTAX_MTU is decoded.
// Decoding never throws (null on malformed input); emitting into a view
// shorter than xMsgLen(repr) throws RangeError.

import { h16, h32, putH16, putH32 } from './bytes.js';
import {
  NLMSG_HDRLEN, NlAttrs, emitNlHdr, nlAttrSpace, nlStrSpace, putNlAttrBytes, putNlAttrStr,
  putNlAttrU32, putNlAttrU8, utf8,
} from './netlink.js';
import type { NlHdrRepr, NlMsg } from './netlink.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

// Multicast groups (enum rtnetlink_groups), for NETLINK_ADD_MEMBERSHIP, and
// their legacy bind() masks RTMGRP_* = 1 << (group - 1).
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;
export const rtmgrp = (group: number): number => (1 << (group - 1)) >>> 0;

export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTN_BLACKHOLE = 6;
/** RTN_THROW: the lookup in this table ends without a match, and the next rule is tried. */
export const RTN_THROW = 9;
export const RTPROT_UNSPEC = 0;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
/**
 * The rtm_protocol of the routes tunkitd installs for its own purposes
 * (fail-closed blackholes): the kernel does not interpret values above
 * RTPROT_STATIC, and 116 is in no iproute2 rt_protos list, so
 * `ip route show proto 116` lists them and a restarted tunkitd (or
 * `tunkitd --teardown`) recognises its own.
 */
export const RTPROT_TUNKIT = 116;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_MAIN = 254;
export const RTM_F_CLONED = 0x200;
export const RTM_F_LOOKUP_TABLE = 0x1000;

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_TABLE = 15;
export const RTAX_MTU = 2;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_OPERSTATE = 16;
export const IFLA_IFALIAS = 20;
export const IFLA_EXT_MASK = 29;
/** IFF_* in ifi_flags (include/uapi/linux/if.h). */
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;
/** IF_OPER_* (RFC 2863 ifOperStatus) in IFLA_OPERSTATE. */
export const IF_OPER_DOWN = 2;
export const IF_OPER_UP = 6;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;

export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

/** Address bytes of a family: 4 (AF_INET), 16 (AF_INET6), else 0. */
export const familyAddrLen = (family: number): number => (family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0);

/** Writes `len` bytes of message at p: the header, then body(b, bodyOffset). Throws RangeError if p is too short. */
function emitMsg(h: NlHdrRepr, len: number, p: NlMsg, body: (b: Uint8Array, o: number) => void): void {
  emitNlHdr(h, len, p);
  body(p.buffer, p.payloadOffset);
}

/** Binds the attributes after a `fixed`-byte body; false if the payload is shorter than that. */
function attrsOf(p: NlMsg, fixed: number, a: NlAttrs): boolean {
  return p.payloadLen >= fixed && a.wrap(p.buffer, p.payloadOffset + fixed, p.payloadLen - fixed);
}

// ---- links (RTM_NEWLINK / RTM_GETLINK) ---------------------------------

export interface LinkRepr {
  readonly family: number;
  /** ARPHRD_* (ifi_type). */
  readonly type: number;
  readonly index: number;
  /** IFF_* */
  readonly flags: number;
  readonly change: number;
  /** IFLA_EXT_MASK (RTEXT_FILTER_*), requests only. */
  readonly extMask: number | null;
  readonly ifname: string | null;
  readonly mtu: number | null;
  /** IF_OPER_* */
  readonly operstate: number | null;
  /** IFLA_IFALIAS (`ip link set DEV alias TEXT`); '' clears it. Optional: absent = null. */
  readonly ifalias?: string | null;
}

/** Reads an ifinfomsg message's body; null if it is malformed. */
export function parseLink(p: NlMsg): LinkRepr | null {
  const a = new NlAttrs();
  if (!attrsOf(p, IFINFOMSG_LEN, a)) return null;
  const b = p.buffer;
  const o = p.payloadOffset;
  let extMask: number | null = null;
  let ifname: string | null = null;
  let mtu: number | null = null;
  let operstate: number | null = null;
  let ifalias: string | null = null;
  while (a.next()) {
    if (a.type === IFLA_IFNAME) ifname = a.str();
    else if (a.type === IFLA_MTU) mtu = a.u32();
    else if (a.type === IFLA_OPERSTATE) operstate = a.u8();
    else if (a.type === IFLA_EXT_MASK) extMask = a.u32();
    else if (a.type === IFLA_IFALIAS) ifalias = a.str();
  }
  if (a.isMalformed) return null;
  return {
    family: b[o]!, type: h16(b, o + 2), index: h32(b, o + 4) | 0, flags: h32(b, o + 8), change: h32(b, o + 12),
    extMask, ifname, mtu, operstate, ifalias,
  };
}

export const linkMsgLen = (r: LinkRepr): number =>
  NLMSG_HDRLEN + IFINFOMSG_LEN + (r.extMask !== null ? nlAttrSpace(4) : 0) + (r.ifname !== null ? nlStrSpace(r.ifname) : 0) +
  (r.mtu !== null ? nlAttrSpace(4) : 0) + (r.operstate !== null ? nlAttrSpace(1) : 0) +
  (r.ifalias !== undefined && r.ifalias !== null ? nlStrSpace(r.ifalias) : 0);

/** Writes header + ifinfomsg + IFLA_EXT_MASK, IFLA_IFNAME, IFLA_MTU, IFLA_OPERSTATE (iproute2's order), IFLA_IFALIAS. */
export function emitLink(h: NlHdrRepr, r: LinkRepr, p: NlMsg): void {
  emitMsg(h, linkMsgLen(r), p, (b, o) => {
    b[o] = r.family;
    b[o + 1] = 0;
    putH16(b, o + 2, r.type);
    putH32(b, o + 4, r.index >>> 0);
    putH32(b, o + 8, r.flags);
    putH32(b, o + 12, r.change);
    let at = o + IFINFOMSG_LEN;
    if (r.extMask !== null) at = putNlAttrU32(b, at, IFLA_EXT_MASK, r.extMask);
    if (r.ifname !== null) at = putNlAttrStr(b, at, IFLA_IFNAME, utf8(r.ifname));
    if (r.mtu !== null) at = putNlAttrU32(b, at, IFLA_MTU, r.mtu);
    if (r.operstate !== null) at = putNlAttrU8(b, at, IFLA_OPERSTATE, r.operstate);
    if (r.ifalias !== undefined && r.ifalias !== null) putNlAttrStr(b, at, IFLA_IFALIAS, utf8(r.ifalias));
  });
}

// ---- addresses (RTM_NEWADDR / RTM_GETADDR) -----------------------------

export interface AddrRepr {
  readonly family: number;
  readonly prefixLen: number;
  /** IFA_F_* (low 8 bits; IFA_FLAGS is not decoded). */
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
  /** IFA_ADDRESS: the peer on point-to-point links, else the local address. */
  readonly address: Uint8Array | null;
  /** IFA_LOCAL (IPv4): the local address. */
  readonly local: Uint8Array | null;
  readonly label: string | null;
}

export function parseAddr(p: NlMsg): AddrRepr | null {
  const a = new NlAttrs();
  if (!attrsOf(p, IFADDRMSG_LEN, a)) return null;
  const b = p.buffer;
  const o = p.payloadOffset;
  const n = familyAddrLen(b[o]!);
  let address: Uint8Array | null = null;
  let local: Uint8Array | null = null;
  let label: string | null = null;
  while (a.next()) {
    if (a.type === IFA_ADDRESS) { address = a.bytes(n); if (address === null) return null; }
    else if (a.type === IFA_LOCAL) { local = a.bytes(n); if (local === null) return null; }
    else if (a.type === IFA_LABEL) label = a.str();
  }
  if (a.isMalformed) return null;
  return { family: b[o]!, prefixLen: b[o + 1]!, flags: b[o + 2]!, scope: b[o + 3]!, index: h32(b, o + 4), address, local, label };
}

export const addrMsgLen = (r: AddrRepr): number =>
  NLMSG_HDRLEN + IFADDRMSG_LEN + (r.address !== null ? nlAttrSpace(r.address.length) : 0) +
  (r.local !== null ? nlAttrSpace(r.local.length) : 0) + (r.label !== null ? nlStrSpace(r.label) : 0);

export function emitAddr(h: NlHdrRepr, r: AddrRepr, p: NlMsg): void {
  emitMsg(h, addrMsgLen(r), p, (b, o) => {
    b[o] = r.family;
    b[o + 1] = r.prefixLen;
    b[o + 2] = r.flags;
    b[o + 3] = r.scope;
    putH32(b, o + 4, r.index);
    let at = o + IFADDRMSG_LEN;
    if (r.address !== null) at = putNlAttrBytes(b, at, IFA_ADDRESS, r.address);
    if (r.local !== null) at = putNlAttrBytes(b, at, IFA_LOCAL, r.local);
    if (r.label !== null) putNlAttrStr(b, at, IFA_LABEL, utf8(r.label));
  });
}
