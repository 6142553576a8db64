// ESP output for one SA, in place (net/xfrm/xfrm_output.c xfrm_output_one,
// net/ipv4/esp4.c esp_output / esp_output_udp_encap).
//
//   xfrm_state_check_expire   hard limit → XfrmOutStateExpired; soft → event
//   xfrm_replay_overflow      no sequence number left → XfrmOutStateSeqError
//   curlft += skb->len        after xfrm_outer_mode_output, which only sets
//                             header offsets (xfrm4_tunnel_encap_add) or pulls
//                             the IPv4 header (xfrm4_transport_output): the
//                             inner packet (tunnel) or the payload (transport)
//   esp_output                TFC padding (tunnel mode, tfcpad), padding to
//                             the block, Pad Length, Next Header; ESP header;
//                             seal (IV + ciphertext + ICV)
//   esp_output_udp_encap      UDP header (checksum 0), 8 zero bytes more for
//                             espinudp-nonike
//   xfrm4_tunnel_encap_add    outer IPv4: TOS = inner DS (0 with
//                             dont-encap-dscp) with INET_ECN_encapsulate,
//                             ECN cleared under noecn; DF copied from an
//                             IPv4 inner, set for an IPv6 inner over 1280
//                             bytes, never under nopmtudisc; TTL 64 (the
//                             route's hop limit); ID from the stack
//   xfrm4_transport_output    the IPv4 header moves in front of the ESP
//                             header; protocol, total length, checksum
//
// Buffer contract: the packet is b[off, off+len) (the inner packet for
// tunnel mode, the whole IPv4 packet for transport mode) in a slot that
// ends at b[end] (the caller's packet slot, not the whole slab), with at
// least x.headerLen bytes of headroom before it and the trailer (padding,
// Pad Length, Next Header, ICV) room before `end` (else XDrop.NoRoom). TFC
// padding is clamped to what the slot holds. On true the outer packet is
// b[r.off, r.off+r.len) for r.dst. Nothing is allocated.
//
// Deferred seal (seal-queue.ts): with a queue `q` that has room, every
// header and the trailer are written but the seal (IV, ciphertext, ICV) is
// recorded as q entry r.sealIdx; the bytes from the IV on are plaintext
// until XfrmStack.sealPending(q). Without one (or when it is full) the
// packet is sealed here and r.sealIdx is -1.

import { be32s, put16, put32 } from '../wire/bytes.js';
import { checksum16 } from '../wire/checksum.js';
import { emitEspTrailer, espPlen, ESP_HDR_LEN } from '../wire/esp.js';
import { IPPROTO_ESP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_UDP } from '../wire/ipproto.js';
import {
  UDP_ENCAP_ESPINUDP_NON_IKE, XFRM_MODE_TUNNEL, XFRM_SA_XFLAG_DONT_ENCAP_DSCP, XFRM_SA_XFLAG_OSEQ_MAY_WRAP,
  XFRM_STATE_NOECN, XFRM_STATE_NOPMTUDISC,
} from './config.js';
import { XfrmStat } from './mib.js';
import { XDrop } from './result.js';
import type { XfrmResult } from './result.js';
import type { SealQueue } from './seal-queue.js';
import { Expiry } from './state.js';
import type { XfrmState } from './state.js';

/** ip4_dst_hoplimit with the default sysctl net.ipv4.ip_default_ttl. */
export const XFRM_OUTER_TTL = 64;

/**
 * esp4_get_mtu (xfrm_state_mtu): the largest payload (inner packet for
 * tunnel mode, transport payload + 20 for transport mode) that fits an
 * outer path MTU of `mtu` bytes.
 */
export function espPayloadMtu(x: XfrmState, mtu: number): number {
  const netAdj = x.cfg.mode !== XFRM_MODE_TUNNEL ? 20 : 0;
  const blk = x.crypto.blockAlign;
  return ((mtu - x.headerLen - x.crypto.icvLen - netAdj) & ~(blk - 1)) + netAdj - 2;
}

/** INET_ECN_encapsulate: the outer DS byte from a chosen outer and the inner DS byte. */
const ecnEncap = (outer: number, inner: number): number => {
  const ecn = inner & 3;
  return (outer & 0xfc) | (ecn === 3 ? 2 : ecn);
};

/**
 * Encapsulates one packet with SA x. Returns false (r.mib / r.drop say why)
 * or true with the outer packet in r. r.softExpired is set when this packet
 * crossed a soft limit (the caller raises the expire event once). q: see
 * the file comment (null: sealed here).
 */
export function espOutput(
  x: XfrmState, b: Uint8Array, off: number, len: number, mtu: number, ident: number, nowMs: number, r: XfrmResult,
  end = b.length, q: SealQueue | null = null,
): boolean {
  const c = x.cfg;
  const isTunnel = c.mode === XFRM_MODE_TUNNEL;
  const ver = len > 0 ? b[off]! >>> 4 : 0;
  const hl = isTunnel ? 0 : (b[off]! & 0xf) << 2;
  if ((!isTunnel && (ver !== 4 || c.family !== 4 || hl < 20 || hl > len)) || (isTunnel && ver !== 4 && ver !== 6) || len < 20) {
    r.mib = XfrmStat.OutStateModeError;
    return false;
  }
  const payOff = off + hl;
  const payLen = len - hl;
  let tfcLen = 0;
  if (isTunnel && c.tfcpad !== 0) {
    const padto = Math.min(c.tfcpad, espPayloadMtu(x, mtu));
    if (payLen < padto) tfcLen = padto - payLen;
    // The slot is sized from the device MTUs, the path MTU may be larger: pad only as far as the
    // slot holds the worst-case block padding, Pad Length, Next Header and ICV after it.
    const room = end - payOff - payLen - (x.crypto.blockAlign - 1) - 2 - x.crypto.icvLen;
    if (tfcLen > room) tfcLen = Math.max(0, room);
  }
  const plen = espPlen(payLen, tfcLen, x.crypto.blockAlign);
  const ptLen = payLen + tfcLen + plen;
  const espOff = payOff - ESP_HDR_LEN - x.crypto.ivLen;
  const udpLen = c.encap !== null ? (c.encap.type === UDP_ENCAP_ESPINUDP_NON_IKE ? 16 : 8) : 0;
  const ipOff = espOff - udpLen - (isTunnel ? 20 : hl);
  if (ipOff < 0 || payOff + ptLen + x.crypto.icvLen > end || end > b.length) {
    r.drop = XDrop.NoRoom;
    return false;
  }
  const exp = x.checkExpire(nowMs);
  if (exp === Expiry.Hard) {
    r.mib = XfrmStat.OutStateExpired;
    return false;
  }
  r.softExpired = exp === Expiry.Soft;
  if (!x.replay.nextOutput((c.xflags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP) !== 0)) {
    r.mib = XfrmStat.OutStateSeqError;
    return false;
  }
  x.count(payLen);
  const nextHeader = isTunnel ? (ver === 4 ? IPPROTO_IPIP : IPPROTO_IPV6) : b[off + 9]!;
  // Transport mode: move the IPv4 header first (the ESP header overwrites its old place).
  if (!isTunnel) b.copyWithin(ipOff, off, off + hl);
  else writeTunnelHeader(x, b, ipOff, off, len, ver, ident);
  emitEspTrailer(b, payOff + payLen, tfcLen, plen - 2, nextHeader);
  put32(b, espOff, x.spiS);
  put32(b, espOff + 4, x.replay.oseq | 0); // int32 bits, as spiS: never boxed past 2^31 packets
  if (q !== null && !q.isFull) r.sealIdx = q.add(x, b, espOff, ptLen, x.replay.oseqHi);
  else x.crypto.seal(b, espOff, ptLen, x.replay.oseqHi);
  const total = espOff + ESP_HDR_LEN + x.crypto.ivLen + ptLen + x.crypto.icvLen - ipOff;
  if (c.encap !== null) writeUdp(x, b, espOff - udpLen, total - (espOff - udpLen - ipOff));
  finishIp4(b, ipOff, total, c.encap !== null ? IPPROTO_UDP : IPPROTO_ESP, isTunnel ? ident : -1);
  r.off = ipOff;
  r.len = total;
  r.dst = be32s(c.dst.bytes, 0); // int32 bits: always a small integer, never a boxed number (be32s)
  r.state = x;
  return true;
}

/** xfrm4_tunnel_encap_add: the 20-byte outer header (length/protocol/checksum filled later). */
function writeTunnelHeader(x: XfrmState, b: Uint8Array, ipOff: number, inOff: number, inLen: number, ver: number, ident: number): void {
  const c = x.cfg;
  const innerDs = ver === 4 ? b[inOff + 1]! : ((b[inOff]! & 0xf) << 4) | (b[inOff + 1]! >>> 4);
  let df = ver === 4 ? (b[inOff + 6]! & 0x40) !== 0 : inLen > 1280;
  let tos = (c.xflags & XFRM_SA_XFLAG_DONT_ENCAP_DSCP) !== 0 ? 0 : innerDs;
  tos = ecnEncap(tos, innerDs);
  if ((c.flags & XFRM_STATE_NOECN) !== 0) tos &= 0xfc;
  if ((c.flags & XFRM_STATE_NOPMTUDISC) !== 0) df = false;
  b[ipOff] = 0x45;
  b[ipOff + 1] = tos;
  put16(b, ipOff + 4, ident & 0xffff);
  put16(b, ipOff + 6, df ? 0x4000 : 0);
  b[ipOff + 8] = XFRM_OUTER_TTL;
  put32(b, ipOff + 12, be32s(c.src.bytes, 0)); // no subarray view: nothing allocated per packet
  put32(b, ipOff + 16, be32s(c.dst.bytes, 0));
}

/** esp_output_udp_encap: sport/dport from the SA, length, checksum 0 (RFC 3948 §2.1); NON_IKE adds an 8-byte zero marker. */
function writeUdp(x: XfrmState, b: Uint8Array, udpOff: number, udpTotal: number): void {
  const e = x.cfg.encap!;
  put16(b, udpOff, e.sport);
  put16(b, udpOff + 2, e.dport);
  put16(b, udpOff + 4, udpTotal);
  put16(b, udpOff + 6, 0);
  if (e.type === UDP_ENCAP_ESPINUDP_NON_IKE) b.fill(0, udpOff + 8, udpOff + 16);
}

/** Total length, protocol, (ID for a new header) and the header checksum of the IPv4 header at b[ipOff]. */
function finishIp4(b: Uint8Array, ipOff: number, total: number, proto: number, ident: number): void {
  put16(b, ipOff + 2, total);
  if (ident >= 0) put16(b, ipOff + 4, ident & 0xffff);
  b[ipOff + 9] = proto;
  put16(b, ipOff + 10, 0);
  const hl = (b[ipOff]! & 0xf) << 2;
  put16(b, ipOff + 10, checksum16(b, ipOff, hl));
}
