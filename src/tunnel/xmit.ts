// Transmit: an inner packet read from the tunnel's TUN/TAP → an outer IPv4
// packet for the underlay, built in place in the caller's headroom.
//
// Flow, mirroring the kernel:
//   ipip_tunnel_xmit | sit_tunnel_xmit | ipgre_xmit/gre_tap_xmit (payload checks)
//     → __gre_xmit/gre_build_header (GRE header, o_seqno++ before any later drop)
//     → ip_tunnel_xmit: NBMA destination, TOS inherit, route checks, DF,
//       tnl_update_pmtu (ICMP FRAG_NEEDED / PKT_TOOBIG back to the sender),
//       INET_ECN_encapsulate, TTL inherit
//     → iptunnel_xmit: 20-byte outer header, ID, DF unless the PMTU is locked
//   then, once the caller knows what became of the packet (xfrm output, the
//   send), txDone applies iptunnel_xmit's accounting: tx_packets/tx_bytes
//   (inner network length, iptunnel_xmit_stats), tx_dropped when
//   ip_local_out refused it, tx_carrier_errors + tx_errors when the route
//   lookup (xfrm_lookup) failed. The packet is counted once, there.
//   sit IPv6 payloads take ipip6_tunnel_xmit instead (sit6.ts).
//
// Buffer contract: the inner packet is b[off, off+len) and at least
// OUTER_IP4_LEN + t.hlen bytes of headroom precede it (programmer error
// otherwise: RangeError). On Verdict.Xmit the outer packet is
// b[r.off, r.off+r.len), r.dst its destination and r.innerLen what txDone
// counts. Nothing is allocated.

import { be16, be32, put16, put32 } from '../wire/bytes.js';
import { checksum16 } from '../wire/checksum.js';
import { Drop } from '../wire/drop.js';
import { ETH_P_IP, ETH_P_IPV6, ETH_P_TEB } from '../wire/eth.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_HOST_UNREACH } from '../wire/icmp4.js';
import { ICMPV6_ADDR_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_PKT_TOOBIG } from '../wire/icmp6.js';
import { IPPROTO_GRE, IPPROTO_IPIP } from '../wire/ipproto.js';
import { ecnEncapsulate } from './ecn.js';
import { icmp4ToSender, icmp6ToSender } from './icmp-out.js';
import { TxOutcome, Verdict } from './result.js';
import type { PacketResult } from './result.js';
import { sitXmit6 } from './sit6.js';
import { innerNeed, payloadProto, tclassAt, v4CompatAt } from './inner.js';
import { TraceDir } from './trace.js';
import type { Tunnel } from './tunnel.js';
import { IP_DEFAULT_TTL, IPV6_MIN_MTU, OUTER_IP4_LEN, TNL_CSUM, TNL_KEY, TNL_SEQ, TunnelKind } from './types.js';

/** Encapsulates one inner packet; see the file comment for the buffer contract. */
export function tunnelXmit(t: Tunnel, b: Uint8Array, off: number, len: number, nowMs: number, r: PacketResult): Verdict {
  r.clear();
  r.tunnel = t;
  if (off < OUTER_IP4_LEN + t.hlen) throw new RangeError(`tunnelXmit needs ${OUTER_IP4_LEN + t.hlen} bytes of headroom, got ${off}`);
  if (!t.isUp) return txFail(t, r, Drop.DeviceDown, 'dev_queue_xmit', '');
  const proto = payloadProto(t, b, off, len);
  const nh = off + t.hhLen;
  const isSit = t.kind === TunnelKind.Sit;
  if (len < t.hhLen || len - t.hhLen < innerNeed(proto)) {
    return isSit ? txErr(t, r, Drop.TxMalformed, 'sit_tunnel_xmit') : txDropped(t, r, Drop.TxMalformed, 'pskb_inet_may_pull');
  }
  switch (t.kind) {
    case TunnelKind.Ipip:
      if (proto !== ETH_P_IP || (t.p.proto !== IPPROTO_IPIP && t.p.proto !== 0)) {
        return txDropped(t, r, Drop.TxUnsupported, 'ipip_tunnel_xmit');
      }
      return ipTunnelXmit(t, b, off, len, nh, proto, IPPROTO_IPIP, nowMs, r);
    case TunnelKind.Sit:
      if (proto === ETH_P_IPV6) return sitXmit6(t, b, off, len, nowMs, r);
      if (proto !== ETH_P_IP) return txErr(t, r, Drop.TxUnsupported, 'sit_tunnel_xmit');
      return ipTunnelXmit(t, b, off, len, nh, proto, IPPROTO_IPIP, nowMs, r);
    default: {
      if (t.kind === TunnelKind.Gre && proto !== ETH_P_IP && proto !== ETH_P_IPV6) {
        return txDropped(t, r, Drop.TxUnsupported, 'ipgre_xmit');
      }
      const start = pushGre(t, b, off, t.kind === TunnelKind.Gretap ? ETH_P_TEB : proto);
      return ipTunnelXmit(t, b, start, len + t.hlen, nh, proto, IPPROTO_GRE, nowMs, r);
    }
  }
}

/** gre_build_header: writes the GRE header before b[off]; returns its start. The checksum is filled later. */
function pushGre(t: Tunnel, b: Uint8Array, off: number, greProto: number): number {
  const start = off - t.hlen;
  const of = t.p.oflags;
  put16(b, start, of & (TNL_CSUM | TNL_KEY | TNL_SEQ));
  put16(b, start + 2, greProto);
  let ptr = off - 4;
  if (of & TNL_SEQ) {
    put32(b, ptr, t.oSeqno); // htonl(atomic_fetch_inc(&o_seqno)): the first sequence number is 0
    t.oSeqno = (t.oSeqno + 1) | 0;
    ptr -= 4;
  }
  if (of & TNL_KEY) {
    put32(b, ptr, t.p.okey);
    ptr -= 4;
  }
  if (of & TNL_CSUM) put32(b, ptr, 0);
  return start;
}

/**
 * ip_tunnel_xmit for an L3/L2 payload whose inner network header is at b[nh];
 * the tunnel payload (GRE header included) is b[start, start+tlen).
 */
function ipTunnelXmit(
  t: Tunnel, b: Uint8Array, start: number, tlen: number, nh: number, proto: number, ipproto: number,
  nowMs: number, r: PacketResult,
): Verdict {
  const p = t.p;
  const pktSize = tlen - t.hlen - t.hhLen;
  let dst = p.remote;
  if (dst === 0) {
    dst = nbmaDst(t, b, nh, proto, r);
    if (dst === 0) return Verdict.Drop;
  }
  let tos = p.tos;
  if (tos & 1) {
    tos &= ~1;
    if (proto === ETH_P_IP) tos = b[nh + 1]!;
    else if (proto === ETH_P_IPV6) tos = tclassAt(b, nh);
  }
  if (!t.hasRoute) return routeFail(t, r, false, 'ip_tunnel_xmit');
  if (t.routeLoops) return routeFail(t, r, true, 'ip_tunnel_xmit');
  const innerDf = proto === ETH_P_IP && (b[nh + 6]! & 0x40) !== 0;
  const df = p.df || (innerDf && !p.ignoreDf);
  if (tnlUpdatePmtu(t, b, nh, proto, pktSize, innerDf, df, nowMs, r)) return txErr(t, r, Drop.TxTooBig, 'tnl_update_pmtu');
  if (t.takeLinkFailure(nowMs)) linkFailure(t, b, nh, proto, pktSize, r);
  const innerDs = proto === ETH_P_IP ? b[nh + 1]! : proto === ETH_P_IPV6 ? tclassAt(b, nh) : 0;
  tos = ecnEncapsulate(tos, innerDs);
  let ttl = p.ttl;
  if (ttl === 0) ttl = proto === ETH_P_IP ? b[nh + 8]! : proto === ETH_P_IPV6 ? b[nh + 7]! : IP_DEFAULT_TTL;
  if (ipproto === IPPROTO_GRE && (p.oflags & TNL_CSUM) !== 0) {
    const g = t.greView;
    g.bind(b, start, tlen);
    g.fillChecksum();
  }
  return iptunnelXmit(t, b, start, tlen, pktSize, ipproto, tos, ttl, df, dst, nowMs, r);
}

/**
 * tnl_update_pmtu: with DF the usable size is the outer route MTU minus the
 * outer headers, without it the inner route's MTU (the device MTU here).
 * Returns true when the packet is refused and an ICMP error was queued.
 */
function tnlUpdatePmtu(
  t: Tunnel, b: Uint8Array, nh: number, proto: number, pktSize: number, innerDf: boolean, df: boolean,
  nowMs: number, r: PacketResult,
): boolean {
  const mtu = df ? t.routeMtu(nowMs) - OUTER_IP4_LEN - t.hlen - t.hhLen : t.mtu;
  if (proto === ETH_P_IP) {
    if (!innerDf || mtu >= pktSize) return false;
    icmp4ToSender(t, r, b, nh, pktSize, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu & 0xffff);
    return true;
  }
  if (proto === ETH_P_IPV6) {
    if (mtu < IPV6_MIN_MTU || mtu >= pktSize) return false;
    icmp6ToSender(t, r, b, nh, pktSize, ICMPV6_PKT_TOOBIG, 0, mtu);
    return true;
  }
  return false;
}

/**
 * dst_link_failure for an L3 inner packet: ipv4_link_failure sends ICMP host
 * unreachable, ip6_link_failure ICMPv6 address unreachable. (A gretap frame
 * has no inner route, so nothing is sent.) The packet itself still goes out.
 */
export function linkFailure(t: Tunnel, b: Uint8Array, nh: number, proto: number, len: number, r: PacketResult): void {
  if (t.hhLen !== 0) return;
  if (proto === ETH_P_IP) icmp4ToSender(t, r, b, nh, len, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
  else if (proto === ETH_P_IPV6) icmp6ToSender(t, r, b, nh, len, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
}

/**
 * NBMA (remote any): the outer destination comes from the inner packet —
 * rt_nexthop() of an on-link route is the inner IPv4 destination; for IPv6 a
 * v4-compatible destination (::a.b.c.d) supplies it, otherwise
 * dst_link_failure() answers ICMPv6 address-unreachable. Returns 0 on failure
 * (counters bumped, r filled).
 */
function nbmaDst(t: Tunnel, b: Uint8Array, nh: number, proto: number, r: PacketResult): number {
  if (proto === ETH_P_IP) {
    const d = be32(b, nh + 16); // the inner IPv4 destination
    if (d === 0) {
      t.stats.tx_fifo_errors++;
      txErr(t, r, Drop.TxNoDest, 'ip_tunnel_xmit', 'tx_fifo_errors');
    }
    return d;
  }
  if (proto === ETH_P_IPV6) {
    const d = v4CompatAt(b, nh + 24);
    if (d === 0) {
      icmp6ToSender(t, r, b, nh, 40 + be16(b, nh + 4), ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
      txErr(t, r, Drop.TxNoDest, 'ip_tunnel_xmit');
    }
    return d;
  }
  txErr(t, r, Drop.TxNoDest, 'ip_tunnel_xmit');
  return 0;
}

/**
 * iptunnel_xmit: prepends the 20-byte outer header (no options), DF unless the
 * learnt PMTU is locked, a fresh ID, the header checksum. Counts nothing: the
 * caller reports the outcome with txDone(t, r.innerLen, …).
 */
export function iptunnelXmit(
  t: Tunnel, b: Uint8Array, start: number, tlen: number, pktSize: number, ipproto: number,
  tos: number, ttl: number, df: boolean, dst: number, nowMs: number, r: PacketResult,
): Verdict {
  const o = start - OUTER_IP4_LEN;
  const total = tlen + OUTER_IP4_LEN;
  t.ident = (t.ident + 1) & 0xffff;
  b[o] = 0x45;
  b[o + 1] = tos;
  put16(b, o + 2, total);
  put16(b, o + 4, t.ident);
  put16(b, o + 6, df && !t.pmtuLocked(nowMs) ? 0x4000 : 0);
  b[o + 8] = ttl;
  b[o + 9] = ipproto;
  put16(b, o + 10, 0);
  put32(b, o + 12, t.p.local); // 0 = any: the raw socket's IP_HDRINCL path fills the route's source
  put32(b, o + 16, dst);
  put16(b, o + 10, checksum16(b, o, OUTER_IP4_LEN));
  r.verdict = Verdict.Xmit;
  r.off = o;
  r.len = total;
  r.dst = dst;
  r.innerLen = pktSize;
  return Verdict.Xmit;
}

/**
 * iptunnel_xmit's accounting for a packet tunnelXmit built (Verdict.Xmit),
 * called once its fate is known; `innerLen` is r.innerLen. Sent:
 * iptunnel_xmit_stats (tx_packets, tx_bytes += inner network length);
 * Dropped: ip_local_out refused it (tx_dropped); NoRoute: the outer packet's
 * route lookup failed (ip_tunnel_xmit's IS_ERR(rt): tx_carrier_errors, then
 * tx_error: tx_errors).
 */
export function txDone(t: Tunnel, innerLen: number, outcome: TxOutcome): void {
  const s = t.stats;
  if (outcome === TxOutcome.Sent) {
    s.tx_packets++;
    s.tx_bytes += innerLen;
    if (t.trace !== null) t.trace(TraceDir.Tx, t.name, Drop.None, 'iptunnel_xmit', 'tx_packets');
  } else if (outcome === TxOutcome.Dropped) {
    s.tx_dropped++;
    if (t.trace !== null) t.trace(TraceDir.Tx, t.name, Drop.None, 'ip_local_out', 'tx_dropped');
  } else {
    s.tx_carrier_errors++;
    s.tx_errors++;
    if (t.trace !== null) t.trace(TraceDir.Tx, t.name, Drop.TxNoRoute, 'xfrm_lookup', 'tx_carrier_errors');
  }
}

/** No route (tx_carrier_errors) or a route through ourselves (collisions); both also count tx_errors. */
export function routeFail(t: Tunnel, r: PacketResult, loop: boolean, fn: string): Verdict {
  if (loop) {
    t.stats.collisions++;
    return txErr(t, r, Drop.TxLoop, fn, 'collisions');
  }
  t.stats.tx_carrier_errors++;
  return txErr(t, r, Drop.TxNoRoute, fn, 'tx_carrier_errors');
}

/** The tx_error label of ip_tunnel_xmit / ipip6_tunnel_xmit: tx_errors++. */
export function txErr(t: Tunnel, r: PacketResult, code: number, fn: string, counter = 'tx_errors'): Verdict {
  t.stats.tx_errors++;
  return txFail(t, r, code, fn, counter);
}

/** The tx_error label of ipip_tunnel_xmit / free_skb of ipgre_xmit: tx_dropped++. */
function txDropped(t: Tunnel, r: PacketResult, code: number, fn: string): Verdict {
  t.stats.tx_dropped++;
  return txFail(t, r, code, fn, 'tx_dropped');
}

/** Records a drop reason (no kernel counter beyond what the caller bumped). */
export function txFail(t: Tunnel, r: PacketResult, code: number, fn: string, counter: string): Verdict {
  t.stats.drops[code]!++;
  r.verdict = Verdict.Drop;
  r.drop = code;
  if (t.trace !== null) t.trace(TraceDir.Tx, t.name, code, fn, counter);
  return Verdict.Drop;
}
