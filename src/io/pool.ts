// PacketBatch allocation (style.md §5): one ArrayBuffer slab per batch, cut
// into batchSize fixed slots; bufs[i] is a subarray view of slot i, so the
// native calls can address every slot from one (slab, stride) pair.
//
//   slot i = slab[i*stride, (i+1)*stride)
//   | HEADROOM (128) | packet, up to mtu (+ L2 header for TAP) | TAILROOM (64) |
//   ^ i*stride       ^ i*stride + offset (reads land here)
//
// This is tunkit's one slab geometry (style.md §5); the data path sizes its
// device slots from the largest device MTU with it (src/datapath/geometry.ts).
// Headroom, the worst case tunkit builds in front of a packet it read: a
// gretap frame through GRE (outer IPv4 20 + GRE with key, seq and csum 16)
// and then a tunnel-mode SA over that outer packet (IPv4 20 + UDP 8 +
// non-IKE marker 8 + ESP 8 + IV 16) = 96; IPv6 outer headers would add 20.
// Rounded up to 128 so encapsulation always prepends in place.
// Tailroom: ESP trailer (≤ 15 pad + pad length + next header) + ICV ≤ 32 = 49,
// rounded up to 64. TFC padding (tfcpad) is clamped to the slot by the xfrm
// core (it pads toward the path MTU, which may exceed every device MTU).
// The stride is rounded up to 64 bytes (a cache line) so slots start aligned.

import type { PacketBatch } from './types.js';

export const HEADROOM = 128;
export const TAILROOM = 64;
/** Largest L3 MTU a TUN/TAP device accepts (ETH_MAX_MTU, drivers/net/tun.c) and the IPv4 maximum. */
export const MTU_MAX = 65535;
/** wireguard-go's conn.IdealBatchSize. */
export const IDEAL_BATCH_SIZE = 128;
const SLOT_ALIGN = 64;

/** Bytes per slot for packets of up to `mtu` bytes after HEADROOM (with TAILROOM after, rounded to 64). */
export const strideFor = (mtu: number): number => Math.ceil((HEADROOM + mtu + TAILROOM) / SLOT_ALIGN) * SLOT_ALIGN;

export interface BatchOptions {
  /** Slots in the batch (default IDEAL_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Largest packet a slot must hold after the headroom, bytes (default MTU_MAX). */
  readonly mtu?: number;
}

/**
 * A PacketBatch whose slots live in one slab at a fixed stride. The
 * implementations here recognise it (instanceof) and pass the slab to the
 * native batch calls in one go; any other PacketBatch takes a per-packet path.
 */
export class PooledBatch implements PacketBatch {
  readonly bufs: Uint8Array[];
  readonly sizes: Int32Array;
  offset: number;
  count: number;
  /** The whole slab: batchSize × stride bytes. */
  readonly slab: Uint8Array;
  /** Bytes per slot. */
  readonly stride: number;

  /**
   * A slab of its own, or `in_` = [buffer, byteOffset]: the slab is
   * buffer[byteOffset, +batchSize*stride), so several batches can share one
   * ArrayBuffer (copies between them are then copyWithin, allocation-free).
   */
  constructor(batchSize: number, stride: number, in_?: readonly [ArrayBuffer, number]) {
    this.slab = in_ === undefined
      ? new Uint8Array(new ArrayBuffer(batchSize * stride))
      : new Uint8Array(in_[0], in_[1], batchSize * stride);
    this.stride = stride;
    this.bufs = [];
    for (let i = 0; i < batchSize; i++) this.bufs.push(this.slab.subarray(i * stride, (i + 1) * stride));
    this.sizes = new Int32Array(batchSize);
    this.offset = HEADROOM;
    this.count = 0;
  }

  get batchSize(): number { return this.bufs.length; }

  /** Slab position of packet i: i*stride + offset. */
  start(i: number): number { return i * this.stride + this.offset; }
}

/**
 * A batch of `batchSize` slots of HEADROOM + mtu + TAILROOM bytes (rounded up
 * to 64), offset = HEADROOM, count = 0. Pages are committed lazily by the
 * kernel, so a 128 × 64 KiB slab costs only what packets touch.
 */
export function allocBatch(opts: BatchOptions = {}): PooledBatch {
  const batchSize = opts.batchSize ?? IDEAL_BATCH_SIZE;
  const mtu = opts.mtu ?? MTU_MAX;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) {
    throw new RangeError(`batchSize must be 1..1024, got ${batchSize}`);
  }
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > MTU_MAX) throw new RangeError(`mtu must be 68..${MTU_MAX}, got ${mtu}`);
  return new PooledBatch(batchSize, strideFor(mtu));
}

const EMPTY = new Uint8Array(0);

/**
 * An outgoing batch gathered from one slab (or a few): packet i is
 * bufs[i][starts[i], +sizes[i]). Packets are added by reference (bufs[i] is
 * set to the buffer they lie in), never copied, so a data path can queue the
 * survivors of a read batch, each at the offset its headers now start at.
 */
export class GatherBatch implements PacketBatch {
  readonly bufs: Uint8Array[];
  readonly sizes: Int32Array;
  readonly starts: Int32Array;
  offset = 0;
  count = 0;

  constructor(readonly batchSize: number) {
    this.bufs = new Array<Uint8Array>(batchSize).fill(EMPTY);
    this.sizes = new Int32Array(batchSize);
    this.starts = new Int32Array(batchSize);
  }

  get isFull(): boolean { return this.count === this.batchSize; }

  /** Queues buf[start, start+len); returns its index. Over batchSize is a programmer error. */
  add(buf: Uint8Array, start: number, len: number): number {
    const i = this.count;
    if (i === this.batchSize) throw new RangeError(`gather batch full (${this.batchSize})`);
    this.bufs[i] = buf;
    this.starts[i] = start;
    this.sizes[i] = len;
    this.count = i + 1;
    return i;
  }

  /** Packet `from` takes slot `to` (to < from: SendQueue.dropSealed compacts). */
  move(from: number, to: number): void {
    this.bufs[to] = this.bufs[from]!;
    this.starts[to] = this.starts[from]!;
    this.sizes[to] = this.sizes[from]!;
  }

  /** Keeps packets 0..n and forgets the later ones' buffers. */
  truncate(n: number): void {
    for (let i = n; i < this.count; i++) this.bufs[i] = EMPTY;
    if (n < this.count) this.count = n;
  }

  /** Empties the batch and forgets the buffers it referenced. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.bufs[i] = EMPTY;
    this.count = 0;
  }
}

/** Start of packet i of b in b.bufs[i]. */
export const packetStart = (b: PacketBatch, i: number): number => (b.starts !== undefined ? b.starts[i]! : b.offset);

/**
 * The native fast path for an outgoing batch: when packets 0..count lie in
 * one Uint8Array (a PooledBatch, or a gather batch over one slab), fills
 * offs[i] with each packet's offset in it and returns it; else null (the
 * caller then takes a per-packet path). A pooled packet longer than its slot
 * is a programmer error (RangeError).
 */
export function oneSlab(b: PacketBatch, offs: Int32Array): Uint8Array | null {
  if (b.count === 0) return null;
  if (b instanceof PooledBatch) {
    const room = b.stride - b.offset;
    for (let i = 0; i < b.count; i++) {
      if (b.sizes[i]! > room) throw new RangeError(`packet ${i} of ${b.sizes[i]} bytes exceeds its ${room}-byte slot`);
      offs[i] = i * b.stride + b.offset;
    }
    return b.slab;
  }
  const starts = b.starts;
  const first = b.bufs[0]!;
  if (starts === undefined) return null;
  for (let i = 0; i < b.count; i++) {
    if (b.bufs[i] !== first) return null;
    offs[i] = starts[i]!;
  }
  return first;
}

/** Checks the PacketBatch invariants of types.ts for a write/send; throws RangeError (programmer error). */
export function checkOutgoing(b: PacketBatch, batchSize: number): void {
  if (b.count < 0 || b.count > batchSize || b.count > b.bufs.length) {
    throw new RangeError(`batch count ${b.count} exceeds batchSize ${batchSize}`);
  }
  if (b.offset < 0) throw new RangeError(`batch offset ${b.offset} is negative`);
}
