// The rtnetlink request bodies RtNetlink (netlink.ts) sends, built as
// iproute2 builds them (iproute.c, ipaddress.c), and the IpPrefix they take.
// Pure: reprs for the codecs in wire/rtnetlink.ts and wire/rtnetlink-route.ts,
// no socket; tested on their own (test/io/netlink.test.ts).

import {
  AF_INET, AF_INET6, AF_UNSPEC, RTN_UNICAST, RTN_UNSPEC, RTPROT_BOOT, RTPROT_UNSPEC, RT_SCOPE_LINK, RT_SCOPE_NOWHERE, RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN, RT_TABLE_UNSPEC,
} from '../wire/rtnetlink.js';
import type { LinkRepr } from '../wire/rtnetlink.js';
import type { RouteRepr } from '../wire/rtnetlink-route.js';

/** RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, as iproute2 asks: no VF list or stats in link replies. */
const EXT_MASK = 0x9;

/** An IPv4 or IPv6 prefix; bytes holds the address in its first 4 or 16 bytes (extra bytes ignored). */
export interface IpPrefix { readonly family: 4 | 6; readonly bytes: Uint8Array; readonly plen: number }

/** Address bytes of a family. */
export const addrLen = (f: 4 | 6): number => (f === 4 ? 4 : 16);
/** The AF_* of a family. */
export const af = (f: 4 | 6): number => (f === 4 ? AF_INET : AF_INET6);

/** The prefix's network address (4 or 16 bytes) with host bits cleared (the kernel refuses host bits: "Invalid prefix for given prefix length"). */
export function network(p: IpPrefix): Uint8Array {
  const n = addrLen(p.family);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(8, p.plen - 8 * i));
    out[i] = p.bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/**
 * The RTM_GETROUTE body for `ip route get DST`. Unlike iproute2 it sets no
 * RTM_F_LOOKUP_TABLE: under NETLINK_GET_STRICT_CHK IPv6 refuses that flag
 * (inet6_rtm_valid_getroute_req: "Invalid flags for get route request").
 */
export function routeGetRequest(family: 4 | 6, dst: Uint8Array): RouteRepr {
  const n = addrLen(family);
  return {
    family: af(family), dstLen: 8 * n, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0,
    tableId: null, dst: dst.subarray(0, n), src: null, oif: null, gateway: null, prefsrc: null, priority: null, mtu: null,
  };
}

/**
 * The RTM_NEWROUTE (del = false) or RTM_DELROUTE body for PREFIX dev IFINDEX
 * [mtu N], as iproute2 builds it (iproute.c iproute_modify): main table;
 * for a new route proto boot, scope link (IPv4) or universe (IPv6), type
 * unicast; for a delete proto and type unspec, scope nowhere (IPv4).
 */
export function routeSetRequest(p: IpPrefix, ifindex: number, mtu: number | null, del: boolean, table = RT_TABLE_MAIN): RouteRepr {
  const v6 = p.family === 6;
  return {
    family: af(p.family), dstLen: p.plen, srcLen: 0, tos: 0, table: table < 256 ? table : RT_TABLE_UNSPEC,
    protocol: del ? RTPROT_UNSPEC : RTPROT_BOOT,
    scope: v6 ? RT_SCOPE_UNIVERSE : del ? RT_SCOPE_NOWHERE : RT_SCOPE_LINK,
    type: del ? RTN_UNSPEC : RTN_UNICAST, flags: 0,
    tableId: table < 256 ? null : table, dst: network(p), src: null, oif: ifindex, gateway: null, prefsrc: null, priority: null, mtu,
  };
}

/** The RTM_GETLINK body for one device, by ifindex or by name. */
export function linkGetRequest(which: number | string): LinkRepr {
  return {
    family: AF_UNSPEC, type: 0, index: typeof which === 'number' ? which : 0, flags: 0, change: 0,
    extMask: EXT_MASK, ifname: typeof which === 'string' ? which : null, mtu: null, operstate: null,
  };
}
