// The xfrm anti-replay window and output sequence counter, as
// net/xfrm/xfrm_replay.c of Linux 6.1 keeps them for one SA.
//
// Flow (net/xfrm/xfrm_input.c, xfrm_input()):
//   seqHi = w.inferSeqHi(seqLo)             xfrm_replay_seqhi()
//   w.check(seqLo, seqHi) !== Ok → drop     xfrm_replay_check()   XfrmInStateSeqError
//   ... decrypt / verify the ICV with seqHi ...
//   w.accept(seqLo, seqHi) !== Ok → drop    xfrm_replay_recheck() XfrmInStateSeqError
//                                            + xfrm_replay_advance()
// Output (xfrm_output_one → xfrm_replay_overflow()):
//   w.nextOutput(mayWrap) === false → drop  XfrmOutStateSeqError; else send w.oseq/w.oseqHi
//
// Per-SA stats are the caller's: TooOld → x->stats.replay_window++,
// Replayed → x->stats.replay++, Zero counts nothing (the kernel's `goto err`).
//
// Three modes, chosen by xfrm_init_replay():
//   Legacy  no XFRMA_REPLAY_ESN_VAL: one u32 bitmap, bit n = top - n (shifted on advance).
//   Bmp     XFRMA_REPLAY_ESN_VAL without XFRM_STATE_ESN: bmp_len u32 words used as a
//           ring; seq s lives at bit (s - 1) % window, word bitnr >> 5, bit bitnr & 31.
//   Esn     as Bmp, plus the implicit high half (RFC 4303 §3.3.3 / App. A2).
// The ring layout is the kernel's, so record().bitmap is what `ip xfrm state`
// prints for the same history (ip/ipxfrm.c prints bmp[bmp_len-1] first).
//
// All numbers are u32 (kept with >>> 0); check/accept/nextOutput never allocate.
import type { ReplayRecord } from './spec.js';

export const ReplayMode = { Legacy: 0, Bmp: 1, Esn: 2 } as const;
export type ReplayMode = (typeof ReplayMode)[keyof typeof ReplayMode];

export const ReplayCheck = {
  Ok: 0,
  /** seq 0 with the check enabled (the kernel's `goto err` without a stats bump). */
  Zero: 1,
  /** Behind the window, or an ESN recheck whose high half moved: x->stats.replay_window. */
  TooOld: 2,
  /** Bit already set: x->stats.replay. */
  Replayed: 3,
} as const;
export type ReplayCheck = (typeof ReplayCheck)[keyof typeof ReplayCheck];

/** sizeof(x->replay.bitmap) * 8: the legacy window limit (xfrm_user.c clamps to it). */
export const REPLAY_LEGACY_MAX = 32;
/** XFRMA_REPLAY_ESN_MAX (include/uapi/linux/xfrm.h): bmp/esn window limit in packets. */
export const XFRMA_REPLAY_ESN_MAX = 4096;

/** Initial counters, as `ip xfrm state add ... replay-seq/-seq-hi/-oseq/-oseq-hi` set them. */
export interface ReplayRestore {
  readonly seq?: number;
  readonly seqHi?: number;
  readonly oseq?: number;
  readonly oseqHi?: number;
  /** Window words, word 0 first; exactly bmpLen of them. */
  readonly bitmap?: readonly number[];
}

/**
 * A u32 or its bits as an int32 (v | 0); the receiver takes v >>> 0. The data
 * path passes sequence numbers this way: an int32 is always a V8 small
 * integer, where a u32 of 2^31 and up passed to a call that is not inlined is
 * a heap number allocated per packet.
 */
type U32Bits = number;

const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

export class ReplayWindow {
  readonly mode: ReplayMode;
  /** replay_window in packets (x->props.replay_window or replay_esn->replay_window). */
  readonly window: number;
  /** Words `ip xfrm state` prints: 1 for legacy, else bmp_len = ceil(window / 32) (ip/xfrm_state.c). */
  readonly bmpLen: number;
  /** Last sent sequence number, low half (replay.oseq / replay_esn->oseq). 0 = nothing sent. */
  oseq = 0;
  /** Last sent high half (replay_esn->oseq_hi); stays 0 unless Esn. */
  oseqHi = 0;
  private top = 0;
  private topHi = 0;
  private readonly bmp: Uint32Array;
  private readonly view: Uint32Array;

  /**
   * @param windowPackets the effective window: Legacy 0..32, Bmp 0..4096, Esn 1..4096
   *   (xfrm_init_replay refuses ESN with window 0 in 6.1). RangeError otherwise.
   */
  constructor(mode: ReplayMode, windowPackets: number) {
    const max = mode === ReplayMode.Legacy ? REPLAY_LEGACY_MAX : XFRMA_REPLAY_ESN_MAX;
    const min = mode === ReplayMode.Esn ? 1 : 0;
    if (mode !== ReplayMode.Legacy && mode !== ReplayMode.Bmp && mode !== ReplayMode.Esn) {
      throw new RangeError(`replay mode ${String(mode)} is not Legacy, Bmp or Esn`);
    }
    if (!Number.isInteger(windowPackets) || windowPackets < min || windowPackets > max) {
      throw new RangeError(`replay window ${windowPackets} outside ${min}..${max} for this mode`);
    }
    this.mode = mode;
    this.window = windowPackets;
    this.bmpLen = mode === ReplayMode.Legacy ? 1 : (windowPackets + 31) >>> 5;
    this.bmp = new Uint32Array(Math.max(1, this.bmpLen));
    this.view = this.bmp.subarray(0, this.bmpLen);
  }

  /** Highest sequence number received, low half (replay.seq / replay_esn->seq). */
  get seq(): number { return this.top; }
  /** Its high half (replay_esn->seq_hi); 0 unless Esn. */
  get seqHi(): number { return this.topHi; }
  /** The window words (bmpLen of them, word 0 first). A live view: read, never write. */
  get bitmap(): Uint32Array { return this.view; }

  /** xfrm_replay_seqhi(): the ESN high half for an incoming low half (0 unless Esn). */
  inferSeqHi(seqBits: U32Bits): number {
    if (this.mode !== ReplayMode.Esn) return 0;
    const seqLo = seqBits >>> 0;
    const w = this.window;
    const bottom = (this.top - w + 1) >>> 0;
    if (this.top >= w - 1) {
      // A. same subspace: below the window means the next 2^32 block.
      return seqLo < bottom ? (this.topHi + 1) >>> 0 : this.topHi;
    }
    // B. window spans two subspaces: at or above bottom is the previous block.
    return seqLo >= bottom ? (this.topHi - 1) >>> 0 : this.topHi;
  }

  /**
   * Before decryption: xfrm_replay_check() → xfrm_replay_check_legacy /
   * xfrm_replay_check_bmp / xfrm_replay_check_esn. Changes nothing.
   * seqHi is accepted for symmetry with accept(); no check function reads it.
   */
  check(seqLo: U32Bits, _seqHi: number): ReplayCheck {
    if (this.mode === ReplayMode.Legacy) return this.checkLegacy(seqLo);
    if (this.mode === ReplayMode.Bmp) return this.checkBmp(seqLo);
    return this.checkEsn(seqLo);
  }

  /**
   * After the ICV verified: xfrm_replay_recheck() (the check again for legacy and
   * bmp; xfrm_replay_recheck_esn for esn), then on Ok xfrm_replay_advance()
   * (xfrm_replay_advance / _advance_bmp / _advance_esn). seqHi is the high half
   * the ICV was computed with (XFRM_SKB_CB(skb)->seq.input.hi).
   */
  accept(seqLo: U32Bits, seqHi: number): ReplayCheck {
    if (this.mode === ReplayMode.Legacy) {
      const r = this.checkLegacy(seqLo);
      if (r === ReplayCheck.Ok) this.advanceLegacy(seqLo);
      return r;
    }
    if (this.mode === ReplayMode.Bmp) {
      const r = this.checkBmp(seqLo);
      if (r === ReplayCheck.Ok) this.advanceBmp(seqLo);
      return r;
    }
    // xfrm_replay_recheck_esn: the window moved under us so the high half the
    // ICV used is no longer the inferred one → stats.replay_window.
    if (seqHi >>> 0 !== this.inferSeqHi(seqLo)) return ReplayCheck.TooOld;
    const r = this.checkEsn(seqLo);
    if (r === ReplayCheck.Ok) this.advanceEsn(seqLo);
    return r;
  }

  /**
   * Output: xfrm_replay_overflow() → __xfrm_replay_overflow /
   * xfrm_replay_overflow_bmp / xfrm_replay_overflow_esn. On true, oseq (and
   * oseqHi) is the number to send; the first packet gets 1. False = -EOVERFLOW
   * (XfrmOutStateSeqError) and the counters stay at their last value.
   * mayWrap (XFRM_SA_XFLAG_OSEQ_MAY_WRAP) lets legacy/bmp wrap to 0 — that
   * packet goes out with seq 0; esn ignores it.
   */
  nextOutput(mayWrap: boolean): boolean {
    this.oseq = (this.oseq + 1) >>> 0;
    if (this.oseq !== 0) return true;
    if (this.mode !== ReplayMode.Esn) {
      if (mayWrap) return true;
      this.oseq = 0xffffffff;
      return false;
    }
    this.oseqHi = (this.oseqHi + 1) >>> 0;
    if (this.oseqHi !== 0) return true;
    this.oseq = 0xffffffff;
    this.oseqHi = 0xffffffff;
    return false;
  }

  /** For `ip xfrm state` (xfrm_state_info_print / the replay attributes). Allocates. */
  record(): ReplayRecord {
    return {
      seq: this.top,
      seqHi: this.topHi,
      oseq: this.oseq,
      oseqHi: this.oseqHi,
      bitmap: Array.from(this.view),
      isEsn: this.mode !== ReplayMode.Legacy,
    };
  }

  /**
   * Sets counters as XFRMA_REPLAY_VAL / XFRMA_REPLAY_ESN_VAL at state add do
   * (xfrm_update_ae_params). Control plane only; RangeError on a bad value.
   */
  restore(r: ReplayRestore): void {
    const vals = [r.seq, r.seqHi, r.oseq, r.oseqHi];
    for (const v of vals) if (v !== undefined && !isU32(v)) throw new RangeError(`replay counter ${v} is not a u32`);
    if (this.mode !== ReplayMode.Esn && ((r.seqHi ?? 0) !== 0 || (r.oseqHi ?? 0) !== 0)) {
      throw new RangeError('seq-hi/oseq-hi need an ESN state');
    }
    if (r.bitmap !== undefined) {
      if (r.bitmap.length !== this.bmpLen || !r.bitmap.every(isU32)) {
        throw new RangeError(`replay bitmap must be ${this.bmpLen} u32 words`);
      }
      this.view.set(r.bitmap);
    }
    this.top = r.seq ?? this.top;
    this.topHi = r.seqHi ?? this.topHi;
    this.oseq = r.oseq ?? this.oseq;
    this.oseqHi = r.oseqHi ?? this.oseqHi;
  }

  // ---- legacy: xfrm_replay_check_legacy / xfrm_replay_advance ----

  private checkLegacy(seqBits: U32Bits): ReplayCheck {
    if (this.window === 0) return ReplayCheck.Ok;
    const seq = seqBits >>> 0;
    if (seq === 0) return ReplayCheck.Zero;
    if (seq > this.top) return ReplayCheck.Ok;
    const diff = this.top - seq;
    if (diff >= this.window) return ReplayCheck.TooOld;
    return (this.bmp[0]! & (1 << diff)) !== 0 ? ReplayCheck.Replayed : ReplayCheck.Ok;
  }

  private advanceLegacy(seqBits: U32Bits): void {
    if (this.window === 0) return;
    const seq = seqBits >>> 0;
    if (seq > this.top) {
      const diff = seq - this.top;
      // diff < window <= 32, so the shift count is 0..31 as in C. Bits beyond
      // a window < 32 are kept, as the kernel keeps them.
      this.bmp[0] = diff < this.window ? (this.bmp[0]! << diff) | 1 : 1;
      this.top = seq;
    } else {
      this.bmp[0] = this.bmp[0]! | (1 << (this.top - seq));
    }
  }

  // ---- bmp: xfrm_replay_check_bmp / xfrm_replay_advance_bmp ----

  private checkBmp(seqBits: U32Bits): ReplayCheck {
    if (this.window === 0) return ReplayCheck.Ok;
    const seq = seqBits >>> 0;
    if (seq === 0) return ReplayCheck.Zero;
    if (seq > this.top) return ReplayCheck.Ok;
    const diff = this.top - seq;
    if (diff >= this.window) return ReplayCheck.TooOld;
    return this.testBit(this.bitBehind(diff)) ? ReplayCheck.Replayed : ReplayCheck.Ok;
  }

  private advanceBmp(seqBits: U32Bits): void {
    if (this.window === 0) return;
    const seq = seqBits >>> 0;
    if (seq > this.top) {
      this.slide((seq - this.top) | 0, seqBits);
    } else {
      this.setBit(this.bitBehind(this.top - seq));
    }
  }

  // ---- esn: xfrm_replay_check_esn / xfrm_replay_advance_esn ----

  private checkEsn(seqBits: U32Bits): ReplayCheck {
    const seq = seqBits >>> 0;
    const w = this.window;
    const top = this.top;
    const bottom = (top - w + 1) >>> 0;
    // Only while the very first window is still filling is seq 0 impossible.
    if (seq === 0 && this.topHi === 0 && top < w - 1) return ReplayCheck.Zero;
    // ~seq + top + 1 in case B is the same u32 as top - seq.
    const diff = (top - seq) >>> 0;
    if (top >= w - 1) {
      // A. same subspace: above top, or below bottom (= next subspace) is new.
      if (seq > top || seq < bottom) return ReplayCheck.Ok;
    } else if (seq > top && seq < bottom) {
      // B. window spans two subspaces: the gap between top and bottom is new.
      return ReplayCheck.Ok;
    }
    if (diff >= w) return ReplayCheck.TooOld;
    return this.testBit(this.bitBehind(diff)) ? ReplayCheck.Replayed : ReplayCheck.Ok;
  }

  private advanceEsn(seqBits: U32Bits): void {
    const seq = seqBits >>> 0;
    const hi = this.inferSeqHi(seqBits);
    // int wrap = seq_hi - replay_esn->seq_hi: -1, 0 or +1.
    const wrap = (hi - this.topHi) | 0;
    if ((wrap === 0 && seq > this.top) || wrap > 0) {
      const diff = wrap === 0 ? seq - this.top : (~this.top + seq + 1) >>> 0;
      this.slide(diff | 0, seqBits);
      if (wrap > 0) this.topHi = (this.topHi + 1) >>> 0;
    } else {
      this.setBit(this.bitBehind((this.top - seq) >>> 0));
    }
  }

  // ---- the bmp/esn ring ----

  /** pos = (replay_esn->seq - 1) % replay_window: the ring bit of the current top. */
  private pos(): number {
    return ((this.top - 1) >>> 0) % this.window;
  }

  /** Ring bit of the number diff below top (the `if (pos >= diff)` block of the kernel). */
  private bitBehind(diff: number): number {
    const pos = this.pos();
    return pos >= diff ? (pos - diff) % this.window : this.window - (diff - pos);
  }

  /** Moves top up by diff to seq: clears the skipped bits (or the whole ring), sets seq's bit. */
  private slide(diffBits: U32Bits, seqBits: U32Bits): void {
    const diff = diffBits >>> 0;
    const w = this.window;
    const pos = this.pos();
    if (diff < w) {
      for (let i = 1; i < diff; i++) this.clearBit((pos + i) % w);
    } else {
      this.bmp.fill(0, 0, ((w - 1) >>> 5) + 1);
    }
    this.top = seqBits >>> 0;
    // C's (pos + diff) is u32 arithmetic: it can wrap before the modulo.
    this.setBit(((pos + diff) >>> 0) % w);
  }

  private testBit(bitnr: number): boolean {
    return (this.bmp[bitnr >>> 5]! & (1 << (bitnr & 31))) !== 0;
  }

  private setBit(bitnr: number): void {
    const nr = bitnr >>> 5;
    this.bmp[nr] = this.bmp[nr]! | (1 << (bitnr & 31));
  }

  private clearBit(bitnr: number): void {
    const nr = bitnr >>> 5;
    this.bmp[nr] = this.bmp[nr]! & ~(1 << (bitnr & 31));
  }
}
