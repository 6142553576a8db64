// PacketConn over a raw IPv4 socket for one IP protocol (raw(7)): 4 (IPIP),
// 41 (SIT), 47 (GRE), or 1 (ICMP, for the errors ipip_err/ipgre_err react to).
//
// Both directions carry whole IPv4 packets. Send: IP_HDRINCL, so the packet
// is ours except what raw(7) says the kernel always fills in (tot_len and the
// header checksum) or fills in when zero (ID, source address); the route is
// chosen by dst[i], not by the header's destination. Receive: every packet of
// the protocol that reaches this namespace (after reassembly), each with its
// receiving ifindex (IP_PKTINFO) and source address.
//
// Receive flow: uv_poll (level-triggered) → recvmmsg of at most batchSize
// datagrams (bounded drain, style.md §5) → callback. If more are queued the
// poll fires again on the next loop iteration, after other I/O and
// setImmediate callbacks had their turn, so no extra setImmediate is needed.
// A dead socket (recvmmsg error) throws out of the poll callback, which Node
// reports as an 'uncaughtException': it is a device failure, not a packet drop.

import { loadNative } from './native.js';
import type { NativeAddon, PollHandle } from './native.js';
import { allocBatch, checkOutgoing, IDEAL_BATCH_SIZE, MTU_MAX, oneSlab, packetStart } from './pool.js';
import type { PooledBatch } from './pool.js';
import { ClosedError, newIoStats, newRecvMeta } from './types.js';
import type { HasStats, IoStats, PacketBatch, PacketConn, ReceiveCallback, RecvMeta } from './types.js';

export interface RawOptions {
  /** Datagrams per send()/receive callback (default 128). */
  readonly batchSize?: number;
  /** Largest datagram received intact, bytes (default MTU_MAX = 65535); longer ones are counted as truncated. */
  readonly mtu?: number;
  /** A UDP socket (udp.ts): payloads only, ports in meta.srcPort and dstPort. */
  readonly isUdp?: boolean;
  /**
   * proto 1 only: the ICMP types (0..31) to receive; the kernel drops every
   * other type before it is queued (ICMP_FILTER, raw(7)). Default: all.
   */
  readonly icmpTypes?: readonly number[];
  /**
   * The batch to receive into (its slots must hold `mtu`; batchSize is then
   * its size): a data path places it beside its GRO staging slab, so the
   * copy of a received packet into it is a copyWithin. Default: its own.
   */
  readonly rx?: PooledBatch;
}

/** ICMP_FILTER's drop mask for a socket that receives only `types` (raw(7): bit t set = type t dropped). */
export function icmpDropMask(types: readonly number[]): number {
  let keep = 0;
  for (const t of types) {
    if (!Number.isInteger(t) || t < 0 || t > 31) throw new RangeError(`ICMP type must be 0..31, got ${t}`);
    keep |= 1 << t;
  }
  return ~keep;
}


/** Opens a raw IPv4 socket for `proto` (needs CAP_NET_RAW). */
export function openRaw(proto: number, opts: RawOptions = {}): RawConn {
  const n = loadNative();
  const fd = n.rawOpen(proto);
  try {
    if (opts.icmpTypes !== undefined) n.rawIcmpFilter(fd, icmpDropMask(opts.icmpTypes));
  } catch (e) {
    n.closeFd(fd);
    throw e;
  }
  return new RawConn(n, fd, proto, opts);
}

export class RawConn implements PacketConn, HasStats {
  readonly stats: IoStats = newIoStats();
  readonly batchSize: number;
  private readonly rx: PooledBatch;
  private readonly ifindex: Int32Array;
  private readonly src: Uint32Array;
  private readonly offsets: Int32Array;
  private readonly one = new Int32Array(1);
  private readonly oneSize = new Int32Array(1);
  private readonly oneDst = new Uint32Array(1);
  private readonly onePort = new Uint16Array(1);
  private readonly meta: RecvMeta;
  /** UDP sockets: the destination port of packet i of the next send() (set by the caller). */
  readonly dstPort: Uint16Array | undefined;
  private cb: ReceiveCallback | null = null;
  private handle: PollHandle | null = null;
  protected isClosed = false;
  /** Per-message errors of the latest sendEach. */
  private eachErrors = 0;
  private readonly onReadable = (): void => { this.receive(); };

  constructor(
    protected readonly n: NativeAddon,
    /** The socket (O_NONBLOCK), owned by this object until close(). */
    readonly fd: number,
    /** IP protocol number this socket sends and receives. */
    readonly proto: number,
    opts: RawOptions,
  ) {
    this.batchSize = opts.rx?.batchSize ?? opts.batchSize ?? IDEAL_BATCH_SIZE;
    this.rx = opts.rx ?? allocBatch({ batchSize: this.batchSize, mtu: opts.mtu ?? MTU_MAX });
    if (this.rx.stride - this.rx.offset < (opts.mtu ?? MTU_MAX)) throw new RangeError(`rx slots of ${this.rx.stride - this.rx.offset} bytes hold no ${opts.mtu ?? MTU_MAX}-byte datagram`);
    this.ifindex = new Int32Array(this.batchSize);
    this.src = new Uint32Array(this.batchSize);
    this.offsets = new Int32Array(this.batchSize);
    this.meta = newRecvMeta(this.batchSize);
    this.dstPort = opts.isUdp === true ? new Uint16Array(this.batchSize) : undefined;
  }

  send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError(`raw socket (proto ${this.proto})`);
    checkOutgoing(b, this.batchSize);
    if (dst.length < b.count) throw new RangeError(`dst holds ${dst.length} addresses for ${b.count} packets`);
    const slab = oneSlab(b, this.offsets);
    const sent = slab !== null
      ? this.n.sendBatch(this.fd, slab, this.offsets, b.sizes, dst, b.count, this.dstPort, ok)
      : this.sendEach(b, dst, ok);
    this.stats.txPackets += sent;
    const errors = slab !== null ? this.n.lastBatchErrors() : this.eachErrors;
    if (errors > 0) {
      this.stats.txErrors += errors;
      if (slab !== null) this.stats.lastError = this.n.lastSendError();
    }
    this.stats.txDropped += b.count - sent - errors;
    return sent;
  }

  onReceive(cb: ReceiveCallback): void {
    if (this.isClosed) throw new ClosedError(`raw socket (proto ${this.proto})`);
    this.cb = cb;
    if (this.handle === null) this.handle = this.n.pollStart(this.fd, this.onReadable);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cb = null;
    if (this.handle !== null) this.n.pollStop(this.handle);
    this.n.closeFd(this.fd);
  }

  private receive(): void {
    const cb = this.cb;
    if (cb === null || this.isClosed) return;
    const rx = this.rx;
    const m = this.meta;
    const n = this.n.recvBatch(this.fd, rx.slab, rx.offset, rx.stride, this.batchSize, rx.sizes, this.ifindex, this.src,
      m.srcPort, m.dst, m.tos);
    if (n === 0) return;
    let truncated = 0;
    for (let i = 0; i < n; i++) {
      if (rx.sizes[i]! < 0) { rx.sizes[i] = 0; truncated++; }
    }
    this.stats.rxPackets += n - truncated;
    this.stats.rxTruncated += truncated;
    rx.count = n;
    cb(rx, this.ifindex, this.src, m);
  }

  /** Slow path for batches that are not one slab; EAGAIN ends it like sendBatch does. */
  private sendEach(b: PacketBatch, dst: Uint32Array, ok: Uint8Array | undefined): number {
    let sent = 0;
    this.eachErrors = 0;
    if (ok !== undefined) ok.fill(0, 0, b.count);
    for (let i = 0; i < b.count; i++) {
      this.one[0] = packetStart(b, i);
      this.oneSize[0] = b.sizes[i]!;
      this.oneDst[0] = dst[i]!;
      if (this.dstPort !== undefined) this.onePort[0] = this.dstPort[i]!;
      const took = this.n.sendBatch(this.fd, b.bufs[i]!, this.one, this.oneSize, this.oneDst, 1,
        this.dstPort !== undefined ? this.onePort : undefined);
      const failed = this.n.lastBatchErrors();
      if (took === 0 && failed === 0) break; // EAGAIN: the rest is dropped
      if (ok !== undefined) ok[i] = took;
      sent += took;
      this.eachErrors += failed;
      if (failed > 0) this.stats.lastError = this.n.lastSendError();
    }
    return sent;
  }
}
