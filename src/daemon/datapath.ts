// The packet pumps between the host and the sans-I/O cores.
//
//   TUN/TAP readable → readBatch (≤ TUN_BATCH packets at HEADROOM in one slab)
//     → tunnelXmit per packet (outer header written into the headroom)
//     → one sendBatch (sendmmsg) of the outer packets on the raw socket
//   raw 4/41/47 readable → recvBatch (recvmmsg) → TunnelStack.receive
//     → write the inner packet into the matched tunnel's TUN/TAP
//   raw ICMP readable → handleUnderlayIcmp (PMTU, err_count, ICMPv6 relay)
// ICMP errors the cores build for an inner sender (r.icmpLen > 0) are
// written back into that tunnel's device. At most one batch per wakeup,
// then setImmediate (bounded drains, style.md §5). Nothing is allocated per
// packet: slabs, size/offset arrays and the PacketResult are reused.

import { IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { native } from '../io/native.js';
import type { PollHandle } from '../io/native.js';
import { handleUnderlayIcmp, UnderlayIcmp } from '../tunnel/icmp-in.js';
import { PacketResult, Verdict } from '../tunnel/result.js';
import { tunnelXmit } from '../tunnel/xmit.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { formatIp4 } from '../wire/addr.js';
import type { TunkitNode } from './node.js';
import type { LinuxDevice } from './linux-devices.js';
import { XfrmResult, XVerdict } from '../xfrm/result.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { espErr } from '../xfrm/esp-err.js';
import type { XfrmState } from '../xfrm/state.js';

export const HEADROOM = 128;
const TUN_BATCH = 32;
const RAW_BATCH = 32;
/** One slot: headroom + the largest IP datagram (raw sockets deliver reassembled packets). */
const STRIDE = HEADROOM + 65536;

interface Pump { readonly fd: number; readonly handle: PollHandle; readonly slab: Uint8Array; scheduled: boolean }

export interface DatapathEvents {
  pmtu(remote: string, mtu: number, devs: string[]): void;
  /** esp4_err lowered an SA's path MTU (FRAG_NEEDED quoting one of its packets). */
  xfrmPmtu?(x: XfrmState): void;
  error(where: string, e: unknown): void;
}

export class Datapath {
  private readonly res = new PacketResult();
  private readonly sizes = new Int32Array(Math.max(TUN_BATCH, RAW_BATCH));
  private readonly ifx = new Int32Array(RAW_BATCH);
  private readonly srcs = new Uint32Array(RAW_BATCH);
  private readonly sendOffs = new Int32Array(TUN_BATCH);
  private readonly sendSizes = new Int32Array(TUN_BATCH);
  private readonly sendDst = new Uint32Array(TUN_BATCH);
  private readonly one = new Int32Array(1);
  private readonly oneLen = new Int32Array(1);
  private readonly zero = new Int32Array(1);
  private readonly devPumps = new Map<string, Pump>();
  private readonly rawPumps: Pump[] = [];
  private sendFd = -1;
  private tunnelByFd = new Map<number, Tunnel>();
  private readonly xres = new XfrmResult();

  /**
   * `xfrm`: the namespace's IPsec, consulted for every tunnel outer packet
   * (the kernel routes them through xfrm_lookup, so GRE over ESP transport
   * mode works) and every clear-text packet received (xfrm4_policy_check).
   * `wallNow`: the xfrm clock (wall-clock ms).
   */
  constructor(
    private readonly node: TunkitNode, private readonly ev: DatapathEvents, private readonly now: () => number,
    private readonly xfrm: XfrmStack | null = null, private readonly wallNow: () => number = Date.now,
  ) {}

  /** Opens the raw sockets (protocols 4, 41, 47 and ICMP); the first one also sends. */
  start(): void {
    const n = native();
    for (const proto of [IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_ICMP]) {
      const fd = n.rawOpen(proto);
      if (this.sendFd < 0) this.sendFd = fd;
      const slab = new Uint8Array(RAW_BATCH * STRIDE);
      const pump: Pump = { fd, slab, scheduled: false, handle: n.pollStart(fd, () => this.drainRaw(pump, proto)) };
      this.rawPumps.push(pump);
    }
  }

  /** Starts pumping a tunnel device. */
  attach(t: Tunnel, dev: LinuxDevice): void {
    const slab = new Uint8Array(TUN_BATCH * STRIDE);
    const pump: Pump = { fd: dev.fd, slab, scheduled: false, handle: native().pollStart(dev.fd, () => this.drainTun(pump, t)) };
    this.devPumps.set(t.name, pump);
    this.tunnelByFd.set(dev.fd, t);
  }

  detach(name: string): void {
    const p = this.devPumps.get(name);
    if (p === undefined) return;
    native().pollStop(p.handle);
    this.devPumps.delete(name);
    this.tunnelByFd.delete(p.fd);
  }

  stop(): void {
    for (const name of [...this.devPumps.keys()]) this.detach(name);
    for (const p of this.rawPumps) {
      native().pollStop(p.handle);
      native().closeFd(p.fd);
    }
    this.rawPumps.length = 0;
  }

  /** One batch from a TUN/TAP: encapsulate and send with one sendmmsg. */
  private drainTun(p: Pump, t: Tunnel): void {
    p.scheduled = false;
    const n = native();
    let count: number;
    try {
      count = n.readBatch(p.fd, p.slab, HEADROOM, STRIDE, TUN_BATCH, this.sizes);
    } catch (e) {
      this.ev.error(`read ${t.name}`, e);
      return;
    }
    const now = this.now();
    const r = this.res;
    let out = 0;
    for (let i = 0; i < count; i++) {
      const v = tunnelXmit(t, p.slab, i * STRIDE + HEADROOM, this.sizes[i]!, now, r);
      if (r.icmpLen > 0) this.writeScratch(p.fd, r.icmp, r.icmpLen);
      if (v !== Verdict.Xmit) continue;
      if (this.xfrm !== null && !this.xfrmOut(t, p.slab, r)) continue;
      this.sendOffs[out] = r.off;
      this.sendSizes[out] = r.len;
      this.sendDst[out] = r.dst;
      out++;
    }
    if (out > 0) this.send(t, p.slab, out);
    if (count === TUN_BATCH) this.reschedule(p, () => this.drainTun(p, t));
  }

  /**
   * The outer packet r.off/r.len through the SPD (ip_route_output_flow →
   * xfrm_lookup_route): ESP replaces it in place (r.off/r.len/r.dst
   * updated), Bypass leaves it, a refusal is the route failure the kernel
   * counts as tx_carrier_errors — the packet was counted as sent by the
   * core, so that is undone.
   */
  private xfrmOut(t: Tunnel, slab: Uint8Array, r: PacketResult): boolean {
    const x = this.xres;
    const v = this.xfrm!.output(slab, r.off, r.len, 0, true, this.wallNow(), x);
    if (v === XVerdict.Xmit) {
      r.off = x.off;
      r.len = x.len;
      r.dst = x.dst;
      return true;
    }
    if (v === XVerdict.Bypass) return true;
    t.stats.tx_packets--;
    t.stats.tx_bytes -= r.len - 20 - t.hlen - t.hhLen;
    t.stats.tx_carrier_errors++;
    t.stats.tx_errors++;
    return false;
  }

  /** A packet a transport-mode SA decapsulated (or any outer tunnel packet): the tunnel receive path. */
  receiveOuter(b: Uint8Array, off: number, len: number, ifindex: number): void {
    const r = this.res;
    if (this.node.stack.receive(b, off, len, ifindex, r) === Verdict.Deliver) this.deliver(r.tunnel!, b, r.off, r.len);
  }

  private send(t: Tunnel, slab: Uint8Array, count: number): void {
    const sent = native().sendBatch(this.sendFd, slab, this.sendOffs, this.sendSizes, this.sendDst, count);
    // iptunnel_xmit: a packet ip_local_out refused counts tx_dropped (and is not a tx_packet).
    if (sent < count) {
      t.stats.tx_dropped += count - sent;
      t.stats.tx_packets -= count - sent;
    }
  }

  /** One batch from a raw socket: demultiplex and decapsulate (or handle an ICMP error). */
  private drainRaw(p: Pump, proto: number): void {
    p.scheduled = false;
    let count: number;
    try {
      count = native().recvBatch(p.fd, p.slab, 0, STRIDE, RAW_BATCH, this.sizes, this.ifx, this.srcs);
    } catch (e) {
      this.ev.error(`recv proto ${proto}`, e);
      return;
    }
    const r = this.res;
    for (let i = 0; i < count; i++) {
      if (proto === IPPROTO_ICMP) this.icmp(p.slab, i * STRIDE, this.sizes[i]!, this.ifx[i]!);
      else if (this.xfrm !== null && !this.xfrm.checkInClear(p.slab, i * STRIDE, this.sizes[i]!, this.ifx[i]!)) continue;
      else if (this.node.stack.receive(p.slab, i * STRIDE, this.sizes[i]!, this.ifx[i]!, r) === Verdict.Deliver) {
        this.deliver(r.tunnel!, p.slab, r.off, r.len);
      }
    }
    if (count === RAW_BATCH) this.reschedule(p, () => this.drainRaw(p, proto));
  }

  private icmp(b: Uint8Array, off: number, len: number, link: number): void {
    const r = this.res;
    if (this.xfrm !== null) {
      const x = espErr(this.xfrm.sad, b, off, len);
      if (x !== null) {
        this.ev.xfrmPmtu?.(x);
        return;
      }
    }
    const out = handleUnderlayIcmp(this.node.stack, b, off, len, link, this.now(), r);
    if (out.event === UnderlayIcmp.PmtuUpdated) this.ev.pmtu(formatIp4(out.remote), out.mtu, out.tunnels.map((t) => t.name));
    if (out.event === UnderlayIcmp.Relayed && r.icmpLen > 0 && r.icmpTunnel !== null) {
      const pump = this.devPumps.get(r.icmpTunnel.name);
      if (pump !== undefined) this.writeScratch(pump.fd, r.icmp, r.icmpLen);
    }
  }

  private deliver(t: Tunnel, b: Uint8Array, off: number, len: number): void {
    const pump = this.devPumps.get(t.name);
    if (pump === undefined) {
      t.stats.rx_dropped++; // a fallback device with no TUN behind it
      return;
    }
    this.one[0] = off;
    this.oneLen[0] = len;
    if (native().writeBatch(pump.fd, b, this.one, this.oneLen, 1) < 1) t.stats.rx_dropped++;
  }

  private writeScratch(fd: number, b: Uint8Array, len: number): void {
    this.oneLen[0] = len;
    native().writeBatch(fd, b, this.zero, this.oneLen, 1);
  }

  private reschedule(p: Pump, fn: () => void): void {
    if (p.scheduled) return;
    p.scheduled = true;
    setImmediate(fn);
  }
}
