// TSO/GSO split on the TUN read side: one super-packet the kernel handed us
// (virtio_net_hdr + IPv4/IPv6 TCP packet of up to 64 KiB, TUNSETOFFLOAD with
// TUN_F_TSO4|TUN_F_TSO6|TUN_F_CSUM) → MSS-sized segments the tunnels can
// encapsulate one by one. This is the software GSO the kernel would have run
// without the offload: tcp_gso_segment (net/ipv4/tcp_offload.c) under
// inet_gso_segment (net/ipv4/af_inet.c) / ipv6_gso_segment (net/ipv6/ip6_offload.c).
//
//   src: | vnet hdr (10) | IP hdr | TCP hdr + options | payload (N bytes) ............ |
//   out.bufs[first + i] at out.offset:
//        | IP hdr' | TCP hdr' | payload[i*mss, min(N, (i+1)*mss)) |
//
// Per segment i (0-based, n segments):
//   IPv4: total length; ID = ID0 + i (mod 2^16), as inet_gso_segment does when
//         the skb is not SKB_GSO_TCP_FIXEDID, which a TUN skb never is;
//         header checksum recomputed (ip_send_check).
//   IPv6: payload length.
//   TCP:  seq = seq0 + i*mss (mod 2^32); FIN and PSH kept only on the last
//         segment, CWR only on the first (tcp_gso_segment clears th->fin,
//         th->psh on all but the last and th->cwr on all but the first); the
//         checksum computed in full over pseudo-header + segment (RFC 9293
//         §3.1, RFC 1071), never left partial: the segments go into tunnels.
// A GSO_NONE packet with NEEDS_CSUM gets its partial checksum completed
// (skb_checksum_help, net/core/dev.c).
//
// Contract: the source bytes are only read, never written. Every index is
// checked before use; bad input returns a negative drop code, never throws.
// Nothing is allocated per call except the subarray views passed to set().

import { be16, be32, put16, put32 } from '../wire/bytes.js';
import { finish16, pseudoSum4At, pseudoSum6, sum16 } from '../wire/checksum.js';
import { Drop } from '../wire/drop.js';
import { Ip4Packet } from '../wire/ip4.js';
import { Ip6Packet, IP6_HDR_LEN } from '../wire/ip6.js';
import { IPPROTO_TCP } from '../wire/ipproto.js';
import { TCP_CWR, TCP_FIN, TCP_OFF_CHECKSUM, TCP_OFF_FLAGS, TCP_OFF_SEQ, TCP_PSH, TcpHeader } from '../wire/tcp.js';
import {
  TCP_CSUM_OFFSET, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_LEN, VirtioNetHdr,
} from '../wire/virtio-net.js';
import { copyBytes } from './copy.js';

/**
 * Where split() writes: structurally the data path's PacketBatch
 * (src/io/types.ts). Segment i goes to bufs[first + i] at `offset`, its byte
 * count to sizes[first + i].
 */
export interface SegmentSlots {
  readonly bufs: readonly Uint8Array[];
  readonly sizes: Int32Array;
  readonly offset: number;
}

const IP4_ID = 4;
const IP4_TOTAL_LEN = 2;
const IP4_CSUM = 10;
const IP6_PAYLOAD_LEN = 4;
const IP6_SRC = 8;
const IP6_DST = 24;

/** Splits TUN super-packets into segments; one instance per reader, reused for every packet. */
export class TsoSplitter {
  private readonly vh = new VirtioNetHdr();
  private readonly ip4 = new Ip4Packet();
  private readonly ip6 = new Ip6Packet();
  private readonly tcp = new TcpHeader();
  // Per-call results of parse(), kept in fields so nothing is allocated.
  private l3Len = 0;
  private hdrLen = 0;
  private payloadLen = 0;
  private isV6 = false;

  /**
   * Splits src[off, off+len) (virtio_net_hdr, then the IP packet exactly as
   * read from the TUN) into out. Returns the number of segments written
   * (≥ 1), or −code (a Drop) when the packet is refused: then the slots'
   * contents are unspecified and sizes are untouched. A GSO_NONE packet is
   * copied into one slot (checksum completed if NEEDS_CSUM); use
   * completeChecksumInPlace() to avoid that copy.
   */
  split(src: Uint8Array, off: number, len: number, out: SegmentSlots, first: number): number {
    const vh = this.vh;
    if (!vh.wrap(src, off, len)) return -Drop.Truncated;
    const pkt = off + VIRTIO_NET_HDR_LEN;
    const pktLen = len - VIRTIO_NET_HDR_LEN;
    const kind = vh.gsoKind;
    if (kind === VIRTIO_NET_HDR_GSO_NONE) return this.single(src, pkt, pktLen, out, first);
    if (kind === VIRTIO_NET_HDR_GSO_UDP || kind === VIRTIO_NET_HDR_GSO_UDP_L4) return -Drop.GsoUnsupported;
    if (kind !== VIRTIO_NET_HDR_GSO_TCPV4 && kind !== VIRTIO_NET_HDR_GSO_TCPV6) return -Drop.VnetBadHeader;
    const mss = vh.gsoSize;
    if (mss === 0) return -Drop.VnetBadHeader;
    const d = this.parse(src, pkt, pktLen, kind === VIRTIO_NET_HDR_GSO_TCPV6);
    if (d !== Drop.None) return -d;
    if (vh.needsCsum && (vh.csumStart !== this.l3Len || vh.csumOffset !== TCP_CSUM_OFFSET)) return -Drop.VnetBadHeader;
    const n = this.payloadLen === 0 ? 1 : Math.ceil(this.payloadLen / mss);
    if (!slotsFit(out, first, n, this.hdrLen + Math.min(mss, this.payloadLen))) return -Drop.GsoNoRoom;
    for (let i = 0; i < n; i++) {
      out.sizes[first + i] = this.writeSegment(src, pkt, out.bufs[first + i]!, out.offset, i, n, mss);
    }
    return n;
  }

  /**
   * For a GSO_NONE packet left where it was read: completes a NEEDS_CSUM
   * checksum in place in b[off+10, off+len) and returns Drop.None, or the
   * reason it cannot (then nothing was written). A GSO header is refused with
   * VnetBadHeader: call split() for those.
   */
  completeChecksumInPlace(b: Uint8Array, off: number, len: number): Drop {
    const vh = this.vh;
    if (!vh.wrap(b, off, len)) return Drop.Truncated;
    if (vh.gsoType !== VIRTIO_NET_HDR_GSO_NONE) return Drop.VnetBadHeader;
    if (!vh.needsCsum) return Drop.None;
    return completeChecksum(b, off + VIRTIO_NET_HDR_LEN, len - VIRTIO_NET_HDR_LEN, vh.csumStart, vh.csumOffset);
  }

  private single(src: Uint8Array, pkt: number, pktLen: number, out: SegmentSlots, first: number): number {
    const vh = this.vh;
    const needs = vh.needsCsum;
    if (needs && !csumFieldOk(pktLen, vh.csumStart, vh.csumOffset)) return -Drop.VnetBadHeader;
    if (!slotsFit(out, first, 1, pktLen)) return -Drop.GsoNoRoom;
    const dst = out.bufs[first]!;
    copyBytes(dst, out.offset, src, pkt, pktLen);
    if (needs) completeChecksum(dst, out.offset, pktLen, vh.csumStart, vh.csumOffset);
    out.sizes[first] = pktLen;
    return 1;
  }

  /** Validates the IP + TCP headers of a GSO packet; sets l3Len, hdrLen, payloadLen, isV6. */
  private parse(b: Uint8Array, pkt: number, pktLen: number, wantV6: boolean): Drop {
    const version = pktLen > 0 ? b[pkt]! >>> 4 : 0;
    if (version !== (wantV6 ? 6 : 4)) return Drop.VnetBadHeader;
    let l4Len: number;
    if (!wantV6) {
      const ip = this.ip4;
      const d = ip.check(b, pkt, pktLen);
      if (d !== Drop.None) return d;
      if (ip.protocol !== IPPROTO_TCP || ip.isFragment) return Drop.GsoBadPacket;
      this.l3Len = ip.headerLen;
      l4Len = ip.payloadLen;
    } else {
      const ip = this.ip6;
      const d = ip.check(b, pkt, pktLen);
      if (d !== Drop.None) return d;
      // Extension headers would need the chain copied per segment and, for a
      // Routing header, the final destination in the pseudo-header: refused.
      if (ip.nextHeader !== IPPROTO_TCP) return Drop.GsoUnsupported;
      this.l3Len = IP6_HDR_LEN;
      l4Len = ip.payloadLen;
    }
    if (!this.tcp.check(b, pkt + this.l3Len, l4Len)) return Drop.GsoBadPacket;
    this.isV6 = wantV6;
    this.hdrLen = this.l3Len + this.tcp.headerLen;
    this.payloadLen = l4Len - this.tcp.headerLen;
    return Drop.None;
  }

  /** Writes segment i of n at dst[o]; returns its length. Ranges were proved by parse() and slotsFit(). */
  private writeSegment(src: Uint8Array, pkt: number, dst: Uint8Array, o: number, i: number, n: number, mss: number): number {
    const hl = this.hdrLen;
    const l3 = this.l3Len;
    const start = i * mss;
    const segLen = Math.min(mss, this.payloadLen - start);
    const total = hl + segLen;
    copyBytes(dst, o, src, pkt, hl);
    copyBytes(dst, o + hl, src, pkt + hl + start, segLen);
    const t = o + l3;
    put32(dst, t + TCP_OFF_SEQ, (be32(src, pkt + l3 + TCP_OFF_SEQ) + start) >>> 0);
    let flags = dst[t + TCP_OFF_FLAGS]!;
    if (i !== n - 1) flags &= ~(TCP_FIN | TCP_PSH);
    if (i !== 0) flags &= ~TCP_CWR;
    dst[t + TCP_OFF_FLAGS] = flags;
    put16(dst, t + TCP_OFF_CHECKSUM, 0);
    const l4Len = total - l3;
    let pseudo: number;
    if (!this.isV6) {
      put16(dst, o + IP4_TOTAL_LEN, total);
      put16(dst, o + IP4_ID, (be16(src, pkt + IP4_ID) + i) & 0xffff);
      put16(dst, o + IP4_CSUM, 0);
      put16(dst, o + IP4_CSUM, finish16(sum16(dst, o, l3)));
      pseudo = pseudoSum4At(dst, o, IPPROTO_TCP, l4Len);
    } else {
      put16(dst, o + IP6_PAYLOAD_LEN, l4Len);
      pseudo = pseudoSum6(dst, o + IP6_SRC, dst, o + IP6_DST, IPPROTO_TCP, l4Len);
    }
    put16(dst, t + TCP_OFF_CHECKSUM, finish16(sum16(dst, t, l4Len, pseudo)));
    return total;
  }
}

/** True when out has n slots from `first`, each with room for `need` bytes after out.offset. */
function slotsFit(out: SegmentSlots, first: number, n: number, need: number): boolean {
  if (!Number.isInteger(first) || first < 0 || first + n > out.bufs.length || first + n > out.sizes.length) return false;
  const o = out.offset;
  if (!Number.isInteger(o) || o < 0) return false;
  for (let i = 0; i < n; i++) if (out.bufs[first + i]!.length < o + need) return false;
  return true;
}

/** The 2-byte field at csumStart + csumOffset lies inside a packet of pktLen bytes. */
const csumFieldOk = (pktLen: number, start: number, offset: number): boolean => start + offset + 2 <= pktLen;

/**
 * skb_checksum_help (net/core/dev.c): the field at b[pkt+start+offset] holds
 * the folded pseudo-header sum (CHECKSUM_PARTIAL); sum from `start` to the
 * end of the packet, field included, and store the complement, 0 sent as
 * 0xffff (CSUM_MANGLED_0: both mean "0" to a TCP receiver, and UDP needs it).
 */
export function completeChecksum(b: Uint8Array, pkt: number, pktLen: number, start: number, offset: number): Drop {
  if (!csumFieldOk(pktLen, start, offset) || pkt < 0 || pkt + pktLen > b.length) return Drop.VnetBadHeader;
  const c = finish16(sum16(b, pkt + start, pktLen - start));
  put16(b, pkt + start + offset, c === 0 ? 0xffff : c);
  return Drop.None;
}
