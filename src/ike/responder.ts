// The responder's side of IKE_SA_INIT and IKE_AUTH (RFC 7296 §1.2, §2.15):
//
//   HDR, SAi1, KEi, Ni, N(NAT_D_*), [N(SIGNATURE_HASH_ALGORITHMS)], [N(IKEV2_FRAGMENTATION_SUPPORTED)]  -->
//                                        choose a proposal (§2.7), check the KE group
//                                   <--  HDR, SAr1, KEr, Nr, N(NAT_D_*), [N(SIGNATURE_HASH_ALGORITHMS),]
//                                        [N(IKEV2_FRAGMENTATION_SUPPORTED) if asked and not `fragmentation = no`,] [CERTREQ]
//                                        (or N(NO_PROPOSAL_CHOSEN) / N(INVALID_KE_PAYLOAD, group))
//   HDR, SK {IDi, [CERT+,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}  -->  pick the connection by IDi (and
//                                                    auth class), verify AUTH (authn.ts), narrow the
//                                                    selectors (§2.9), install the Child SA
//                                   <--  HDR, SK {IDr, [CERT+,] AUTH, SAr2, TSi, TSr}
//                                        (or N(AUTHENTICATION_FAILED); or IDr, AUTH plus
//                                        N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE): IKE SA without a child)

import { put16, put32, toHex, be32 } from '../wire/bytes.js';
import { AUTH_SHARED_KEY, FLAG_R, IKE_AUTH, IKE_SA_INIT, IKE_VERSION, N, PL } from '../wire/ike/consts.js';
import { emitMessage } from '../wire/ike/message.js';
import type { IkeMessage } from '../wire/ike/message.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { TrafficSelector } from '../wire/ike/ts.js';
import { idBody } from './auth.js';
import { certReq, checkPeerAuth, ourAuth, peerSigHashes, sigHashNotify } from './authn.js';
import { localIdentity } from './certs.js';
import { childKeyLens, installRequests, isPolicyable } from './child.js';
import type { ConnConfig } from './config.js';
import { findNotify, first, notify } from './core.js';
import type { Endpoint, IkeCore } from './core.js';
import { failure, upEvents } from './events.js';
import { newKeyExchange, privLen } from './dh.js';
import { announcesFrag } from './frag.js';
import { identityMatches, identityText } from './ids.js';
import { authSide, detectNat, natNotifies, resolveTs } from './initiator.js';
import { deriveChildKeys, deriveIkeKeys, wipeKeys } from './prf.js';
import { chosenToWire, selectProposal } from './proposal.js';
import type { ProposalSpec } from './proposal.js';
import { ChildSa, IkeSa } from './sa.js';
import { narrow, tsText } from './ts.js';

const addrOk = (list: readonly string[], a: string): boolean => list.includes('%any') || list.includes(a);

/** Connections whose local_addrs and remote_addrs allow this pair of addresses. */
function candidates(core: IkeCore, local: string, remote: string): ConnConfig[] {
  return core.cfg.connections.filter((c) => addrOk(c.localAddrs, local) && addrOk(c.remoteAddrs, remote));
}

/** An unprotected error answer to an IKE_SA_INIT request (SPIr zero: no state is kept). */
function initError(core: IkeCore, m: IkeMessage, from: Endpoint, local: Endpoint, n: Payload): void {
  const data = emitMessage({ spiI: m.header.spiI, spiR: new Uint8Array(8), version: IKE_VERSION, exchange: IKE_SA_INIT, flags: FLAG_R, messageId: 0 }, [n]);
  core.host.send(from, local.port, data);
}

const describe = (ps: readonly { readonly transforms: readonly { readonly type: number; readonly id: number; readonly keyLength?: number }[] }[]): string =>
  ps.map((p) => p.transforms.map((t) => `${t.type}:${t.id}${t.keyLength !== undefined ? `/${t.keyLength}` : ''}`).join(',')).join(' | ');

export function handleInitRequest(core: IkeCore, m: IkeMessage, raw: Uint8Array, from: Endpoint, local: Endpoint): void {
  const key = `${toHex(m.header.spiI)}/${from.addr}/${from.port}`;
  const old = core.halfOpen.get(key);
  if (old !== undefined) {
    if (old.lastResponse !== null) core.sendAll(from, local.port, old.lastResponse.data); // §2.1: a retransmitted request
    return;
  }
  if (core.cookies.challenge(m, from, local)) return; // §2.6: too many half-open SAs
  const conns = candidates(core, local.addr, from.addr);
  const conn = conns[0];
  if (conn === undefined) {
    core.host.log('info', `IKE_SA_INIT from ${from.addr}[${from.port}] to ${local.addr}: no connection configured for this pair of addresses`);
    core.emit(failure('negotiation', '', 0, from, `IKE_SA_INIT to ${local.addr}: no connection configured for this pair of addresses`));
    initError(core, m, from, local, notify(N.NO_PROPOSAL_CHOSEN));
    return;
  }
  const saP = first(m.payloads, PL.SA);
  const ke = first(m.payloads, PL.KE);
  const nonce = first(m.payloads, PL.NONCE);
  if (saP === undefined || ke === undefined || nonce === undefined) { initError(core, m, from, local, notify(N.INVALID_SYNTAX)); return; }
  const c = selectProposal(saP.proposals, conn.proposals, true);
  if (c === null) {
    core.host.log('info', `${conn.name}: NO_PROPOSAL_CHOSEN for ${from.addr}: it offered ${describe(saP.proposals)}`);
    core.emit(failure('negotiation', conn.name, 0, from, `NO_PROPOSAL_CHOSEN: it offered ${describe(saP.proposals)}`));
    initError(core, m, from, local, notify(N.NO_PROPOSAL_CHOSEN));
    return;
  }
  if (ke.group !== c.dh) {
    core.host.log('info', `${conn.name}: ${from.addr} sent KE group ${ke.group}, asking for ${c.dh ?? 0} (INVALID_KE_PAYLOAD)`);
    const g = new Uint8Array(2);
    put16(g, 0, c.dh ?? 0);
    initError(core, m, from, local, notify(N.INVALID_KE_PAYLOAD, g));
    return;
  }
  const kx = newKeyExchange(c.dh, core.host.random(privLen(c.dh)));
  const shared = kx?.shared(ke.data) ?? null;
  if (kx === null || shared === null) { kx?.dispose(); initError(core, m, from, local, notify(N.INVALID_SYNTAX)); return; }
  const sa = new IkeSa(core.nextUniqueId(), conn, false, m.header.spiI, { ...local }, { ...from });
  sa.createdMs = core.now;
  sa.spiR = core.host.random(8);
  sa.chosen = c;
  sa.ke = kx;
  sa.ni = nonce.data;
  sa.nr = core.host.random(32);
  sa.keys = deriveIkeKeys(sa.prfAlg, sa.keyLens(), sa.ni, sa.nr, shared, sa.spiI, sa.spiR);
  shared.fill(0);
  sa.setSkKeys();
  detectResponderNat(sa, m.payloads);
  sa.peerSigHashes = peerSigHashes(m.payloads);
  sa.isFragOk = announcesFrag(conn.fragmentation) && findNotify(m.payloads, N.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined; // RFC 7383 §2.3
  const out: Payload[] = [
    { type: PL.SA, proposals: [chosenToWire(c, new Uint8Array(0))] },
    { type: PL.KE, group: c.dh, data: kx.publicValue },
    { type: PL.NONCE, data: sa.nr },
    ...natNotifies(core, sa, sa.spiR),
    ...(sa.peerSigHashes !== null ? [sigHashNotify()] : []),
    ...(sa.isFragOk ? [notify(N.IKEV2_FRAGMENTATION_SUPPORTED)] : []),
    ...certReq([...new Set(conns.flatMap((x) => (x.remote.auth === 'pubkey' ? x.remote.anchors ?? [] : [])))]),
  ];
  const data = core.plain(sa, IKE_SA_INIT, 0, true, out);
  sa.msg1 = raw.slice(0, m.header.length); // eslint-disable-line no-restricted-syntax -- RealMessage1, kept until IKE_AUTH
  sa.msg2 = data;
  sa.peerMid = 1;
  sa.lastResponse = { mid: 0, data: [data], port: local.port };
  core.register(sa);
  core.halfOpen.set(key, sa);
  core.host.send(from, local.port, data);
}

/** §2.23 from the responder's seat (the request's hashes used SPIr = 0): the same rules as the initiator's. */
function detectResponderNat(sa: IkeSa, ps: readonly Payload[]): void {
  detectNat(sa, ps, new Uint8Array(8));
}

export function handleAuthRequest(core: IkeCore, sa: IkeSa, mid: number, ps: readonly Payload[]): void {
  const idi = first(ps, PL.IDi);
  const auth = first(ps, PL.AUTH);
  if (idi === undefined || auth === undefined) { failAuth(core, sa, mid, 'IKE_AUTH without IDi or AUTH'); return; }
  sa.remoteId = identityText(idi);
  const byId = candidates(core, sa.local.addr, sa.remote.addr).filter((c) => identityMatches(c.remote.id, idi, sa.remote.addr));
  // §2.15: of those that accept IDi, one whose remote auth class is the one the peer used (else the refusal says why).
  const byAuth = byId.filter((c) => (c.remote.auth === 'psk') === (auth.method === AUTH_SHARED_KEY));
  const conns = byAuth.length > 0 ? byAuth : byId;
  const conn = conns.includes(sa.conn) ? sa.conn : conns[0];
  if (conn === undefined) { failAuth(core, sa, mid, `no connection accepts the identity '${sa.remoteId}'`); return; }
  sa.conn = conn;
  const idr = localIdentity(conn.local, sa.local.addr);
  sa.localId = identityText(idr);
  const side = authSide(core, sa, sa.remoteId);
  const why = checkPeerAuth(side, conn.remote, idi, ps, { message: sa.msg1!, peerNonce: sa.nr, skP: sa.keys!.skPi, idBody: idBody(idi.idType, idi.data) });
  if (!why.isOk) { failAuth(core, sa, mid, why.why); return; }
  core.host.log('info', `${conn.name}[${sa.uniqueId}]: '${sa.remoteId}' authenticated with ${why.how}`);
  const mine = ourAuth(side, conn.local, { message: sa.msg2!, peerNonce: sa.ni, skP: sa.keys!.skPr, idBody: idBody(idr.idType, idr.data) });
  if (typeof mine === 'string') { failAuth(core, sa, mid, `we cannot authenticate as '${sa.localId}': ${mine}`); return; }
  const childPs = createChild(core, sa, ps);
  core.respond(sa, IKE_AUTH, mid, [{ type: PL.IDr, idType: idr.idType, data: idr.data }, ...mine.certs, mine.auth, ...childPs]);
  core.host.log('info', `${conn.name}[${sa.uniqueId}]: IKE_SA established between ${sa.local.addr}[${sa.localId}]...${sa.remote.addr}[${sa.remoteId}]`);
  core.established(sa);
  for (const e of upEvents(sa)) core.emit(e);
}

function failAuth(core: IkeCore, sa: IkeSa, mid: number, why: string): void {
  core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: AUTHENTICATION_FAILED: ${why}`);
  core.failed(sa, 'auth', why);
  core.respond(sa, IKE_AUTH, mid, [notify(N.AUTHENTICATION_FAILED)]);
  core.remove(sa, 'authentication failed');
}

export interface ChildMatch { readonly cfgIndex: number; readonly tsi: TrafficSelector[]; readonly tsr: TrafficSelector[] }

/** The first child of the connection whose selectors narrow TSi and TSr to something an xfrm policy can hold. */
export function matchChild(sa: IkeSa, tsi: readonly TrafficSelector[], tsr: readonly TrafficSelector[]): ChildMatch | null {
  for (const [i, ch] of sa.conn.children.entries()) {
    const remote = resolveTs(ch.remoteTs, sa.remote.addr).filter((t) => t !== null);
    const local = resolveTs(ch.localTs, sa.local.addr).filter((t) => t !== null);
    const ni = narrow(tsi, remote);
    const nr = narrow(tsr, local);
    if (ni.length > 0 && nr.length > 0 && isPolicyable(ni) && isPolicyable(nr)) return { cfgIndex: i, tsi: ni, tsr: nr };
  }
  return null;
}

const noDh = (s: ProposalSpec): ProposalSpec => ({ ...s, dh: [] });

/** The Child SA payloads of the IKE_AUTH response (or the notify saying why there is none). */
function createChild(core: IkeCore, sa: IkeSa, ps: readonly Payload[]): Payload[] {
  const saP = first(ps, PL.SA);
  const tsi = first(ps, PL.TSi);
  const tsr = first(ps, PL.TSr);
  if (saP === undefined || tsi === undefined || tsr === undefined) return [];
  const m = matchChild(sa, tsi.selectors, tsr.selectors);
  if (m === null) {
    const why = `TS_UNACCEPTABLE: TSi ${tsi.selectors.map(tsText).join(' ')} / TSr ${tsr.selectors.map(tsText).join(' ')} match no child's remote_ts/local_ts`;
    core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: ${why}`);
    core.emit(failure('negotiation', sa.conn.name, sa.uniqueId, sa.remote, why));
    return [notify(N.TS_UNACCEPTABLE)];
  }
  const cfg = sa.conn.children[m.cfgIndex]!;
  const c = selectProposal(saP.proposals, cfg.espProposals.map(noDh), false);
  if (c === null || c.spi.length !== 4) {
    const why = `NO_PROPOSAL_CHOSEN for CHILD_SA ${cfg.name}: the peer offered ${describe(saP.proposals)}`;
    core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: ${why}`);
    core.emit(failure('negotiation', sa.conn.name, sa.uniqueId, sa.remote, why));
    return [notify(N.NO_PROPOSAL_CHOSEN)];
  }
  const spiIn = core.newEspSpi();
  const keys = deriveChildKeys(sa.prfAlg, sa.keys!.skD, childKeyLens(c), sa.ni, sa.nr);
  const ch = new ChildSa(core.nextChildId(), cfg, core.nextReqid(), spiIn, be32(c.spi, 0), c, m.tsr, m.tsi, sa.isNat,
    { ...sa.local }, { ...sa.remote }, Math.floor(core.now / 1000));
  const limits = core.scheduleChild(ch);
  const why = core.applyAll(installRequests({ child: ch, keys, isInitiator: false, ...(limits !== undefined ? { limits } : {}) }));
  wipeKeys(keys);
  if (why !== null) {
    core.host.log('error', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${cfg.name}: installing it failed: ${why}`);
    return [notify(N.NO_PROPOSAL_CHOSEN)];
  }
  sa.children.push(ch);
  core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${cfg.name}{${ch.uniqueId}} established with SPIs ${spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o`);
  const spi = new Uint8Array(4);
  put32(spi, 0, spiIn);
  return [{ type: PL.SA, proposals: [chosenToWire(c, spi)] }, { type: PL.TSi, selectors: m.tsi }, { type: PL.TSr, selectors: m.tsr }];
}

