// ICMP errors from the underlay that quote one of our outer packets —
// the err_handler side of the kernel's tunnel protocols:
//   gre_err + ipgre_err (net/ipv4/ip_gre.c), ipip_err (net/ipv4/ipip.c),
//   ipip6_err (net/ipv6/sit.c).
// FRAG_NEEDED → ipv4_update_pmtu on the route to the quoted destination
// (every tunnel toward that remote learns it). REDIRECT → ignored (routes
// belong to the host). DEST_UNREACH (except SR_FAILED, and PORT_UNREACH for
// GRE) and TIME_EXCEEDED/EXC_TTL (ignored with ttl inherit) are noted in
// err_count on a connected tunnel; for a sit tunnel, or a GRE tunnel carrying
// IPv6, they are first relayed to the inner IPv6 sender as ICMPv6
// (ip6_err_gen_icmpv6_unreach) — and then not counted.
//
// Control-path code: errors are rare, so a small result object is returned.

import { be16, be32 } from '../wire/bytes.js';
import { Drop } from '../wire/drop.js';
import { ETH_P_IPV6, ETH_P_TEB } from '../wire/eth.js';
import { greHeaderLenFromFlags, GRE_ROUTING, GRE_VERSION, GRE_KEY } from '../wire/gre.js';
import {
  Icmp4Packet, ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_REDIRECT,
  ICMP_SR_FAILED, ICMP_TIME_EXCEEDED,
} from '../wire/icmp4.js';
import { ICMPV6_ADDR_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_EXC_HOPLIMIT, ICMPV6_TIME_EXCEED } from '../wire/icmp6.js';
import { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { relayIcmp6 } from './icmp-out.js';
import type { PacketResult } from './result.js';
import type { TunnelStack } from './stack.js';
import type { Tunnel } from './tunnel.js';
import { IP_RT_MIN_PMTU } from './types.js';

export const UnderlayIcmp = {
  /** Not for us, malformed, or a type the handlers ignore. */
  Ignored: 0,
  /** A path MTU was learnt for `remote` (tunnels[] are the ones using it). */
  PmtuUpdated: 1,
  /** err_count was bumped on `tunnel`. */
  ErrorNoted: 2,
  /** An ICMPv6 error was built in r.icmp for the inner sender (sit / GRE-over-IPv6). */
  Relayed: 3,
} as const;

export interface UnderlayIcmpResult {
  event: number;
  /** Why it was ignored (a Drop code) when event is Ignored and the packet was malformed. */
  drop: number;
  remote: number;
  mtu: number;
  tunnel: Tunnel | null;
  tunnels: Tunnel[];
}

/** The views one error is read through; each TunnelStack owns one (no module state). */
export class IcmpInViews {
  readonly outer = new Ip4Packet();
  readonly icmp = new Icmp4Packet();
  readonly quoted = new Ip4Packet();
}

/**
 * Handles one ICMP packet b[off, off+len) (outer IPv4 header included, as a
 * raw ICMP socket delivers it) received on `link`. May fill r.icmp (Relayed).
 */
export function handleUnderlayIcmp(
  stack: TunnelStack, b: Uint8Array, off: number, len: number, link: number, nowMs: number, r: PacketResult,
): UnderlayIcmpResult {
  const res: UnderlayIcmpResult = { event: UnderlayIcmp.Ignored, drop: Drop.None, remote: 0, mtu: 0, tunnel: null, tunnels: [] };
  const { outer, icmp, quoted } = stack.icmpViews;
  r.clear();
  let d = outer.check(b, off, len);
  if (d === Drop.None && outer.protocol !== IPPROTO_ICMP) d = Drop.UnsupportedPayload;
  if (d === Drop.None) d = icmp.check(b, outer.payloadOffset, outer.payloadLen);
  if (d === Drop.None && !icmp.verifyChecksum()) d = Drop.BadIcmp;
  // icmp_unreach: the quote must hold a full IPv4 header (ihl ≥ 5).
  const qOff = icmp.payloadOffset;
  const qLen = d === Drop.None ? icmp.payloadLen : 0;
  if (d === Drop.None && (qLen < 20 || (b[qOff]! & 0x0f) < 5 || (b[qOff]! & 0x0f) * 4 > qLen)) d = Drop.Truncated;
  if (d !== Drop.None) {
    res.drop = d;
    return res;
  }
  quoted.bind(b, qOff, qLen);
  const type = icmp.type;
  const code = icmp.code;
  if (!relevant(type, code)) return res;
  res.remote = quoted.dst;
  const proto = quoted.protocol;
  if (proto === IPPROTO_GRE) return greErr(stack, b, qOff, qLen, link, nowMs, type, code, res, r);
  if (proto === IPPROTO_IPIP) return ipipErr(stack, b, qOff, qLen, link, nowMs, type, code, res, r);
  if (proto === IPPROTO_IPV6) return sitErr(stack, b, qOff, qLen, link, nowMs, type, code, res, r);
  return res;
}

/**
 * The ICMP types any underlay error handler reads: relevant() below, and
 * esp4_err's DEST_UNREACH/FRAG_NEEDED (xfrm/esp-err.ts) is a subset. The
 * daemon's raw ICMP socket queues no other type (ICMP_FILTER), so an echo
 * reply written to a tunnel device costs the daemon no second wakeup.
 */
export const UNDERLAY_ICMP_TYPES: readonly number[] = [ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_REDIRECT];

/** The type/code filter shared by the three handlers. */
function relevant(type: number, code: number): boolean {
  if (type === ICMP_DEST_UNREACH) return code !== ICMP_SR_FAILED;
  if (type === ICMP_TIME_EXCEEDED) return code === ICMP_EXC_TTL;
  return type === ICMP_REDIRECT;
}

/**
 * ipv4_update_pmtu: the route to `remote` learns `mtu`; every tunnel toward it
 * shares the route. res.mtu is what the route uses afterwards, not the ICMP's
 * raw next-hop MTU: __ip_rt_update_pmtu clamps a value below ip_rt_min_pmtu
 * (0 included) to 552 and never raises the MTU, so it is the smallest route
 * MTU of those tunnels (or the clamped value when none matched).
 */
function learnPmtu(stack: TunnelStack, remote: number, mtu: number, nowMs: number, res: UnderlayIcmpResult): UnderlayIcmpResult {
  res.event = UnderlayIcmp.PmtuUpdated;
  let learnt = Math.max(mtu, IP_RT_MIN_PMTU);
  for (const t of stack.withRemote(remote)) {
    t.updatePmtu(mtu, nowMs);
    learnt = Math.min(learnt, t.routeMtu(nowMs));
    res.tunnels.push(t);
  }
  res.mtu = learnt;
  return res;
}

function gre(stack: TunnelStack, b: Uint8Array, q: number, qLen: number, link: number): { t: Tunnel | null; hlen: number; proto: number } | null {
  // gre_parse_header(skb, &tpi, NULL, …, ihl*4): the whole GRE header must be quoted.
  const quoted = stack.icmpViews.quoted;
  const ihl = quoted.headerLen;
  if (qLen < ihl + 4) return null;
  const flags = be16(b, q + ihl);
  if (flags & (GRE_VERSION | GRE_ROUTING)) return null;
  const hlen = greHeaderLenFromFlags(flags);
  if (qLen < ihl + hlen) return null;
  const proto = be16(b, q + ihl + 2);
  const hasKey = (flags & GRE_KEY) !== 0;
  const keyOff = q + ihl + 4 + ((flags & 0x8000) !== 0 ? 4 : 0);
  const key = hasKey ? be32(b, keyOff) : 0;
  const tbl = proto === ETH_P_TEB ? stack.gretap : stack.gre;
  return { t: tbl.lookup(link, hasKey, false, key | 0, quoted.dst | 0, quoted.src | 0), hlen, proto };
}

/** gre_err → ipgre_err. */
function greErr(
  stack: TunnelStack, b: Uint8Array, q: number, qLen: number, link: number, nowMs: number, type: number, code: number,
  res: UnderlayIcmpResult, r: PacketResult,
): UnderlayIcmpResult {
  const { icmp, quoted } = stack.icmpViews;
  const g = gre(stack, b, q, qLen, link);
  if (g === null) return res;
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return learnPmtu(stack, quoted.dst, icmp.nextHopMtu, nowMs, res);
  if (type === ICMP_REDIRECT || (type === ICMP_DEST_UNREACH && code === ICMP_PORT_UNREACH) || g.t === null) return res;
  res.tunnel = g.t;
  if (g.proto === ETH_P_IPV6 && relay6(stack, g.t, b, q + quoted.headerLen + g.hlen, qLen - quoted.headerLen - g.hlen, type, r)) {
    res.event = UnderlayIcmp.Relayed;
    return res;
  }
  return note(g.t, type, nowMs, res);
}

/** ipip_err (then sit's handler for protocol 4 when no ipip tunnel matches). */
function ipipErr(
  stack: TunnelStack, b: Uint8Array, q: number, qLen: number, link: number, nowMs: number, type: number, code: number,
  res: UnderlayIcmpResult, r: PacketResult,
): UnderlayIcmpResult {
  const { icmp, quoted } = stack.icmpViews;
  const t = stack.ipip.lookup(link, false, true, 0, quoted.dst | 0, quoted.src | 0);
  if (t === null) return sitErr(stack, b, q, qLen, link, nowMs, type, code, res, r);
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return learnPmtu(stack, quoted.dst, icmp.nextHopMtu, nowMs, res);
  if (type === ICMP_REDIRECT) return res;
  res.tunnel = t;
  return note(t, type, nowMs, res);
}

/** ipip6_err. */
function sitErr(
  stack: TunnelStack, b: Uint8Array, q: number, qLen: number, link: number, nowMs: number, type: number, code: number,
  res: UnderlayIcmpResult, r: PacketResult,
): UnderlayIcmpResult {
  const { icmp, quoted } = stack.icmpViews;
  const t = stack.sit.lookup(link, quoted.dst | 0, quoted.src | 0);
  if (t === null) return res;
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return learnPmtu(stack, quoted.dst, icmp.nextHopMtu, nowMs, res);
  if (type === ICMP_REDIRECT) return res;
  res.tunnel = t;
  if (quoted.protocol === IPPROTO_IPV6 && relay6(stack, t, b, q + quoted.headerLen, qLen - quoted.headerLen, type, r)) {
    res.event = UnderlayIcmp.Relayed;
    return res;
  }
  return note(t, type, nowMs, res);
}

/** The err_count tail: only connected tunnels, and TIME_EXCEEDED not with ttl inherit. */
function note(t: Tunnel, type: number, nowMs: number, res: UnderlayIcmpResult): UnderlayIcmpResult {
  if (t.p.remote === 0 || (t.p.remote >>> 28) === 0xe) return res;
  if (t.p.ttl === 0 && type === ICMP_TIME_EXCEEDED) return res;
  t.noteUnderlayError(nowMs);
  res.event = UnderlayIcmp.ErrorNoted;
  return res;
}

/**
 * ip6_err_gen_icmpv6_unreach: needs the quoted inner IPv6 header + 8 bytes;
 * DEST_UNREACH → ICMPv6 address unreachable, TIME_EXCEEDED → hop limit
 * exceeded, sourced from the v4-mapped address of the ICMP's sender.
 */
function relay6(stack: TunnelStack, t: Tunnel, b: Uint8Array, inner: number, innerLen: number, type: number, r: PacketResult): boolean {
  if (innerLen < 48) return false;
  const tt = type === ICMP_TIME_EXCEEDED ? ICMPV6_TIME_EXCEED : ICMPV6_DEST_UNREACH;
  const cc = type === ICMP_TIME_EXCEEDED ? ICMPV6_EXC_HOPLIMIT : ICMPV6_ADDR_UNREACH;
  return relayIcmp6(t, r, b, inner, innerLen, tt, cc, stack.icmpViews.outer.src);
}
