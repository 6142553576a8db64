// Batched ESP opens for one receive batch, in two phases, without changing
// what xfrm_input decides (esp-in.ts):
//
//   phase 1  prepareOpen, per packet, with no state change: outer IPv4 and
//            UDP demux as XfrmStack.input, SA lookup, usable, encap type,
//            the replay check against the window as it is before the batch
//            (a packet it refuses is never decrypted); then openAll: one
//            EspCrypto.openBatch per (SA, slab) group.
//   phase 2  XfrmStack.input per packet in order, exactly as before; where
//            espInput would call open() it takes this packet's phase-1
//            result instead (take), if the entry matches (same SA, bytes,
//            seqHi), else it opens then.
//
// Why phase 2 sees the same result: earlier packets of the batch can only
// make a later one's checks stricter (the window advances, counts grow, an
// SA expires and leaves), so every packet phase 2 brings to open() was
// prepared in phase 1, and an open depends only on the packet's bytes, the
// SA's key and seqHi (compared). Counters, replay state and events all move
// in phase 2 only. What differs: a packet phase 2 drops before its open
// (a duplicate inside the batch, an SA that expired mid-batch) may already
// have been decrypted in place — its bytes are never used.

import { be16 } from '../wire/bytes.js';
import { Drop } from '../wire/drop.js';
import { ESP_HDR_LEN } from '../wire/esp.js';
import type { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_ESP, IPPROTO_UDP } from '../wire/ipproto.js';
import { UDP_ENCAP_ESPINUDP } from './config.js';
import type { EspInViews } from './esp-in.js';
import { ReplayCheck } from './replay.js';
import type { Sad } from './sad.js';
import type { XfrmState } from './state.js';

const EMPTY = new Uint8Array(0);
/** has[]: nothing prepared, prepared (phase 1), opened (ok[] valid). */
const NONE = 0;
const PREPARED = 1;
const OPENED = 2;

export class OpenQueue {
  /** The batch index phase 2 is at (the shell sets it per packet); -1 outside a batch. */
  cursor = -1;
  private count = 0;
  private readonly has: Uint8Array;
  private readonly ok: Uint8Array;
  private readonly states: (XfrmState | null)[];
  private readonly slabs: Uint8Array[];
  private readonly espOff: Int32Array;
  private readonly espLen: Int32Array;
  private readonly seqHi: Uint32Array;
  // One group's arguments for openBatch.
  private readonly gOff: Int32Array;
  private readonly gLen: Int32Array;
  private readonly gHi: Uint32Array;
  private readonly gOk: Uint8Array;
  private readonly gIdx: Int32Array;

  /** size: batch indices beyond it are not prepared (opened one by one in phase 2). */
  constructor(readonly size: number) {
    this.has = new Uint8Array(size);
    this.ok = new Uint8Array(size);
    this.states = new Array<XfrmState | null>(size).fill(null);
    this.slabs = new Array<Uint8Array>(size).fill(EMPTY);
    this.espOff = new Int32Array(size);
    this.espLen = new Int32Array(size);
    this.seqHi = new Uint32Array(size);
    this.gOff = new Int32Array(size);
    this.gLen = new Int32Array(size);
    this.gHi = new Uint32Array(size);
    this.gOk = new Uint8Array(size);
    this.gIdx = new Int32Array(size);
  }

  /** Forgets the batch (and the states and slabs it referenced). */
  clear(): void {
    for (let i = 0; i < this.count; i++) {
      this.has[i] = NONE;
      this.states[i] = null;
      this.slabs[i] = EMPTY;
    }
    this.count = 0;
    this.cursor = -1;
  }

  /** Batch packet i will need open(x, slab, espOff, espLen, seqHi) unless phase 2 drops it first. */
  add(i: number, x: XfrmState, slab: Uint8Array, espOff: number, espLen: number, seqHi: number): void {
    if (i < 0 || i >= this.size) return;
    this.has[i] = PREPARED;
    this.states[i] = x;
    this.slabs[i] = slab;
    this.espOff[i] = espOff;
    this.espLen[i] = espLen;
    this.seqHi[i] = seqHi;
    if (i >= this.count) this.count = i + 1;
  }

  /** One openBatch per (SA, slab) of the prepared packets. */
  openAll(): void {
    for (let i = 0; i < this.count; i++) if (this.has[i] === PREPARED) this.openGroup(i);
  }

  /**
   * Phase 2's open for the packet at `cursor`: 1 opened, 0 refused (as
   * open's true/false), -1 not prepared with these arguments (open it now).
   */
  take(x: XfrmState, b: Uint8Array, espOff: number, espLen: number, seqHi: number): number {
    const i = this.cursor;
    if (i < 0 || i >= this.count || this.has[i] !== OPENED) return -1;
    this.has[i] = NONE;
    if (this.states[i] !== x || this.slabs[i] !== b || this.espOff[i] !== espOff || this.espLen[i] !== espLen || this.seqHi[i] !== seqHi >>> 0) {
      return -1;
    }
    return this.ok[i]!;
  }

  private openGroup(i: number): void {
    const x = this.states[i]!;
    const slab = this.slabs[i]!;
    let n = 0;
    for (let j = i; j < this.count; j++) {
      if (this.has[j] !== PREPARED || this.states[j] !== x || this.slabs[j] !== slab) continue;
      this.gOff[n] = this.espOff[j]!;
      this.gLen[n] = this.espLen[j]!;
      this.gHi[n] = this.seqHi[j]!;
      this.gIdx[n] = j;
      this.has[j] = NONE; // until opened: a throw leaves the group to phase 2's own opens
      n++;
    }
    x.crypto.openBatch(slab, this.gOff, this.gLen, this.gHi, this.gOk, n);
    for (let k = 0; k < n; k++) {
      const j = this.gIdx[k]!;
      this.ok[j] = this.gOk[k]!;
      this.has[j] = OPENED;
    }
  }
}

/**
 * Phase 1 for the outer IPv4 packet b[ipOff, ipOff+len): XfrmStack.input's
 * demux (header checks; protocol 50, or UDP to natTPort that is neither a
 * keepalive nor IKE, as UdpEncapInput.input) with the caller's views, then prepareEsp.
 */
export function prepareOuter(
  sad: Sad, v: EspInViews, ip: Ip4Packet, natTPort: number, b: Uint8Array, ipOff: number, len: number, q: OpenQueue, i: number,
): void {
  if (ip.check(b, ipOff, len) !== Drop.None || !ip.verifyChecksum() || ip.isFragment) return;
  const payOff = ip.payloadOffset;
  const payLen = ip.payloadLen;
  if (ip.protocol === IPPROTO_ESP) {
    prepareEsp(sad, v, b, ipOff, payOff, payLen, 0, q, i);
    return;
  }
  if (ip.protocol !== IPPROTO_UDP || payLen < 8 || be16(b, payOff + 2) !== natTPort) return;
  const d = payOff + 8;
  const n = Math.min(payLen, be16(b, payOff + 4)) - 8;
  if (n <= 8 || (b[d] === 0 && b[d + 1] === 0 && b[d + 2] === 0 && b[d + 3] === 0)) return; // keepalive, IKE (UdpEncapInput.input)
  prepareEsp(sad, v, b, ipOff, d, n, UDP_ENCAP_ESPINUDP, q, i);
}

/**
 * Phase 1 for the ESP packet b[espOff, espOff+espLen) in the IPv4 packet at
 * b[ipOff] (encapType as espInput's): espInput's steps up to open(), with
 * nothing changed; adds batch packet i to q when it would reach open().
 */
export function prepareEsp(
  sad: Sad, v: EspInViews, b: Uint8Array, ipOff: number, espOff: number, espLen: number, encapType: number, q: OpenQueue, i: number,
): void {
  if (espLen < ESP_HDR_LEN || !v.esp.wrap(b, espOff, espLen)) return;
  const seq = v.esp.seqS;
  const x = sad.lookupIn(v.esp.spiS, 4, b, ipOff + 16);
  if (x === null || !x.isUsable || (x.cfg.encap !== null ? x.cfg.encap.type : 0) !== encapType) return;
  const seqHi = x.replay.inferSeqHi(seq);
  if (x.replay.check(seq, seqHi) !== ReplayCheck.Ok) return;
  if (espLen - ESP_HDR_LEN - x.crypto.ivLen - x.crypto.icvLen <= 0) return;
  q.add(i, x, b, espOff, espLen, seqHi);
}
