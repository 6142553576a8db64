// In-memory TunDevice and PacketConn pairs for tests (wireguard-go's
// tun/tuntest and conn/bindtest): what one side writes, the other reads, with
// the same contracts as the Linux implementations (compliance-tested
// together in test/io/compliance.ts).
//
// Each side owns a bounded FIFO of preallocated slots (like a device's
// tx_queue_len): write/send copies into the peer's FIFO, and delivery happens
// on a later setImmediate, at most batchSize packets per turn (style.md §5),
// so tests observe the same asynchrony as with a real fd. Refusals mirror the
// kernel: a zero-length packet is EINVAL, one over the MTU (TUN) or over 65535
// bytes (conn) is EMSGSIZE, an address other than the peer's is
// ENETUNREACH; a full FIFO or a closed peer drops silently (txDropped).

import { allocBatch, checkOutgoing, IDEAL_BATCH_SIZE, MTU_MAX, packetStart } from './pool.js';
import type { PooledBatch } from './pool.js';
import { ClosedError, newIoStats, newRecvMeta } from './types.js';
import type { HasStats, IoStats, PacketBatch, PacketConn, ReadDone, ReceiveCallback, RecvMeta, TunDevice } from './types.js';

/** A bounded FIFO of packets in one slab; `tag` carries the sender address for conns. */
class MemQueue {
  private readonly slab: Uint8Array;
  private readonly sizes: Int32Array;
  private readonly tags: Uint32Array;
  private head = 0;
  length = 0;
  /** Tag of the packet the latest shift() returned. */
  lastTag = 0;

  constructor(private readonly capacity: number, private readonly slotLen: number) {
    this.slab = new Uint8Array(capacity * slotLen);
    this.sizes = new Int32Array(capacity);
    this.tags = new Uint32Array(capacity);
  }

  /** Copies src[off, off+len) in; false when full. len must be <= slotLen. */
  push(src: Uint8Array, off: number, len: number, tag: number): boolean {
    if (this.length === this.capacity) return false;
    const slot = (this.head + this.length) % this.capacity;
    this.slab.set(src.subarray(off, off + len), slot * this.slotLen);
    this.sizes[slot] = len;
    this.tags[slot] = tag;
    this.length++;
    return true;
  }

  /** Moves the oldest packet to dst[off…]; returns its size, or -size if it did not fit (dropped). */
  shift(dst: Uint8Array, off: number): number {
    const slot = this.head;
    const size = this.sizes[slot]!;
    this.lastTag = this.tags[slot]!;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    if (off + size > dst.length) return -size;
    const start = slot * this.slotLen;
    dst.set(this.slab.subarray(start, start + size), off);
    return size;
  }

  clear(): void { this.head = 0; this.length = 0; }
}

export interface MemTunOptions {
  readonly mtu?: number;
  readonly batchSize?: number;
  /** FIFO depth per side, packets (default 500, the kernel's tx_queue_len for tun). */
  readonly queueLen?: number;
  /** Frames carry a 14-byte Ethernet header beyond the MTU. */
  readonly tap?: boolean;
  /**
   * Both ends IFF_VNET_HDR with TSO/CSUM offload (types.ts TunDevice.vnetHdr):
   * the 10-byte header travels with each packet, read at offset - 10 and
   * written from start - 10; packets of up to 65535 bytes pass (super-packets).
   */
  readonly offload?: boolean;
}

/** virtio_net_hdr bytes before each packet of a vnetHdr device. */
const VNET = 10;

const RESOLVED: Promise<void> = Promise.resolve();
const ZERO: Promise<number> = Promise.resolve(0);

export class MemTun implements TunDevice, HasStats {
  readonly stats: IoStats = newIoStats();
  peer: MemTun | null = null;
  private readonly queue: MemQueue;
  private readonly maxFrame: number;
  private pending: PacketBatch | null = null;
  /** The pending read's callback (readInto's, or read()'s Promise settling). */
  private done: ReadDone | null = null;
  private isScheduled = false;
  private isClosed = false;
  private readonly onImmediate = (): void => { this.isScheduled = false; this.deliver(); };

  /** IFF_VNET_HDR with TSO: see MemTunOptions.offload. */
  readonly vnetHdr: boolean;
  readonly gso: boolean;

  constructor(readonly name: string, readonly mtu: number, readonly batchSize: number, queueLen: number, isTap: boolean, offload = false) {
    this.vnetHdr = offload;
    this.gso = offload;
    this.maxFrame = offload ? MTU_MAX : mtu + (isTap ? 14 : 0);
    this.queue = new MemQueue(queueLen, this.maxFrame + (offload ? VNET : 0));
  }

  read(b: PacketBatch): Promise<number> {
    if (this.isClosed) return ZERO;
    this.checkRead();
    return new Promise<number>((resolve) => { this.park(b, resolve); });
  }

  /** As TunLinux's: done(n, null) is called from the delivering setImmediate, synchronously after the batch is filled. */
  readInto(b: PacketBatch, done: ReadDone): void {
    if (this.isClosed) {
      done(0, null);
      return;
    }
    this.checkRead();
    this.park(b, done);
  }

  /** The one pending read (read() and readInto() both end here). */
  private park(b: PacketBatch, done: ReadDone): void {
    this.done = done;
    this.pending = b;
    if (this.queue.length > 0) this.schedule();
  }

  private checkRead(): void {
    if (this.pending !== null) throw new Error(`${this.name}: read() while another read is pending`);
  }

  /** Taken = copied into the peer's FIFO; a full FIFO or closed peer drops (txDropped, ok[i] = 0). */
  write(b: PacketBatch, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError(this.name);
    checkOutgoing(b, this.batchSize);
    const peer = this.peer;
    let taken = 0;
    for (let i = 0; i < b.count; i++) {
      const size = b.sizes[i]!;
      let took = 0;
      if (size <= 0 || size > this.maxFrame) {
        this.stats.txErrors++;
        this.stats.lastError = size <= 0 ? 'EINVAL' : 'EMSGSIZE';
      } else if (peer === null || !peer.accept(b.bufs[i]!, packetStart(b, i) - this.hdr, size + this.hdr)) {
        this.stats.txDropped++;
      } else {
        this.stats.txPackets++;
        took = 1;
      }
      if (ok !== undefined) ok[i] = took;
      taken += took;
    }
    return taken;
  }

  close(): Promise<void> {
    if (this.isClosed) return RESOLVED;
    this.isClosed = true;
    this.queue.clear();
    if (this.pending !== null) this.settle(0);
    return RESOLVED;
  }

  /** Bytes of vnet header before each packet. */
  private get hdr(): number { return this.vnetHdr ? VNET : 0; }

  /** Peer side of write(): false if closed or full. */
  private accept(src: Uint8Array, off: number, size: number): boolean {
    if (this.isClosed || size > this.maxFrame + this.hdr || !this.queue.push(src, off, size, 0)) return false;
    if (this.pending !== null) this.schedule();
    return true;
  }

  private schedule(): void {
    if (this.isScheduled) return;
    this.isScheduled = true;
    setImmediate(this.onImmediate);
  }

  private deliver(): void {
    const b = this.pending;
    if (b === null || this.isClosed || this.queue.length === 0) return;
    const n = Math.min(this.batchSize, b.bufs.length, this.queue.length);
    for (let i = 0; i < n; i++) {
      const size = this.queue.shift(b.bufs[i]!, b.offset - this.hdr) - this.hdr;
      if (size < 0) { b.sizes[i] = 0; this.stats.rxTruncated++; } else { b.sizes[i] = size; this.stats.rxPackets++; }
    }
    b.count = n;
    this.settle(n);
  }

  private settle(n: number): void {
    const done = this.done!;
    this.pending = null;
    this.done = null;
    done(n, null);
  }
}

/** Two connected in-memory TUN (or TAP) devices, mem0 ↔ mem1. */
export function memTunPair(opts: MemTunOptions = {}): [MemTun, MemTun] {
  const mtu = opts.mtu ?? 1500;
  const bs = opts.batchSize ?? IDEAL_BATCH_SIZE;
  const q = opts.queueLen ?? 500;
  const a = new MemTun('mem0', mtu, bs, q, opts.tap ?? false, opts.offload ?? false);
  const b = new MemTun('mem1', mtu, bs, q, opts.tap ?? false, opts.offload ?? false);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface MemConnOptions {
  readonly batchSize?: number;
  /** Host-order IPv4 addresses of the two ends (default 192.0.2.1, 192.0.2.2). */
  readonly addrA?: number;
  readonly addrB?: number;
  /** The ifindex each end reports for what it receives (default 2, 3). */
  readonly ifindexA?: number;
  readonly ifindexB?: number;
  /** FIFO depth per side, datagrams (default 256). */
  readonly queueLen?: number;
  /** Largest datagram, bytes (default 65535, the IPv4 maximum). */
  readonly maxDatagram?: number;
}


export class MemConn implements PacketConn, HasStats {
  readonly stats: IoStats = newIoStats();
  peer: MemConn | null = null;
  private readonly queue: MemQueue;
  private readonly rx: PooledBatch;
  private readonly ifindexes: Int32Array;
  private readonly srcs: Uint32Array;
  private readonly meta: RecvMeta;
  private cb: ReceiveCallback | null = null;
  private isScheduled = false;
  private isClosed = false;
  private readonly onImmediate = (): void => { this.isScheduled = false; this.deliver(); };

  constructor(readonly addr: number, readonly ifindex: number, readonly batchSize: number,
    queueLen: number, private readonly maxDatagram: number) {
    this.queue = new MemQueue(queueLen, maxDatagram);
    this.rx = allocBatch({ batchSize, mtu: Math.min(MTU_MAX, maxDatagram) });
    this.ifindexes = new Int32Array(batchSize).fill(ifindex);
    this.srcs = new Uint32Array(batchSize);
    this.meta = newRecvMeta(batchSize);
    this.meta.dst.fill(addr);
  }

  send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError('mem conn');
    checkOutgoing(b, this.batchSize);
    if (dst.length < b.count) throw new RangeError(`dst holds ${dst.length} addresses for ${b.count} packets`);
    let sent = 0;
    for (let i = 0; i < b.count; i++) {
      const size = b.sizes[i]!;
      const err = size <= 0 ? 'EINVAL' : size > this.maxDatagram ? 'EMSGSIZE'
        : this.peer === null || dst[i] !== this.peer.addr ? 'ENETUNREACH' : '';
      if (ok !== undefined) ok[i] = err === '' ? 1 : 0;
      if (err !== '') {
        this.stats.txErrors++;
        this.stats.lastError = err;
        continue;
      }
      sent++; // a closed or full peer loses it silently, as a network would
      this.peer!.accept(b.bufs[i]!, packetStart(b, i), size, this.addr);
    }
    this.stats.txPackets += sent;
    return sent;
  }

  onReceive(cb: ReceiveCallback): void {
    if (this.isClosed) throw new ClosedError('mem conn');
    this.cb = cb;
    if (this.queue.length > 0) this.schedule();
  }

  close(): void {
    this.isClosed = true;
    this.cb = null;
    this.queue.clear();
  }

  private accept(src: Uint8Array, off: number, size: number, from: number): void {
    if (this.isClosed || !this.queue.push(src, off, size, from)) return;
    if (this.cb !== null) this.schedule();
  }

  private schedule(): void {
    if (this.isScheduled) return;
    this.isScheduled = true;
    setImmediate(this.onImmediate);
  }

  private deliver(): void {
    const cb = this.cb;
    if (cb === null || this.isClosed || this.queue.length === 0) return;
    const rx = this.rx;
    const n = Math.min(this.batchSize, this.queue.length);
    for (let i = 0; i < n; i++) {
      const size = this.queue.shift(rx.bufs[i]!, rx.offset);
      if (size < 0) { rx.sizes[i] = 0; this.stats.rxTruncated++; } else { rx.sizes[i] = size; this.stats.rxPackets++; }
      this.srcs[i] = this.queue.lastTag;
    }
    rx.count = n;
    cb(rx, this.ifindexes, this.srcs, this.meta);
    if (this.queue.length > 0) this.schedule(); // bounded drain: the rest on a later turn
  }
}

/** Two connected in-memory raw-IPv4 conns: A (addrA) ↔ B (addrB). */
export function memConnPair(opts: MemConnOptions = {}): [MemConn, MemConn] {
  const bs = opts.batchSize ?? IDEAL_BATCH_SIZE;
  const q = opts.queueLen ?? 256;
  const max = opts.maxDatagram ?? MTU_MAX;
  const a = new MemConn(opts.addrA ?? 0xc0000201, opts.ifindexA ?? 2, bs, q, max);
  const b = new MemConn(opts.addrB ?? 0xc0000202, opts.ifindexB ?? 3, bs, q, max);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
