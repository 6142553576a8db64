// The devices the data path drives (one Port per TUN/TAP) and the batches
// it gathers between a read or receive and the one send or write call.
// Buffer ownership: a Port's read batch is the data path's read arena's
// (arena.ts ReadArena, shared by every port; a port owns one only for a
// device without readInto); its write queue and the send queue only
// reference packets in slabs owned by others (the conn's receive batch, the
// read arena) until they are flushed, which always happens before the
// callback that filled those slabs returns.

import type { ReadArena } from './arena.js';
import type { PortTaps } from './capture.js';
import { GatherBatch } from '../io/pool.js';
import type { PooledBatch } from '../io/pool.js';
import type { TunDevice } from '../io/types.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { HasStats, PacketConn } from '../io/types.js';
import { TxOutcome } from '../tunnel/result.js';
import { txDone } from '../tunnel/xmit.js';
import { xfrmiTxDone } from '../xfrm/xfrmi.js';
import type { XfrmiStats } from '../xfrm/xfrmi.js';
import type { PortOffload } from './offload.js';

export const PortKind = {
  /** A tunkit tunnel's TUN/TAP (ipip, gre, gretap, sit): tunnel xmit, then xfrm output of the outer packet. */
  Tunnel: 0,
  /** The policy TUN (ipsec0): xfrm output with if_id 0. */
  Policy: 1,
  /** An xfrm interface: xfrm output with its if_id, xfrmi counters. */
  Xfrmi: 2,
} as const;
export type PortKind = (typeof PortKind)[keyof typeof PortKind];

/** Packets queued toward one device, written with one write call per receive batch. */
export class WriteQueue {
  readonly batch: GatherBatch;
  readonly ok: Uint8Array;
  /** In the data path's list of queues to flush. */
  isQueued = false;

  constructor(size: number) {
    this.batch = new GatherBatch(size);
    this.ok = new Uint8Array(size);
  }
}

/** One device the data path reads (out direction) and writes (in direction). */
export class Port {
  /** The batch the pending read fills: the read arena's, set before each read. */
  batch: PooledBatch;
  /** The port's own read arena (its device has no readInto: arena.ts), else null: the data path's shared one. */
  arena: ReadArena | null = null;
  readonly writes: WriteQueue;
  isOpen = true;
  /** A read of the device is pending or a retry is scheduled: the loop will come back to it (watchdog.ts). */
  isArmed = false;
  /** Reads of the device are failing (ConditionLog "read NAME"): the next good read logs the recovery. */
  hasReadFault = false;
  /** TUN offload (a vnetHdr device): super-packet reads, TSO split, GRO on write; else null. */
  offload: PortOffload | null = null;
  /** `tunkit capture` taps (capture.ts); null when none, the only cost then. */
  taps: PortTaps | null = null;
  /** Bound once: no closure per read. */
  readonly onRead: (n: number) => void;
  readonly onReadError: (e: unknown) => void;
  /** readInto's callback (TunDevice.readInto), bound once. */
  readonly onReadDone: (n: number, err: unknown) => void;

  constructor(
    readonly name: string,
    readonly kind: PortKind,
    readonly dev: TunDevice,
    /** The tunnel for PortKind.Tunnel, else null; replaced by `tunnel change` (Datapath.retarget). */
    public tunnel: Tunnel | null,
    /** if_id for PortKind.Xfrmi, else 0. */
    readonly ifId: number,
    /** The interface's counters for PortKind.Xfrmi, else null. */
    readonly xstats: XfrmiStats | null,
    /** Ethernet header bytes beyond the MTU (14 for a TAP). */
    readonly l2Len: number,
    batch: PooledBatch,
    onRead: (p: Port, n: number) => void,
    onReadError: (p: Port, e: unknown) => void,
  ) {
    this.batch = batch;
    this.writes = new WriteQueue(Math.min(batch.batchSize, dev.batchSize));
    this.onRead = (n) => onRead(this, n);
    this.onReadError = (e) => onReadError(this, e);
    this.onReadDone = (n, err) => (err !== null ? onReadError(this, err) : onRead(this, n));
  }

  /** A packet read from the device is dropped before it was sent (tx_dropped). */
  txDropped(): void {
    if (this.tunnel !== null) this.tunnel.stats.tx_dropped++;
    else if (this.xstats !== null) this.xstats.tx_dropped++;
  }
}

/** True when every open port has a read pending or a retry scheduled: the loop comes back to each. */
export function allArmed(ports: Iterable<Port>): boolean {
  for (const p of ports) if (p.isOpen && !p.isArmed) return false;
  return true;
}

/** The outer packets of one read batch, sent with one send call; innerLen is what the device counters count. */
export class SendQueue {
  readonly batch: GatherBatch;
  readonly dst: Uint32Array;
  readonly innerLen: Int32Array;
  /** The packet's SealQueue entry (xfrm/seal-queue.ts) while its seal is deferred, else -1. */
  readonly seal: Int32Array;
  readonly ok: Uint8Array;
  /** Why the latest flush lost packets (set only when it did). */
  why = '';

  constructor(size: number) {
    this.batch = new GatherBatch(size);
    this.dst = new Uint32Array(size);
    this.innerLen = new Int32Array(size);
    this.seal = new Int32Array(size);
    this.ok = new Uint8Array(size);
  }

  /** innerLen 0: a later segment of a super-packet counted with its first (transmit.ts gsoLen). seal: XfrmResult.sealIdx. */
  add(slab: Uint8Array, off: number, len: number, dst: number, innerLen: number, seal = -1): void {
    const i = this.batch.add(slab, off, len);
    this.dst[i] = dst;
    this.innerLen[i] = innerLen;
    this.seal[i] = seal;
  }

  /**
   * Removes the packets whose deferred seal failed (failed[seal] === 1),
   * keeping the others' order; returns how many went. Nothing is sent or
   * counted for them here (the caller counts the drop).
   */
  dropSealed(failed: Uint8Array): number {
    const n = this.batch.count;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const s = this.seal[i]!;
      if (s >= 0 && failed[s] === 1) continue;
      if (k !== i) this.move(i, k);
      k++;
    }
    this.batch.truncate(k);
    return n - k;
  }

  /** Packet `from` takes slot `to` in every side array (UdpSendQueue moves its metadata too). */
  protected move(from: number, to: number): void {
    this.batch.move(from, to);
    this.dst[to] = this.dst[from]!;
    this.innerLen[to] = this.innerLen[from]!;
    this.seal[to] = this.seal[from]!;
  }

  /**
   * One send call for the queued outer packets, then each packet's device
   * counters (p's) by its result. Returns how many were not sent; `why` then
   * says why: the conn's errno (ENOBUFS, ENETUNREACH…), or EAGAIN when the
   * socket buffer was full (sendmmsg stopped early, no error counted).
   */
  flush(tx: PacketConn | null, p: Port): number {
    const count = this.batch.count;
    if (count === 0) return 0;
    const st = tx !== null ? (tx as Partial<HasStats>).stats : undefined;
    const errs = st !== undefined ? st.txErrors : 0;
    const sent = tx !== null ? this.transmit(tx) : 0;
    if (sent === 0) this.ok.fill(0, 0, count);
    if (sent < count) {
      this.why = tx === null ? 'no socket' : st !== undefined && st.txErrors > errs ? st.lastError : 'EAGAIN (socket send buffer full)';
    }
    this.batch.clear();
    if (p.tunnel !== null) {
      for (let i = 0; i < count; i++) {
        if (this.innerLen[i] !== 0) txDone(p.tunnel, this.innerLen[i]!, this.ok[i] === 1 ? TxOutcome.Sent : TxOutcome.Dropped);
      }
    } else if (p.xstats !== null) {
      for (let i = 0; i < count; i++) if (this.innerLen[i] !== 0) xfrmiTxDone(p.xstats, this.innerLen[i]!, this.ok[i] === 1);
    }
    return count - sent;
  }

  /** The one send call for the queued packets (UdpSendQueue sends them as UDP payloads). */
  protected transmit(tx: PacketConn): number {
    return tx.send(this.batch, this.dst, this.ok);
  }
}
