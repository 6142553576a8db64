// Hand-built outer packets for the netns system tests' injector (pair.ts
// inject()). Deliberately independent of src/wire: a system test should not
// trust the codecs it is checking. Every builder returns a fresh Uint8Array
// in network byte order.
//
//   ip4()   IPv4 header (no options) + payload, header checksum filled
//   gre()   GRE header (RFC 2784/2890: C, K, S bits; version; routing bit)
//   icmp4Echo(), icmp6Echo()  inner payloads a tunnel device would accept

/** RFC 1071 one's-complement sum over b[off, off+len), folded; `init` is a partial sum. */
export function csum16(b: Uint8Array, off = 0, len = b.length - off, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  if ((len & 1) === 1) s += b[off + len - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** "198.51.100.1" → 4 bytes. */
export function a4(s: string): Uint8Array {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address ${s}`);
  return Uint8Array.from(p);
}

/** "2001:db8::1" → 16 bytes. */
export function a6(s: string): Uint8Array {
  const [head = '', tail] = s.split('::');
  const hs = head === '' ? [] : head.split(':');
  const ts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  if (groups.length !== 8) throw new Error(`bad IPv6 address ${s}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

export function cat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const put16 = (b: Uint8Array, off: number, v: number): void => { b[off] = (v >>> 8) & 0xff; b[off + 1] = v & 0xff; };
const put32 = (b: Uint8Array, off: number, v: number): void => { put16(b, off, v >>> 16); put16(b, off + 2, v & 0xffff); };

export interface Ip4Opts {
  readonly proto: number;
  readonly src: string;
  readonly dst: string;
  readonly payload: Uint8Array;
  readonly ttl?: number;
  readonly tos?: number;
  readonly df?: boolean;
  readonly id?: number;
  /** Override the total length field (what a hostile sender claims); default the real length. */
  readonly totalLen?: number;
  /** Fragment offset in 8-byte units and the MF bit. */
  readonly fragOffset?: number;
  readonly mf?: boolean;
}

/** An IPv4 packet (20-byte header) with a correct header checksum. */
export function ip4(o: Ip4Opts): Uint8Array {
  const b = new Uint8Array(20 + o.payload.length);
  b[0] = 0x45;
  b[1] = o.tos ?? 0;
  put16(b, 2, o.totalLen ?? b.length);
  put16(b, 4, o.id ?? 0x1234);
  put16(b, 6, (o.df === true ? 0x4000 : 0) | (o.mf === true ? 0x2000 : 0) | (o.fragOffset ?? 0));
  b[8] = o.ttl ?? 64;
  b[9] = o.proto;
  b.set(a4(o.src), 12);
  b.set(a4(o.dst), 16);
  put16(b, 10, csum16(b, 0, 20));
  b.set(o.payload, 20);
  return b;
}

export interface GreOpts {
  /** Protocol type: 0x0800 IPv4, 0x86dd IPv6, 0x6558 transparent Ethernet bridging. */
  readonly proto: number;
  readonly payload: Uint8Array;
  readonly key?: number;
  readonly seq?: number;
  /** true: C bit with the correct checksum; a number: C bit with this (wrong) checksum value. */
  readonly csum?: boolean | number;
  /** Version field (0 for GRE; 1 is PPTP's enhanced GRE). */
  readonly version?: number;
  /** Sets the R (routing present) bit, which gre_parse_header refuses. */
  readonly routing?: boolean;
}

/** A GRE header + payload (RFC 2784, key/sequence per RFC 2890). */
export function gre(o: GreOpts): Uint8Array {
  const hasC = o.csum !== undefined && o.csum !== false;
  const hlen = 4 + (hasC ? 4 : 0) + (o.key !== undefined ? 4 : 0) + (o.seq !== undefined ? 4 : 0);
  const b = new Uint8Array(hlen + o.payload.length);
  const flags = (hasC ? 0x8000 : 0) | (o.routing === true ? 0x4000 : 0) | (o.key !== undefined ? 0x2000 : 0)
    | (o.seq !== undefined ? 0x1000 : 0) | ((o.version ?? 0) & 7);
  put16(b, 0, flags);
  put16(b, 2, o.proto);
  let off = 4 + (hasC ? 4 : 0);
  if (o.key !== undefined) { put32(b, off, o.key); off += 4; }
  if (o.seq !== undefined) put32(b, off, o.seq);
  b.set(o.payload, hlen);
  if (hasC) put16(b, 4, typeof o.csum === 'number' ? o.csum : csum16(b));
  return b;
}

/** An ICMP echo request (type 8) with `dataLen` bytes of pattern data. */
export function icmp4Echo(id: number, seq: number, dataLen = 56): Uint8Array {
  const b = new Uint8Array(8 + dataLen);
  b[0] = 8;
  put16(b, 4, id);
  put16(b, 6, seq);
  for (let i = 0; i < dataLen; i++) b[8 + i] = i & 0xff;
  put16(b, 2, csum16(b));
  return b;
}

/** An IPv4 packet carrying an ICMP echo request (what `ping` would send). */
export function ping4(src: string, dst: string, seq: number, dataLen = 56): Uint8Array {
  return ip4({ proto: 1, src, dst, payload: icmp4Echo(0x7475, seq, dataLen), df: true });
}

/** An IPv6 packet carrying an ICMPv6 echo request. */
export function ping6(src: string, dst: string, seq: number, dataLen = 56): Uint8Array {
  const b = new Uint8Array(40 + 8 + dataLen);
  b[0] = 0x60;
  put16(b, 4, 8 + dataLen);
  b[6] = 58;
  b[7] = 64;
  b.set(a6(src), 8);
  b.set(a6(dst), 24);
  b[40] = 128;
  put16(b, 44, 0x7475);
  put16(b, 46, seq);
  for (let i = 0; i < dataLen; i++) b[48 + i] = i & 0xff;
  // Pseudo-header: src, dst, upper-layer length, next header.
  const pseudo = new Uint8Array(40);
  pseudo.set(b.subarray(8, 40), 0);
  put32(pseudo, 32, 8 + dataLen);
  pseudo[39] = 58;
  const partial = (~csum16(pseudo)) & 0xffff;
  put16(b, 42, csum16(b, 40, 8 + dataLen, partial));
  return b;
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
export function noise(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed | 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
