// rtnetlink routes: RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE bodies
// (struct rtmsg + RTA_* attributes). Source: include/uapi/linux/rtnetlink.h;
// the kernel's rtm_to_fib_config (net/ipv4/fib_frontend.c), rtm_to_fib6_config
// (net/ipv6/route.c), rt_fill_info / rt6_fill_node for replies.
//
//   struct rtmsg (12 bytes, after the nlmsghdr)
//   0 family u8 | 1 dst_len u8 | 2 src_len u8 | 3 tos u8 |
//   4 table u8  | 5 protocol u8 | 6 scope u8  | 7 type u8 (RTN_*) |
//   8 flags u32 (RTM_F_*)
//   then RTA_* attributes; RTA_METRICS nests RTAX_* u32 values.
//
// A route's table is rtm_table, or RTA_TABLE when the id is > 255 (the
// kernel prefers RTA_TABLE when both are present).

import { h32, putH32 } from './bytes.js';
import { NLMSG_HDRLEN, NlAttrs, emitNlHdr, nlAttrSpace, putNlAttrBytes, putNlAttrHdr, putNlAttrU32 } from './netlink.js';
import type { NlHdrRepr, NlMsg } from './netlink.js';
import {
  RTAX_MTU, RTA_DST, RTA_GATEWAY, RTA_METRICS, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_SRC, RTA_TABLE, RTMSG_LEN,
  familyAddrLen,
} from './rtnetlink.js';

export interface RouteRepr {
  /** AF_INET or AF_INET6. */
  readonly family: number;
  readonly dstLen: number;
  readonly srcLen: number;
  readonly tos: number;
  /** rtm_table (RT_TABLE_MAIN = 254); see tableId. */
  readonly table: number;
  /** RTPROT_* */
  readonly protocol: number;
  /** RT_SCOPE_* */
  readonly scope: number;
  /** RTN_* */
  readonly type: number;
  /** RTM_F_* */
  readonly flags: number;
  /** RTA_TABLE */
  readonly tableId: number | null;
  /** RTA_DST: the prefix (network order, 4 or 16 bytes by family). */
  readonly dst: Uint8Array | null;
  readonly src: Uint8Array | null;
  /** RTA_OIF: the output ifindex. */
  readonly oif: number | null;
  readonly gateway: Uint8Array | null;
  readonly prefsrc: Uint8Array | null;
  /** RTA_PRIORITY: the metric. */
  readonly priority: number | null;
  /** RTAX_MTU inside RTA_METRICS, bytes (a route MTU, or the learnt PMTU of a cached route). */
  readonly mtu: number | null;
}

/** RTAX_MTU from an RTA_METRICS value; undefined if absent, null if malformed. */
function metricsMtu(b: Uint8Array, off: number, len: number): number | null | undefined {
  const m = new NlAttrs();
  m.wrap(b, off, len);
  let mtu: number | null | undefined;
  while (m.next()) if (m.type === RTAX_MTU) mtu = m.u32();
  return m.isMalformed ? null : mtu;
}

interface RouteAttrs {
  tableId: number | null; dst: Uint8Array | null; src: Uint8Array | null; oif: number | null;
  gateway: Uint8Array | null; prefsrc: Uint8Array | null; priority: number | null; mtu: number | null;
}

/** Reads the attributes into `r`; false on a malformed one (wrong size, bad nesting). */
function readRouteAttrs(a: NlAttrs, n: number, r: RouteAttrs): boolean {
  while (a.next()) {
    let ok = true;
    switch (a.type) {
      case RTA_TABLE: ok = (r.tableId = a.u32()) !== null; break;
      case RTA_DST: ok = (r.dst = a.bytes(n)) !== null; break;
      case RTA_SRC: ok = (r.src = a.bytes(n)) !== null; break;
      case RTA_OIF: ok = (r.oif = a.u32()) !== null; break;
      case RTA_GATEWAY: ok = (r.gateway = a.bytes(n)) !== null; break;
      case RTA_PREFSRC: ok = (r.prefsrc = a.bytes(n)) !== null; break;
      case RTA_PRIORITY: ok = (r.priority = a.u32()) !== null; break;
      case RTA_METRICS: {
        const mtu = metricsMtu(a.buffer, a.valueOffset, a.valueLen);
        ok = mtu !== null;
        if (mtu !== undefined) r.mtu = mtu;
        break;
      }
      default: break;
    }
    if (!ok) return false;
  }
  return !a.isMalformed;
}

/** Reads an rtmsg message's body; null if malformed (including an address of the wrong size for the family). */
export function parseRoute(p: NlMsg): RouteRepr | null {
  if (p.payloadLen < RTMSG_LEN) return null;
  const b = p.buffer;
  const o = p.payloadOffset;
  const a = new NlAttrs();
  a.wrap(b, o + RTMSG_LEN, p.payloadLen - RTMSG_LEN);
  const at: RouteAttrs = { tableId: null, dst: null, src: null, oif: null, gateway: null, prefsrc: null, priority: null, mtu: null };
  if (!readRouteAttrs(a, familyAddrLen(b[o]!), at)) return null;
  return {
    family: b[o]!, dstLen: b[o + 1]!, srcLen: b[o + 2]!, tos: b[o + 3]!, table: b[o + 4]!, protocol: b[o + 5]!,
    scope: b[o + 6]!, type: b[o + 7]!, flags: h32(b, o + 8), ...at,
  };
}

const space = (v: Uint8Array | number | null, n: number): number => (v === null ? 0 : nlAttrSpace(n));

export const routeMsgLen = (r: RouteRepr): number =>
  NLMSG_HDRLEN + RTMSG_LEN + space(r.tableId, 4) + space(r.dst, r.dst?.length ?? 0) + space(r.src, r.src?.length ?? 0) +
  space(r.oif, 4) + space(r.gateway, r.gateway?.length ?? 0) + space(r.prefsrc, r.prefsrc?.length ?? 0) +
  space(r.priority, 4) + (r.mtu !== null ? nlAttrSpace(nlAttrSpace(4)) : 0);

/**
 * Writes header + rtmsg + attributes in the order RTA_TABLE, RTA_DST, RTA_SRC,
 * RTA_OIF, RTA_GATEWAY, RTA_PREFSRC, RTA_PRIORITY, RTA_METRICS (iproute2's
 * order for the requests tunkit sends). Throws RangeError if p is too short.
 */
export function emitRoute(h: NlHdrRepr, r: RouteRepr, p: NlMsg): void {
  const len = routeMsgLen(r);
  emitNlHdr(h, len, p);
  const b = p.buffer;
  const o = p.payloadOffset;
  b[o] = r.family; b[o + 1] = r.dstLen; b[o + 2] = r.srcLen; b[o + 3] = r.tos;
  b[o + 4] = r.table; b[o + 5] = r.protocol; b[o + 6] = r.scope; b[o + 7] = r.type;
  putH32(b, o + 8, r.flags);
  let at = o + RTMSG_LEN;
  if (r.tableId !== null) at = putNlAttrU32(b, at, RTA_TABLE, r.tableId);
  if (r.dst !== null) at = putNlAttrBytes(b, at, RTA_DST, r.dst);
  if (r.src !== null) at = putNlAttrBytes(b, at, RTA_SRC, r.src);
  if (r.oif !== null) at = putNlAttrU32(b, at, RTA_OIF, r.oif);
  if (r.gateway !== null) at = putNlAttrBytes(b, at, RTA_GATEWAY, r.gateway);
  if (r.prefsrc !== null) at = putNlAttrBytes(b, at, RTA_PREFSRC, r.prefsrc);
  if (r.priority !== null) at = putNlAttrU32(b, at, RTA_PRIORITY, r.priority);
  if (r.mtu !== null) putNlAttrU32(b, putNlAttrHdr(b, at, RTA_METRICS, nlAttrSpace(4)), RTAX_MTU, r.mtu);
}
