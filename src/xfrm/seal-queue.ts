// Deferred ESP seals: espOutput does every per-packet step (lifetime,
// sequence number, trailer, ESP/UDP/IP headers) at once and records here
// what is left — the seal of (state, slab, espOff, ptLen, seqHi) — so the
// shell can seal a whole send batch with one EspCrypto.sealBatch per
// (state, slab) group instead of one N-API call per packet (~150-190 ns
// each, bench/crypto.bench.ts). The kernel seals in esp_output itself; the
// bytes on the wire are the same because a seal depends only on its own
// packet, its seqHi and (CBC) the SA's IV pool, which a group consumes in
// the packets' original order.
//
// Contract: the shell calls XfrmStack.sealPending(q) before anything reads
// the queued packets' bytes (captures, the send call), and XfrmStack does
// so itself before a state is destroyed (hard expiry in output). Entries
// keep their index until reset(), so failed[i] (a packet whose seal failed,
// or its whole group when the context is gone) can be matched against the send queues
// (SendQueue.seal). Everything is preallocated; nothing per packet or batch.

import type { XfrmState } from './state.js';

const EMPTY = new Uint8Array(0);

export class SealQueue {
  /** Entries since the last reset (sealed or not). */
  count = 0;
  /** Entries whose seal failed, not yet dropped by the shell (it zeroes this after SendQueue.dropSealed). */
  failedCount = 0;
  /** failed[i] = 1: entry i's seal failed in sealBatch (valid for i < count). */
  readonly failed: Uint8Array;
  /** The error of the latest seal that failed (for the shell's fault log), else null. */
  lastError: unknown = null;
  private readonly states: (XfrmState | null)[];
  private readonly slabs: Uint8Array[];
  private readonly espOff: Int32Array;
  private readonly ptLen: Int32Array;
  private readonly seqHi: Uint32Array;
  /** Entries below this are sealed (or failed). */
  private sealedTo = 0;
  private readonly done: Uint8Array;
  // One group's arguments for sealBatch.
  private readonly gOff: Int32Array;
  private readonly gPt: Int32Array;
  private readonly gHi: Uint32Array;
  private readonly gIdx: Int32Array;

  /** size: the most packets pending between two resets (the shell's send queues' capacity). */
  constructor(readonly size: number) {
    this.states = new Array<XfrmState | null>(size).fill(null);
    this.slabs = new Array<Uint8Array>(size).fill(EMPTY);
    this.espOff = new Int32Array(size);
    this.ptLen = new Int32Array(size);
    this.seqHi = new Uint32Array(size);
    this.done = new Uint8Array(size);
    this.failed = new Uint8Array(size);
    this.gOff = new Int32Array(size);
    this.gPt = new Int32Array(size);
    this.gHi = new Uint32Array(size);
    this.gIdx = new Int32Array(size);
  }

  get isFull(): boolean { return this.count === this.size; }

  /** True while some entry is not sealed yet. */
  get hasPending(): boolean { return this.sealedTo < this.count; }

  /** Records one packet's seal (EspCrypto.seal's arguments); returns its index. Full is a programmer error (espOutput seals at once then). */
  add(x: XfrmState, slab: Uint8Array, espOff: number, ptLen: number, seqHi: number): number {
    const i = this.count;
    if (i === this.size) throw new RangeError(`seal queue full (${this.size})`);
    this.states[i] = x;
    this.slabs[i] = slab;
    this.espOff[i] = espOff;
    this.ptLen[i] = ptLen;
    this.seqHi[i] = seqHi;
    this.done[i] = 0;
    this.failed[i] = 0;
    this.count = i + 1;
    return i;
  }

  /**
   * Seals every pending entry: one sealBatch per (state, slab), each group
   * in its packets' original order. A packet whose seal fails is marked
   * failed (sealRange). Returns how many entries failed in this call.
   */
  sealAll(): number {
    let bad = 0;
    for (let i = this.sealedTo; i < this.count; i++) {
      if (this.done[i] === 0) bad += this.sealGroup(i);
    }
    this.sealedTo = this.count;
    return bad;
  }

  /** Forgets every entry (after the shell flushed its send queues). */
  reset(): void {
    for (let i = 0; i < this.count; i++) {
      this.states[i] = null;
      this.slabs[i] = EMPTY;
    }
    this.count = 0;
    this.sealedTo = 0;
    this.failedCount = 0;
    this.lastError = null;
  }

  /** Entry i and every later pending one of the same state and slab, in one sealBatch. */
  private sealGroup(i: number): number {
    const x = this.states[i]!;
    const slab = this.slabs[i]!;
    let n = 0;
    for (let j = i; j < this.count; j++) {
      if (this.done[j] !== 0 || this.states[j] !== x || this.slabs[j] !== slab) continue;
      this.gOff[n] = this.espOff[j]!;
      this.gPt[n] = this.ptLen[j]!;
      this.gHi[n] = this.seqHi[j]!;
      this.gIdx[n] = j;
      this.done[j] = 1;
      n++;
    }
    return this.sealRange(x, slab, n);
  }

  /**
   * sealBatch over the group's first n entries. A packet whose seal failed
   * (the error's `sealed` index, EspCrypto.sealBatch) is marked failed alone
   * and the rest of the group sealed again, as one seal call per packet
   * would drop only that packet; an error without that index (a destroyed
   * context, a range) sealed nothing and fails every entry left.
   */
  private sealRange(x: XfrmState, slab: Uint8Array, n: number): number {
    let bad = 0;
    while (n > 0) {
      try {
        x.crypto.sealBatch(slab, this.gOff, this.gPt, this.gHi, n);
        return bad;
      } catch (e) {
        this.lastError = e;
        const at = failedAt(e, n);
        const from = at < 0 ? 0 : at;
        const lost = at < 0 ? n : 1;
        for (let k = from; k < from + lost; k++) this.failed[this.gIdx[k]!] = 1;
        bad += lost;
        this.failedCount += lost;
        if (at < 0) return bad;
        // Packets before `at` are sealed: the group goes on after it.
        const next = at + 1;
        this.gOff.copyWithin(0, next, n);
        this.gPt.copyWithin(0, next, n);
        this.gHi.copyWithin(0, next, n);
        this.gIdx.copyWithin(0, next, n);
        n -= next;
      }
    }
    return bad;
  }
}

/** The index sealBatch stopped at (its error's `sealed`, 0 ≤ i < n), else -1. */
function failedAt(e: unknown, n: number): number {
  const at = typeof e === 'object' && e !== null ? (e as { sealed?: unknown }).sealed : undefined;
  return typeof at === 'number' && Number.isInteger(at) && at >= 0 && at < n ? at : -1;
}
