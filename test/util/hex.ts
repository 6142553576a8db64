// Test helpers for hex vectors.
import { fromHex, toHex } from '../../src/wire/bytes.js';

/** Hex → bytes, throwing on malformed test data (a test bug, not input). */
export function hex(s: string): Uint8Array {
  const b = fromHex(s);
  if (b === null) throw new Error(`bad hex in test vector: ${s.slice(0, 40)}`);
  return b;
}

export { toHex };

/** A buffer of `len` bytes pre-filled with 0xa5, to catch fields never written (style.md §7). */
export const filled = (len: number, byte = 0xa5): Uint8Array => new Uint8Array(len).fill(byte);
