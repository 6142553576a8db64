// Byte copies for the offload core, allocation-free where it matters.
//
//   - Both ranges in one ArrayBuffer (a TSO split from the read slots into
//     the segment slots of one arena, a GRO merge inside its staging slab):
//     copyWithin on a Uint8Array over the whole buffer (memmove; the view is
//     made once per buffer and remembered).
//   - Under SMALL bytes: a plain loop.
//   - Otherwise TypedArray#set, which needs one small subarray view of the
//     source (the only allocation left, for ranges in different buffers).
// Contract: both ranges were proved in bounds by the caller; within one
// buffer the ranges may overlap (copyWithin is a memmove).

import { WholeBufferViews } from '../wire/bytes.js';

const SMALL = 64;

/** dst[dOff, dOff+n) = src[sOff, sOff+n). */
export function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  if (dst.buffer === src.buffer) {
    const d = dst.byteOffset + dOff;
    const s = src.byteOffset + sOff;
    views.of(dst.buffer).copyWithin(d, s, s + n);
    return;
  }
  if (n < SMALL) {
    for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]!;
    return;
  }
  dst.set(src.subarray(sOff, sOff + n), dOff);
}

/** Uint8Arrays over whole ArrayBuffers (a port's arena, the receive arena): one per buffer, remembered. */
const views = new WholeBufferViews((buf) => new Uint8Array(buf));
