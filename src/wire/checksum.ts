// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
// Sums are carried as plain numbers and folded only at the end; callers that
// checksum several ranges (pseudo-header + payload) chain `sum16` results.

import { ViewBases, WholeBufferViews } from './bytes.js';

/**
 * One's-complement sum of b[off, off+len) as 16-bit big-endian words, added
 * to `initial` (a partial sum). An odd trailing byte is padded with a zero
 * low byte. Returns a partial sum (may exceed 0xffff; fold16 it), congruent
 * to the exact sum, so results chain.
 *
 * Speed: a range of WIDE_MIN bytes or more that starts at an even address is
 * summed 32 bits at a time through a Uint32Array over the whole ArrayBuffer
 * (host byte order; RFC 1071 §2(B): the one's-complement sum is byte-order
 * independent, so the folded sum is swapped back once at the end): about
 * twice the speed of reading bytes. Everything else reads bytes, in chunks
 * of at most 16384 words, whose total stays below 2^30, so V8 keeps every
 * intermediate a small integer (no heap numbers).
 */
export function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  if (len >= NATIVE_MIN && nativeSum !== null) {
    const ab = buffers.of(b);
    return nativeSum(ab, buffers.base + off, len) + fold16(initial);
  }
  if (len >= WIDE_MIN) {
    const ab = buffers.of(b);
    const base = buffers.base;
    if (((base + off) & 1) === 0) return sum16Wide(b, off, len, initial, words.of(ab), base);
  }
  return sum16Bytes(b, off, len, fold16(initial));
}

/** Bytes from which sum16 reads 32-bit words. */
const WIDE_MIN = 64;

/** Bytes from which sum16 calls the native sum, once installed (a call costs ~40 ns; JS sums ~5 bytes/ns). */
const NATIVE_MIN = 256;

/** The folded sum of buf[off, off+len) (native/tk_csum.h csum16), or null: sum16 sums in JS. */
type NativeSum = (buf: ArrayBuffer, off: number, len: number) => number;
let nativeSum: NativeSum | null = null;

/**
 * Installs (or, with null, removes) a native implementation of the same sum
 * for ranges of NATIVE_MIN bytes or more. io/native.ts installs the addon's
 * csum16 when it loads it, so the daemon's data path sums long payloads in
 * C; wire/ itself imports no I/O, and a process without the addon (the CLI,
 * codec tests) keeps the JS loops. Results are identical either way (tested).
 */
export function useNativeSum(fn: NativeSum | null): void {
  nativeSum = fn;
}

/** The ArrayBuffer behind a view and its offset, for both wide sums (no TypedArray#buffer per call). */
const buffers = new ViewBases((buf) => buf as ArrayBuffer);

function sum16Bytes(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  const end = off + (len & ~1);
  let i = off;
  while (i < end) {
    const stop = Math.min(end, i + 2 * CHUNK_WORDS);
    let acc = 0;
    for (; i + 8 <= stop; i += 8) {
      acc += ((b[i]! << 8) | b[i + 1]!) + ((b[i + 2]! << 8) | b[i + 3]!) +
        ((b[i + 4]! << 8) | b[i + 5]!) + ((b[i + 6]! << 8) | b[i + 7]!);
    }
    for (; i < stop; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
    s = (s & 0xffff) + (s >>> 16) + (acc & 0xffff) + (acc >>> 16);
  }
  if (len & 1) s += b[i]! << 8;
  return s;
}

/** sum16 of a range starting at an even address, the aligned middle read as 32-bit words (w: b's whole buffer, base: b.byteOffset). */
function sum16Wide(b: Uint8Array, off: number, len: number, initial: number, w: Uint32Array, base: number): number {
  let i = off;
  const end = off + len;
  let head = 0;
  if (((base + i) & 3) !== 0) { // even but not 4-aligned: one big-endian word first
    head = (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  let k = (base + i) >>> 2;
  const kEnd = k + ((end - i) >>> 2);
  let acc = 0;
  while (k < kEnd) {
    const stop = Math.min(kEnd, k + CHUNK_WORDS / 2);
    let a = 0;
    for (; k + 4 <= stop; k += 4) {
      const x0 = w[k]!, x1 = w[k + 1]!, x2 = w[k + 2]!, x3 = w[k + 3]!;
      a += (x0 & 0xffff) + (x0 >>> 16) + (x1 & 0xffff) + (x1 >>> 16) + (x2 & 0xffff) + (x2 >>> 16) + (x3 & 0xffff) + (x3 >>> 16);
    }
    for (; k < stop; k++) {
      const x = w[k]!;
      a += (x & 0xffff) + (x >>> 16);
    }
    acc = (acc & 0xffff) + (acc >>> 16) + (a & 0xffff) + (a >>> 16);
  }
  i = k * 4 - base;
  const wide = fold16(acc);
  const s = (HOST_LE ? ((wide & 0xff) << 8) | (wide >>> 8) : wide) + head + fold16(initial);
  return sum16Bytes(b, i, end - i, s); // the 0-3 bytes left
}

/** Whether the host stores a Uint32Array element little-endian (x86, arm64): sum16Wide swaps its sum. */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Uint32Array views over whole ArrayBuffers for sum16Wide: nothing allocated per call. */
const words = new WholeBufferViews((buf) => new Uint32Array(buf, 0, buf.byteLength >>> 2));

/** Words per sum16 chunk: 16384 * 0xffff < 2^30 (V8's small-integer range). */
const CHUNK_WORDS = 16384;

/** Folds a partial sum to 16 bits (end-around carry). */
export function fold16(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for data whose partial sum is `sum`: ~fold(sum). */
export const finish16 = (sum: number): number => ~fold16(sum) & 0xffff;

/** Checksum of one range, ready to store (field must be zero in the data, or be excluded). */
export const checksum16 = (b: Uint8Array, off: number, len: number, initial = 0): number =>
  finish16(sum16(b, off, len, initial));

/** True when a range that *includes* its checksum field sums to 0xffff. */
export const verify16 = (b: Uint8Array, off: number, len: number, initial = 0): boolean =>
  fold16(sum16(b, off, len, initial)) === 0xffff;

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word changes from `oldWord`
 * to `newWord`: HC' = ~(~HC + ~m + m'). Used by IP_ECN_set_ce-style header edits
 * (include/net/inet_ecn.h) and TTL/TOS rewrites.
 */
export function csumReplace16(check: number, oldWord: number, newWord: number): number {
  const s = (~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold16(s) & 0xffff;
}

/**
 * Unfolded sum of the IPv4 pseudo-header (RFC 768 / RFC 793): src, dst,
 * zero+protocol, upper-layer length. Chain it as `initial` into sum16.
 */
export const pseudoSum4 = (src: number, dst: number, proto: number, len: number): number =>
  (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;

/**
 * pseudoSum4 read from the IPv4 header at b[ipOff] (its src and dst words):
 * no address passes through a uint32 number, which V8 boxes above 2^31.
 */
export const pseudoSum4At = (b: Uint8Array, ipOff: number, proto: number, len: number): number =>
  sum16(b, ipOff + 12, 8) + proto + len;

/**
 * Unfolded sum of the IPv6 pseudo-header (RFC 8200 §8.1): the 16-byte source
 * at b[srcOff], destination at b[dstOff], 32-bit upper-layer length and next
 * header. The addresses may live in different buffers via the two-buffer form.
 */
export function pseudoSum6(
  srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number, proto: number, len: number,
): number {
  return sum16(srcBuf, srcOff, 16, sum16(dstBuf, dstOff, 16, 0)) + (len >>> 16) + (len & 0xffff) + proto;
}
