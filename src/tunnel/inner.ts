// Small reads of the inner packet shared by the transmit and receive paths.

import { be16, be32 } from '../wire/bytes.js';
import { ETH_P_IP, ETH_P_IPV6 } from '../wire/eth.js';
import type { Tunnel } from './tunnel.js';

/** Payload protocol of the inner packet as skb->protocol would say: ETH_P_IP, ETH_P_IPV6, another EtherType, or 0. */
export function payloadProto(t: Tunnel, b: Uint8Array, off: number, len: number): number {
  if (t.hhLen !== 0) return len >= t.hhLen ? be16(b, off + 12) : 0;
  if (len < 1) return 0;
  const v = b[off]! >>> 4;
  return v === 4 ? ETH_P_IP : v === 6 ? ETH_P_IPV6 : 0;
}

/** Bytes of inner network header pskb_inet_may_pull insists on. */
export const innerNeed = (proto: number): number => (proto === ETH_P_IP ? 20 : proto === ETH_P_IPV6 ? 40 : 0);

/** Traffic class of the IPv6 header at b[nh] (ipv6_get_dsfield). */
export const tclassAt = (b: Uint8Array, nh: number): number => ((b[nh]! & 0x0f) << 4) | (b[nh + 1]! >>> 4);

/** IPv4 address of a v4-compatible IPv6 address at b[a] (ipv6_addr_type COMPATv4), or 0. */
export function v4CompatAt(b: Uint8Array, a: number): number {
  for (let i = 0; i < 12; i++) if (b[a + i] !== 0) return 0;
  const v = be32(b, a + 12);
  return v > 1 ? v : 0; // :: is ANY, ::1 is LOOPBACK
}

/** try_6rd with the default 6to4 prefix 2002::/16: the IPv4 address in bits 16..47, or 0. */
export function sixToFourAt(b: Uint8Array, a: number): number {
  if (b[a] !== 0x20 || b[a + 1] !== 0x02) return 0;
  return be32(b, a + 2);
}
