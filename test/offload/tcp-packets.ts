// TCP packet builders and a reference checksum for the offload tests. Built
// byte by byte from RFC 791 / RFC 8200 / RFC 9293 layouts with plain arrays,
// independent of src/wire/, so the core is checked against something it
// does not share code with.
import { a4, a6 } from '../util/packets.js';

/** RFC 1071 one's-complement sum over bytes (plain loop), folded, not complemented. */
export function refSum(bytes: ArrayLike<number>, initial = 0): number {
  let s = initial;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! * 256 + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}
export const refChecksum = (bytes: ArrayLike<number>, initial = 0): number => 0xffff - refSum(bytes, initial);

/** Pseudo-header bytes (RFC 9293 §3.1 / RFC 8200 §8.1) for a TCP segment of `len` bytes. */
export function pseudo(pkt: Uint8Array, len: number): number[] {
  if (pkt[0]! >> 4 === 4) return [...pkt.subarray(12, 20), 0, 6, len >> 8, len & 255];
  return [...pkt.subarray(8, 40), 0, 0, len >> 8, len & 255, 0, 0, 0, 6];
}

/** True when the packet's TCP checksum verifies (pseudo-header + segment, reference sum). */
export function tcpChecksumValid(pkt: Uint8Array): boolean {
  const l3 = pkt[0]! >> 4 === 4 ? (pkt[0]! & 15) * 4 : 40;
  const seg = pkt.subarray(l3);
  return refSum([...pseudo(pkt, seg.length), ...seg]) === 0xffff;
}

export interface TcpOpts {
  v6?: boolean;
  src?: string; dst?: string;
  sport?: number; dport?: number;
  seq?: number; ack?: number;
  flags?: number; window?: number;
  options?: number[];
  payload: Uint8Array;
  // IPv4
  id?: number; df?: boolean; tos?: number; ttl?: number;
  // IPv6
  tclass?: number; flowLabel?: number; hop?: number;
  /** 'full' (default): valid checksum; 'partial': folded pseudo-header sum, as the kernel hands out with NEEDS_CSUM. */
  csum?: 'full' | 'partial';
}

export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

/** An IPv4 or IPv6 TCP packet (addresses default to 192.0.2.1 → 198.51.100.2 / 2001:db8::1 → 2001:db8::2). */
export function tcpPacket(o: TcpOpts): Uint8Array {
  const opts = o.options ?? [];
  if (opts.length % 4 !== 0) throw new Error('TCP options must be padded to 4 bytes');
  const th = 20 + opts.length;
  const l3 = o.v6 ? 40 : 20;
  const b = new Uint8Array(l3 + th + o.payload.length);
  if ((o.v6 ? b.length - 40 : b.length) > 0xffff) throw new Error('test packet over 64 KiB');
  const set16 = (i: number, v: number): void => { b[i] = (v >>> 8) & 255; b[i + 1] = v & 255; };
  const set32 = (i: number, v: number): void => { set16(i, (v >>> 16) & 0xffff); set16(i + 2, v & 0xffff); };
  if (!o.v6) {
    b[0] = 0x45; b[1] = o.tos ?? 0; set16(2, b.length); set16(4, o.id ?? 0x3000);
    set16(6, (o.df ?? true) ? 0x4000 : 0); b[8] = o.ttl ?? 64; b[9] = 6;
    set32(12, a4(o.src ?? '192.0.2.1')); set32(16, a4(o.dst ?? '198.51.100.2'));
    set16(10, refChecksum(b.subarray(0, 20)));
  } else {
    const tc = o.tclass ?? 0;
    const fl = o.flowLabel ?? 0x12345;
    b[0] = 0x60 | (tc >> 4); b[1] = ((tc & 15) << 4) | (fl >> 16); set16(2, fl & 0xffff);
    set16(4, th + o.payload.length); b[6] = 6; b[7] = o.hop ?? 64;
    b.set(a6(o.src ?? '2001:db8::1'), 8); b.set(a6(o.dst ?? '2001:db8::2'), 24);
  }
  const t = l3;
  set16(t, o.sport ?? 40000); set16(t + 2, o.dport ?? 5001);
  set32(t + 4, o.seq ?? 1000); set32(t + 8, o.ack ?? 7777);
  b[t + 12] = (th / 4) << 4; b[t + 13] = o.flags ?? ACK; set16(t + 14, o.window ?? 502);
  b.set(opts, t + 20);
  b.set(o.payload, t + th);
  const len = th + o.payload.length;
  const ps = pseudo(b, len);
  set16(t + 16, o.csum === 'partial' ? refSum(ps) : refChecksum([...ps, ...b.subarray(t)]));
  return b;
}

/** Payload bytes with a recognisable pattern (position-dependent, so misplaced copies show). */
export function pattern(n: number, seed = 0): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 7 + (i >> 8) + seed) & 255;
  return p;
}

/** TCP timestamps option padded to 12 bytes (NOP NOP TS), as Linux sends on an established flow. */
export const TS_OPTION = [1, 1, 8, 10, 0, 1, 2, 3, 0, 4, 5, 6];

/** A 10-byte little-endian virtio_net_hdr. */
export function vnet(flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): Uint8Array {
  const v = [flags, gsoType, hdrLen & 255, hdrLen >> 8, gsoSize & 255, gsoSize >> 8, csumStart & 255, csumStart >> 8, csumOffset & 255, csumOffset >> 8];
  return new Uint8Array(v);
}

/** vnet header + packet in one buffer. */
export function withVnet(h: Uint8Array, pkt: Uint8Array): Uint8Array {
  const b = new Uint8Array(h.length + pkt.length);
  b.set(h);
  b.set(pkt, h.length);
  return b;
}

/** A TSO super-packet as the kernel hands it out: NEEDS_CSUM, partial checksum, gso_type TCPV4/TCPV6 (| ECN). */
export function superPacket(o: TcpOpts, mss: number, ecn = false): Uint8Array {
  const pkt = tcpPacket({ ...o, csum: 'partial' });
  const l3 = o.v6 ? 40 : 20;
  const th = 20 + (o.options?.length ?? 0);
  return withVnet(vnet(1, (o.v6 ? 4 : 1) | (ecn ? 0x80 : 0), l3 + th, mss, l3, 16), pkt);
}

/** n slots of `size` bytes each, with `offset` headroom: a PacketBatch look-alike. */
export function slots(n: number, size: number, offset: number): { bufs: Uint8Array[]; sizes: Int32Array; offset: number } {
  const bufs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) bufs.push(new Uint8Array(size));
  return { bufs, sizes: new Int32Array(n), offset };
}

export const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
export const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
