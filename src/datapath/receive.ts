// The in half of the data path (datapath.ts): one conn receive batch through
// the cores into per-device write queues. Owns the receive demux tables
// (which Port a tunnel, an if_id or the policy TUN delivers to) and the
// per-direction scratch results.
//
//   conn receive batch
//     raw IPv4 (4, 41, 47, 50, 1; UDP in memory tests) demultiplexed by protocol,
//     or UDP payloads from the NAT-T socket (XfrmStack.inputUdp)
//   → ESP: XfrmStack.input → tunnel mode: the policy TUN or xfrmi by if_id;
//                            transport mode: the tunnel receive below
//     4/41/47: xfrm policy check (clear text) → TunnelStack.receive
//     ICMP: esp4_err, else the tunnels' err handlers (PMTU, relays)
//   → per-device write queues, one write call per device (writes.ts; GRO for
//     an offload TUN, offload.ts)
// ESP is opened per batch (xfrm/open-queue.ts): phase 1 (prepareOpens)
// finds, with no state change, the packets that will reach open() and opens
// them with one openBatch per SA; phase 2 is the loop below, unchanged, with
// each packet's open taken from phase 1.
// A packet that throws is dropped and counted (faults, XfrmInStateProtoError);
// the batch resumes at `cursor` + 1: one try per run, none per packet.
// Nothing is allocated per packet; the conn callbacks are bound once.

import { packetStart } from '../io/pool.js';
import type { PacketBatch, RecvMeta } from '../io/types.js';
import { handleUnderlayIcmp, UnderlayIcmp } from '../tunnel/icmp-in.js';
import { PacketResult, Verdict } from '../tunnel/result.js';
import type { TunnelStack } from '../tunnel/stack.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { formatIp4 } from '../wire/addr.js';
import { ViewBases } from '../wire/bytes.js';
import { IPPROTO_ESP, IPPROTO_ICMP, IPPROTO_UDP } from '../wire/ipproto.js';
import { OpenQueue } from '../xfrm/open-queue.js';
import { XfrmResult, XVerdict } from '../xfrm/result.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import type { DatapathClocks, DatapathEvents, DatapathStats } from './events.js';
import type { ConditionLog, FaultLog } from './fault-log.js';
import type { Port } from './port.js';
import type { DeviceWrites } from './writes.js';

export class ReceivePath {
  /** Where a tunnel's decapsulated packets are written (Datapath.attachTunnel/retarget/detach keep it). */
  readonly byTunnel = new Map<Tunnel, Port>();
  /** Where tunnel-mode ESP of an SA with this if_id is written (xfrm interfaces). */
  readonly byIfId = new Map<number, Port>();
  /** Where tunnel-mode ESP with if_id 0 is written; null when no policy TUN is attached. */
  policy: Port | null = null;
  /** Raw sockets' receive callback (Datapath.addRaw), bound once. */
  readonly onRaw = (b: PacketBatch, ifx: Int32Array, _src: Uint32Array): void => this.onReceive(b, ifx, null, null);
  /** The NAT-T socket's receive callback (Datapath.addNatT), bound once. */
  readonly onNatT = (b: PacketBatch, ifx: Int32Array, src: Uint32Array, meta: RecvMeta): void => this.onReceive(b, ifx, src, meta);
  /** Any conn's receive-fault callback, bound once. */
  readonly onConnFault = (what: string, err: Error | null): void => this.connFault(what, err);
  private readonly res = new PacketResult();
  private readonly xres = new XfrmResult();
  /** Whole-buffer views of the conns' receive slabs; `base` = a packet view's offset in it (no TypedArray#buffer per packet). */
  private readonly views = new ViewBases((buf) => new Uint8Array(buf));
  /** Index of the packet being handled (where a fault resumes). */
  private cursor = 0;
  /** The batch's phase-1 opens (packets past its size open one by one). */
  private readonly opens: OpenQueue;

  /** batchSize: the largest receive batch opened in one go. The others are the owning Datapath's, shared with the transmit half (transmit.ts). */
  constructor(
    batchSize: number,
    private readonly stack: TunnelStack,
    private readonly xfrm: XfrmStack | null,
    private readonly ev: DatapathEvents,
    private readonly clock: DatapathClocks,
    private readonly stats: DatapathStats,
    private readonly writes: DeviceWrites,
    private readonly faults: FaultLog,
    private readonly conds: ConditionLog,
  ) {
    this.opens = new OpenQueue(batchSize);
  }

  /** A conn's receive call failed (err) or works again (null): counted, logged once per socket and condition (the conn retries by itself). */
  private connFault(what: string, err: Error | null): void {
    if (err === null) {
      if (this.conds.active !== 0) this.conds.clear(`receive ${what}`);
      return;
    }
    this.stats.recvErrors++;
    this.conds.note(`receive ${what}`, 0, `recvmmsg failed, retried: ${err.message}`);
  }

  /** One receive batch; src/meta non-null for the NAT-T socket (UDP payloads). */
  private onReceive(b: PacketBatch, ifx: Int32Array, src: Uint32Array | null, meta: RecvMeta | null): void {
    const n = b.count;
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    if (this.xfrm !== null) this.prepareOpens(this.xfrm, b, src, meta, n);
    for (let i = 0; i < n;) {
      try {
        i = this.rcvRun(b, ifx, src, meta, i, n, now, wall);
      } catch (e) {
        this.faults.note('receive', e);
        this.xfrm?.fault(); // thrown inside xfrm input: XfrmInStateProtoError
        i = this.cursor + 1;
      }
    }
    if (this.xfrm !== null) this.xfrm.opened = null;
    this.opens.clear();
    try {
      this.writes.flush();
    } catch (e) {
      this.faults.note('write', e, 0); // a dead device: what it did not take is lost
      this.writes.reset();
    }
    if (this.xfrm !== null && this.xfrm.events.length > 0) this.ev.xfrmEvents();
  }

  private rcvRun(
    b: PacketBatch, ifx: Int32Array, src: Uint32Array | null, meta: RecvMeta | null, from: number, n: number, now: number, wall: number,
  ): number {
    for (let i = from; i < n; i++) {
      this.cursor = i;
      this.opens.cursor = i;
      const len = b.sizes[i]!;
      if (len < 0) continue; // truncated by the conn (counted in its stats); an empty UDP datagram is IKE's (xfrm4_udp_encap_rcv)
      const buf = b.bufs[i]!;
      const slab = this.views.of(buf);
      const off = this.views.base + packetStart(b, i);
      if (meta !== null) this.rcvNatT(slab, off, len, src![i]!, meta.srcPort[i]!, meta.dst[i]!, ifx[i]!, meta.tos[i]!, wall);
      else this.rcvRaw(slab, off, len, ifx[i]!, now, wall);
    }
    return n;
  }

  /** Phase 1 (xfrm/open-queue.ts): the batch's ESP packets that will reach open(), opened per SA; on a throw every packet opens in phase 2. */
  private prepareOpens(xfrm: XfrmStack, b: PacketBatch, src: Uint32Array | null, meta: RecvMeta | null, n: number): void {
    const q = this.opens;
    try {
      for (let i = 0; i < n && i < q.size; i++) {
        const len = b.sizes[i]!;
        if (len < 0) continue;
        const buf = b.bufs[i]!;
        const slab = this.views.of(buf);
        const off = this.views.base + packetStart(b, i);
        if (meta !== null) {
          xfrm.prepareInput(slab, off, len, true, src![i]!, meta.srcPort[i]!, meta.dst[i]!, meta.tos[i]!, q, i);
        } else if (len >= 20 && (slab[off + 9] === IPPROTO_ESP || slab[off + 9] === IPPROTO_UDP)) {
          xfrm.prepareInput(slab, off, len, false, 0, 0, 0, 0, q, i);
        }
      }
      q.openAll();
      xfrm.opened = q;
    } catch (e) {
      this.faults.note('receive', e, 0);
      q.clear();
    }
  }

  /** A whole IPv4 packet from a raw socket, by its protocol (the kernel's inet_protos demux). */
  private rcvRaw(slab: Uint8Array, off: number, len: number, ifindex: number, now: number, wall: number): void {
    const proto = len >= 20 ? slab[off + 9]! : 0; // shorter: the tunnel stack drops and counts it
    if (proto === IPPROTO_ICMP) {
      this.icmp(slab, off, len, ifindex, now, wall);
    } else if (proto === IPPROTO_ESP || proto === IPPROTO_UDP) {
      if (this.xfrm === null) return;
      const x = this.xres;
      const v = this.xfrm.input(slab, off, len, ifindex, wall, x);
      if (v === XVerdict.Deliver) this.deliverXfrm(slab, x, ifindex);
      else if (v === XVerdict.Ike) this.ev.ike(slab, x.off, x.len, 0, 0, 0);
    } else if (this.xfrm === null || this.xfrm.checkInClear(slab, off, len, ifindex)) {
      this.rcvTunnel(slab, off, len, ifindex);
    }
  }

  /** A UDP payload from the NAT-T socket (xfrm4_udp_encap_rcv on the socket's facts). */
  private rcvNatT(slab: Uint8Array, off: number, len: number, src: number, sport: number, dst: number, ifindex: number, tos: number, wall: number): void {
    if (this.xfrm === null) return;
    const x = this.xres;
    const v = this.xfrm.inputUdp(slab, off, len, src, sport, dst, ifindex, tos, wall, x);
    if (v === XVerdict.Deliver) this.deliverXfrm(slab, x, ifindex);
    else if (v === XVerdict.Ike) this.ev.ike(slab, x.off, x.len, src, sport, dst);
  }

  /** A packet an SA decrypted: transport mode → the tunnel receive path; tunnel mode → policy TUN or xfrmi. */
  private deliverXfrm(slab: Uint8Array, x: XfrmResult, ifindex: number): void {
    if (x.isTransport) {
      this.rcvTunnel(slab, x.off, x.len, ifindex);
      return;
    }
    const p = x.ifId === 0 ? this.policy : this.byIfId.get(x.ifId);
    if (p !== undefined && p !== null) this.writes.queue(p, slab, x.off, x.len);
  }

  /** ip_tunnel_rcv and friends; the inner packet is queued for the tunnel's device. */
  private rcvTunnel(slab: Uint8Array, off: number, len: number, ifindex: number): void {
    const r = this.res;
    if (this.stack.receive(slab, off, len, ifindex, r) !== Verdict.Deliver) return;
    const t = r.tunnel!;
    const p = this.byTunnel.get(t);
    if (p === undefined) {
      t.stats.rx_dropped++; // a fallback device with no TUN behind it
      return;
    }
    if (p.taps !== null) p.taps.one(p.taps.outer, slab, off, len);
    this.writes.queue(p, slab, r.off, r.len);
  }

  /** An underlay ICMP error: esp4_err first, else the tunnels' err handlers (tunnel/icmp-in.ts: PMTU, relays). */
  private icmp(slab: Uint8Array, off: number, len: number, link: number, now: number, wall: number): void {
    if (this.xfrm !== null) {
      const x = this.xfrm.espErr(slab, off, len, wall);
      if (x !== null) {
        this.ev.xfrmPmtu(x);
        return;
      }
    }
    const r = this.res;
    const out = handleUnderlayIcmp(this.stack, slab, off, len, link, now, r); // control path: allocates its result
    if (out.event === UnderlayIcmp.PmtuUpdated) this.ev.pmtu(formatIp4(out.remote), out.mtu, out.tunnels.map((t) => t.name));
    if (out.event === UnderlayIcmp.Relayed && r.icmpLen > 0 && r.icmpTunnel !== null) {
      const p = this.byTunnel.get(r.icmpTunnel);
      if (p !== undefined) this.writes.writeOne(p, r.icmp, r.icmpLen);
    }
  }
}
