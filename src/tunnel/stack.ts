// One network namespace's tunnels: the four tables (ipip, gre, gretap, sit)
// and the receive demultiplexer for outer IPv4 packets (what the raw
// sockets for protocols 4, 41 and 47 hand up, IP header included).
//
// Receive flow, mirroring the kernel's handlers:
//   outer IPv4 sanity (ip_rcv_core: lengths, checksum; fragments are
//   reassembled by the kernel before raw delivery, so one here is dropped)
//   proto 47 → gre_rcv: gre_parse_header (version/routing → drop, bad csum →
//              drop), WCCP, ipgre_rcv: TEB → gretap table, else gre table
//   proto 4  → tunnel4 handlers in priority order: ipip_rcv (ipip table),
//              then sit's ipip_rcv (sit table, mode ipip/any)
//   proto 41 → ipip6_rcv (sit table)
//   then ip_tunnel_rcv / ipip6_rcv (rcv.ts).
// Packets that match no tunnel are counted in `drops` here (the kernel
// answers them with ICMP port unreachable; tunkit does not yet).

import { be16, be32s } from '../wire/bytes.js';
import { Drop, DROP_TABLE_SIZE } from '../wire/drop.js';
import { ETH_P_IP, ETH_P_TEB, ETH_P_WCCP } from '../wire/eth.js';
import { GrePacket } from '../wire/gre.js';
import { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { isIp4Multicast } from '../wire/addr.js';
import { IpTunnelTable, SitTable } from './lookup.js';
import { IcmpInViews } from './icmp-in.js';
import { ipTunnelRcv, rxFail, sitRcv6 } from './rcv.js';
import type { OuterInfo } from './rcv.js';
import { Verdict } from './result.js';
import type { PacketResult } from './result.js';
import { TraceDir } from './trace.js';
import type { TraceHook } from './trace.js';
import { Tunnel } from './tunnel.js';
import { TNL_CSUM, TNL_SEQ, TunnelKind } from './types.js';
import type { TunnelParams } from './types.js';

export class TunnelStack {
  readonly ipip = new IpTunnelTable(TunnelKind.Ipip);
  readonly gre = new IpTunnelTable(TunnelKind.Gre);
  readonly gretap = new IpTunnelTable(TunnelKind.Gretap);
  readonly sit = new SitTable(TunnelKind.Sit);
  /** Drops of packets that reached no tunnel, by Drop code. */
  readonly drops = new Uint32Array(DROP_TABLE_SIZE);
  trace: TraceHook | null = null;
  /** The underlay ICMP error handlers' views (icmp-in.ts). */
  readonly icmpViews = new IcmpInViews();
  private readonly ip4 = new Ip4Packet();
  private readonly greView = new GrePacket();
  private readonly outer: OuterInfo = { tos: 0, src: 0, dst: 0, isMulticast: false, flags: 0, seq: 0 };

  /** The table for a kind. */
  table(kind: TunnelKind): IpTunnelTable | SitTable {
    switch (kind) {
      case TunnelKind.Ipip: return this.ipip;
      case TunnelKind.Gre: return this.gre;
      case TunnelKind.Gretap: return this.gretap;
      default: return this.sit;
    }
  }

  /** Creates and registers a tunnel (down, like a new netdevice). Throws VpnError EEXIST on a duplicate. */
  add(p: TunnelParams, identSeed = 0): Tunnel {
    if (this.find(p.name) !== null) throw new Error(`device ${p.name} already exists`);
    const t = new Tunnel(p, identSeed);
    this.table(p.kind).add(t);
    return t;
  }

  remove(t: Tunnel): boolean { return this.table(t.kind).remove(t); }

  /** A tunnel or fallback device by name, or null. O(1). */
  find(name: string): Tunnel | null {
    for (const tbl of [this.ipip, this.gre, this.gretap, this.sit]) {
      if (tbl.fallback.name === name) return tbl.fallback;
      const t = tbl.named(name);
      if (t !== null) return t;
    }
    return null;
  }

  /** Every device, fallback devices first per kind, then oldest first. */
  all(): Tunnel[] {
    const out: Tunnel[] = [];
    for (const tbl of [this.ipip, this.gre, this.gretap, this.sit]) out.push(tbl.fallback, ...tbl.oldestFirst);
    return out;
  }

  /**
   * Every device whose remote is `remote` (u32), in all() order (fallback
   * devices have remote 0), from the lookup buckets: O(matches), not a scan
   * of every tunnel (ipv4_update_pmtu's "every tunnel toward it").
   */
  withRemote(remote: number): Tunnel[] {
    const out: Tunnel[] = [];
    for (const tbl of [this.ipip, this.gre, this.gretap, this.sit]) {
      if (tbl.fallback.p.remote === remote) out.push(tbl.fallback);
      tbl.collectRemote(remote | 0, out);
    }
    return out;
  }

  /**
   * Handles one outer IPv4 packet b[off, off+len) received on ifindex `link`.
   * On Verdict.Deliver the inner packet is b[r.off, r.off+r.len) for r.tunnel.
   */
  receive(b: Uint8Array, off: number, len: number, link: number, r: PacketResult): Verdict {
    r.clear();
    const ip = this.ip4;
    const d = ip.check(b, off, len);
    if (d !== Drop.None) return this.fail(r, d, 'ip_rcv_core');
    if (!ip.verifyChecksum()) return this.fail(r, Drop.BadIpChecksum, 'ip_rcv_core');
    if (ip.isFragment) return this.fail(r, Drop.Fragment, 'ip_local_deliver');
    const o = this.outer;
    o.tos = ip.tos;
    o.src = be32s(b, ip.offset + 12); // int32: see Tunnel.localS
    o.dst = be32s(b, ip.offset + 16);
    o.isMulticast = isIp4Multicast(o.dst);
    o.flags = 0;
    o.seq = 0;
    const payOff = ip.payloadOffset;
    const payLen = ip.payloadLen;
    switch (ip.protocol) {
      case IPPROTO_GRE: return this.greRcv(b, payOff, payLen, link, r);
      case IPPROTO_IPIP: return this.ipipRcv(b, payOff, payLen, link, r);
      case IPPROTO_IPV6: return this.sitRcv(b, payOff, payLen, link, r);
      default: return this.fail(r, Drop.UnsupportedPayload, 'ip_local_deliver');
    }
  }

  /** gre_rcv → gre_parse_header → ipgre_rcv. */
  private greRcv(b: Uint8Array, off: number, len: number, link: number, r: PacketResult): Verdict {
    const g = this.greView;
    const d = g.check(b, off, len);
    if (d !== Drop.None) return this.fail(r, d, 'gre_parse_header');
    if (g.hasChecksum && !g.verifyChecksum()) return this.fail(r, Drop.GreChecksum, 'gre_parse_header');
    let proto = g.protocolType;
    let hlen = g.headerLen;
    if (g.flags === 0 && proto === ETH_P_WCCP) {
      // WCCPv1/v2: the payload is IPv4; v2 has a 4-byte redirect header first.
      if (len <= hlen) return this.fail(r, Drop.Truncated, 'gre_parse_header');
      proto = ETH_P_IP;
      if ((b[off + hlen]! & 0xf0) !== 0x40) hlen += 4;
    }
    const o = this.outer;
    o.flags = g.flags & (TNL_CSUM | TNL_SEQ);
    o.seq = g.seqS;
    const tbl = proto === ETH_P_TEB ? this.gretap : this.gre;
    const t = tbl.lookup(link, g.hasKey, false, g.keyS, o.src, o.dst);
    if (t === null) return this.unmatched(tbl.fallback, r, 'ipgre_rcv');
    const innerOff = off + hlen;
    const innerLen = len - hlen;
    if (innerLen < 0) return rxFail(t, r, Drop.Truncated, '__iptunnel_pull_header', '');
    let innerProto = proto;
    if (proto === ETH_P_TEB) {
      if (innerLen < 14) return rxFail(t, r, Drop.InnerTruncated, '__iptunnel_pull_header', '');
      const et = be16(b, innerOff + 12);
      innerProto = et >= 0x600 ? et : 0x0004; // eth_proto_is_802_3, else ETH_P_802_2
    }
    const v = ipTunnelRcv(t, b, innerOff, innerLen, innerProto, o, r);
    return v === Verdict.Deliver && t.hhLen === 0 ? this.checkL3(t, b, innerOff, innerProto, r) : v;
  }

  /**
   * A TUN without packet information hands the packet to IPv4 or IPv6 by its
   * version nibble, so it must agree with the protocol the tunnel delivered it
   * as (GRE type, 4 for ipip, 41 for sit): the kernel's ip_rcv / ipv6_rcv
   * would drop a mismatch, and a TUN would instead deliver it to the other
   * stack. Anything else (MPLS, …) reaches no protocol handler: rx_dropped.
   */
  private checkL3(t: Tunnel, b: Uint8Array, off: number, proto: number, r: PacketResult): Verdict {
    const v = b[off]! >>> 4;
    if ((proto === ETH_P_IP && v === 4) || (proto === 0x86dd && v === 6)) return Verdict.Deliver;
    t.stats.rx_dropped++;
    return rxFail(t, r, Drop.UnsupportedPayload, '__netif_receive_skb', 'rx_dropped');
  }

  /** Protocol 4: ipip_rcv first, then sit's ipip handler (tunnel4 priorities 1, 2). */
  private ipipRcv(b: Uint8Array, off: number, len: number, link: number, r: PacketResult): Verdict {
    const o = this.outer;
    let t = this.ipip.lookup(link, false, true, 0, o.src, o.dst);
    let fn = 'ipip_tunnel_rcv';
    if (t === null) {
      t = this.sit.lookup(link, o.src, o.dst);
      fn = 'sit_tunnel_rcv';
    }
    if (t === null) return this.unmatched(this.ipip.fallback, r, 'tunnel4_rcv');
    if (t.p.proto !== IPPROTO_IPIP && t.p.proto !== 0) return rxFail(t, r, Drop.ProtoMismatch, fn, '');
    const v = ipTunnelRcv(t, b, off, len, ETH_P_IP, o, r);
    return v === Verdict.Deliver ? this.checkL3(t, b, off, ETH_P_IP, r) : v;
  }

  /** Protocol 41: ipip6_rcv. */
  private sitRcv(b: Uint8Array, off: number, len: number, link: number, r: PacketResult): Verdict {
    const o = this.outer;
    const t = this.sit.lookup(link, o.src, o.dst);
    if (t === null) return this.unmatched(this.sit.fallback, r, 'ipip6_rcv');
    const v = sitRcv6(t, b, off, len, o, r);
    return v === Verdict.Deliver ? this.checkL3(t, b, off, 0x86dd, r) : v;
  }

  /**
   * No tunnel and the fallback device is down: the kernel answers with ICMP
   * port unreachable and counts nothing; tunkit counts it in the stack's
   * table and in the fallback device's per-reason drops (tunkit drops: …).
   */
  private unmatched(fb: Tunnel, r: PacketResult, fn: string): Verdict {
    fb.stats.drops[Drop.NoTunnel]!++;
    return this.fail(r, Drop.NoTunnel, fn);
  }

  private fail(r: PacketResult, code: number, fn: string): Verdict {
    this.drops[code]!++;
    r.verdict = Verdict.Drop;
    r.drop = code;
    if (this.trace !== null) this.trace(TraceDir.Rx, '', code, fn, '');
    return Verdict.Drop;
  }
}
