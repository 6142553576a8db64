// The send queue for ESP-in-UDP that leaves by the NAT-T UDP socket
// (io/udp.ts sendEncap) instead of the raw IPv4 socket: no CAP_NET_RAW
// needed. xfrm builds the whole outer packet as for the raw path (so
// captures and counters see the same bytes); add() reads back from its
// IPv4 and UDP headers what the kernel needs to rebuild them (source,
// destination and port, TOS, TTL, DF) and the socket sends the UDP
// payload. Which packets come here is the data path's choice
// (TransmitPath.queueEsp, transmit.ts: an SA whose encap sport is the socket's port).

import type { PacketConn } from '../io/types.js';
import { UdpTxMeta } from '../io/udp.js';
import type { UdpConn } from '../io/udp.js';
import { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_UDP } from '../wire/ipproto.js';
import { UdpPacket, UDP_HDR_LEN } from '../wire/udp.js';
import { SendQueue } from './port.js';

export class UdpSendQueue extends SendQueue {
  readonly meta: UdpTxMeta;
  private readonly ip = new Ip4Packet();
  private readonly udp = new UdpPacket();

  constructor(size: number) {
    super(size);
    this.meta = new UdpTxMeta(size);
  }

  /**
   * Queues the outer IPv4/UDP packet slab[off, off+len) for dst; false (nothing
   * queued) when it is not one (the caller sends it raw). innerLen as SendQueue.add.
   */
  addEncap(slab: Uint8Array, off: number, len: number, dst: number, innerLen: number, seal = -1): boolean {
    const ip = this.ip;
    if (!ip.wrap(slab, off, len) || ip.protocol !== IPPROTO_UDP) return false;
    const hl = ip.headerLen;
    if (!this.udp.wrap(slab, off + hl, len - hl)) return false;
    const i = this.batch.count;
    this.add(slab, off, len, dst, innerLen, seal);
    const m = this.meta;
    m.hdrLen[i] = hl + UDP_HDR_LEN;
    m.dst[i] = dst;
    m.dstPort[i] = this.udp.dstPort;
    m.src[i] = ip.src;
    m.tos[i] = ip.tos;
    m.ttl[i] = ip.ttl;
    m.df[i] = ip.df ? 1 : 0;
    return true;
  }

  protected override move(from: number, to: number): void {
    super.move(from, to);
    const m = this.meta;
    m.hdrLen[to] = m.hdrLen[from]!;
    m.dst[to] = m.dst[from]!;
    m.dstPort[to] = m.dstPort[from]!;
    m.src[to] = m.src[from]!;
    m.tos[to] = m.tos[from]!;
    m.ttl[to] = m.ttl[from]!;
    m.df[to] = m.df[from]!;
  }

  /** tx is the UdpConn the data path gave this queue (Datapath.setUdpTx). */
  protected override transmit(tx: PacketConn): number {
    return (tx as UdpConn).sendEncap(this.batch, this.meta, this.ok);
  }
}
