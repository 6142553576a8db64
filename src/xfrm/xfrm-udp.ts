// ESP in UDP (RFC 3948) on the input side of XfrmStack (xfrm.ts):
//
//   udpHeaders     a NAT-T socket payload gets back the IPv4 and UDP headers
//                  the socket stripped (inputUdp, prepareInput).
//   UdpEncapInput  UDP to the NAT-T port, as xfrm4_udp_encap_rcv sorts it:
//                  keepalive (consumed), non-ESP marker (IKE), ESP (esp-in.ts);
//                  a delivered packet from a new peer address or port raises a
//                  mapping event (km_new_mapping).
//
// XfrmStack creates one UdpEncapInput and calls it per packet; nothing here
// allocates per packet (a mapping event allocates, only when one happens).

import { be16, be32, put16, put32 } from '../wire/bytes.js';
import { checksum16 } from '../wire/checksum.js';
import { IPPROTO_UDP } from '../wire/ipproto.js';
import { UDP_ENCAP_ESPINUDP } from './config.js';
import { espInput } from './esp-in.js';
import type { EspInViews } from './esp-in.js';
import { XfrmStat } from './mib.js';
import type { OpenQueue } from './open-queue.js';
import { XDrop, XVerdict } from './result.js';
import type { XfrmResult } from './result.js';
import type { Sad } from './sad.js';
import type { XfrmState } from './state.js';
import type { CoreEvent } from './xfrm.js';

/**
 * NAT-T port datagrams that are not ESP (RFC 3948 §2.2, §2.3): keepalives
 * eaten and messages handed to IKE (XfrmStack.natT).
 */
export interface NatTCounts { keepalives: number; ike: number }

/**
 * inputUdp's IPv4 and UDP headers in the 28 bytes before off, for a UDP
 * payload b[off, off+len) from src:sport (host-order u32, port) to dst:dport
 * with outer TOS `tos`: IPv4 without options, TTL 64, valid checksum; UDP
 * checksum 0. Returns where they start; RangeError when off < 28.
 */
export function udpHeaders(
  b: Uint8Array, off: number, len: number, src: number, sport: number, dst: number, tos: number, dport: number,
): number {
  const ip = off - 28;
  if (ip < 0) throw new RangeError(`inputUdp needs 28 bytes of headroom, got ${off}`);
  b[ip] = 0x45;
  b[ip + 1] = tos;
  put16(b, ip + 2, len + 28);
  put32(b, ip + 4, 0);
  b[ip + 8] = 64;
  b[ip + 9] = IPPROTO_UDP;
  put16(b, ip + 10, 0);
  put32(b, ip + 12, src);
  put32(b, ip + 16, dst);
  put16(b, ip + 10, checksum16(b, ip, 20));
  put16(b, ip + 20, sport);
  put16(b, ip + 22, dport);
  put16(b, ip + 24, len + 8);
  put16(b, ip + 26, 0);
  return ip;
}

/** XfrmStack's UDP-encapsulated input: shares its SAD, ESP views, NAT-T counters and event queue. */
export class UdpEncapInput {
  constructor(
    private readonly sad: Sad,
    private readonly espIn: EspInViews,
    private readonly natT: NatTCounts,
    private readonly events: CoreEvent[],
  ) {}

  /**
   * RFC 3948 §2: keepalive 0xFF, non-ESP marker (IKE), else ESP; also raises
   * NAT mapping events. The UDP header at b[off, off+len) of the IPv4 packet
   * at ipOff (header length hl); natTPort: the NAT-T socket's port (other
   * ports are NotEsp); opened: the receive batch's phase-1 opens, or null.
   */
  input(
    b: Uint8Array, ipOff: number, hl: number, off: number, len: number, natTPort: number, opened: OpenQueue | null,
    nowMs: number, r: XfrmResult,
  ): XVerdict {
    if (len < 8 || be16(b, off + 2) !== natTPort) {
      r.verdict = XVerdict.NotEsp;
      return XVerdict.NotEsp;
    }
    const d = off + 8;
    const n = Math.min(len, be16(b, off + 4)) - 8;
    if (n === 1 && b[d] === 0xff) {
      this.natT.keepalives++;
      r.verdict = XVerdict.Consumed;
      return XVerdict.Consumed;
    }
    if (n < 0) { // UDP length below its own header: input() counts r.mib (see XfrmStack.dropHdr)
      r.verdict = XVerdict.Drop;
      r.drop = XDrop.BadOuter;
      r.mib = XfrmStat.InHdrError;
      return XVerdict.Drop;
    }
    // xfrm4_udp_encap_rcv (UDP_ENCAP_ESPINUDP): ESP only when longer than an ESP header and
    // not starting with the zero non-ESP marker; everything else goes to the socket (IKE).
    const isMarker = n >= 4 && b[d] === 0 && b[d + 1] === 0 && b[d + 2] === 0 && b[d + 3] === 0;
    if (n <= 8 || isMarker) {
      this.natT.ike++;
      r.verdict = XVerdict.Ike;
      r.off = isMarker ? d + 4 : d;
      r.len = isMarker ? n - 4 : n;
      return XVerdict.Ike;
    }
    const v = espInput(this.sad, this.espIn, b, ipOff, hl, d, n, UDP_ENCAP_ESPINUDP, nowMs, r, opened);
    if (v === XVerdict.Deliver) this.noteMapping(r.state!, b, ipOff, off);
    return v;
  }

  /** km_new_mapping: an encapsulated SA's peer address or port changed (xfrm4_udp_encap_rcv → x->type->input → xfrm_input). */
  private noteMapping(x: XfrmState, b: Uint8Array, ipOff: number, udpOff: number): void {
    const addr = be32(b, ipOff + 12);
    const port = be16(b, udpOff);
    if (addr === x.encapPeerAddr && port === x.encapPeerPort) return;
    this.events.push({ kind: 'mapping', state: x, oldAddr: x.encapPeerAddr, oldPort: x.encapPeerPort, newAddr: addr, newPort: port });
    x.encapPeerAddr = addr;
    x.encapPeerPort = port;
  }
}
