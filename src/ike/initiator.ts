// The initiator's side of IKE_SA_INIT and IKE_AUTH (RFC 7296 §1.2, §2.15):
//
//   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
//        N(SIGNATURE_HASH_ALGORITHMS), [N(IKEV2_FRAGMENTATION_SUPPORTED)]  -->
//                                  <--  HDR, SAr1, KEr, Nr, N(NAT_D_*), [N(SIGNATURE_HASH_ALGORITHMS),]
//                                        [N(IKEV2_FRAGMENTATION_SUPPORTED),] [CERTREQ]
//     (or N(INVALID_KE_PAYLOAD): retry once with the group asked for; N(COOKIE): resend with it first)
//   HDR, SK {IDi, [CERT+,] N(INITIAL_CONTACT), [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}  -->  (charon.port_nat_t once a NAT is seen;
//                                        SKF fragments when both announced them and it is too big: frag.ts)
//                                  <--  HDR, SK {IDr, [CERT+,] AUTH, SAr2, TSi, TSr}
//
// Then the first Child SA is installed through xfrm control requests. AUTH
// both ways is authn.ts's; a responder whose AUTH we refuse is told with
// INFORMATIONAL N(AUTHENTICATION_FAILED) (§2.21.2).

import { be16, be32, put32 } from '../wire/bytes.js';
import { VpnError } from '../wire/errors.js';
import { IKE_AUTH, IKE_SA_INIT, INFORMATIONAL, N, notifyName, PL } from '../wire/ike/consts.js';
import { IkeDecodeError, parseIkeHeader } from '../wire/ike/header.js';
import type { Payload } from '../wire/ike/payloads.js';
import { authEqual, idBody, natHash } from './auth.js';
import { certReq, checkPeerAuth, ourAuth, peerSigHashes, sigHashNotify } from './authn.js';
import type { AuthSide } from './authn.js';
import { localIdentity } from './certs.js';
import { childKeyLens, installRequests, isPolicyable } from './child.js';
import type { ChildConfig, ConnConfig } from './config.js';
import { findError, findNotify, first, IKE_PORT, NAT_T_PORT, notify } from './core.js';
import type { IkeCore, IkeHost } from './core.js';
import { failure, upEvents } from './events.js';
import { newKeyExchange, privLen } from './dh.js';
import { announcesFrag } from './frag.js';
import { identity, identityMatches, identityText } from './ids.js';
import { deriveChildKeys, deriveIkeKeys, wipeKeys } from './prf.js';
import { checkAnswer, toWire } from './proposal.js';
import type { ProposalSpec } from './proposal.js';
import { ChildSa, IkeSa } from './sa.js';
import { addrBytes, isWithin, parseTs } from './ts.js';

/** The first address of a local_addrs / remote_addrs list that is not %any. */
export const literal = (addrs: readonly string[]): string | undefined => addrs.find((a) => a !== '%any');

/**
 * Our address toward `remote`: local_addrs' first address, else (local_addrs
 * = %any) the source the kernel routes from toward it, as charon's ike_init
 * and trap_manager take it (kernel_interface get_source_addr); undefined
 * when neither is known.
 */
export function localAddr(host: IkeHost, conn: ConnConfig, remote: string): string | undefined {
  return literal(conn.localAddrs) ?? host.sourceFor?.(remote) ?? undefined;
}

/** Creates the SA and sends IKE_SA_INIT. */
export function startInitiator(core: IkeCore, conn: ConnConfig, child: ChildConfig): IkeSa {
  const remote = literal(conn.remoteAddrs);
  if (remote === undefined) throw new VpnError('EINVAL', `connection ${conn.name}: remote_addrs has no address to initiate to`, 'remote_addrs');
  const local = localAddr(core.host, conn, remote) ?? noLocal(core, conn, remote);
  let spiI = core.host.random(8);
  while (spiI.every((x) => x === 0)) spiI = core.host.random(8);
  const sa = new IkeSa(core.nextUniqueId(), conn, true, spiI, { addr: local, port: core.charon.port }, { addr: remote, port: conn.remotePort });
  sa.createdMs = core.now;
  sa.childCfg = child;
  core.register(sa);
  core.host.log('info', `${conn.name}[${sa.uniqueId}]: initiating IKE_SA to ${remote} for child ${child.name}`);
  sendInit(core, sa, conn.proposals[0]!.dh[0]!, null);
  return sa;
}

/** Why localAddr had no address (local_addrs = %any): no route to `remote`, or a host that cannot ask. Throws, naming local_addrs. */
function noLocal(core: IkeCore, conn: ConnConfig, remote: string): never {
  if (core.host.sourceFor === undefined) {
    throw new VpnError('EINVAL', `connection ${conn.name}: local_addrs needs an address to initiate from`, 'local_addrs');
  }
  throw new VpnError('ENETUNREACH', `connection ${conn.name}: local_addrs is %any and there is no route to ${remote} to take a source address from`, 'local_addrs');
}

function sendInit(core: IkeCore, sa: IkeSa, group: number, cookie: Uint8Array | null): void {
  if (cookie === null || sa.ke === null || sa.ke.group !== group) { // §2.6: a COOKIE retry keeps every other payload (Ni is in the cookie)
    sa.ke?.dispose();
    sa.ke = newKeyExchange(group, core.host.random(privLen(group)));
    sa.ni = core.host.random(32);
  }
  const ps: Payload[] = [
    ...(cookie !== null ? [notify(N.COOKIE, cookie)] : []),
    { type: PL.SA, proposals: sa.conn.proposals.map((p, i) => toWire(p, i + 1, new Uint8Array(0))) },
    { type: PL.KE, group, data: sa.ke!.publicValue },
    { type: PL.NONCE, data: sa.ni },
    ...natNotifies(core, sa, new Uint8Array(8)),
    sigHashNotify(),
    ...(announcesFrag(sa.conn.fragmentation) ? [notify(N.IKEV2_FRAGMENTATION_SUPPORTED)] : []),
  ];
  sa.nextMid = 0;
  const data = core.plain(sa, IKE_SA_INIT, 0, false, ps);
  sa.nextMid = 1;
  sa.msg1 = data;
  core.sendRequest(sa, 0, [data], (raw, rps) => onInitResponse(core, sa, raw, rps), () => core.remove(sa, 'IKE_SA_INIT not answered'));
}

/** N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP); the source one faked (random) with encap=yes, as charon does. */
export function natNotifies(core: IkeCore, sa: IkeSa, spiR: Uint8Array): Payload[] {
  const src = sa.conn.encap ? core.host.random(20) : natHash(sa.spiI, spiR, addrBytes(sa.local.addr)!, sa.local.port);
  const dst = natHash(sa.spiI, spiR, addrBytes(sa.remote.addr)!, sa.remote.port);
  return [notify(N.NAT_DETECTION_SOURCE_IP, src), notify(N.NAT_DETECTION_DESTINATION_IP, dst)];
}

/**
 * §2.23 on the peer's NAT_D notifies: its DESTINATION hash not matching our
 * address means we are behind a NAT; its SOURCE hash not matching where the
 * message came from means the peer is (or fakes it, encap=yes).
 */
export function detectNat(sa: IkeSa, ps: readonly Payload[], spiR: Uint8Array): void {
  const srcs = ps.filter((p) => p.type === PL.N && p.notifyType === N.NAT_DETECTION_SOURCE_IP);
  const dst = findNotify(ps, N.NAT_DETECTION_DESTINATION_IP);
  if (srcs.length === 0 || dst === undefined) return; // the peer does not do NAT-T
  const mine = natHash(sa.spiI, spiR, addrBytes(sa.local.addr)!, sa.local.port);
  const theirs = natHash(sa.spiI, spiR, addrBytes(sa.remote.addr)!, sa.remote.port);
  sa.isNatLocal = sa.conn.encap || !authEqual(dst.data, mine);
  sa.isNatRemote = !srcs.some((s) => s.type === PL.N && authEqual(s.data, theirs));
}

function onInitResponse(core: IkeCore, sa: IkeSa, raw: Uint8Array, ps: readonly Payload[]): void {
  const h = parseIkeHeader(raw);
  if (h instanceof IkeDecodeError) return;
  const cookie = findNotify(ps, N.COOKIE);
  if (cookie !== undefined) { sendInit(core, sa, sa.ke!.group, cookie.data); return; }
  const err = findError(ps);
  if (err !== undefined && err.notifyType === N.INVALID_KE_PAYLOAD && err.data.length === 2 && !sa.isKeRetried) {
    const g = be16(err.data, 0);
    if (sa.conn.proposals.some((p) => p.dh.includes(g))) {
      sa.isKeRetried = true;
      core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: peer wants key exchange group ${g}: retrying`);
      sendInit(core, sa, g, null);
      return;
    }
  }
  if (err !== undefined) { core.remove(sa, `IKE_SA_INIT refused with ${notifyName(err.notifyType)}`); return; }
  const saP = first(ps, PL.SA);
  const ke = first(ps, PL.KE);
  const nonce = first(ps, PL.NONCE);
  if (saP === undefined || ke === undefined || nonce === undefined) { core.remove(sa, 'IKE_SA_INIT response lacks SA, KE or Nr'); return; }
  const c = checkAnswer(saP.proposals, sa.conn.proposals, true);
  if (typeof c === 'string') { core.remove(sa, `NO_PROPOSAL_CHOSEN: ${c}`); return; }
  if (c.dh !== ke.group || ke.group !== sa.ke!.group) { core.remove(sa, `KE group ${ke.group} does not match the proposal's ${c.dh ?? 'none'}`); return; }
  const shared = sa.ke!.shared(ke.data);
  if (shared === null) { core.remove(sa, 'the peer\'s KE value is invalid'); return; }
  sa.spiR = h.spiR;
  core.sas.delete(sa.ourSpi); // the key (our SPI) is unchanged; re-register for clarity
  core.register(sa);
  sa.chosen = c;
  sa.nr = nonce.data;
  sa.peerSigHashes = peerSigHashes(ps);
  sa.isFragOk = announcesFrag(sa.conn.fragmentation) && findNotify(ps, N.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined;
  sa.keys = deriveIkeKeys(sa.prfAlg, sa.keyLens(), sa.ni, sa.nr, shared, sa.spiI, sa.spiR);
  shared.fill(0);
  sa.setSkKeys();
  sa.msg2 = raw;
  detectNat(sa, ps, sa.spiR);
  if (sa.isNat) floatPorts(core, sa);
  sendAuth(core, sa);
}

/**
 * RFC 7296 §2.23's float once a NAT is seen, as strongSwan's float_ports:
 * our charon.port moves to charon.port_nat_t; the peer's 500 moves to 4500,
 * while any other remote_port is kept (it names the peer's NAT-T port).
 */
export function floatPorts(core: IkeCore, sa: IkeSa): void {
  if (sa.local.port === core.charon.port) sa.local = { ...sa.local, port: core.charon.portNatT };
  if (sa.remote.port === IKE_PORT) sa.remote = { ...sa.remote, port: NAT_T_PORT };
}

/** The child's configured selectors with `dynamic` resolved to the IKE addresses. */
export function resolveTs(texts: readonly string[], addr: string): ReturnType<typeof parseTs>[] {
  return texts.map((t) => parseTs(t, addr));
}

const noDh = (s: ProposalSpec): ProposalSpec => ({ ...s, dh: [] });

function sendAuth(core: IkeCore, sa: IkeSa): void {
  const conn = sa.conn;
  const child = sa.childCfg!;
  const idi = localIdentity(conn.local, sa.local.addr);
  sa.localId = identityText(idi);
  const mine = ourAuth(authSide(core, sa, conn.remote.id), conn.local, { message: sa.msg1!, peerNonce: sa.nr, skP: sa.keys!.skPi, idBody: idBody(idi.idType, idi.data) });
  if (typeof mine === 'string') { core.remove(sa, mine); return; }
  sa.childSpiIn = core.newEspSpi();
  const spi = new Uint8Array(4);
  put32(spi, 0, sa.childSpiIn);
  const tsi = resolveTs(child.localTs, sa.local.addr).filter((t) => t !== null);
  const tsr = resolveTs(child.remoteTs, sa.remote.addr).filter((t) => t !== null);
  sa.offeredTs = { i: tsi, r: tsr };
  const ps: Payload[] = [
    { type: PL.IDi, idType: idi.idType, data: idi.data },
    ...mine.certs,
    notify(N.INITIAL_CONTACT),
    ...(conn.remote.auth === 'pubkey' ? certReq(conn.remote.anchors ?? []) : []),
    ...(conn.remote.id !== '%any' && conn.remote.id !== '' ? [{ type: PL.IDr, ...identity(conn.remote.id, sa.remote.addr) } as Payload] : []),
    mine.auth,
    { type: PL.SA, proposals: child.espProposals.map((p, i) => toWire(noDh(p), i + 1, spi)) },
    { type: PL.TSi, selectors: tsi },
    { type: PL.TSr, selectors: tsr },
  ];
  core.request(sa, IKE_AUTH, ps, (_raw, rps) => onAuthResponse(core, sa, rps), () => core.remove(sa, 'IKE_AUTH not answered'));
}

function onAuthResponse(core: IkeCore, sa: IkeSa, ps: readonly Payload[]): void {
  const idr = first(ps, PL.IDr);
  const auth = first(ps, PL.AUTH);
  const err = findError(ps);
  if (idr === undefined || auth === undefined) {
    core.remove(sa, `IKE_AUTH refused${err !== undefined ? ` with ${notifyName(err.notifyType)}` : ' (no IDr/AUTH)'}`);
    return;
  }
  sa.remoteId = identityText(idr);
  if (!identityMatches(sa.conn.remote.id, idr, sa.remote.addr)) {
    refuseResponder(core, sa, `the peer is '${sa.remoteId}', not the configured '${sa.conn.remote.id}'`);
    return;
  }
  const why = checkPeerAuth(authSide(core, sa, sa.remoteId), sa.conn.remote, idr, ps, { message: sa.msg2!, peerNonce: sa.ni, skP: sa.keys!.skPr, idBody: idBody(idr.idType, idr.data) });
  if (!why.isOk) { refuseResponder(core, sa, why.why); return; }
  core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: '${sa.remoteId}' authenticated with ${why.how}`);
  const childErr = err !== undefined ? `CHILD_SA ${sa.childCfg!.name} refused with ${notifyName(err.notifyType)}` : installChild(core, sa, ps);
  if (childErr !== null) core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: ${childErr}`);
  core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: IKE_SA established between ${sa.local.addr}[${sa.localId}]...${sa.remote.addr}[${sa.remoteId}]`);
  const w = sa.waiter;
  sa.waiter = childErr === null ? w : null;
  core.established(sa);
  for (const e of upEvents(sa)) core.emit(e);
  if (childErr !== null) core.emit(failure('negotiation', sa.conn.name, sa.uniqueId, sa.remote, childErr));
  if (childErr !== null) w?.(childErr);
}

/** What authn.ts needs of this SA; `remoteId` is the peer's id as far as we know it (for the PSK lookup). */
export function authSide(core: IkeCore, sa: IkeSa, remoteId: string): AuthSide {
  return { cfg: core.cfg, prfAlg: sa.prfAlg, localId: sa.localId, remoteId, nowMs: core.now, peerSigHashes: sa.peerSigHashes };
}

/**
 * We refuse the responder's AUTH: logged with why, the responder told with
 * INFORMATIONAL N(AUTHENTICATION_FAILED) (RFC 7296 §2.21.2; not waited for),
 * the SA removed.
 */
function refuseResponder(core: IkeCore, sa: IkeSa, why: string): void {
  core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: AUTHENTICATION_FAILED: ${why}`);
  core.failed(sa, 'auth', why);
  const mid = sa.nextMid;
  sa.nextMid = (mid + 1) >>> 0;
  core.sendAll(sa.remote, sa.local.port, core.seal(sa, INFORMATIONAL, mid, false, [notify(N.AUTHENTICATION_FAILED)]));
  core.remove(sa, `AUTHENTICATION_FAILED: ${why}`);
}

/** The initiator's Child SA from the IKE_AUTH response; null when installed, else why not. */
function installChild(core: IkeCore, sa: IkeSa, ps: readonly Payload[]): string | null {
  const child = sa.childCfg!;
  const saP = first(ps, PL.SA);
  const tsi = first(ps, PL.TSi);
  const tsr = first(ps, PL.TSr);
  if (saP === undefined || tsi === undefined || tsr === undefined) return `CHILD_SA ${child.name}: the response lacks SA, TSi or TSr`;
  const c = checkAnswer(saP.proposals, child.espProposals.map(noDh), false);
  if (typeof c === 'string') return `CHILD_SA ${child.name}: ${c}`;
  if (c.spi.length !== 4) return `CHILD_SA ${child.name}: the responder's SPI is ${c.spi.length} bytes, not 4`;
  const off = sa.offeredTs!;
  if (tsi.selectors.length === 0 || tsr.selectors.length === 0 || !tsi.selectors.every((t) => isWithin(t, off.i)) || !tsr.selectors.every((t) => isWithin(t, off.r))) {
    return `CHILD_SA ${child.name}: the responder's selectors are not within what we proposed`;
  }
  if (!isPolicyable(tsi.selectors) || !isPolicyable(tsr.selectors)) return `CHILD_SA ${child.name}: selectors that are not prefixes cannot be xfrm policies yet`;
  const keys = deriveChildKeys(sa.prfAlg, sa.keys!.skD, childKeyLens(c), sa.ni, sa.nr);
  const ch = new ChildSa(core.nextChildId(), child, core.nextReqid(), sa.childSpiIn, be32(c.spi, 0), c, tsi.selectors, tsr.selectors,
    sa.isNat, { ...sa.local }, { ...sa.remote }, Math.floor(core.now / 1000));
  const limits = core.scheduleChild(ch);
  const why = core.applyAll(installRequests({ child: ch, keys, isInitiator: true, ...(limits !== undefined ? { limits } : {}) }));
  wipeKeys(keys);
  if (why !== null) return `CHILD_SA ${child.name}: installing it failed: ${why}`;
  sa.children.push(ch);
  core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${child.name}{${ch.uniqueId}} established with SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o`);
  return null;
}
