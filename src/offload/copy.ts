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

/**
 * Uint8Arrays over whole ArrayBuffers, the last two buffers remembered (a
 * port's arena and a receive slab). A memo, not state: any whole view of a
 * buffer is equal to another.
 */
class WholeViews {
  private b0: ArrayBufferLike | null = null;
  private v0: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private b1: ArrayBufferLike | null = null;
  private v1: Uint8Array<ArrayBufferLike> = new Uint8Array(0);

  of(buf: ArrayBufferLike): Uint8Array<ArrayBufferLike> {
    if (buf === this.b0) return this.v0;
    if (buf === this.b1) { // most recent first
      const v = this.v1;
      this.b1 = this.b0;
      this.v1 = this.v0;
      this.b0 = buf;
      this.v0 = v;
      return v;
    }
    this.b1 = this.b0;
    this.v1 = this.v0;
    this.b0 = buf;
    this.v0 = new Uint8Array(buf);
    return this.v0;
  }
}

const views = new WholeViews();
