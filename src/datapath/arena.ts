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
