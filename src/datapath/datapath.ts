// tunkit's one packet loop, between the host (through src/io/ only) and the
// sans-I/O cores. Both directions, one batch per wakeup:
//
//   out: Port read batch (a tunnel TUN/TAP, the policy TUN, an xfrm interface;
//        ≤ batchSize packets at HEADROOM, in slots of the MTU geometry; an
//        offload TUN: 64 KiB slots, super-packets split first, offload.ts),
//        in the read arena every port shares (arena.ts ReadArena: a read is
//        handled and flushed before the device's readiness callback returns)
//     → tunnel / xfrm output → one send batch per conn → txDone per packet
//       (transmit.ts TransmitPath)
//   in:  conn receive batch (raw IPv4 by protocol, or NAT-T UDP payloads)
//     → xfrm input / tunnel receive / underlay ICMP → per-device write
//       queues, one write call per device (receive.ts ReceivePath, writes.ts)
// This file owns the public face: the ports (attach, detach, the read loop
// and its retries), the conns, the watchdog and capture; each half owns its
// queues and scratch results. A read batch costs one direct call into the
// transmit half; conns call the receive half's bound callbacks directly.
// Nothing is allocated per packet. An exception while handling one packet
// drops that packet (counted in `faults`, in the device's tx_dropped on the
// way out, and in XfrmOut/InStateProtoError when the xfrm core threw), is
// logged at most every 10 s, and the batch continues with the next packet:
// one try per batch (resumed at the half's `cursor` + 1), none per packet.

import type { PacketConn, TunDevice } from '../io/types.js';
import { MTU_MAX } from '../io/pool.js';
import type { PooledBatch } from '../io/pool.js';
import type { UdpConn } from '../io/udp.js';
import type { TunnelStack } from '../tunnel/stack.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import type { XfrmiStats } from '../xfrm/xfrmi.js';
import { VIRTIO_NET_HDR_LEN } from '../wire/virtio-net.js';
import { ReadArena, RxArena } from './arena.js';
import { addTap } from './capture.js';
import type { CaptureSide, CaptureSink, CaptureTap } from './capture.js';
import { DatapathStats } from './events.js';
import type { DatapathClocks, DatapathEvents } from './events.js';
import { ConditionLog, FaultLog } from './fault-log.js';
import { ETH_HLEN, SlotGeometry } from './geometry.js';
import { PortOffload } from './offload.js';
import { allArmed, Port, PortKind } from './port.js';
import { ReceivePath } from './receive.js';
import { SEND_CLEAR_HOLD_MS, TransmitPath } from './transmit.js';
import { LoopWatchdog } from './watchdog.js';
import { DeviceWrites } from './writes.js';

/** Packets per read, receive, send and write batch. */
export const DATAPATH_BATCH = 64;
/** A device read that failed is retried after this many ms (the device may come back). */
const READ_RETRY_MS = 1000;

export { DatapathStats, SEND_CLEAR_HOLD_MS };
export type { DatapathClocks, DatapathEvents };

export class Datapath {
  readonly stats = new DatapathStats();
  readonly geometry = new SlotGeometry();
  /** Receive slabs for the conns (connRx) and the offload ports' shared GRO staging, in one buffer. */
  private readonly arena = new RxArena(DATAPATH_BATCH);
  /**
   * The read slabs of every port whose device has readInto (arena.ts
   * ReadArena), replaced by a larger one when the stride grows (readArena()).
   */
  private reads = new ReadArena(this.geometry.stride, DATAPATH_BATCH, true);
  /** Offload ports' writeOne scratch (a vnet header + an ICMP error), shared: each write is done before it returns. */
  private readonly oneBuf = new Uint8Array(VIRTIO_NET_HDR_LEN + MTU_MAX);
  private readonly ports = new Map<string, Port>();
  private readonly conns: PacketConn[] = [];
  private readonly faults: FaultLog;
  private readonly conds: ConditionLog;
  /** The out half: read batches → cores → send batches. */
  private readonly xmit: TransmitPath;
  /** The in half: receive batches → cores → device writes; owns the demux tables. */
  private readonly rcv: ReceivePath;
  private watchdog: LoopWatchdog | null = null;
  private readonly onReadBound = (p: Port, n: number): void => this.onRead(p, n);
  private readonly onReadErrorBound = (p: Port, e: unknown): void => this.onReadError(p, e);

  /**
   * `xfrm`: the namespace's IPsec, consulted for every tunnel outer packet
   * (the kernel routes them through xfrm_lookup, so GRE over ESP transport
   * mode works) and every clear-text packet received (xfrm4_policy_check);
   * null runs the tunnels alone.
   */
  constructor(
    stack: TunnelStack, xfrm: XfrmStack | null,
    private readonly ev: DatapathEvents, private readonly clock: DatapathClocks,
  ) {
    this.faults = new FaultLog(this.stats, clock, (m) => ev.log(m));
    this.conds = new ConditionLog((m, isRecovery) => ev.log(m, isRecovery), () => clock.now());
    // The device writes serve both halves: the in half's queues, the out half's ICMP errors.
    const writes = new DeviceWrites();
    this.xmit = new TransmitPath(DATAPATH_BATCH, xfrm, ev, clock, this.stats, this.geometry, writes, this.faults, this.conds);
    this.rcv = new ReceivePath(DATAPATH_BATCH, stack, xfrm, ev, clock, this.stats, writes, this.faults, this.conds);
  }

  /**
   * A receive batch for a conn this data path will read (RawOptions.rx), in
   * the buffer of the GRO staging slab, so received packets reach staging by
   * copyWithin; undefined once the arena's are handed out (the conn then
   * allocates its own, and its packets are copied through a view).
   */
  connRx(): PooledBatch | undefined { return this.arena.connRx(); }

  /** The conn outer packets leave by (raw IPv4 with the header included), except udpTx's. */
  setTx(conn: PacketConn): void { this.xmit.tx = conn; }

  /**
   * The NAT-T socket (also added with addNatT): ESP-in-UDP of an SA whose encap
   * sport is its port leaves by it, as UDP payloads (udp-send.ts).
   */
  setUdpTx(conn: UdpConn): void { this.xmit.udpTx = conn; }

  /** Receives whole IPv4 packets on conn (a raw socket), demultiplexed by IP protocol. */
  addRaw(conn: PacketConn): void {
    this.conns.push(conn);
    conn.onReceive(this.rcv.onRaw);
    conn.onReceiveFault?.(this.rcv.onConnFault);
  }

  /** Receives UDP payloads on conn (the NAT-T socket, port 4500: RFC 3948). */
  addNatT(conn: PacketConn): void {
    this.conns.push(conn);
    conn.onReceive(this.rcv.onNatT);
    conn.onReceiveFault?.(this.rcv.onConnFault);
  }

  attachTunnel(t: Tunnel, dev: TunDevice): void {
    const p = this.attach(t.name, PortKind.Tunnel, dev, t, 0, null, t.hhLen > 0 ? ETH_HLEN : 0);
    this.rcv.byTunnel.set(t, p);
  }

  attachPolicy(name: string, dev: TunDevice): void {
    this.rcv.policy = this.attach(name, PortKind.Policy, dev, null, 0, null, 0);
  }

  attachXfrmi(name: string, ifId: number, stats: XfrmiStats, dev: TunDevice): void {
    this.rcv.byIfId.set(ifId, this.attach(name, PortKind.Xfrmi, dev, null, ifId, stats, 0));
  }

  /** Stops reading a device (its owner closes it). */
  detach(name: string): void {
    const p = this.ports.get(name);
    if (p === undefined) return;
    p.isOpen = false;
    this.ports.delete(name);
    if (p.taps !== null) for (const tap of [...p.taps.inner, ...p.taps.outer]) tap.end();
    p.taps = null;
    if (p.tunnel !== null) this.rcv.byTunnel.delete(p.tunnel);
    if (p.kind === PortKind.Xfrmi) this.rcv.byIfId.delete(p.ifId);
    if (p === this.rcv.policy) this.rcv.policy = null;
  }

  /** `tunnel change` replaced the tunnel behind a device (same name, same TUN): its port now serves `t`. */
  retarget(t: Tunnel): void {
    const p = this.ports.get(t.name);
    if (p === undefined || p.tunnel === null) return;
    this.rcv.byTunnel.delete(p.tunnel);
    p.tunnel = t;
    this.rcv.byTunnel.set(t, p);
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
    return p === undefined ? null : addTap(p, side, sink, () => this.clock.wallNow()); // bound: DatapathClocks may be a class with methods
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
    const x = this.xmit;
    if (x.tx !== null && !this.conns.includes(x.tx)) x.tx.close();
    if (x.udpTx !== null && !this.conns.includes(x.udpTx)) x.udpTx.close();
    this.conns.length = 0;
    x.tx = null;
    x.udpTx = null;
  }

  private attach(
    name: string, kind: PortKind, dev: TunDevice, t: Tunnel | null, ifId: number, xs: XfrmiStats | null, l2Len: number,
  ): Port {
    this.detach(name);
    this.geometry.fit(dev.mtu + l2Len);
    // A device whose reads settle later (read()'s Promise) may not share the read arena (arena.ts): its own.
    const own = dev.readInto === undefined ? new ReadArena(this.geometry.stride, DATAPATH_BATCH, dev.vnetHdr === true) : null;
    const a = own ?? this.readArena();
    const p = new Port(name, kind, dev, t, ifId, xs, l2Len, a.batch, this.onReadBound, this.onReadErrorBound);
    p.arena = own;
    if (this.conds.active !== 0) this.conds.clear(`read ${name}`); // a device opened again (deviceGone)
    // ESP's ICV already covers what an xfrm device delivers: GRO need not verify TCP checksums (gro.ts).
    if (dev.vnetHdr === true) p.offload = new PortOffload(dev, p.writes.batch.batchSize, a, kind === PortKind.Tunnel, this.arena.stage, this.oneBuf);
    this.ports.set(name, p);
    this.read(p);
    return p;
  }

  /** The shared read arena, first replaced by one of the current stride if the geometry grew. */
  private readArena(): ReadArena {
    if (this.reads.stride !== this.geometry.stride) this.reads = new ReadArena(this.geometry.stride, DATAPATH_BATCH, true);
    return this.reads;
  }

  /** The arena p reads into: its own (a device without readInto), regrown with the geometry, or the shared one. */
  private arenaOf(p: Port): ReadArena {
    let own = p.arena;
    if (own === null) return this.readArena();
    if (own.stride !== this.geometry.stride) {
      own = new ReadArena(this.geometry.stride, DATAPATH_BATCH, p.offload !== null);
      p.arena = own;
    }
    return own;
  }

  /** Starts the next read of p's device (into its arena's slots); the loop then continues in onRead. */
  private read(p: Port): void {
    if (!p.isOpen) return;
    const a = this.arenaOf(p);
    p.batch = a.batch;
    p.offload?.use(a);
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

  /** One read batch of p. Never throws: a rejection here would be unhandled. */
  private onRead(p: Port, n: number): void {
    p.isArmed = false;
    if (n === 0 || !p.isOpen) return; // closed: the loop ends
    if (p.hasReadFault) {
      p.hasReadFault = false;
      this.conds.clear(`read ${p.name}`);
    }
    const o = p.offload;
    if (o !== null && o.segs.stride !== this.geometry.stride) o.useSegs(this.arenaOf(p)); // MTU raised while the read was pending
    try {
      this.xmit.xmitBatch(p, n);
    } catch (e) {
      this.faults.note(p.name, e, 0);
    }
    this.read(p);
  }

  /** A device read failed: logged once until a read succeeds, retried every READ_RETRY_MS; a deleted device (tunnel, policy TUN, xfrm interface) is counted and reported (deviceGone). */
  private onReadError(p: Port, e: unknown): void {
    if (!p.isOpen) return;
    if (!p.hasReadFault) {
      p.hasReadFault = true;
      this.conds.note(`read ${p.name}`, 0, e instanceof Error ? e.message : String(e));
      const code = (e as { code?: unknown }).code;
      if (code === 'EBADFD' || code === 'ENODEV') {
        this.stats.devicesGone++;
        this.ev.deviceGone?.(p.name);
      }
    }
    p.isArmed = true;
    setTimeout(() => this.read(p), READ_RETRY_MS).unref();
  }
}
