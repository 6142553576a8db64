// PacketBatch allocation (style.md §5): one ArrayBuffer slab per batch, cut
// into batchSize fixed slots; bufs[i] is a subarray view of slot i, so the
// native calls can address every slot from one (slab, stride) pair.
//
//   slot i = slab[i*stride, (i+1)*stride)
//   | HEADROOM (128) | packet, up to mtu (+ L2 header for TAP) | TAILROOM (64) |
//   ^ i*stride       ^ i*stride + offset (reads land here)
//
// Headroom: outer IPv6 40 + UDP 8 + ESP 8 + IV 16 = 72 (IPv4+GRE with key,
// seq and csum is 36), rounded up to 128 so encapsulation prepends in place.
// Tailroom: ESP trailer (≤ 15 pad + pad length + next header) + ICV ≤ 32, and a
// TAP frame's Ethernet/VLAN header beyond the MTU, rounded up to 64.
// The stride is rounded up to 64 bytes (a cache line) so slots start aligned.

import type { PacketBatch } from './types.js';

export const HEADROOM = 128;
export const TAILROOM = 64;
/** Largest L3 MTU a TUN/TAP device accepts (ETH_MAX_MTU, drivers/net/tun.c) and the IPv4 maximum. */
export const MTU_MAX = 65535;
/** wireguard-go's conn.IdealBatchSize. */
export const IDEAL_BATCH_SIZE = 128;
const SLOT_ALIGN = 64;

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

  constructor(batchSize: number, stride: number) {
    this.slab = new Uint8Array(new ArrayBuffer(batchSize * stride));
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
  const stride = Math.ceil((HEADROOM + mtu + TAILROOM) / SLOT_ALIGN) * SLOT_ALIGN;
  return new PooledBatch(batchSize, stride);
}

/** Checks the PacketBatch invariants of types.ts for a write/send; throws RangeError (programmer error). */
export function checkOutgoing(b: PacketBatch, batchSize: number): void {
  if (b.count < 0 || b.count > batchSize || b.count > b.bufs.length) {
    throw new RangeError(`batch count ${b.count} exceeds batchSize ${batchSize}`);
  }
  if (b.offset < 0) throw new RangeError(`batch offset ${b.offset} is negative`);
}
