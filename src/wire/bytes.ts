// Big-endian integer access over Uint8Array: the only module that indexes
// packet bytes directly. Contract: callers have passed a view's wrap()/check()
// (or otherwise proved the range), so every index here is in bounds.
// u32 results are unsigned (`>>> 0`); no BigInt anywhere (style.md §5).

export const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

export const be32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

export function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8;
  b[i + 1] = v;
}

export function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = v >>> 16;
  b[i + 2] = v >>> 8;
  b[i + 3] = v;
}

/** True when b[off, off+len) lies inside b (arguments already known to be integers). */
export const inBounds = (b: Uint8Array, off: number, len: number): boolean =>
  off >= 0 && len >= 0 && off + len <= b.length;

/** inBounds for untrusted arguments: also false for non-integers (NaN, 1.5, ±Infinity). */
export const spanOk = (b: Uint8Array, off: number, len: number): boolean =>
  Number.isInteger(off) && Number.isInteger(len) && inBounds(b, off, len);

/** Byte-wise equality of two ranges (control plane and tests; no allocation). */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** Lower-case hex of b[off, off+len): for traces, tests and the CLI, never the data path. */
export function toHex(b: Uint8Array, off = 0, len = b.length - off): string {
  let s = '';
  for (let i = 0; i < len; i++) s += b[off + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Parses an even-length hex string (whitespace ignored); null if malformed. */
export function fromHex(hex: string): Uint8Array | null {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return null;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}
