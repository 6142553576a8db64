// Big-endian integer access over Uint8Array: the only module that indexes
// packet bytes directly. Contract: callers have passed a view's wrap()/check()
// (or otherwise proved the range), so every index here is in bounds.
// u32 results are unsigned (`>>> 0`); no BigInt anywhere (style.md §5).

export const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

export const be32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/**
 * The same 32 bits as a signed int32 (be32(b, i) | 0): always a V8 small
 * integer, where a uint32 of 2^31 or more is a heap number (one allocation
 * wherever it is not kept in a register: an address of 128.0.0.0 and up).
 */
export const be32s = (b: Uint8Array, i: number): number =>
  (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;

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

/**
 * Netlink (netlink(7)) fields are in host byte order, not network order.
 * HOST_LE is true on little-endian hosts (x86, arm64); h16/h32 read and
 * putH16/putH32 write in host order. Same bounds contract as be16/be32.
 */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const h16 = (b: Uint8Array, i: number): number => (HOST_LE ? b[i]! | (b[i + 1]! << 8) : be16(b, i));

export const h32 = (b: Uint8Array, i: number): number =>
  HOST_LE ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0 : be32(b, i);

export function putH16(b: Uint8Array, i: number, v: number): void {
  if (!HOST_LE) { put16(b, i, v); return; }
  b[i] = v;
  b[i + 1] = v >>> 8;
}

export function putH32(b: Uint8Array, i: number, v: number): void {
  if (!HOST_LE) { put32(b, i, v); return; }
  b[i] = v;
  b[i + 1] = v >>> 8;
  b[i + 2] = v >>> 16;
  b[i + 3] = v >>> 24;
}

/**
 * Views over whole ArrayBuffers made by `make`, once per buffer, so a hot
 * loop that needs a view of some packet's whole buffer allocates nothing per
 * call. The last two buffers are checked first (a data path works in one or
 * two slabs at a time); the others are remembered in a WeakMap, so a data
 * path alternating between three or more slabs (several offload ports, the
 * receive arena, a second data path in a test) does not make a view per
 * call. A memo, not state: any two such views of one buffer are equal.
 */
export class WholeBufferViews<V> {
  private b0: ArrayBufferLike | null = null;
  private v0: V | null = null;
  private b1: ArrayBufferLike | null = null;
  private v1: V | null = null;
  private readonly all = new WeakMap<ArrayBufferLike, V>();

  constructor(private readonly make: (buf: ArrayBufferLike) => V) {}

  of(buf: ArrayBufferLike): V {
    if (buf === this.b0) return this.v0!;
    if (buf === this.b1) { // most recent first
      const v = this.v1!;
      this.b1 = this.b0;
      this.v1 = this.v0;
      this.b0 = buf;
      this.v0 = v;
      return v;
    }
    let v = this.all.get(buf);
    if (v === undefined) {
      v = this.make(buf);
      this.all.set(buf, v);
    }
    this.b1 = this.b0;
    this.v1 = this.v0;
    this.b0 = buf;
    this.v0 = v;
    return v;
  }
}

/**
 * WholeBufferViews looked up by the view a caller holds, not its buffer:
 * `of(v)` returns the memo's view of v's whole buffer and sets `base` to
 * v.byteOffset. TypedArray#buffer is a call into V8's C++ runtime (not
 * inlined by TurboFan, ~0.1 µs) and #byteOffset is often not inlined either,
 * so each view is asked once: the last four views are matched by identity,
 * the others found in a WeakMap (a TSO split writes into 64 slot views in
 * turn). A memo, not state: a view's buffer and offset never change (no
 * resizable or detached buffers here).
 */
export class ViewBases<V> {
  private readonly byBuffer: WholeBufferViews<V>;
  private readonly byView = new WeakMap<ArrayBufferView, { readonly whole: V; readonly base: number }>();
  private readonly keys: (ArrayBufferView | null)[] = [null, null, null, null];
  private readonly vals: (V | null)[] = [null, null, null, null];
  private readonly bases = new Int32Array(4);
  private next = 0;
  /** The byteOffset of the view passed to the latest of(). */
  base = 0;

  constructor(make: (buf: ArrayBufferLike) => V) {
    this.byBuffer = new WholeBufferViews(make);
  }

  of(v: ArrayBufferView): V {
    const k = this.keys;
    for (let i = 0; i < 4; i++) {
      if (k[i] === v) {
        this.base = this.bases[i]!;
        return this.vals[i]!;
      }
    }
    let e = this.byView.get(v);
    if (e === undefined) {
      e = { whole: this.byBuffer.of(v.buffer), base: v.byteOffset };
      this.byView.set(v, e);
    }
    const i = this.next;
    this.next = (i + 1) & 3;
    k[i] = v;
    this.vals[i] = e.whole;
    this.base = this.bases[i] = e.base;
    return e.whole;
  }
}
