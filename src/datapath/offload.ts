// TUN offload for one data-path device opened with IFF_VNET_HDR and
// TUNSETOFFLOAD(TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6) (io/types.ts TunDevice.vnetHdr).
//
//   out: a read batch of 64 KiB slots (vnet header at offset - 10)
//        GSO_NONE  → checksum completed in place if NEEDS_CSUM (skb_checksum_help),
//                    then handled from its read slot like any packet;
//        TCPV4/V6  → TsoSplitter into `segs` (MTU-geometry slots, ≤ OFFLOAD_SEGMENTS),
//                    each segment then through the usual tunnel/xfrm transmit.
//        This is the software GSO the kernel runs in validate_xmit_skb
//        (net/core/dev.c) for a device without the GSO feature.
//   in:  the packets a receive batch delivers to the device are copied into
//        `stage` (64 KiB slots, so a merge always fits in its head's slot and
//        the whole write stays in one slab), coalesced by GroCoalescer (what
//        napi_gro_receive / gro_cells would have built) and written with one
//        write call, each with its vnet header.
// The port owns no slabs: reads and segs are the read arena's (arena.ts
// ReadArena, shared by the data path's ports, in one ArrayBuffer so the
// split copies with copyWithin, offload/copy.ts), set by use() before each
// read; stage is the data path's, in the ArrayBuffer of its receive slabs
// (RxArena), so the copy into it and the merges are copyWithin too; the
// writeOne scratch is shared as well (each write is done before it
// returns). What a port allocates is its per-port bookkeeping (GRO and
// write lists of writeSize entries). Nothing is allocated per packet.

import type { Tunnel } from '../tunnel/tunnel.js';
import { TNL_SEQ } from '../tunnel/types.js';
import { GatherBatch, MTU_MAX, strideFor } from '../io/pool.js';
import type { PooledBatch } from '../io/pool.js';
import type { TunDevice } from '../io/types.js';
import { copyBytes } from '../offload/copy.js';
import { GroCoalescer, WriteList } from '../offload/gro.js';
import { TsoSplitter } from '../offload/tso.js';
import { ViewBases } from '../wire/bytes.js';
import { Drop } from '../wire/drop.js';
import { VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_LEN, VirtioNetHdr } from '../wire/virtio-net.js';
import type { ReadArena } from './arena.js';

/**
 * Segments one super-packet may become: 64 KiB at an MSS of 1448 is 46, so
 * 128 leaves room down to an MSS of about 512; a smaller MSS is refused
 * (GsoNoRoom, counted as tx_dropped) rather than sized for its worst case
 * (tcp_min_snd_mss 48: 1366 slots).
 */
export const OFFLOAD_SEGMENTS = 128;
/** Super-packets per read batch (each slot 64 KiB of virtual memory, committed as touched). */
export const OFFLOAD_READS = 8;
const VNET = VIRTIO_NET_HDR_LEN;
const EMPTY = new Uint8Array(0);

/**
 * Whether the kernel's own device for t counts a TSO super-packet once
 * (one skb: iptunnel_xmit → iptunnel_xmit_stats, tx_packets + 1, tx_bytes +
 * the whole inner length) or once per segment. ipip and sit advertise
 * NETIF_F_GSO_SOFTWARE (ipip_tunnel_setup IPIP_FEATURES, ipip6_tunnel_setup
 * SIT_FEATURES), so a GSO skb reaches ndo_start_xmit whole and is segmented
 * only after encapsulation; GRE does too unless it sends sequence numbers
 * (__gre_tunnel_init / ipgre_link_update, net/ipv4/ip_gre.c: "TCP offload
 * with GRE SEQ is not supported"), in which case validate_xmit_skb
 * (net/core/dev.c) segments it before the device and each segment is counted.
 */
export const countsGsoOnce = (t: Tunnel): boolean => (t.p.oflags & TNL_SEQ) === 0;

/** A read arena with the offload slabs. */
type OffloadArena = ReadArena & { readonly reads: PooledBatch; readonly segs: PooledBatch };

/** a itself, checked to have the offload slabs (a programmer error otherwise); allocates nothing. */
function offloadSlabs(a: ReadArena): OffloadArena {
  if (a.reads === null || a.segs === null) throw new Error('read arena without offload slabs for a vnet-header device');
  return a as OffloadArena;
}

export class PortOffload {
  /** The batch the pending read fills (an arena's super-packet slots; use()). */
  reads: PooledBatch;
  /** Where a super-packet is split to: the same arena's MTU-geometry slots. */
  segs: PooledBatch;
  /** After prepare(): the batch and slot range to transmit. */
  cur: PooledBatch;
  from = 0;
  to = 0;
  /**
   * segs slots holding segments still referenced by the send queue: the next
   * split goes after them; the caller flushes the queue and zeroes this
   * when a split finds no room (GsoNoRoom) — slots are never overwritten
   * while queued.
   */
  used = 0;
  private readonly tso = new TsoSplitter();
  private readonly vh = new VirtioNetHdr();
  /** Offsets of GRO's output views in the staging slab, without TypedArray#byteOffset per packet. */
  private readonly bases = new ViewBases((buf) => buf);
  private readonly gro: GroCoalescer;
  private readonly list: WriteList;
  private readonly out: GatherBatch;
  private readonly outOk: Uint8Array;
  /** A zero vnet header + an ICMP error the cores built (writeOne). */
  private readonly one: GatherBatch;

  /**
   * writeSize: the device's write queue size (packets per write call);
   * arena: where reads go until use() says otherwise; verifyChecksums:
   * GroCoalescer's (true for ipip/gre/sit, may be false for ESP-decapsulated
   * packets); stage: the data path's staging slab (writeSize slots of 64 KiB,
   * shared: flushes never overlap); oneBuf: writeOne's scratch, VNET +
   * MTU_MAX bytes, shared likewise.
   */
  constructor(
    readonly dev: TunDevice, writeSize: number, arena: ReadArena, verifyChecksums: boolean,
    private readonly stage: PooledBatch, private readonly oneBuf: Uint8Array,
  ) {
    if (stage.batchSize < writeSize || stage.stride < strideFor(MTU_MAX)) throw new RangeError(`staging slab of ${stage.batchSize} × ${stage.stride} bytes is too small`);
    if (oneBuf.length < VNET + MTU_MAX) throw new RangeError(`writeOne scratch of ${oneBuf.length} bytes is too small`);
    const a = offloadSlabs(arena);
    this.reads = a.reads;
    this.segs = a.segs;
    this.cur = this.segs;
    this.gro = new GroCoalescer(writeSize, [], verifyChecksums);
    this.list = new WriteList(writeSize);
    this.out = new GatherBatch(writeSize);
    this.outOk = new Uint8Array(writeSize);
    this.one = new GatherBatch(1);
  }

  /** Reads go to a's super-packet slots and are split into a's segment slots (before each read: no allocation). */
  use(arena: ReadArena): void {
    const a = offloadSlabs(arena);
    this.reads = a.reads;
    this.segs = a.segs;
  }

  /**
   * Between read batches: segments go to a's slots (the MTU geometry grew
   * after the pending read was parked, so segments may need larger slots).
   * The read stays where it landed; the split then copies across buffers (a
   * view per copy) until the next read.
   */
  useSegs(a: ReadArena): void {
    this.segs = offloadSlabs(a).segs;
  }

  /**
   * Readies read slot j for transmit: sets cur/from/to to the packet itself
   * (GSO_NONE) or to its segments. Returns Drop.None, or why the packet is
   * dropped (then nothing is to be sent).
   */
  prepare(j: number): Drop {
    const r = this.reads;
    const len = r.sizes[j]!;
    if (len <= 0) return Drop.Truncated;
    const at = r.start(j) - VNET;
    if ((r.slab[at + 1]! & ~VIRTIO_NET_HDR_GSO_ECN) === VIRTIO_NET_HDR_GSO_NONE) {
      const d = this.tso.completeChecksumInPlace(r.slab, at, len + VNET);
      if (d !== Drop.None) return d;
      this.cur = r;
      this.from = j;
      this.to = j + 1;
      return Drop.None;
    }
    const n = this.tso.split(r.slab, at, len + VNET, this.segs, this.used);
    if (n < 0) return -n as Drop;
    this.cur = this.segs;
    this.from = this.used;
    this.to = this.used + n;
    this.used = this.to;
    return Drop.None;
  }

  /**
   * Coalesces and writes the packets of q (a device write queue) in one
   * call. For each input packet calls done(len, isWritten) — a merged write
   * refused counts every packet in it — so the caller keeps per-packet counters.
   */
  flush(q: GatherBatch, done: (len: number, isWritten: boolean) => void): void {
    const st = this.stage;
    const n = q.count;
    for (let i = 0; i < n; i++) {
      copyBytes(st.slab, st.start(i), q.bufs[i]!, q.starts[i]!, q.sizes[i]!);
      st.sizes[i] = q.sizes[i]!;
    }
    const list = this.list;
    const m = this.gro.coalesce(st, n, list);
    const out = this.out;
    out.clear();
    const vb = this.bases;
    vb.of(st.slab);
    const slabBase = vb.base;
    for (let k = 0; k < m; k++) {
      vb.of(list.bufs[k]!);
      out.add(st.slab, vb.base - slabBase + list.offs[k]! + VNET, list.lens[k]! - VNET);
    }
    this.dev.write(out, this.outOk);
    for (let k = 0; k < m; k++) {
      const segs = list.segs[k]!;
      const ok = this.outOk[k] === 1;
      const len = out.sizes[k]!;
      if (segs === 1) {
        done(len, ok);
        continue;
      }
      // A merge of segs packets, each hdr_len header bytes + its payload:
      // the bytes the packets had before coalescing, split evenly enough for counters.
      this.vh.wrap(st.slab, out.starts[k]! - VNET, VNET);
      const hdr = this.vh.hdrLen;
      const payload = len - hdr;
      const per = Math.floor(payload / segs);
      for (let s = 0; s < segs; s++) done(hdr + (s === segs - 1 ? payload - per * (segs - 1) : per), ok);
    }
    out.clear();
    for (let i = 0; i < m; i++) list.bufs[i] = EMPTY;
  }

  /** Writes one packet the cores built (an ICMP error) with a zero vnet header. */
  writeOne(buf: Uint8Array, len: number): void {
    const b = this.oneBuf;
    if (len > b.length - VNET) return;
    b.fill(0, 0, VNET);
    copyBytes(b, VNET, buf, 0, len);
    this.one.clear();
    this.one.add(b, VNET, len);
    this.dev.write(this.one);
  }
}
