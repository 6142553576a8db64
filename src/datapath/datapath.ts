// tunkit's one packet loop, between the host (through src/io/ only) and the
// sans-I/O cores. Both directions, one batch per wakeup:
//
//   out: Port read batch (a tunnel TUN/TAP, the policy TUN, an xfrm interface;
//        ≤ batchSize packets at HEADROOM, in slots of the MTU geometry; an
//        offload TUN: 64 KiB slots, super-packets split first, offload.ts)
//     → tunnel: tunnelXmit (outer header into the headroom)
//               → XfrmStack.output of the outer packet (GRE over ESP, or Bypass)
//       policy TUN / xfrmi: XfrmStack.output(if_id) (ESP in place, trailer up to the slot end)
//     → one send batch on the tx conn (raw IPv4, IP_HDRINCL), and one on the
//       NAT-T UDP socket for ESP-in-UDP from its port (udp-send.ts: no
//       CAP_NET_RAW needed; either conn may be absent, its packets dropped)
//     → txDone / xfrmiTxDone per packet, once the send result is known
//   in:  conn receive batch
//        raw IPv4 (4, 41, 47, 50, 1; UDP in memory tests) demultiplexed by protocol,
//        or UDP payloads from the NAT-T socket (inputUdp)
//     → ESP: XfrmStack.input → tunnel mode: the policy TUN or xfrmi by if_id;
//                              transport mode: the tunnel receive below
//       4/41/47: xfrm policy check (clear text) → TunnelStack.receive
//       ICMP: esp4_err, else the tunnels' err handlers (PMTU, relays)
//     → per-device write queues, one write batch call per device (GRO-coalesced
//       for an offload TUN, offload.ts)
// ICMP errors the cores build for an inner sender are written at once (rare).
// Nothing is allocated per packet. An exception while handling one packet
// drops that packet (counted in `faults`, in the device's tx_dropped on the
// way out, and in XfrmOut/InStateProtoError when the xfrm core threw), is
// logged at most every 10 s, and the batch continues with the next packet:
// one try per batch (resumed at `cursor` + 1), none per packet.

import { formatIp4 } from '../wire/addr.js';
import { IPPROTO_ESP, IPPROTO_ICMP, IPPROTO_UDP } from '../wire/ipproto.js';
import type { PacketBatch, PacketConn, RecvMeta, TunDevice } from '../io/types.js';
import { handleUnderlayIcmp, UnderlayIcmp } from '../tunnel/icmp-in.js';
import { PacketResult, TxOutcome, Verdict } from '../tunnel/result.js';
import type { TunnelStack } from '../tunnel/stack.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { tunnelXmit, txDone } from '../tunnel/xmit.js';
import { XfrmResult, XVerdict } from '../xfrm/result.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { xfrmiTxRefused } from '../xfrm/xfrmi.js';
import type { XfrmiStats } from '../xfrm/xfrmi.js';
import { Drop } from '../wire/drop.js';
import type { PooledBatch } from '../io/pool.js';
import { RxArena } from './arena.js';
import { ETH_HLEN, SlotGeometry } from './geometry.js';
import { addTap } from './capture.js';
import type { CaptureSide, CaptureSink, CaptureTap } from './capture.js';
import { ConditionLog, FaultLog } from './fault-log.js';
import { countsGsoOnce, PortOffload } from './offload.js';
import { allArmed, Port, PortKind, SendQueue, SlabViews } from './port.js';
import { UdpSendQueue } from './udp-send.js';
import { LoopWatchdog } from './watchdog.js';
import type { UdpConn } from '../io/udp.js';
import { DeviceWrites } from './writes.js';

/** Packets per read, receive, send and write batch. */
export const DATAPATH_BATCH = 32;
/** A device read that failed is retried after this many ms (the device may come back). */
const READ_RETRY_MS = 1000;

import { DatapathStats } from './events.js';
import type { DatapathClocks, DatapathEvents } from './events.js';

export { DatapathStats };
export type { DatapathClocks, DatapathEvents };

export class Datapath {
  readonly stats = new DatapathStats();
  readonly geometry = new SlotGeometry();
  /** Receive slabs for the conns (connRx) and the offload ports' shared GRO staging, in one buffer. */
  private readonly arena = new RxArena(DATAPATH_BATCH);
  private readonly res = new PacketResult();
  private readonly xres = new XfrmResult();
  private readonly sendQ = new SendQueue(DATAPATH_BATCH);
  /** ESP-in-UDP leaving by udpTx. */
  private readonly udpQ = new UdpSendQueue(DATAPATH_BATCH);
  private readonly ports = new Map<string, Port>();
  private readonly byTunnel = new Map<Tunnel, Port>();
  private readonly byIfId = new Map<number, Port>();
  private policy: Port | null = null;
  private readonly conns: PacketConn[] = [];
  private tx: PacketConn | null = null;
  private udpTx: UdpConn | null = null;
  private readonly writes = new DeviceWrites();
  private readonly views = new SlabViews();
  /** Index of the packet being handled (where a fault resumes). */
  private cursor = 0;
  /**
   * While a super-packet's segments go out on a tunnel whose kernel device
   * keeps it whole (offload.ts countsGsoOnce): its length for the first
   * segment's counters, then 0 (counted with the first); -1 otherwise.
   */
  private gsoLen = -1;
  private readonly faults: FaultLog;
  private readonly conds: ConditionLog;
  private watchdog: LoopWatchdog | null = null;
  private readonly onReadBound = (p: Port, n: number): void => this.onRead(p, n);
  private readonly onReadErrorBound = (p: Port, e: unknown): void => this.onReadError(p, e);
  private readonly onRawBound = (b: PacketBatch, ifx: Int32Array, _src: Uint32Array): void => this.onReceive(b, ifx, null, null);
  private readonly onNatTBound = (b: PacketBatch, ifx: Int32Array, src: Uint32Array, meta: RecvMeta): void => this.onReceive(b, ifx, src, meta);

  /**
   * `xfrm`: the namespace's IPsec, consulted for every tunnel outer packet
   * (the kernel routes them through xfrm_lookup, so GRE over ESP transport
   * mode works) and every clear-text packet received (xfrm4_policy_check);
   * null runs the tunnels alone.
   */
  constructor(
    private readonly stack: TunnelStack, private readonly xfrm: XfrmStack | null,
    private readonly ev: DatapathEvents, private readonly clock: DatapathClocks,
  ) {
    this.faults = new FaultLog(this.stats, clock, (m) => ev.log(m));
    this.conds = new ConditionLog((m, isRecovery) => ev.log(m, isRecovery));
  }

  /**
   * A receive batch for a conn this data path will read (RawOptions.rx), in
   * the buffer of the GRO staging slab, so received packets reach staging by
   * copyWithin; undefined once the arena's are handed out (the conn then
   * allocates its own, and its packets are copied through a view).
   */
  connRx(): PooledBatch | undefined { return this.arena.connRx(); }

  /** The conn outer packets leave by (raw IPv4 with the header included), except udpTx's. */
  setTx(conn: PacketConn): void { this.tx = conn; }

  /**
   * The NAT-T socket (also added with addNatT): ESP-in-UDP of an SA whose encap
   * sport is its port leaves by it, as UDP payloads (udp-send.ts).
   */
  setUdpTx(conn: UdpConn): void { this.udpTx = conn; }

  /** Receives whole IPv4 packets on conn (a raw socket), demultiplexed by IP protocol. */
  addRaw(conn: PacketConn): void {
    this.conns.push(conn);
    conn.onReceive(this.onRawBound);
  }

  /** Receives UDP payloads on conn (the NAT-T socket, port 4500: RFC 3948). */
  addNatT(conn: PacketConn): void {
    this.conns.push(conn);
    conn.onReceive(this.onNatTBound);
  }

  attachTunnel(t: Tunnel, dev: TunDevice): void {
    const p = this.attach(t.name, PortKind.Tunnel, dev, t, 0, null, t.hhLen > 0 ? ETH_HLEN : 0);
    this.byTunnel.set(t, p);
  }

  attachPolicy(name: string, dev: TunDevice): void {
    this.policy = this.attach(name, PortKind.Policy, dev, null, 0, null, 0);
  }

  attachXfrmi(name: string, ifId: number, stats: XfrmiStats, dev: TunDevice): void {
    this.byIfId.set(ifId, this.attach(name, PortKind.Xfrmi, dev, null, ifId, stats, 0));
  }

  /** Stops reading a device (its owner closes it). */
  detach(name: string): void {
    const p = this.ports.get(name);
    if (p === undefined) return;
    p.isOpen = false;
    this.ports.delete(name);
    if (p.taps !== null) for (const tap of [...p.taps.inner, ...p.taps.outer]) tap.end();
    p.taps = null;
    if (p.tunnel !== null) this.byTunnel.delete(p.tunnel);
    if (p.kind === PortKind.Xfrmi) this.byIfId.delete(p.ifId);
    if (p === this.policy) this.policy = null;
  }

  /** `tunnel change` replaced the tunnel behind a device (same name, same TUN): its port now serves `t`. */
  retarget(t: Tunnel): void {
    const p = this.ports.get(t.name);
    if (p === undefined || p.tunnel === null) return;
    this.byTunnel.delete(p.tunnel);
    p.tunnel = t;
    this.byTunnel.set(t, p);
  }

  /** A device's MTU changed: grow the slots if its frames no longer fit. */
  mtuChanged(name: string, mtu: number): void {
    const p = this.ports.get(name);
    if (p !== undefined) this.geometry.fit(mtu + p.l2Len);
  }

  /**
   * Starts a capture of `side` of device `name` into `sink` (capture.ts);
   * null when no such device. The returned stop() removes the tap.
   */
  capture(name: string, side: CaptureSide, sink: CaptureSink): { tap: CaptureTap; stop: () => void } | null {
    const p = this.ports.get(name);
    return p === undefined ? null : addTap(p, side, sink, this.clock.wallNow);
  }

  /** Feeds systemd's watchdog from this loop (watchdog.ts) while every device is read; stop() ends it. */
  startWatchdog(intervalMs: number, ping: () => void): void {
    this.watchdog?.stop();
    this.watchdog = new LoopWatchdog(intervalMs, ping, () => allArmed(this.ports.values()));
    this.watchdog.start();
  }

  /** Detaches every device, closes the conns and stops the watchdog. */
  stop(): void {
    this.watchdog?.stop();
    this.watchdog = null;
    for (const name of [...this.ports.keys()]) this.detach(name);
    for (const c of this.conns) c.close();
    if (this.tx !== null && !this.conns.includes(this.tx)) this.tx.close();
    if (this.udpTx !== null && !this.conns.includes(this.udpTx)) this.udpTx.close();
    this.conns.length = 0;
    this.tx = null;
    this.udpTx = null;
  }

  private attach(
    name: string, kind: PortKind, dev: TunDevice, t: Tunnel | null, ifId: number, xs: XfrmiStats | null, l2Len: number,
  ): Port {
    this.detach(name);
    this.geometry.fit(dev.mtu + l2Len);
    const batch = this.geometry.alloc(Math.min(DATAPATH_BATCH, dev.batchSize));
    const p = new Port(name, kind, dev, t, ifId, xs, l2Len, batch, this.onReadBound, this.onReadErrorBound);
    if (this.conds.active !== 0) this.conds.clear(`read ${name}`); // a device opened again (deviceGone)
    // ESP's ICV already covers what an xfrm device delivers: GRO need not verify TCP checksums (gro.ts).
    if (dev.vnetHdr === true) p.offload = new PortOffload(dev, p.writes.batch.batchSize, this.geometry.stride, kind === PortKind.Tunnel, this.arena.stage);
    this.ports.set(name, p);
    this.read(p);
    return p;
  }

  /** Starts the next read of p's device; the loop then continues in onRead. */
  private read(p: Port): void {
    if (!p.isOpen) return;
    if (p.batch.stride !== this.geometry.stride) p.batch = this.geometry.alloc(p.batch.batchSize);
    p.isArmed = true;
    const b = p.offload !== null ? p.offload.reads : p.batch;
    try {
      // readInto: the device calls back from its readiness callback, no Promise per batch.
      if (p.dev.readInto !== undefined) p.dev.readInto(b, p.onReadDone);
      else p.dev.read(b).then(p.onRead, p.onReadError);
    } catch (e) {
      this.onReadError(p, e); // a programmer error (a read already pending): logged, retried later
    }
  }

  // ---- out: device → cores → one send batch ----

  /** One read batch of p. Never throws: a rejection here would be unhandled. */
  private onRead(p: Port, n: number): void {
    p.isArmed = false;
    if (n === 0 || !p.isOpen) return; // closed: the loop ends
    if (p.hasReadFault) {
      p.hasReadFault = false;
      this.conds.clear(`read ${p.name}`);
    }
    try {
      this.xmitBatch(p, n);
    } catch (e) {
      this.faults.note(p.name, e, 0);
    }
    this.read(p);
  }

  private xmitBatch(p: Port, n: number): void {
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
        let d = o.prepare(j, this.geometry.stride);
        if (d === Drop.GsoNoRoom && o.used > 0) { // segs full of queued segments: send them, then reuse
          this.flushSendSafe(p);
          o.used = 0;
          d = o.prepare(j, this.geometry.stride);
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
    this.afterBatch();
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
    const xv = this.xfrm.output(slab, r.off, r.len, 0, true, wall, x, end);
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
    if (this.xfrm !== null && this.xfrm.output(slab, off, len, p.ifId, false, wall, x, end) === XVerdict.Xmit) {
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
    if (e !== null && u !== null && e.sport === u.port && this.udpQ.addEncap(slab, x.off, x.len, x.dst, inner)) return;
    this.sendQ.add(slab, x.off, x.len, x.dst, inner);
  }

  /** The send calls; a refusal that lasts (ENOBUFS, EAGAIN, ENETUNREACH…) is logged once per device and errno until a batch goes out whole. */
  private flushSend(p: Port): void {
    if (p.taps !== null) {
      p.taps.gather(p.taps.outer, this.sendQ.batch);
      p.taps.gather(p.taps.outer, this.udpQ.batch);
    }
    const lost = this.sendQ.flush(this.tx, p);
    const why = this.sendQ.why;
    const lostUdp = this.udpQ.flush(this.udpTx, p);
    if (lost > 0) this.conds.note(`send ${p.name} ${why.split(' ')[0]!}`, lost, `sendmmsg refused ${lost} packets: ${why}`);
    if (lostUdp > 0) this.conds.note(`send ${p.name} ${this.udpQ.why.split(' ')[0]!}`, lostUdp, `sendmmsg (UDP ${this.udpTx?.port ?? ''}) refused ${lostUdp} packets: ${this.udpQ.why}`);
    if (lost === 0 && lostUdp === 0 && this.conds.active !== 0) this.conds.clear(`send ${p.name} `);
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

  /** A device read failed: logged once until a read succeeds, retried every READ_RETRY_MS; a deleted tunnel device is reported (deviceGone). */
  private onReadError(p: Port, e: unknown): void {
    if (!p.isOpen) return;
    if (!p.hasReadFault) {
      p.hasReadFault = true;
      this.conds.note(`read ${p.name}`, 0, e instanceof Error ? e.message : String(e));
      const code = (e as { code?: unknown }).code;
      if ((code === 'EBADFD' || code === 'ENODEV') && p.kind === PortKind.Tunnel) this.ev.deviceGone?.(p.name);
    }
    p.isArmed = true;
    setTimeout(() => this.read(p), READ_RETRY_MS).unref();
  }

  // ---- in: receive batch → cores → per-device write batches ----

  /** One receive batch; src/meta non-null for the NAT-T socket (UDP payloads). */
  private onReceive(b: PacketBatch, ifx: Int32Array, src: Uint32Array | null, meta: RecvMeta | null): void {
    const n = b.count;
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    for (let i = 0; i < n;) {
      try {
        i = this.rcvRun(b, ifx, src, meta, i, n, now, wall);
      } catch (e) {
        this.faults.note('receive', e);
        this.xfrm?.fault(); // thrown inside xfrm input: XfrmInStateProtoError
        i = this.cursor + 1;
      }
    }
    try {
      this.writes.flush();
    } catch (e) {
      this.faults.note('write', e, 0); // a dead device: what it did not take is lost
      this.writes.reset();
    }
    this.afterBatch();
  }

  private rcvRun(
    b: PacketBatch, ifx: Int32Array, src: Uint32Array | null, meta: RecvMeta | null, from: number, n: number, now: number, wall: number,
  ): number {
    for (let i = from; i < n; i++) {
      this.cursor = i;
      const len = b.sizes[i]!;
      if (len < 0) continue; // truncated by the conn (counted in its stats); an empty UDP datagram is IKE's (xfrm4_udp_encap_rcv)
      const buf = b.bufs[i]!;
      const slab = this.views.of(buf);
      const off = buf.byteOffset - slab.byteOffset + (b.starts !== undefined ? b.starts[i]! : b.offset);
      if (meta !== null) this.rcvNatT(slab, off, len, src![i]!, meta.srcPort[i]!, meta.dst[i]!, ifx[i]!, meta.tos[i]!, wall);
      else this.rcvRaw(slab, off, len, ifx[i]!, now, wall);
    }
    return n;
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

  private afterBatch(): void {
    if (this.xfrm !== null && this.xfrm.events.length > 0) this.ev.xfrmEvents();
  }
}
