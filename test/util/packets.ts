// Packet builders for core tests, written with the wire/ emitters so every
// packet is well formed unless a test breaks it on purpose.
import { parseIp4 as addr4, parseIp6 as addr6 } from '../../src/wire/addr.js';
import { emitEth, EthFrame } from '../../src/wire/eth.js';
import { emitGre, GrePacket } from '../../src/wire/gre.js';
import { emitIp4, Ip4Packet } from '../../src/wire/ip4.js';
import { emitIp6, Ip6Packet } from '../../src/wire/ip6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../../src/wire/ipproto.js';
import { put16 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';

export const a4 = (s: string): number => {
  const v = addr4(s);
  if (v === null) throw new Error(`bad test address ${s}`);
  return v;
};
export const a6 = (s: string): Uint8Array => {
  const v = addr6(s);
  if (v === null) throw new Error(`bad test address ${s}`);
  return v;
};

export interface Ip4Opts { src?: string; dst?: string; proto?: number; tos?: number; ttl?: number; df?: boolean; id?: number; payloadLen?: number }

/** An IPv4 packet (default: ICMP echo request 192.0.2.1 → 192.0.2.2 with `payloadLen` bytes after the IP header). */
export function ip4(o: Ip4Opts = {}): Uint8Array {
  const payloadLen = o.payloadLen ?? 64;
  const b = new Uint8Array(20 + payloadLen);
  const v = new Ip4Packet();
  v.bind(b, 0, b.length);
  emitIp4({
    tos: o.tos ?? 0, ident: o.id ?? 0x1234, df: o.df ?? false, mf: false, fragOffset: 0, ttl: o.ttl ?? 64,
    protocol: o.proto ?? IPPROTO_ICMP, src: a4(o.src ?? '192.0.2.1'), dst: a4(o.dst ?? '192.0.2.2'), payloadLen, options: new Uint8Array(0),
  }, v);
  if ((o.proto ?? IPPROTO_ICMP) === IPPROTO_ICMP && payloadLen >= 8) {
    b[20] = 8; // echo request
    for (let i = 28; i < b.length; i++) b[i] = i & 0xff;
    put16(b, 22, checksum16(b, 20, payloadLen));
  }
  return b;
}

export interface Ip6Opts { src?: string; dst?: string; tclass?: number; hop?: number; payloadLen?: number; nextHeader?: number }

/** An IPv6 packet (default: ICMPv6 echo-request-shaped payload 2001:db8::1 → 2001:db8::2). */
export function ip6(o: Ip6Opts = {}): Uint8Array {
  const payloadLen = o.payloadLen ?? 64;
  const b = new Uint8Array(40 + payloadLen);
  const v = new Ip6Packet();
  v.bind(b, 0, b.length);
  emitIp6({
    trafficClass: o.tclass ?? 0, flowLabel: 0, payloadLen, nextHeader: o.nextHeader ?? IPPROTO_ICMPV6,
    hopLimit: o.hop ?? 64, src: a6(o.src ?? '2001:db8::1'), dst: a6(o.dst ?? '2001:db8::2'),
  }, v);
  if (payloadLen > 0) b[40] = 128;
  return b;
}

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);

/** An Ethernet frame around `payload`. */
export function eth(payload: Uint8Array, etherType: number, dst = MAC_B, src = MAC_A): Uint8Array {
  const b = new Uint8Array(14 + payload.length);
  const v = new EthFrame();
  v.bind(b, 0, b.length);
  emitEth({ dst, src, etherType }, v);
  b.set(payload, 14);
  return b;
}

/** A buffer with `headroom` spare bytes (filled with 0xee) before a copy of `pkt`. */
export function withHeadroom(pkt: Uint8Array, headroom = 64): { buf: Uint8Array; off: number; len: number } {
  const buf = new Uint8Array(headroom + pkt.length).fill(0xee);
  buf.set(pkt, headroom);
  return { buf, off: headroom, len: pkt.length };
}

export interface OuterOpts { src?: string; dst?: string; proto: number; tos?: number; ttl?: number; df?: boolean }

/** An outer IPv4 packet carrying `payload` (for receive tests). */
export function outer4(payload: Uint8Array, o: OuterOpts): Uint8Array {
  const b = ip4({ ...o, payloadLen: payload.length, src: o.src ?? '198.51.100.2', dst: o.dst ?? '198.51.100.1' });
  b.set(payload, 20);
  return b;
}

export interface GreOpts { proto: number; key?: number | null; seq?: number | null; csum?: boolean }

/** A GRE packet (header + payload) with its checksum filled when `csum`. */
export function gre(payload: Uint8Array, o: GreOpts): Uint8Array {
  const hlen = 4 + (o.csum ? 4 : 0) + (o.key != null ? 4 : 0) + (o.seq != null ? 4 : 0);
  const b = new Uint8Array(hlen + payload.length);
  const v = new GrePacket();
  v.bind(b, 0, b.length);
  emitGre({ protocolType: o.proto, checksum: o.csum ?? false, key: o.key ?? null, seq: o.seq ?? null }, v);
  b.set(payload, hlen);
  if (o.csum) v.fillChecksum();
  return b;
}
