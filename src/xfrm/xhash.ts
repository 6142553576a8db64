// Allocation-free hashing of addresses for the SAD/SPD hash tables (the
// role of the kernel's __xfrm4_addr_hash / __xfrm6_addr_hash, jhash and
// xfrm_spi_hash in include/net/xfrm.h and net/xfrm/xfrm_hash.h; the
// function itself is ours). Hashes are only bucket selectors: every table
// still compares the full key, so collisions cost time, never correctness.
//
// Results are masked to 30 bits so a Map key is always a small integer
// (a V8 Smi on every build): a u32 ≥ 2^31 would be a heap number, boxed
// (allocated) when passed to Map.get per packet.

import { be32s } from '../wire/bytes.js';

/** The start value for hashMix chains. */
export const HASH_SEED = 0x2545f491;

/** Mixes one 32-bit word into h (a multiply-xorshift step). */
export function hashWord(h: number, w: number): number {
  let x = Math.imul(h ^ w, 0x9e3779b1);
  x ^= x >>> 15;
  return Math.imul(x, 0x85ebca6b);
}

/** Mixes n bytes (4 or 16: an IPv4 or IPv6 address) of b at off into h. */
export function hashAddr(h: number, b: Uint8Array, off: number, n: number): number {
  for (let i = 0; i < n; i += 4) {
    h = hashWord(h, be32s(b, off + i));
  }
  return h;
}

/** The final Map key of a hash chain: a non-negative 30-bit integer. */
export const hashKey = (h: number): number => (h ^ (h >>> 13)) & 0x3fffffff;

/** Equal n bytes at a[ao] and b[bo]. */
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
