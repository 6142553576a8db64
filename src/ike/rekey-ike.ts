// Rekeying an IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18):
//
//   HDR, SK {SA (new SPIi), Ni, KEi}  -->
//                      <--  HDR, SK {SA (new SPIr), Nr, KEr}
//
// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the new nonces and
// SPIs (prf.ts deriveRekeyedIkeKeys). Whoever starts the rekey is the
// original initiator of the new SA; its Message IDs start at 0. The Child
// SAs (and our queued requests) move to the new SA; the initiator then
// deletes the old one (INFORMATIONAL D(IKE)), which takes no Child SA along.
// Crossing rekeys (§2.8.2): each side answers the other's and records it
// (sa.collision) without moving the children; when its own answer comes,
// the exchange with the lowest nonce made the redundant SA, which its
// initiator deletes, while the other side deletes the old SA.

import { be16 } from '../wire/bytes.js';
import { CREATE_CHILD_SA, INFORMATIONAL, N, notifyName, PL, PROTO_IKE } from '../wire/ike/consts.js';
import type { Payload } from '../wire/ike/payloads.js';
import { findError, first, notify } from './core.js';
import type { IkeCore } from './core.js';
import { failure, ikeRekey } from './events.js';
import { newKeyExchange, privLen } from './dh.js';
import type { KeyExchange } from './dh.js';
import { compareNonce, minNonce, REKEYED_SA_TIMEOUT_MS, RETRY_MS } from './lifetime.js';
import { deriveRekeyedIkeKeys } from './prf.js';
import { checkAnswer, chosenToWire, selectProposal, toWire } from './proposal.js';
import type { Chosen } from './proposal.js';
import { IkeSa } from './sa.js';

interface IkeRekeyOp { readonly spi: Uint8Array; readonly ni: Uint8Array; readonly ke: KeyExchange; readonly isKeRetried: boolean }

const tag = (sa: IkeSa): string => `${sa.conn.name}[${sa.uniqueId}]`;

function newSpi(core: IkeCore): Uint8Array {
  let spi = core.host.random(8);
  while (spi.every((x) => x === 0)) spi = core.host.random(8);
  return spi;
}

/** Queues a rekey of `sa`; false when it is not an established SA. */
export function startIkeRekey(core: IkeCore, sa: IkeSa): boolean {
  if (sa.state !== 'ESTABLISHED') return false;
  sa.at.rekeyAtMs = null;
  core.enqueue(sa, (s) => {
    if (s !== sa || s.state !== 'ESTABLISHED') return; // the peer's rekey replaced it meanwhile
    core.host.log('info', `${tag(s)}: rekeying IKE_SA ${s.ourSpi}`);
    send(core, s, s.chosen!.dh!, false);
  });
  return true;
}

function send(core: IkeCore, sa: IkeSa, group: number, isKeRetried: boolean): void {
  const ke = newKeyExchange(group, core.host.random(privLen(group)))!;
  const op: IkeRekeyOp = { spi: newSpi(core), ni: core.host.random(32), ke, isKeRetried };
  sa.state = 'REKEYING';
  const ps: Payload[] = [
    { type: PL.SA, proposals: sa.conn.proposals.map((p, i) => toWire(p, i + 1, op.spi)) },
    { type: PL.NONCE, data: op.ni },
    { type: PL.KE, group, data: ke.publicValue },
  ];
  core.request(sa, CREATE_CHILD_SA, ps, (_raw, rps) => onResponse(core, sa, op, rps), () => core.remove(sa, 'IKE rekey not answered'), 'ike-rekey');
}

/** Moves the Child SAs and our queued requests from `from` to `to`. */
function adopt(core: IkeCore, from: IkeSa, to: IkeSa): void {
  to.children.push(...from.children);
  from.children.length = 0;
  to.queue.push(...from.queue);
  from.queue = [];
  from.at.rekeyAtMs = null;
  from.at.expireAtMs = core.now + REKEYED_SA_TIMEOUT_MS; // if the delete of the old SA never comes (timers.ts)
  core.flush(to);
}

/** Before the peer's D(IKE) removes an SA whose crossing rekey won: its children go to the new SA. */
export function adoptOnDelete(core: IkeCore, sa: IkeSa): void {
  if (sa.collision !== null && core.sas.get(sa.collision.sa.ourSpi) === sa.collision.sa) adopt(core, sa, sa.collision.sa);
}

/** A new IKE SA from a rekey of `old`, keyed per §2.18. */
function successor(core: IkeCore, old: IkeSa, c: Chosen, isInitiator: boolean, spiI: Uint8Array, spiR: Uint8Array, ni: Uint8Array, nr: Uint8Array, shared: Uint8Array): IkeSa {
  const sa = new IkeSa(core.nextUniqueId(), old.conn, isInitiator, spiI, { ...old.local }, { ...old.remote });
  sa.spiR = spiR;
  sa.chosen = c;
  sa.createdMs = core.now;
  sa.keys = deriveRekeyedIkeKeys(old.prfAlg, old.keys!.skD, sa.prfAlg, sa.keyLens(), ni, nr, shared, spiI, spiR);
  shared.fill(0);
  sa.setSkKeys();
  sa.localId = old.localId;
  sa.remoteId = old.remoteId;
  sa.isNatLocal = old.isNatLocal;
  sa.isNatRemote = old.isNatRemote;
  core.register(sa);
  core.established(sa);
  old.isReplaced = true;
  core.emit(ikeRekey(old, sa));
  return sa;
}

/** Sends D(IKE) on sa and removes it once answered (its children, if any, go with it). */
function deleteIke(core: IkeCore, sa: IkeSa, why: string): void {
  sa.state = 'DELETING';
  core.request(sa, INFORMATIONAL, [{ type: PL.D, protocolId: PROTO_IKE, spiSize: 0, spis: [] }],
    () => core.remove(sa, why), () => core.remove(sa, `${why}; the delete was not answered`));
}

function fail(core: IkeCore, sa: IkeSa, op: IkeRekeyOp, why: string, retry: boolean): void {
  op.ke.dispose();
  core.host.log('warn', `${tag(sa)}: IKE_SA rekey failed: ${why}`);
  core.emit(failure('negotiation', sa.conn.name, sa.uniqueId, sa.remote, `IKE_SA rekey failed: ${why}`));
  const col = sa.collision;
  if (col !== null && core.sas.get(col.sa.ourSpi) === col.sa) { // the peer's crossing rekey stands
    sa.state = 'REKEYED';
    adopt(core, sa, col.sa);
    return;
  }
  sa.state = 'ESTABLISHED';
  if (retry) sa.at.rekeyAtMs = core.now + RETRY_MS + (core.host.random(1)[0]! / 255) * RETRY_MS;
}

function onResponse(core: IkeCore, sa: IkeSa, op: IkeRekeyOp, ps: readonly Payload[]): void {
  const err = findError(ps);
  if (err !== undefined) {
    const g = err.notifyType === N.INVALID_KE_PAYLOAD && err.data.length === 2 ? be16(err.data, 0) : null;
    if (g !== null && !op.isKeRetried && sa.conn.proposals.some((p) => p.dh.includes(g))) {
      op.ke.dispose();
      send(core, sa, g, true);
      return;
    }
    fail(core, sa, op, `refused with ${notifyName(err.notifyType)}`, err.notifyType === N.TEMPORARY_FAILURE);
    return;
  }
  const saP = first(ps, PL.SA);
  const nonce = first(ps, PL.NONCE);
  const ke = first(ps, PL.KE);
  if (saP === undefined || nonce === undefined || ke === undefined) { fail(core, sa, op, 'the response lacks SA, Nr or KE', false); return; }
  const c = checkAnswer(saP.proposals, sa.conn.proposals, true);
  if (typeof c === 'string') { fail(core, sa, op, c, false); return; }
  if (c.spi.length !== 8 || c.spi.every((x) => x === 0)) { fail(core, sa, op, 'the responder\'s new SPI is not 8 non-zero bytes', false); return; }
  if (c.dh !== ke.group || ke.group !== op.ke.group) { fail(core, sa, op, `KE group ${ke.group} does not match the proposal's ${c.dh ?? 'none'}`, false); return; }
  const shared = op.ke.shared(ke.data);
  op.ke.dispose();
  if (shared === null) { fail(core, sa, op, 'the peer\'s KE value is invalid', false); return; }
  const next = successor(core, sa, c, true, op.spi, c.spi, op.ni, nonce.data, shared);
  const col = sa.collision;
  if (col !== null && core.sas.get(col.sa.ourSpi) === col.sa && compareNonce(minNonce(op.ni, nonce.data), col.minNonce) < 0) {
    // §2.8.2: our exchange holds the lowest nonce: our new SA is redundant; the peer's takes over and the peer deletes the old one.
    core.host.log('info', `${tag(sa)}: IKE_SA rekey collision lost (lowest nonce): deleting the redundant IKE_SA ${next.ourSpi}`);
    sa.state = 'REKEYED';
    adopt(core, sa, col.sa);
    deleteIke(core, next, 'redundant (rekey collision)');
    return;
  }
  core.host.log('info', `${tag(sa)}: IKE_SA rekeyed: now ${tag(next)} ${next.ourSpi}${col !== null ? ' (collision won)' : ''}`);
  adopt(core, sa, next);
  deleteIke(core, sa, 'rekeyed');
}

/** Responder: the peer rekeys `sa` (an SA payload of protocol IKE in CREATE_CHILD_SA). */
export function handleIkeRekey(core: IkeCore, sa: IkeSa, mid: number, ps: readonly Payload[]): void {
  const refuse = (n: number, data: Uint8Array = new Uint8Array(0)): void => core.respond(sa, CREATE_CHILD_SA, mid, [notify(n, data)]);
  // §2.25.2: not while it is already replaced or going, nor while a Child SA exchange of ours is out.
  if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') { refuse(N.TEMPORARY_FAILURE); return; }
  if (sa.pending?.kind === 'child') { refuse(N.TEMPORARY_FAILURE); return; }
  const saP = first(ps, PL.SA);
  const nonce = first(ps, PL.NONCE);
  const ke = first(ps, PL.KE);
  if (saP === undefined || nonce === undefined || ke === undefined) { refuse(N.INVALID_SYNTAX); return; }
  const c = selectProposal(saP.proposals, sa.conn.proposals, true);
  if (c === null) { core.host.log('warn', `${tag(sa)}: IKE rekey: NO_PROPOSAL_CHOSEN`); refuse(N.NO_PROPOSAL_CHOSEN); return; }
  if (c.spi.length !== 8 || c.spi.every((x) => x === 0)) { refuse(N.INVALID_SYNTAX); return; }
  if (ke.group !== c.dh) { const g = new Uint8Array(2); g[0] = c.dh! >> 8; g[1] = c.dh! & 0xff; refuse(N.INVALID_KE_PAYLOAD, g); return; }
  const kx = newKeyExchange(c.dh, core.host.random(privLen(c.dh)));
  const shared = kx?.shared(ke.data) ?? null;
  if (kx === null || shared === null) { kx?.dispose(); refuse(N.INVALID_SYNTAX); return; }
  const nr = core.host.random(32);
  const spiR = newSpi(core);
  const next = successor(core, sa, c, false, c.spi, spiR, nonce.data, nr, shared);
  core.respond(sa, CREATE_CHILD_SA, mid, [{ type: PL.SA, proposals: [chosenToWire(c, spiR)] }, { type: PL.NONCE, data: nr }, { type: PL.KE, group: c.dh, data: kx.publicValue }]);
  kx.dispose();
  if (sa.state === 'REKEYING') {
    sa.collision = { sa: next, minNonce: minNonce(nonce.data, nr) };
    core.host.log('info', `${tag(sa)}: IKE_SA rekey collision: the peer's new IKE_SA is ${tag(next)} ${next.ourSpi}`);
    return;
  }
  core.host.log('info', `${tag(sa)}: IKE_SA rekeyed by the peer: now ${tag(next)} ${next.ourSpi}`);
  sa.state = 'REKEYED';
  adopt(core, sa, next);
}
