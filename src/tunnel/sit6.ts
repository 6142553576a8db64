// sit transmit of an IPv6 payload: ipip6_tunnel_xmit (net/ipv6/sit.c).
// Differs from ip_tunnel_xmit: TOS inherit only for tos == 1 exactly; the
// destination of a remote-any tunnel comes from 6to4/6rd (try_6rd with the
// default 2002::/16 prefix) or a v4-compatible next hop, with no ICMP when it
// fails; DF comes only from the tunnel (IPv6 has no DF bit); the MTU is the
// route MTU − 20, an MTU below 68 counts a collision, below 1280 it is raised
// to 1280 with DF cleared; oversize packets get ICMPv6 PKT_TOOBIG.

import { Drop } from '../wire/drop.js';
import { ICMPV6_ADDR_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_PKT_TOOBIG } from '../wire/icmp6.js';
import { IPPROTO_IPV6 } from '../wire/ipproto.js';
import { ecnEncapsulate } from './ecn.js';
import { icmp6ToSender } from './icmp-out.js';
import type { PacketResult, Verdict } from './result.js';
import type { Tunnel } from './tunnel.js';
import { IPV6_MIN_MTU, MIN_MTU, OUTER_IP4_LEN } from './types.js';
import { iptunnelXmit, linkFailure, routeFail, txErr } from './xmit.js';
import { ETH_P_IPV6 } from '../wire/eth.js';
import { sixToFourAt, tclassAt, v4CompatAt } from './inner.js';

/** ipip6_tunnel_xmit for the IPv6 packet b[off, off+len) (length already checked ≥ 40). */
export function sitXmit6(t: Tunnel, b: Uint8Array, off: number, len: number, nowMs: number, r: PacketResult): Verdict {
  const p = t.p;
  const tclass = tclassAt(b, off);
  let tos = p.tos === 1 ? tclass : p.tos;
  let dst = p.remote;
  if (dst === 0) dst = sixToFourAt(b, off + 24);
  if (dst === 0) dst = v4CompatAt(b, off + 24);
  if (dst === 0) return txErr(t, r, Drop.TxNoDest, 'ipip6_tunnel_xmit');
  if (!t.hasRoute) {
    // tx_error_icmp: dst_link_failure → ICMPv6 address unreachable to the sender.
    icmp6ToSender(t, r, b, off, len, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
    return routeFail(t, r, false, 'ipip6_tunnel_xmit');
  }
  if (t.routeLoops) return routeFail(t, r, true, 'ipip6_tunnel_xmit');
  let df = p.df;
  if (df) {
    let mtu = t.routeMtu(nowMs) - OUTER_IP4_LEN;
    if (mtu < MIN_MTU) return routeFail(t, r, true, 'ipip6_tunnel_xmit');
    if (mtu < IPV6_MIN_MTU) {
      mtu = IPV6_MIN_MTU;
      df = false;
    }
    if (len > mtu) {
      icmp6ToSender(t, r, b, off, len, ICMPV6_PKT_TOOBIG, 0, mtu);
      return txErr(t, r, Drop.TxTooBig, 'ipip6_tunnel_xmit');
    }
  }
  if (t.takeLinkFailure(nowMs)) linkFailure(t, b, off, ETH_P_IPV6, len, r);
  const ttl = p.ttl !== 0 ? p.ttl : b[off + 7]!;
  tos = ecnEncapsulate(tos, tclass);
  return iptunnelXmit(t, b, off, len, len, IPPROTO_IPV6, tos, ttl, df, dst, nowMs, r);
}

