// IkeCore.receive (core.ts): one IKE datagram in, demultiplexed as the
// `receive` branch of core.ts's diagram draws it (RFC 7296): an IKE_SA_INIT
// request to the responder, else the IKE SA by our SPI; its IKE_SA_INIT
// response in clear, everything else through SK (or SKF fragments): responses
// to the pending request, retransmitted requests answered from the cache
// (§2.1), the next request to its exchange's handler. Bad input from the
// network is logged and dropped, never thrown.

import { toHex } from '../wire/bytes.js';
import { CREATE_CHILD_SA, exchangeName, IKE_AUTH, IKE_SA_INIT, INFORMATIONAL, N, PL } from '../wire/ike/consts.js';
import { IkeDecodeError, isFromInitiator, isResponse, parseIkeHeader } from '../wire/ike/header.js';
import type { IkeHeader } from '../wire/ike/header.js';
import { parseMessage } from '../wire/ike/message.js';
import type { IkeCore } from './core.js';
import { handleCreateChild } from './create-child.js';
import { notify } from './find.js';
import { isFirstFragment } from './frag.js';
import { handleInformational } from './informational.js';
import { handleAuthRequest, handleInitRequest } from './responder.js';
import type { Endpoint, IkeSa } from './sa.js';
import { openMessage } from './sk.js';

/** One datagram for core (the non-ESP marker already removed; core.now already set). Never throws on network input. */
export function receiveDatagram(core: IkeCore, data: Uint8Array, from: Endpoint, local: Endpoint): void {
  const h = parseIkeHeader(data);
  if (h instanceof IkeDecodeError) { core.host.log('debug', `IKE from ${from.addr}[${from.port}] dropped: ${h.why}`); return; }
  if (h.version >> 4 !== 2) { core.host.log('debug', `IKE version ${h.version >> 4} from ${from.addr} dropped`); return; }
  if (h.exchange === IKE_SA_INIT && !isResponse(h) && h.spiR.every((x) => x === 0)) {
    const m = parseMessage(data);
    if (m instanceof IkeDecodeError) { core.host.log('info', `IKE_SA_INIT from ${from.addr}: ${m.why}`); return; }
    handleInitRequest(core, m, data, from, local);
    return;
  }
  const sa = core.sas.get(toHex(isFromInitiator(h) ? h.spiR : h.spiI));
  if (sa === undefined) { core.host.log('debug', `${exchangeName(h.exchange)} for an unknown IKE SA from ${from.addr} dropped`); return; }
  if (h.exchange === IKE_SA_INIT) {
    const m = parseMessage(data);
    if (m instanceof IkeDecodeError || !isResponse(h) || sa.pending?.mid !== 0 || sa.skIn !== null) return;
    const p = sa.pending;
    sa.pending = null;
    p.onResponse(data, m.payloads);
    return;
  }
  receiveProtected(core, sa, h, data, from, local);
}

function receiveProtected(core: IkeCore, sa: IkeSa, h: IkeHeader, data: Uint8Array, from: Endpoint, local: Endpoint): void {
  const m = parseMessage(data, 0, h.length);
  if (m instanceof IkeDecodeError) { core.host.log('info', `${exchangeName(h.exchange)} from ${from.addr}: ${m.why}`); return; }
  const sk = m.payloads[m.payloads.length - 1];
  if (sk === undefined || (sk.type !== PL.SK && sk.type !== PL.SKF) || sa.skIn === null) { core.host.log('info', `${exchangeName(h.exchange)} from ${from.addr} is not encrypted: dropped`); return; }
  const skOff = h.length - 4 - sk.body.length;
  if (isResponse(h)) {
    if (sa.pending === null || h.messageId !== sa.pending.mid) return; // a late duplicate
  } else if (sa.lastResponse !== null && h.messageId === sa.lastResponse.mid) {
    // §2.1: retransmit, do not process again; RFC 7383 §2.6.1: once per retransmitted request, on its first fragment
    if (sk.type === PL.SK || isFirstFragment(data, h, skOff, sa.skIn)) core.sendAll(from, sa.lastResponse.port, sa.lastResponse.data);
    return;
  } else if (h.messageId !== sa.peerMid) {
    core.host.log('debug', `${exchangeName(h.exchange)} Message ID ${h.messageId} outside the window (expected ${sa.peerMid}): dropped`);
    return;
  }
  const inner = sk.type === PL.SK ? openMessage(data, h, skOff, sa.skIn) : core.frags.add(isResponse(h) ? sa.reasmResp : sa.reasmReq, data, h, skOff, sa.skIn, core.charon);
  if (inner === null) return; // more fragments to come
  if (inner instanceof IkeDecodeError) { core.host.log('info', `${exchangeName(h.exchange)} from ${from.addr}: ${inner.why}: dropped`); return; }
  core.live.heard(sa, from);
  if (isResponse(h)) {
    const p = sa.pending!;
    sa.pending = null;
    p.onResponse(data, inner);
    core.flush(sa);
    return;
  }
  // RFC 7296 §2.23: a request from a new address or port (the NAT-T float) moves where we answer.
  sa.remote = { ...from };
  sa.local = { addr: local.addr !== '' ? local.addr : sa.local.addr, port: local.port };
  sa.peerMid = (h.messageId + 1) >>> 0;
  const critical = inner.find((p) => p.type === 'other' && p.isCritical);
  if (critical !== undefined && critical.type === 'other') {
    core.respond(sa, h.exchange, h.messageId, [notify(N.UNSUPPORTED_CRITICAL_PAYLOAD, Uint8Array.of(critical.payloadType))]);
    return;
  }
  if (h.exchange === IKE_AUTH && !sa.isInitiator && sa.state === 'CONNECTING') handleAuthRequest(core, sa, h.messageId, inner);
  else if (h.exchange === INFORMATIONAL) handleInformational(core, sa, h.messageId, inner);
  else if (h.exchange === CREATE_CHILD_SA && sa.state !== 'CONNECTING') handleCreateChild(core, sa, h.messageId, inner);
  else core.respond(sa, h.exchange, h.messageId, [notify(N.INVALID_SYNTAX)]);
}
