// The out half of the data path (datapath.ts): one read batch of a device
// through the cores into one send batch. Owns the send queues, the conns
// outer packets leave by, and the per-direction scratch results.
//
//   read batch of a Port (≤ batchSize packets at HEADROOM; an offload TUN's
//   super-packets split first, offload.ts PortOffload.prepare)
//     → tunnel: tunnelXmit (outer header into the headroom)
//               → XfrmStack.output of the outer packet (GRE over ESP, or Bypass)
//       policy TUN / xfrmi: XfrmStack.output(if_id) (ESP in place, trailer up to the slot end)
//     → sendQ (raw IPv4 on `tx`) and udpQ (ESP-in-UDP on `udpTx`, udp-send.ts),
//       ESP with its seal deferred (xfrm/seal-queue.ts): every queued ESP
//       packet is sealed, one sealBatch per SA and slab, at the top of
//       flushSend, before the outer taps or the send call read a byte; a
//       packet whose seal failed leaves the queues (XfrmOutStateProtoError,
//       tx_dropped, a fault), the others go
//     → txDone / xfrmiTxDone per packet once the send result is known (port.ts SendQueue.flush)
// ICMP errors the cores build for the inner sender go to the device at once
// (DeviceWrites.writeOne). A packet that throws is dropped and counted
// (faults, tx_dropped, XfrmOutStateProtoError); the batch resumes at
// `cursor` + 1: one try per run, none per packet. Nothing is allocated per packet.

import type { PacketConn } from '../io/types.js';
import type { PooledBatch } from '../io/pool.js';
import type { UdpConn } from '../io/udp.js';
import { PacketResult, TxOutcome, Verdict } from '../tunnel/result.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { tunnelXmit, txDone } from '../tunnel/xmit.js';
import { Drop } from '../wire/drop.js';
import { XfrmResult, XVerdict } from '../xfrm/result.js';
import { SealQueue } from '../xfrm/seal-queue.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { xfrmiTxRefused } from '../xfrm/xfrmi.js';
import type { DatapathClocks, DatapathEvents, DatapathStats } from './events.js';
import type { ConditionLog, FaultLog } from './fault-log.js';
import type { SlotGeometry } from './geometry.js';
import { countsGsoOnce } from './offload.js';
import { PortKind, SendQueue } from './port.js';
import type { Port } from './port.js';
import { UdpSendQueue } from './udp-send.js';
import type { DeviceWrites } from './writes.js';

/** A send condition (EAGAIN, ENOBUFS…) has ended once no batch met it for this many ms (ConditionLog.clear: no line per flicker). */
export const SEND_CLEAR_HOLD_MS = 1000;

export class TransmitPath {
  /** The conn outer packets leave by (raw IPv4 with the header included), except udpTx's; null drops them. */
  tx: PacketConn | null = null;
  /** The NAT-T socket: ESP-in-UDP of an SA whose encap sport is its port leaves by it. */
  udpTx: UdpConn | null = null;
  private readonly res = new PacketResult();
  private readonly xres = new XfrmResult();
  private readonly sendQ: SendQueue;
  /** ESP-in-UDP leaving by udpTx. */
  private readonly udpQ: UdpSendQueue;
  /** The deferred seals of the ESP packets in sendQ and udpQ (room for both full). */
  private readonly seals: SealQueue;
  /** Index of the packet being handled (where a fault resumes). */
  private cursor = 0;
  /**
   * While a super-packet's segments go out on a tunnel whose kernel device
   * keeps it whole (offload.ts countsGsoOnce): its length for the first
   * segment's counters, then 0 (counted with the first); -1 otherwise.
   */
  private gsoLen = -1;

  /**
   * batchSize: packets per send call. The other arguments are the owning
   * Datapath's, shared with the receive half (receive.ts).
   */
  constructor(
    batchSize: number,
    private readonly xfrm: XfrmStack | null,
    private readonly ev: DatapathEvents,
    private readonly clock: DatapathClocks,
    private readonly stats: DatapathStats,
    private readonly geometry: SlotGeometry,
    private readonly writes: DeviceWrites,
    private readonly faults: FaultLog,
    private readonly conds: ConditionLog,
  ) {
    this.sendQ = new SendQueue(batchSize);
    this.udpQ = new UdpSendQueue(batchSize);
    this.seals = new SealQueue(2 * batchSize);
  }

  /** n packets read from p's device (p.batch, or p.offload.reads) out. Throws only on a programmer error. */
  xmitBatch(p: Port, n: number): void {
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    const o = p.offload;
    if (p.taps !== null) p.taps.readBatch(o === null ? p.batch : o.reads, n);
    if (o === null) {
      this.xmitSlots(p, p.batch, 0, n, now, wall);
    } else {
      // One read slot at a time: a super-packet's segments fill o.segs (offload.ts).
      o.used = 0;
      for (let j = 0; j < n; j++) {
        let d = o.prepare(j);
        if (d === Drop.GsoNoRoom && o.used > 0) { // segs full of queued segments: send them, then reuse
          this.flushSendSafe(p);
          o.used = 0;
          d = o.prepare(j);
        }
        if (d !== Drop.None) {
          this.offloadDrop(p, d);
          continue;
        }
        this.gsoLen = o.cur === o.segs && this.countsOnce(p) ? o.reads.sizes[j]! : -1;
        this.xmitSlots(p, o.cur, o.from, o.to, now, wall);
        this.gsoLen = -1;
      }
    }
    this.flushSendSafe(p);
    if (this.xfrm !== null && this.xfrm.events.length > 0) this.ev.xfrmEvents();
  }

  /**
   * Whether p's kernel twin counts a super-packet once: a tunnel per
   * countsGsoOnce; an xfrm interface always (XFRMI_FEATURES has
   * NETIF_F_GSO_SOFTWARE, and xfrmi_xmit2 adds 1 packet of skb->len).
   */
  private countsOnce(p: Port): boolean {
    return p.tunnel !== null ? countsGsoOnce(p.tunnel) : p.kind === PortKind.Xfrmi;
  }

  private flushSendSafe(p: Port): void {
    try {
      this.flushSend(p);
    } catch (e) {
      this.faults.note(p.name, e, this.sendQ.batch.count + this.udpQ.batch.count); // a dead socket: the queued packets are lost
      this.sendQ.batch.clear();
      this.udpQ.batch.clear();
      this.seals.reset();
    }
  }

  /** Slots from..to of b through the cores; a packet that throws is dropped, the rest go on. */
  private xmitSlots(p: Port, b: PooledBatch, from: number, to: number, now: number, wall: number): void {
    for (let i = from; i < to;) {
      try {
        i = this.xmitRun(p, b, i, to, now, wall);
      } catch (e) {
        this.faults.note(p.name, e);
        this.xfrm?.fault(); // thrown inside xfrm output (e.g. OpenSSL refused to seal): XfrmOutStateProtoError
        p.txDropped();
        i = this.cursor + 1;
      }
    }
  }

  /** Packets from..n of b (p's read batch, or its offload segments) into the send queue; returns n. */
  private xmitRun(p: Port, b: PooledBatch, from: number, n: number, now: number, wall: number): number {
    const slab = b.slab;
    const stride = b.stride;
    for (let i = from; i < n; i++) {
      this.cursor = i;
      if (this.sendQ.batch.isFull || this.udpQ.batch.isFull) this.flushSend(p); // a super-packet's segments outnumber the queue
      const len = b.sizes[i]!;
      if (len <= 0) {
        this.truncated(p);
        continue;
      }
      const off = i * stride + b.offset;
      if (p.kind === PortKind.Tunnel) this.xmitTunnel(p, p.tunnel!, slab, off, len, off - b.offset + stride, now, wall);
      else this.xmitXfrm(p, slab, off, len, off - b.offset + stride, wall);
    }
    return n;
  }

  /** ip_tunnel_xmit, then the outer packet through xfrm_lookup (ESP, Bypass or a route failure). */
  private xmitTunnel(p: Port, t: Tunnel, slab: Uint8Array, off: number, len: number, end: number, now: number, wall: number): void {
    const r = this.res;
    const gso = this.gsoLen;
    if (gso > 0) this.gsoLen = 0;
    const v = tunnelXmit(t, slab, off, len, now, r);
    if (r.icmpLen > 0) this.writes.writeOne(p, r.icmp, r.icmpLen);
    if (v !== Verdict.Xmit) return;
    const inner = gso < 0 ? r.innerLen : gso; // 0: a later segment of a super-packet, not counted
    if (this.xfrm === null) {
      this.sendQ.add(slab, r.off, r.len, r.dst, inner);
      return;
    }
    const x = this.xres;
    const xv = this.xfrm.output(slab, r.off, r.len, 0, true, wall, x, end, this.seals);
    if (xv === XVerdict.Xmit) this.queueEsp(slab, x, inner);
    else if (xv === XVerdict.Bypass) this.sendQ.add(slab, r.off, r.len, r.dst, inner);
    else if (inner !== 0) txDone(t, inner, TxOutcome.NoRoute);
  }

  /** xfrm_lookup(if_id) + xfrm_output for a packet of the policy TUN (if_id 0) or an xfrm interface. */
  private xmitXfrm(p: Port, slab: Uint8Array, off: number, len: number, end: number, wall: number): void {
    const x = this.xres;
    const gso = this.gsoLen;
    if (gso > 0) this.gsoLen = 0;
    const inner = gso < 0 ? len : gso; // 0: a later segment of a super-packet, not counted
    if (this.xfrm !== null && this.xfrm.output(slab, off, len, p.ifId, false, wall, x, end, this.seals) === XVerdict.Xmit) {
      this.queueEsp(slab, x, inner);
      return;
    }
    if (this.xfrm === null) return;
    if (p.xstats !== null && inner !== 0) xfrmiTxRefused(p.xstats, x);
    if (x.icmpLen > 0) this.writes.writeOne(p, x.icmp, x.icmpLen); // PMTU error back to the inner sender
  }

  /** An ESP packet xfrm built: by the NAT-T socket when its SA's encap sport is that socket's, else raw. */
  private queueEsp(slab: Uint8Array, x: XfrmResult, inner: number): void {
    const e = x.state !== null ? x.state.cfg.encap : null;
    const u = this.udpTx;
    if (e !== null && u !== null && e.sport === u.port && this.udpQ.addEncap(slab, x.off, x.len, x.dst, inner, x.sealIdx)) return;
    this.sendQ.add(slab, x.off, x.len, x.dst, inner, x.sealIdx);
  }

  /** The deferred seals of the queued ESP packets; a packet whose seal failed is dropped (tx_dropped), never sent. */
  private sealQueued(p: Port): void {
    const q = this.seals;
    if (this.xfrm === null) return;
    if (q.hasPending) this.xfrm.sealPending(q);
    if (q.failedCount === 0) return;
    const n = this.sendQ.dropSealed(q.failed) + this.udpQ.dropSealed(q.failed);
    this.faults.note(p.name, q.lastError, n);
    for (let i = 0; i < n; i++) p.txDropped();
    q.failedCount = 0;
  }

  /** The send calls; a refusal that lasts (ENOBUFS, EAGAIN, ENETUNREACH…) is logged once per device and errno until batches go out whole for SEND_CLEAR_HOLD_MS. */
  private flushSend(p: Port): void {
    this.sealQueued(p);
    if (p.taps !== null) {
      p.taps.gather(p.taps.outer, this.sendQ.batch);
      p.taps.gather(p.taps.outer, this.udpQ.batch);
    }
    const lost = this.sendQ.flush(this.tx, p);
    const why = this.sendQ.why;
    const lostUdp = this.udpQ.flush(this.udpTx, p);
    this.seals.reset();
    if (lost > 0) this.conds.note(`send ${p.name} ${why.split(' ')[0]!}`, lost, `sendmmsg refused ${lost} packets: ${why}`);
    if (lostUdp > 0) this.conds.note(`send ${p.name} ${this.udpQ.why.split(' ')[0]!}`, lostUdp, `sendmmsg (UDP ${this.udpTx?.port ?? ''}) refused ${lostUdp} packets: ${this.udpQ.why}`);
    if (lost === 0 && lostUdp === 0 && this.conds.active !== 0) this.conds.clear(`send ${p.name} `, SEND_CLEAR_HOLD_MS);
  }

  /**
   * A read the TSO split or checksum completion refused: tx_dropped, where the
   * kernel counts a skb its software GSO fails on (validate_xmit_skb,
   * net/core/dev.c: out_null → dev_core_stats_tx_dropped_inc).
   */
  private offloadDrop(p: Port, d: Drop): void {
    this.stats.offloadDrops++;
    this.stats.lastOffloadDrop = d;
    p.txDropped();
  }

  private truncated(p: Port): void {
    this.stats.truncated++;
    p.txDropped();
    const mtu = p.dev.refreshMtu !== undefined ? p.dev.refreshMtu() : p.dev.mtu;
    this.geometry.fit(mtu + p.l2Len);
  }
}
