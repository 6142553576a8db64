// Sample inner packets for the offline demo: ICMP/ICMPv6 echo requests and
// the replies a host would send back, built with the wire/ codecs.

import { parseIp4 as addr4, parseIp6 as addr6 } from '../wire/addr.js';
import { emitEth, EthFrame, ETH_P_IP } from '../wire/eth.js';
import { emitIcmp4, Icmp4Packet, icmp4Echo } from '../wire/icmp4.js';
import { emitIcmp6, Icmp6Packet, icmp6Echo } from '../wire/icmp6.js';
import { emitIp4, Ip4Packet } from '../wire/ip4.js';
import { emitIp6, Ip6Packet } from '../wire/ip6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../wire/ipproto.js';

const must = <T>(v: T | null, what: string): T => {
  if (v === null) throw new Error(`demo: bad address ${what}`);
  return v;
};

export interface EchoOpts { tos?: number; df?: boolean; dataLen?: number; ttl?: number }

/** An IPv4 ICMP echo request (or reply) with `dataLen` bytes of data. */
export function echo4(src: string, dst: string, seq: number, reply = false, o: EchoOpts = {}): Uint8Array {
  const dataLen = o.dataLen ?? 56;
  const b = new Uint8Array(28 + dataLen);
  const ip = new Ip4Packet();
  ip.bind(b, 0, b.length);
  emitIp4({
    tos: o.tos ?? 0, ident: 0x4000 + seq, df: o.df ?? true, mf: false, fragOffset: 0, ttl: o.ttl ?? 64,
    protocol: IPPROTO_ICMP, src: must(addr4(src), src), dst: must(addr4(dst), dst), payloadLen: 8 + dataLen,
    options: new Uint8Array(0),
  }, ip);
  const ic = new Icmp4Packet();
  ic.bind(b, 20, 8 + dataLen);
  emitIcmp4(icmp4Echo(0x7475, seq, reply), ic);
  for (let i = 28; i < b.length; i++) b[i] = (i - 28) & 0xff;
  ic.fillChecksum();
  return b;
}

/** An ICMPv6 echo request (or reply). */
export function echo6(src: string, dst: string, seq: number, reply = false): Uint8Array {
  const b = new Uint8Array(40 + 8 + 56);
  const ip = new Ip6Packet();
  ip.bind(b, 0, b.length);
  emitIp6({
    trafficClass: 0, flowLabel: 0, payloadLen: 64, nextHeader: IPPROTO_ICMPV6, hopLimit: 64,
    src: must(addr6(src), src), dst: must(addr6(dst), dst),
  }, ip);
  const ic = new Icmp6Packet();
  ic.bind(b, 40, 64);
  emitIcmp6(icmp6Echo(0x7475, seq, reply), ic);
  for (let i = 48; i < b.length; i++) b[i] = (i - 48) & 0xff;
  ic.fillChecksum(b, ip.srcOffset, b, ip.dstOffset);
  return b;
}

/** An Ethernet frame carrying `ip` from MAC `src` to MAC `dst` (6-byte arrays). */
export function frame(ip: Uint8Array, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const b = new Uint8Array(14 + ip.length);
  const e = new EthFrame();
  e.bind(b, 0, b.length);
  emitEth({ dst, src, etherType: ETH_P_IP }, e);
  b.set(ip, 14);
  return b;
}
