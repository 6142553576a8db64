// Byte copies for the offload core. TypedArray#set needs a subarray view of
// the source (one small object); below SMALL bytes a plain loop is cheaper
// and allocates nothing. Contract: both ranges were proved in bounds by the
// caller; overlapping ranges in one buffer are not supported.

const SMALL = 64;

/** dst[dOff, dOff+n) = src[sOff, sOff+n). */
export function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, n: number): void {
  if (n < SMALL) {
    for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]!;
    return;
  }
  dst.set(src.subarray(sOff, sOff + n), dOff);
}
