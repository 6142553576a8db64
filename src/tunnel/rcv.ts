// Receive checks and delivery for a matched tunnel.
//
// ipTunnelRcv mirrors ip_tunnel_rcv (net/ipv4/ip_tunnel.c), in its order:
//   (multicast outer destination → multicast++)
//   1. checksum presence must equal icsum      else rx_crc_errors, rx_errors
//   2. iseq: S bit required; (s32)(seq − i_seqno) < 0 is out of order (no
//      reorder window; i_seqno == 0 lets anything through); then
//      i_seqno = seq + 1                        else rx_fifo_errors, rx_errors
//   3. pskb_inet_may_pull: the inner IPv4/IPv6 header (after the Ethernet
//      header on gretap) must be present      else rx_length_errors, rx_errors
//   4. IP_ECN_decapsulate (RFC 6040, ecn.ts): 1 → logged, 2 → rx_frame_errors, rx_errors
//   5. rx_packets++, rx_bytes += inner length (the Ethernet frame on gretap).
// sitRcv6 mirrors ipip6_rcv (net/ipv6/sit.c): mode check, 6to4 anti-spoofing
// (packet_is_spoofed), ECN, counters — no checksum/sequence/length checks.

import { be16 } from '../wire/bytes.js';
import { csumReplace16 } from '../wire/checksum.js';
import { Drop } from '../wire/drop.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../wire/eth.js';
import { IPPROTO_IPV6 } from '../wire/ipproto.js';
import { ECN_DROP, ECN_LOG, ecnDecapsulatedInner, ecnDecapsulateVerdict } from './ecn.js';
import { Verdict } from './result.js';
import type { PacketResult } from './result.js';
import { TraceDir } from './trace.js';
import type { Tunnel } from './tunnel.js';
import { TNL_CSUM, TNL_SEQ } from './types.js';
import { innerNeed, sixToFourAt, tclassAt } from './inner.js';

/** Receive-side facts about the outer packet that the checks need. */
export interface OuterInfo {
  /** Outer IPv4 TOS byte (for ECN decapsulation). */
  tos: number;
  /** Outer addresses as int32 (`| 0`), see Tunnel.localS. */
  src: number;
  dst: number;
  isMulticast: boolean;
  /** TNL_CSUM / TNL_SEQ bits present in the GRE header (0 for ipip/sit). */
  flags: number;
  /** GRE sequence number as int32. */
  seq: number;
}

/**
 * ip_tunnel_rcv for the inner packet b[off, off+len) whose protocol (skb->protocol
 * after __iptunnel_pull_header: the GRE protocol type, ETH_P_IP for ipip, or
 * the inner EtherType on gretap) is `proto`.
 */
export function ipTunnelRcv(
  t: Tunnel, b: Uint8Array, off: number, len: number, proto: number, o: OuterInfo, r: PacketResult,
): Verdict {
  const s = t.stats;
  if (o.isMulticast) s.multicast++;
  if (t.icsum !== ((o.flags & TNL_CSUM) !== 0)) {
    s.rx_crc_errors++;
    return rxErr(t, r, Drop.CsumMismatch, 'rx_crc_errors');
  }
  if (t.iseq) {
    if ((o.flags & TNL_SEQ) === 0) {
      s.rx_fifo_errors++;
      return rxErr(t, r, Drop.SeqMissing, 'rx_fifo_errors');
    }
    if (t.iSeqno !== 0 && ((o.seq - t.iSeqno) | 0) < 0) {
      s.rx_fifo_errors++;
      return rxErr(t, r, Drop.SeqOutOfOrder, 'rx_fifo_errors');
    }
    t.iSeqno = (o.seq + 1) | 0;
  }
  if (len < t.hhLen + innerNeed(proto)) {
    s.rx_length_errors++;
    return rxErr(t, r, Drop.InnerTruncated, 'rx_length_errors');
  }
  if (!ecnDecap(t, b, off + t.hhLen, proto, o.tos, r)) return Verdict.Drop;
  return deliver(t, off, len, r, 'ip_tunnel_rcv');
}

/** ipip6_rcv for a sit tunnel; the inner IPv6 packet is b[off, off+len). */
export function sitRcv6(t: Tunnel, b: Uint8Array, off: number, len: number, o: OuterInfo, r: PacketResult): Verdict {
  if (t.p.proto !== IPPROTO_IPV6 && t.p.proto !== 0) return rxFail(t, r, Drop.ProtoMismatch, 'ipip6_rcv', '');
  // No kernel check exists for a runt inner packet (ipv6_rcv drops it later as
  // InHdrErrors); with no IPv6 stack to count it, it is counted here.
  if (len < 40) {
    t.stats.rx_length_errors++;
    return rxErr(t, r, Drop.InnerTruncated, 'rx_length_errors', 'ipip6_rcv');
  }
  if (isSpoofed(t, b, off, o)) return rxErr(t, r, Drop.Spoofed, 'rx_errors', 'packet_is_spoofed');
  if (!ecnDecap(t, b, off, ETH_P_IPV6, o.tos, r)) return Verdict.Drop;
  return deliver(t, off, len, r, 'ipip6_rcv');
}

/**
 * packet_is_spoofed without ISATAP/6rd configuration: point-to-point tunnels
 * (remote set) skip the check; otherwise a 6to4 (2002::/16) source must embed
 * the outer source, and a 6to4 destination the outer destination
 * (only_dnatted() needs the device's prefixes and is not modelled).
 */
function isSpoofed(t: Tunnel, b: Uint8Array, off: number, o: OuterInfo): boolean {
  if (t.p.remote !== 0) return false;
  const s = sixToFourAt(b, off + 8) | 0;
  if (s !== 0 && s !== o.src) return true;
  const d = sixToFourAt(b, off + 24) | 0;
  return d !== 0 && d !== o.dst;
}

/**
 * IP_ECN_decapsulate on the inner header at b[nh] (only for IPv4/IPv6
 * payloads, as skb_protocol() decides). Returns false (counted) to drop.
 */
function ecnDecap(t: Tunnel, b: Uint8Array, nh: number, proto: number, outerTos: number, r: PacketResult): boolean {
  let inner: number;
  if (proto === ETH_P_IP) inner = b[nh + 1]!;
  else if (proto === ETH_P_IPV6) inner = tclassAt(b, nh);
  else return true;
  const v = ecnDecapsulateVerdict(outerTos, inner);
  if (v === ECN_DROP) {
    t.stats.rx_frame_errors++;
    rxErr(t, r, Drop.EcnDrop, 'rx_frame_errors', 'IP_ECN_decapsulate');
    return false;
  }
  if (v === ECN_LOG) {
    t.stats.ecn_logged++;
    if (t.trace !== null) t.trace(TraceDir.Rx, t.name, Drop.None, 'IP_ECN_decapsulate', 'log: non-ECT');
    return true;
  }
  const next = ecnDecapsulatedInner(outerTos, inner);
  if (next === inner) return true;
  if (proto === ETH_P_IP) {
    // IP_ECN_set_ce / IP_ECN_set_ect1: patch the header checksum incrementally.
    const oldWord = be16(b, nh);
    b[nh + 1] = next;
    const c = csumReplace16(be16(b, nh + 10), oldWord, be16(b, nh));
    b[nh + 10] = c >>> 8;
    b[nh + 11] = c & 0xff;
  } else {
    b[nh] = (b[nh]! & 0xf0) | (next >>> 4);
    b[nh + 1] = (b[nh + 1]! & 0x0f) | ((next & 0x0f) << 4);
  }
  return true;
}

function deliver(t: Tunnel, off: number, len: number, r: PacketResult, fn: string): Verdict {
  t.stats.rx_packets++;
  t.stats.rx_bytes += len;
  r.verdict = Verdict.Deliver;
  r.tunnel = t;
  r.off = off;
  r.len = len;
  if (t.trace !== null) t.trace(TraceDir.Rx, t.name, Drop.None, fn, 'rx_packets');
  return Verdict.Deliver;
}

/** Drop with rx_errors (the caller bumped the specific counter). */
function rxErr(t: Tunnel, r: PacketResult, code: number, counter: string, fn = 'ip_tunnel_rcv'): Verdict {
  t.stats.rx_errors++;
  return rxFail(t, r, code, fn, counter);
}

/** Records a receive drop on the tunnel (per-reason table, trace). */
export function rxFail(t: Tunnel, r: PacketResult, code: number, fn: string, counter: string): Verdict {
  t.stats.drops[code]!++;
  r.verdict = Verdict.Drop;
  r.drop = code;
  r.tunnel = t;
  if (t.trace !== null) t.trace(TraceDir.Rx, t.name, code, fn, counter);
  return Verdict.Drop;
}
