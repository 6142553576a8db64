// ESP input, in place: net/xfrm/xfrm_input.c xfrm_input, net/ipv4/esp4.c
// esp_input / esp_input_done2, and the mode input (xfrm4_remove_tunnel_encap,
// xfrm4_transport_input), in the kernel's order and with its counters:
//
//   ESP header shorter than 8 bytes          XfrmInHdrError
//   no SA for (daddr, spi, esp)              XfrmInNoStates
//   SA not valid (expired)                   XfrmInStateInvalid
//   encap type ≠ the SA's (UDP vs raw)       XfrmInStateMismatch
//   replay check (before decryption)         XfrmInStateSeqError (+ per-SA replay_window / replay)
//   hard lifetime reached                    XfrmInStateExpired
//   bad lengths, ICV failure, bad trailer    XfrmInStateProtoError (+ integrity_failed for the ICV)
//   replay recheck after the ICV             XfrmInStateSeqError, then the window advances
//   tunnel mode, inner not IPv4/IPv6         XfrmInStateModeError
//   Next Header 59 (dummy, RFC 4303 §2.6)    consumed silently
// Tunnel decapsulation (xfrm4_remove_tunnel_encap / xfrm6_...): outer CE is
// copied to an ECT inner unless noecn; the outer DSCP replaces the inner
// one only with decap-dscp; nothing is ever dropped for ECN.
//
// On Deliver the IP packet is b[r.off, r.off+r.len) and r.state the SA. The
// caller then runs the inbound policy check (xfrm.ts). Nothing allocated.
// With an OpenQueue (open-queue.ts) the open's result may come from the
// batch's openBatch; every check and counter stays here, in this order.

import { be16, put16 } from '../wire/bytes.js';
import { checksum16 } from '../wire/checksum.js';
import { ESP_HDR_LEN, ESP_NEXT_HEADER_NONE } from '../wire/esp.js';
import type { EspPacket, EspTrailer } from '../wire/esp.js';
import { IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { XFRM_MODE_TUNNEL, XFRM_STATE_DECAP_DSCP, XFRM_STATE_NOECN } from './config.js';
import { XfrmStat } from './mib.js';
import { ReplayCheck } from './replay.js';
import { XDrop, XVerdict } from './result.js';
import type { XfrmResult } from './result.js';
import type { OpenQueue } from './open-queue.js';
import type { Sad } from './sad.js';
import { Expiry } from './state.js';
import type { XfrmState } from './state.js';

/** The views espInput rebinds per packet: the caller's (XfrmStack's), never module state. */
export interface EspInViews { readonly esp: EspPacket; readonly trailer: EspTrailer }

const fail = (r: XfrmResult, mib: number): XVerdict => {
  r.verdict = XVerdict.Drop;
  r.mib = mib;
  return XVerdict.Drop;
};

/**
 * One ESP packet b[espOff, espOff+espLen) that arrived in the IPv4 packet
 * whose header is b[ipOff, ipOff+hl). encapType: 0 = raw protocol 50,
 * 2 = UDP-encapsulated (UDP_ENCAP_ESPINUDP). pre: the receive batch's
 * phase-1 opens (open-queue.ts), or null.
 */
export function espInput(
  sad: Sad, v: EspInViews, b: Uint8Array, ipOff: number, hl: number, espOff: number, espLen: number, encapType: number,
  nowMs: number, r: XfrmResult, pre: OpenQueue | null = null,
): XVerdict {
  if (espLen < ESP_HDR_LEN || !v.esp.wrap(b, espOff, espLen)) return fail(r, XfrmStat.InHdrError);
  const spi = v.esp.spiS; // int32 bits: lookupIn keys by spi | 0, and a u32 of 2^31+ would be boxed per packet
  const seq = v.esp.seqS; // int32 bits, as spi: the replay window takes seq >>> 0
  const trailer = v.trailer;
  const x = sad.lookupIn(spi, 4, b, ipOff + 16);
  if (x === null) return fail(r, XfrmStat.InNoStates);
  r.state = x;
  if (!x.isUsable) return fail(r, XfrmStat.InStateInvalid);
  if ((x.cfg.encap !== null ? x.cfg.encap.type : 0) !== encapType) return fail(r, XfrmStat.InStateMismatch);
  const seqHi = x.replay.inferSeqHi(seq);
  if (!replayOk(x, x.replay.check(seq, seqHi))) return fail(r, XfrmStat.InStateSeqError);
  const exp = x.checkExpire(nowMs);
  if (exp === Expiry.Hard) return fail(r, XfrmStat.InStateExpired);
  r.softExpired = exp === Expiry.Soft;
  const cr = x.crypto;
  const plainLen = espLen - ESP_HDR_LEN - cr.ivLen - cr.icvLen;
  if (plainLen <= 0) return fail(r, XfrmStat.InStateProtoError);
  const opened = pre !== null ? pre.take(x, b, espOff, espLen, seqHi) : -1;
  if (opened >= 0 ? opened === 0 : !cr.open(b, espOff, espLen, seqHi)) {
    x.statIntegrityFailed++;
    return fail(r, XfrmStat.InStateProtoError);
  }
  const plainOff = espOff + ESP_HDR_LEN + cr.ivLen;
  if (trailer.read(b, plainOff, plainLen) !== 0) return fail(r, XfrmStat.InStateProtoError);
  if (!replayOk(x, x.replay.accept(seq, seqHi))) return fail(r, XfrmStat.InStateSeqError);
  x.count(trailer.contentLen);
  if (trailer.nextHeader === ESP_NEXT_HEADER_NONE) {
    r.verdict = XVerdict.Consumed;
    return XVerdict.Consumed;
  }
  return x.cfg.mode === XFRM_MODE_TUNNEL
    ? tunnelInput(x, b, ipOff, plainOff, trailer.contentLen, trailer.nextHeader, r)
    : transportInput(x, b, ipOff, hl, plainOff, trailer.contentLen, trailer.nextHeader, r);
}

/** Counts a failed replay check on the SA the way xfrm_replay_check* does. */
function replayOk(x: XfrmState, c: ReplayCheck): boolean {
  if (c === ReplayCheck.TooOld) x.statReplayWindow++;
  else if (c === ReplayCheck.Replayed) x.statReplay++;
  return c === ReplayCheck.Ok;
}

/** xfrm4_remove_tunnel_encap / xfrm6_remove_tunnel_encap: the inner packet, ECN/DSCP from the outer. */
function tunnelInput(x: XfrmState, b: Uint8Array, ipOff: number, off: number, len: number, nh: number, r: XfrmResult): XVerdict {
  const outerDs = b[ipOff + 1]!;
  const flags = x.cfg.flags;
  // xfrm_input picks x->inner_mode (the selector's family) unless the selector is AF_UNSPEC;
  // xfrm4/6_remove_tunnel_encap then refuse the other family's Next Header (-EINVAL).
  const selFamily = x.cfg.sel.family;
  if (selFamily !== 0 && selFamily !== (nh === IPPROTO_IPV6 ? 6 : 4)) return fail(r, XfrmStat.InStateModeError);
  let innerLen: number;
  if (nh === IPPROTO_IPIP) {
    if (len < 20 || b[off]! >>> 4 !== 4) return badInner(r);
    innerLen = be16(b, off + 2);
    const ihl = (b[off]! & 0xf) << 2;
    if (innerLen > len || innerLen < ihl || ihl < 20) return badInner(r);
    let ds = b[off + 1]!;
    if ((flags & XFRM_STATE_NOECN) === 0 && (outerDs & 3) === 3 && (ds & 3) !== 0) ds |= 3; // IP_ECN_set_ce
    if ((flags & XFRM_STATE_DECAP_DSCP) !== 0) ds = (outerDs & 0xfc) | (ds & 3); // ipv4_copy_dscp
    if (ds !== b[off + 1]) {
      b[off + 1] = ds;
      put16(b, off + 10, 0);
      put16(b, off + 10, checksum16(b, off, ihl));
    }
  } else if (nh === IPPROTO_IPV6) {
    if (len < 40 || b[off]! >>> 4 !== 6) return badInner(r);
    innerLen = 40 + be16(b, off + 4);
    if (innerLen > len) return badInner(r);
    let tc = ((b[off]! & 0xf) << 4) | (b[off + 1]! >>> 4);
    if ((flags & XFRM_STATE_NOECN) === 0 && (outerDs & 3) === 3 && (tc & 3) !== 0) tc |= 3; // IP6_ECN_set_ce
    if ((flags & XFRM_STATE_DECAP_DSCP) !== 0) tc = (outerDs & 0xfc) | (tc & 3); // ipv6_copy_dscp
    b[off] = 0x60 | (tc >>> 4);
    b[off + 1] = ((tc & 0xf) << 4) | (b[off + 1]! & 0xf);
  } else {
    return fail(r, XfrmStat.InStateModeError);
  }
  r.verdict = XVerdict.Deliver;
  r.off = off;
  r.len = innerLen; // pskb_trim to the inner length: TFC padding goes
  r.ifId = x.cfg.ifId;
  r.isTransport = false;
  return XVerdict.Deliver;
}

/** xfrm4_transport_input: the outer IPv4 header moves next to the payload; protocol = Next Header. */
function transportInput(x: XfrmState, b: Uint8Array, ipOff: number, hl: number, off: number, len: number, nh: number, r: XfrmResult): XVerdict {
  const newOff = off - hl;
  b.copyWithin(newOff, ipOff, ipOff + hl);
  const total = hl + len;
  put16(b, newOff + 2, total);
  b[newOff + 9] = nh;
  put16(b, newOff + 10, 0);
  put16(b, newOff + 10, checksum16(b, newOff, hl));
  r.verdict = XVerdict.Deliver;
  r.off = newOff;
  r.len = total;
  r.ifId = x.cfg.ifId;
  r.isTransport = true;
  return XVerdict.Deliver;
}

function badInner(r: XfrmResult): XVerdict {
  r.verdict = XVerdict.Drop;
  r.mib = XfrmStat.InStateModeError;
  r.drop = XDrop.BadInner;
  return XVerdict.Drop;
}
