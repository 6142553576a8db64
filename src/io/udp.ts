// PacketConn over an ordinary UDP socket (udp(7)): the NAT-T port 4500 for
// ESP-in-UDP (RFC 3948) and, later, IKE. Unlike a raw IPPROTO_UDP socket it
// sees only datagrams addressed to its port, and the kernel has already
// checked their UDP checksum. Each received datagram is its UDP payload at
// b.offset, with the sender's address (src) and port (meta.srcPort), the
// local address it was sent to and the receiving ifindex (IP_PKTINFO), and
// the IPv4 TOS byte (IP_RECVTOS, for ECN decapsulation). send() takes the
// destination ports from conn.dstPort. Same batching, bounds and error rules
// as raw.ts.
//
// sendEncap() sends ESP-in-UDP packets xfrm built whole (outer IPv4 + UDP +
// ESP) as the UDP payloads of this socket, so no raw socket (CAP_NET_RAW) is
// needed; the kernel rebuilds the headers from per-message control data
// (native/tk_udp_send.h). What a UDP socket cannot reproduce of the header
// xfrm wrote (xfrm4_tunnel_encap_add / xfrm4_transport_output):
//   - IP options of a transport-mode packet are not sent (no IP_OPTIONS per message);
//   - the IP ID is the socket's (ip_select_ident), not the xfrm core's;
//   - DF is per run of packets (IP_MTU_DISCOVER), and DF clear means the
//     kernel fragments locally above the path MTU (ip_fragment), as it
//     does for its own xfrm output; the raw path refuses those (EMSGSIZE).
// TOS (with ECN), TTL, the source address and checksum 0 (esp_output_udp_encap)
// are kept.

import { loadNative } from './native.js';
import type { NativeAddon } from './native.js';
import { checkOutgoing, IDEAL_BATCH_SIZE, oneSlab, packetStart } from './pool.js';
import { RawConn } from './raw.js';
import type { RawOptions } from './raw.js';
import { ClosedError } from './types.js';
import type { PacketBatch } from './types.js';

/** IPPROTO_UDP: what RawConn.proto reports for a UDP conn. */
const IPPROTO_UDP = 17;

/** Per packet of a sendEncap batch: what the kernel needs to rebuild the outer headers. */
export class UdpTxMeta {
  /** Bytes before the UDP payload: IPv4 header + 8 (UDP header). */
  readonly hdrLen: Uint8Array;
  readonly dst: Uint32Array;
  readonly dstPort: Uint16Array;
  /** Source address (host order); 0 lets the route pick. */
  readonly src: Uint32Array;
  /** The TOS byte, ECN included. */
  readonly tos: Uint8Array;
  /** 0: the route's hop limit. */
  readonly ttl: Uint8Array;
  /** 1: DF set. */
  readonly df: Uint8Array;

  constructor(size: number) {
    this.hdrLen = new Uint8Array(size);
    this.dst = new Uint32Array(size);
    this.dstPort = new Uint16Array(size);
    this.src = new Uint32Array(size);
    this.tos = new Uint8Array(size);
    this.ttl = new Uint8Array(size);
    this.df = new Uint8Array(size);
  }
}

/** Opens a UDP socket bound to addr:port (host-order u32, 0 = any); port < 1024 needs CAP_NET_BIND_SERVICE. */
export function openUdp(addr: number, port: number, opts: Omit<RawOptions, 'isUdp'> = {}): UdpConn {
  const n = loadNative();
  const fd = n.udpOpen(addr, port);
  return new UdpConn(n, fd, port, opts);
}

export class UdpConn extends RawConn {
  /** IP_MTU_DISCOVER, SO_NO_CHECK as sendEncap left them, and the default (native/tk_udp_send.h). */
  private readonly sockState = new Int32Array([-1, -1, -1]);
  private readonly encOffs: Int32Array;
  private readonly encSizes: Int32Array;
  private readonly oneMeta: UdpTxMeta = new UdpTxMeta(1);

  constructor(n: NativeAddon, fd: number, readonly port: number, opts: Omit<RawOptions, 'isUdp'>) {
    super(n, fd, IPPROTO_UDP, { ...opts, isUdp: true });
    this.encOffs = new Int32Array(opts.rx?.batchSize ?? opts.batchSize ?? IDEAL_BATCH_SIZE);
    this.encSizes = new Int32Array(this.encOffs.length);
  }

  /** As RawConn.send (IKE messages): with the checksum and PMTU discovery sendEncap may have changed put back. */
  override send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number {
    if (this.sockState[0] !== -1 || this.sockState[1] !== -1) this.n.udpSendDefaults(this.fd, this.sockState);
    return super.send(b, dst, ok);
  }

  /**
   * Sends b's whole outer IPv4/UDP packets as UDP payloads of this socket
   * (see the file comment); m[i] describes packet i. Returns how many went
   * out; ok[i] = 1 for those. Counts as send() does.
   */
  sendEncap(b: PacketBatch, m: UdpTxMeta, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError('UDP socket');
    checkOutgoing(b, this.batchSize);
    const offs = this.encOffs;
    const sizes = this.encSizes;
    const slab = oneSlab(b, offs);
    let sent: number;
    let errors: number;
    if (slab !== null) {
      for (let i = 0; i < b.count; i++) {
        offs[i] = offs[i]! + m.hdrLen[i]!;
        sizes[i] = b.sizes[i]! - m.hdrLen[i]!;
      }
      sent = this.n.sendUdpBatch(this.fd, slab, offs, sizes, m.dst, m.dstPort, m.src, m.tos, m.ttl, m.df, b.count, this.sockState, ok);
      errors = this.n.lastBatchErrors();
      if (errors > 0) this.stats.lastError = this.n.lastSendError();
    } else {
      [sent, errors] = this.sendEncapEach(b, m, ok);
    }
    this.stats.txPackets += sent;
    this.stats.txErrors += errors;
    this.stats.txDropped += b.count - sent - errors;
    return sent;
  }

  /** Slow path for batches that are not one slab; EAGAIN ends it. Returns [sent, errors]. */
  private sendEncapEach(b: PacketBatch, m: UdpTxMeta, ok: Uint8Array | undefined): [number, number] {
    let sent = 0;
    let errors = 0;
    const o = this.oneMeta;
    if (ok !== undefined) ok.fill(0, 0, b.count);
    for (let i = 0; i < b.count; i++) {
      this.encOffs[0] = packetStart(b, i) + m.hdrLen[i]!;
      this.encSizes[0] = b.sizes[i]! - m.hdrLen[i]!;
      o.dst[0] = m.dst[i]!;
      o.dstPort[0] = m.dstPort[i]!;
      o.src[0] = m.src[i]!;
      o.tos[0] = m.tos[i]!;
      o.ttl[0] = m.ttl[i]!;
      o.df[0] = m.df[i]!;
      const took = this.n.sendUdpBatch(this.fd, b.bufs[i]!, this.encOffs, this.encSizes, o.dst, o.dstPort, o.src, o.tos, o.ttl, o.df, 1, this.sockState);
      const failed = this.n.lastBatchErrors();
      if (took === 0 && failed === 0) break; // EAGAIN: the rest is dropped
      if (ok !== undefined) ok[i] = took;
      sent += took;
      errors += failed;
      if (failed > 0) this.stats.lastError = this.n.lastSendError();
    }
    return [sent, errors];
  }
}
