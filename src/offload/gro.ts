// GRO coalesce on the TUN write side: a batch of inner IPv4/IPv6 packets
// (decapsulated, about to be written to a TUN opened with IFF_VNET_HDR) →
// fewer, larger writes: runs of in-order TCP segments of one flow become one
// super-packet with a virtio_net_hdr (gso_type TCPV4/TCPV6, NEEDS_CSUM), which
// the kernel accepts through __virtio_net_hdr_to_skb and its stack then takes
// in one pass, as if the NIC's GRO had built it (tcp4_gro_complete /
// tcp6_gro_complete, net/ipv4/tcp_offload.c, net/ipv6/tcpv6_offload.c).
//
// Flow:
//   scan:  each packet i → not TCP: pass; TCP but not mergeable (SYN/FIN/RST/
//          URG, no payload, ...): pass and close its flow's open run; else
//          append to its flow's open run when every rule holds (gro-match.ts:
//          same IP fields, TCP options/ACK/flags, seq == run end, all but the
//          last of one size = gso_size, PSH ends the run, checksums verify,
//          ≤ 64 KiB), or close that run and open a new one with i.
//   emit:  in batch order, each pass packet and each run (at its first
//          packet's position) goes to the WriteList with its vnet header.
//
// Where the bytes go (contract):
//   - A packet written alone keeps its place: a zero virtio_net_hdr is written
//     in the 10 bytes of headroom before it (batch.offset ≥ 10).
//   - A run of ≥ 2 is assembled in its first packet's slot when that slot has
//     room (bufs[head].length ≥ offset + merged length: the members' payloads
//     are appended after the head's), else in the next free caller-provided
//     merge buffer (≥ 10 + 65535 bytes each), vnet header at 0, packet at 10.
//     With neither, the run's packets are written one by one, unmerged.
//   - Members' slots are only read. Slots are never reordered.
//   - Why members' checksums are verified: the merged packet carries
//     NEEDS_CSUM (CHECKSUM_PARTIAL), which the receiving stack trusts, so a
//     segment corrupted inside an unauthenticated tunnel would otherwise be
//     accepted. A segment that fails is written alone, for the kernel to drop.
//     (The constructor can turn this off for ESP, whose ICV already covers it.)
// Nothing is allocated per batch: all state lives in typed arrays sized at
// construction.

import { put16 } from '../wire/bytes.js';
import { fold16, pseudoSum4At, pseudoSum6 } from '../wire/checksum.js';
import { Ip4Packet } from '../wire/ip4.js';
import { Ip6Packet } from '../wire/ip6.js';
import { IPPROTO_TCP } from '../wire/ipproto.js';
import { TCP_CWR, TCP_OFF_CHECKSUM, TCP_OFF_FLAGS, TCP_PSH } from '../wire/tcp.js';
import {
  TCP_CSUM_OFFSET, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_LEN, VirtioNetHdr,
} from '../wire/virtio-net.js';
import { copyBytes } from './copy.js';
import { GroFlows } from './gro-flows.js';
import type { SegmentSlots } from './tso.js';

/** Largest IP packet a merged run may become (IPv4 total length / IPv6 payload length are u16). */
export const GRO_MAX_LEN = 0xffff;
/** Minimum size of a caller-provided merge buffer. */
export const GRO_MERGE_BUF_LEN = VIRTIO_NET_HDR_LEN + GRO_MAX_LEN;

const EMPTY = new Uint8Array(0);

/** What to write to the TUN, in order: bufs[i][offs[i], offs[i]+lens[i]) (vnet header + packet). */
export class WriteList {
  readonly bufs: Uint8Array[];
  readonly offs: Int32Array;
  readonly lens: Int32Array;
  /** Input packets write i carries (1, or the run length of a merge): for per-packet counters. */
  readonly segs: Int32Array;
  count = 0;

  constructor(readonly capacity: number) {
    this.bufs = new Array<Uint8Array>(capacity).fill(EMPTY);
    this.offs = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
    this.segs = new Int32Array(capacity);
  }

  push(b: Uint8Array, off: number, len: number, segs = 1): void {
    const i = this.count++;
    this.bufs[i] = b;
    this.offs[i] = off;
    this.lens[i] = len;
    this.segs[i] = segs;
  }
}

/** Coalesces write batches; one instance per writer, reused for every batch. */
export class GroCoalescer {
  private readonly flows: GroFlows;
  private readonly vh = new VirtioNetHdr();
  private readonly ip4 = new Ip4Packet();
  private readonly ip6 = new Ip6Packet();

  /**
   * maxBatch: the largest count coalesce() will be given. mergeBufs: buffers
   * of ≥ GRO_MERGE_BUF_LEN bytes owned by the caller, which must not reuse
   * them until the WriteList that names them has been written.
   * verifyChecksums (default true): verify each merged segment's TCP
   * checksum, about half of coalesce()'s cost. Turn it off only where the
   * inner packets are integrity-protected end to end by the tunnel (ESP's
   * ICV covers them): there a bad checksum can only come from the
   * authenticated peer itself. Never for ipip/gre/sit, whose inner bytes no
   * one else checks once the kernel trusts NEEDS_CSUM.
   */
  constructor(
    readonly maxBatch: number,
    private readonly mergeBufs: readonly Uint8Array[],
    verifyChecksums = true,
  ) {
    for (const m of mergeBufs) {
      if (m.length < GRO_MERGE_BUF_LEN) throw new RangeError(`GRO merge buffer of ${m.length} bytes < ${GRO_MERGE_BUF_LEN}`);
    }
    this.flows = new GroFlows(maxBatch, verifyChecksums);
  }

  /**
   * Coalesces batch.bufs[0..count) (packet i: sizes[i] bytes at
   * batch.offset) into out, which is reset first; returns out.count. Writes
   * vnet headers into the headroom and may append into head slots (see the
   * file comment). Throws RangeError only on misuse: count above maxBatch or
   * out.capacity, offset < 10, or a size outside its slot.
   */
  coalesce(batch: SegmentSlots, count: number, out: WriteList): number {
    this.checkBatch(batch, count, out);
    this.flows.scan(batch, count);
    out.count = 0;
    let merge = 0;
    const f = this.flows;
    for (let i = 0; i < count; i++) {
      const r = f.runOf(i);
      if (r < 0 || f.runCount(r) < 2 || f.runDissolved(r)) {
        this.passThrough(batch, i, out);
        continue;
      }
      if (f.runHead(r) !== i) continue;
      const used = this.emitRun(batch, r, merge, out);
      if (used < 0) {
        f.dissolve(r);
        this.passThrough(batch, i, out);
      } else {
        merge += used;
      }
    }
    return out.count;
  }

  private checkBatch(batch: SegmentSlots, count: number, out: WriteList): void {
    if (!Number.isInteger(count) || count < 0 || count > this.maxBatch || count > out.capacity ||
      count > batch.bufs.length || count > batch.sizes.length) {
      throw new RangeError(`GRO batch of ${count} exceeds a capacity`);
    }
    const o = batch.offset;
    if (!Number.isInteger(o) || o < VIRTIO_NET_HDR_LEN) throw new RangeError(`GRO needs ≥ 10 bytes of headroom, offset is ${o}`);
    for (let i = 0; i < count; i++) {
      const s = batch.sizes[i]!;
      if (s < 0 || o + s > batch.bufs[i]!.length) throw new RangeError(`GRO packet ${i}: size ${s} outside its slot`);
    }
  }

  private passThrough(batch: SegmentSlots, i: number, out: WriteList): void {
    const b = batch.bufs[i]!;
    const at = batch.offset - VIRTIO_NET_HDR_LEN;
    this.vh.wrap(b, at, VIRTIO_NET_HDR_LEN);
    this.vh.clear();
    out.push(b, at, VIRTIO_NET_HDR_LEN + batch.sizes[i]!);
  }

  /**
   * Assembles run r; returns the number of merge buffers it used (0 or 1),
   * or −1 when there is nowhere to put it.
   */
  private emitRun(batch: SegmentSlots, r: number, merge: number, out: WriteList): number {
    const f = this.flows;
    const h = f.runHead(r);
    const hdr = f.hdrLen(h);
    const total = hdr + f.runPayload(r);
    const head = batch.bufs[h]!;
    let dst: Uint8Array;
    let base: number;
    let used = 0;
    if (head.length >= batch.offset + total) {
      dst = head;
      base = batch.offset;
    } else if (merge < this.mergeBufs.length) {
      dst = this.mergeBufs[merge]!;
      base = VIRTIO_NET_HDR_LEN;
      used = 1;
      copyBytes(dst, base, head, batch.offset, batch.sizes[h]!);
    } else {
      return -1;
    }
    let end = base + batch.sizes[h]!;
    for (let m = f.next(h); m >= 0; m = f.next(m)) {
      const n = f.payloadLen(m);
      copyBytes(dst, end, batch.bufs[m]!, batch.offset + batch.sizes[m]! - n, n);
      end += n;
    }
    this.finishHeaders(dst, base, total, r);
    out.push(dst, base - VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_LEN + total, f.runCount(r));
    return used;
  }

  /** Lengths, IPv4 header checksum, PSH, the partial TCP checksum and the vnet header of a merged packet at dst[base]. */
  private finishHeaders(dst: Uint8Array, base: number, total: number, r: number): void {
    const f = this.flows;
    const h = f.runHead(r);
    const v6 = f.isV6(h);
    const l3 = v6 ? 40 : 20;
    const l4Len = total - l3;
    const t = base + l3;
    if (f.runPsh(r)) dst[t + TCP_OFF_FLAGS] = dst[t + TCP_OFF_FLAGS]! | TCP_PSH;
    let pseudo: number;
    if (v6) {
      const ip = this.ip6;
      ip.bind(dst, base, total);
      ip.payloadLen = l4Len;
      pseudo = pseudoSum6(dst, ip.srcOffset, dst, ip.dstOffset, IPPROTO_TCP, l4Len);
    } else {
      const ip = this.ip4;
      ip.bind(dst, base, total);
      ip.totalLen = total;
      ip.fillChecksum();
      pseudo = pseudoSum4At(dst, base, IPPROTO_TCP, l4Len);
    }
    // CHECKSUM_PARTIAL: the folded pseudo-header sum, not complemented
    // (~tcp_v4_check(len, saddr, daddr, 0) in tcp4_gro_complete).
    put16(dst, t + TCP_OFF_CHECKSUM, fold16(pseudo));
    const vh = this.vh;
    vh.wrap(dst, base - VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_LEN);
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    const cwr = (dst[t + TCP_OFF_FLAGS]! & TCP_CWR) !== 0 ? VIRTIO_NET_HDR_GSO_ECN : 0;
    vh.gsoType = (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) | cwr;
    vh.hdrLen = f.hdrLen(h);
    vh.gsoSize = f.runMss(r);
    vh.csumStart = l3;
    vh.csumOffset = TCP_CSUM_OFFSET;
  }
}
