// Tunnel-mode size check before ESP (net/xfrm/xfrm_output.c
// xfrm4_tunnel_check_size / xfrm6_tunnel_check_size): the bundle's MTU is
// xfrm_state_mtu (esp4_get_mtu) of the underlay route MTU.
//   IPv4 inner with DF, longer than that → ICMP FRAG_NEEDED with the MTU
//     back to the sender (icmp_send; a local socket would get EMSGSIZE);
//   IPv6 inner longer than max(that, 1280) → ICMPv6 PACKET_TOO_BIG.
// The error is built into r.icmp (r.icmpLen bytes) for the shell to write
// back into the device the packet came from. Nothing is allocated.

import { buildIcmp4Error, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmp4ErrorTos, mayReplyIcmp4Error } from '../wire/icmp4.js';
import type { Icmp4ErrorArgs } from '../wire/icmp4.js';
import { buildIcmp6Error, ICMPV6_PKT_TOOBIG, mayReplyIcmp6Error } from '../wire/icmp6.js';
import type { Icmp6ErrorArgs } from '../wire/icmp6.js';
import { Ip4Packet } from '../wire/ip4.js';
import { Ip6Packet } from '../wire/ip6.js';
import { espPayloadMtu } from './esp-out.js';
import type { XfrmResult } from './result.js';
import type { XfrmState } from './state.js';

/** xfrm4/6_tunnel_check_size with its own views and ICMP scratch (one per XfrmStack: no module state). */
export class TunnelSizeCheck {
  private readonly ip4 = new Ip4Packet();
  private readonly ip6 = new Ip6Packet();
  private readonly args4: Icmp4ErrorArgs = { type: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, info: 0, src: 0, dst: 0, ttl: 64, tos: 0, ident: 0 };
  private readonly args6: Icmp6ErrorArgs = {
    type: ICMPV6_PKT_TOOBIG, code: 0, info: 0, hopLimit: 64, srcBuf: new Uint8Array(16), srcOff: 0, dstBuf: new Uint8Array(16), dstOff: 0,
  };
  /** IP ID of the ICMP errors this stack sends (u16). */
  private ident = 0;

  /**
   * True when the inner packet b[off, off+len) does not fit SA x over a path
   * of `routeMtu` bytes and must be refused; r.icmpLen > 0 then when an ICMP
   * error could be built (icmp_send's eligibility rules).
   */
  tooBig(x: XfrmState, b: Uint8Array, off: number, len: number, routeMtu: number, r: XfrmResult): boolean {
    const mtu = espPayloadMtu(x, routeMtu);
    const ver = b[off]! >>> 4;
    if (ver === 4) {
      const ip4 = this.ip4;
      if (len <= mtu || ip4.check(b, off, len) !== 0 || !ip4.df) return false;
      if (!mayReplyIcmp4Error(ip4)) return true;
      const a = this.args4;
      a.info = mtu & 0xffff;
      a.src = ip4.dst;
      a.dst = ip4.src;
      a.tos = icmp4ErrorTos(ip4.tos);
      a.ident = this.ident = (this.ident + 1) & 0xffff;
      r.icmpLen = buildIcmp4Error(r.icmp, 0, a, b, off, ip4.totalLen);
      return true;
    }
    const ip6 = this.ip6;
    const limit = Math.max(mtu, 1280);
    if (len <= limit || ip6.check(b, off, len) !== 0) return false;
    if (!mayReplyIcmp6Error(ip6, ICMPV6_PKT_TOOBIG, 0)) return true;
    const a = this.args6;
    a.info = limit;
    a.srcBuf = b;
    a.srcOff = ip6.dstOffset;
    a.dstBuf = b;
    a.dstOff = ip6.srcOffset;
    r.icmpLen = buildIcmp6Error(r.icmp, 0, a, b, off, 40 + ip6.payloadLen);
    return true;
  }
}
