// Byte copies for the offload core, allocation-free where it matters.
//
//   - Both ranges in one ArrayBuffer (a TSO split from the read slots into
//     the segment slots of one arena, a GRO merge inside its staging slab):
//     copyWithin on a Uint8Array over the whole buffer (memmove), for any
//     length (a 52-byte TCP/IP header copies in ~13 ns so, ~30 ns by a loop).
//   - Under SMALL bytes in two buffers: a plain loop.
//   - Otherwise TypedArray#set, which needs one small subarray view of the
//     source (the only allocation left, for ranges in different buffers).
// The whole-buffer views come from a ViewBases memo keyed by the caller's
// views, so no copy asks V8 for a view's buffer or offset (both are calls
// into its runtime, not inlined). Contract: both ranges were proved in
// bounds by the caller; within one buffer the ranges may overlap.

import { ViewBases } from '../wire/bytes.js';

const SMALL = 64;

/** dst[dOff, dOff+n) = src[sOff, sOff+n). */
export function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  const wd = whole.of(dst);
  const d = whole.base + dOff;
  const ws = whole.of(src);
  const s = whole.base + sOff;
  if (wd === ws) {
    wd.copyWithin(d, s, s + n);
    return;
  }
  if (n < SMALL) {
    for (let i = 0; i < n; i++) wd[d + i] = ws[s + i]!;
    return;
  }
  wd.set(ws.subarray(s, s + n), d);
}

/** Uint8Arrays over whole ArrayBuffers (a port's arena, the receive arena): one per buffer, remembered. */
const whole = new ViewBases((buf) => new Uint8Array(buf));
