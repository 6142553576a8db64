// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
// Sums are carried as plain numbers and folded only at the end; callers that
// checksum several ranges (pseudo-header + payload) chain `sum16` results.

/**
 * One's-complement sum of b[off, off+len) as 16-bit big-endian words, added
 * to `initial` (a partial sum). An odd trailing byte is padded with a zero
 * low byte. Returns a partial sum (may exceed 0xffff; fold16 it), congruent
 * to the exact sum, so results chain.
 *
 * Speed: words are added in chunks of at most 16384, whose total stays below
 * 2^30, so V8 keeps every intermediate a small integer (no heap numbers);
 * each chunk is folded into the running sum (end-around carry, RFC 1071 §2).
 */
export function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  let s = fold16(initial);
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
 * Unfolded sum of the IPv6 pseudo-header (RFC 8200 §8.1): the 16-byte source
 * at b[srcOff], destination at b[dstOff], 32-bit upper-layer length and next
 * header. The addresses may live in different buffers via the two-buffer form.
 */
export function pseudoSum6(
  srcBuf: Uint8Array, srcOff: number, dstBuf: Uint8Array, dstOff: number, proto: number, len: number,
): number {
  return sum16(srcBuf, srcOff, 16, sum16(dstBuf, dstOff, 16, 0)) + (len >>> 16) + (len & 0xffff) + proto;
}
