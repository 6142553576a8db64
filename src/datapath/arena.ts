// The data path's two arenas: the receive arena (conns in, RxArena) and
// the read arena (devices out, ReadArena). Both exist so that memory does
// not grow with the number of devices or conns: the slabs are the data
// path's, and a device or conn costs only its small per-port structures.
//
// The receive arena: one ArrayBuffer for the receive slabs of the data
// path's conns and the GRO staging slab every offload port shares, so that
// PortOffload.flush copies a received packet into staging with copyWithin
// (offload/copy.ts) and nothing is allocated per packet on the way in.
//
//   | conn 0 rx | conn 1 rx | … | conn CONNS-1 rx | stage |
//     each SLOTS slots of strideFor(MTU_MAX) bytes (65535-byte datagrams,
//     and room for a 64 KiB GRO merge in any staging slot)
//
// Pages are committed by the kernel as packets touch them. Sharing one
// stage is safe: flushes run one device at a time, each done before the
// next starts (DeviceWrites), and a flush leaves nothing in it.

import { MTU_MAX, PooledBatch, strideFor } from '../io/pool.js';
import { OFFLOAD_READS, OFFLOAD_SEGMENTS } from './offload.js';

/** Conns the arena has receive slabs for (tunkitd opens 6: raw 4, 41, 47, 50, ICMP and UDP 4500). */
export const ARENA_CONNS = 8;

export class RxArena {
  /** The GRO staging slab of every offload port of the data path. */
  readonly stage: PooledBatch;
  private readonly buf: ArrayBuffer;
  private readonly stride = strideFor(MTU_MAX);
  private next = 0;

  constructor(readonly slots: number, readonly conns = ARENA_CONNS) {
    this.buf = new ArrayBuffer((conns + 1) * slots * this.stride);
    this.stage = new PooledBatch(slots, this.stride, [this.buf, conns * slots * this.stride]);
  }

  /** A receive batch for one more conn (slots of 65535 bytes), or undefined once all are handed out. */
  connRx(): PooledBatch | undefined {
    if (this.next === this.conns) return undefined;
    return new PooledBatch(this.slots, this.stride, [this.buf, this.next++ * this.slots * this.stride]);
  }
}

/**
 * The read arena: the slabs device reads land in, shared by every port of a
 * data path (or a port's own, for a device without readInto):
 *
 *   | batch: batchSize slots | reads: OFFLOAD_READS slots | segs: OFFLOAD_SEGMENTS slots |
 *     of `stride` (the MTU      of strideFor(MTU_MAX)       of `stride`: where an offload
 *     geometry): plain reads    (64 KiB TSO super-packets)  read's super-packet is split
 *
 * reads and segs are in one ArrayBuffer, so the TSO split copies with
 * copyWithin (offload/copy.ts). Pages are committed as packets touch them.
 *
 * Sharing contract: a read fills a batch and hands it to the data path
 * synchronously (TunDevice.readInto: done(n) from the device's readiness
 * callback), and the data path sends, writes and flushes everything it read
 * before that callback returns (datapath.ts onRead → transmit.ts xmitBatch:
 * the send queues flushed, ICMP errors built in the cores' scratch and
 * written at once, capture records copied, xfrm events copying what they
 * keep). So the next device's read may reuse the same slots: a batch
 * several devices have pending is only the place their next drain will
 * write to. A device whose results arrive later (read()'s Promise, a
 * microtask hop) must not share: the data path gives such a port its own
 * arena. An arena is never resized: when the stride grows the data path
 * makes a new one, and ports whose read is pending on the old one read into
 * it once more (it stays alive until they have).
 */
export class ReadArena {
  /** Plain device reads (offset HEADROOM). */
  readonly batch: PooledBatch;
  /** Offload devices' reads: TSO super-packets, vnet header at offset - 10; null without offload. */
  readonly reads: PooledBatch | null;
  /** Where an offload read's super-packet is split to; null without offload. */
  readonly segs: PooledBatch | null;

  /** stride: the MTU geometry's (geometry.ts); withOffload: room for vnet-header devices too. */
  constructor(readonly stride: number, batchSize: number, withOffload: boolean) {
    const big = strideFor(MTU_MAX);
    const plain = batchSize * stride;
    const buf = new ArrayBuffer(plain + (withOffload ? OFFLOAD_READS * big + OFFLOAD_SEGMENTS * stride : 0));
    this.batch = new PooledBatch(batchSize, stride, [buf, 0]);
    this.reads = withOffload ? new PooledBatch(OFFLOAD_READS, big, [buf, plain]) : null;
    this.segs = withOffload ? new PooledBatch(OFFLOAD_SEGMENTS, stride, [buf, plain + OFFLOAD_READS * big]) : null;
  }
}
