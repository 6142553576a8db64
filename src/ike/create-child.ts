// CREATE_CHILD_SA for Child SAs (RFC 7296 §1.3.1, §1.3.3, §2.8, §2.17):
//
//   HDR, SK {[N(REKEY_SA, old SPI)], SA, Ni, [KEi], TSi, TSr}  -->     (KEi: PFS, the ESP proposal names a group)
//                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//
// A rekey is make-before-break, so no packet meets a missing SA:
//   responder: installs the new inbound state, answers, and holds the new
//              outbound state back (pendingOut) until the initiator deletes
//              the old SA — the initiator has the new inbound state by then;
//   initiator: on the answer installs the new inbound and outbound states
//              (the newest outbound state of the reqid wins: the switch),
//              removes the old outbound state and deletes the old SA
//              (INFORMATIONAL D(ESP)); the old inbound state lingers
//              OLD_SA_LINGER_MS for packets still in flight on it.
// Rekeys of one SA crossing (§2.8.1): each side answers the other's and
// records it (old.collision); when its own answer comes, the exchange with
// the lowest nonce made the redundant SA, and its initiator deletes that one
// (never installed on its side) while the other one deletes the old SA.
// The responder answers TEMPORARY_FAILURE for an SA already replaced or
// while the IKE SA is being rekeyed (§2.25), CHILD_SA_NOT_FOUND for an SPI
// it does not know.

import { be16, be32, put16, put32 } from '../wire/bytes.js';
import { CREATE_CHILD_SA, INFORMATIONAL, N, notifyName, PL, PROTO_ESP, PROTO_IKE } from '../wire/ike/consts.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { TrafficSelector } from '../wire/ike/ts.js';
import { childKeyLens, inStateRequest, isPolicyable, outStateDel, outStateRequest, policyRequests } from './child.js';
import type { ChildInstall } from './child.js';
import type { ChildConfig } from './config.js';
import { findError, first } from './core.js';
import type { IkeCore } from './core.js';
import { childRekey, childUpDown, failure } from './events.js';
import { newKeyExchange, privLen } from './dh.js';
import type { KeyExchange } from './dh.js';
import { resolveTs } from './initiator.js';
import { compareNonce, limitsOf, minNonce, OLD_SA_LINGER_MS, OUT_SWITCH_FALLBACK_MS, RETRY_MS } from './lifetime.js';
import { deriveChildKeys, wipeKeys } from './prf.js';
import type { ChildKeys } from './prf.js';
import { checkAnswer, chosenToWire, matchOne, toWire } from './proposal.js';
import type { Chosen, ProposalSpec } from './proposal.js';
import { handleIkeRekey } from './rekey-ike.js';
import { matchChild } from './responder.js';
import { ChildSa } from './sa.js';
import type { IkeSa } from './sa.js';
import { isWithin } from './ts.js';

/** Our CREATE_CHILD_SA for a child: a rekey of `old`, or a new Child SA of cfg. */
interface ChildOp {
  readonly cfg: ChildConfig;
  readonly old: ChildSa | null;
  readonly spiIn: number;
  readonly ni: Uint8Array;
  readonly ke: KeyExchange | null;
  readonly tsi: readonly TrafficSelector[];
  readonly tsr: readonly TrafficSelector[];
  readonly isKeRetried: boolean;
  readonly done: ((err: string | null) => void) | null;
}

const u32 = (v: number): Uint8Array => { const b = new Uint8Array(4); put32(b, 0, v); return b; };
const noDh = (s: ProposalSpec): ProposalSpec => ({ ...s, dh: [] });
const tag = (sa: IkeSa): string => `${sa.conn.name}[${sa.uniqueId}]`;

/** The group our request's KE uses: the first one any ESP proposal names (PFS), else none. */
const pfsGroup = (cfg: ChildConfig): number | null => cfg.espProposals.find((p) => p.dh.length > 0)?.dh[0] ?? null;

/** What we offer: with PFS each proposal as configured, without it none names a group. */
const offered = (cfg: ChildConfig, ke: KeyExchange | null): ProposalSpec[] => cfg.espProposals.map((p) => (ke === null ? noDh(p) : p));

function newOp(core: IkeCore, cfg: ChildConfig, old: ChildSa | null, tsi: readonly TrafficSelector[], tsr: readonly TrafficSelector[],
  done: ChildOp['done'], group: number | null = pfsGroup(cfg), isKeRetried = false): ChildOp {
  const ke = group === null ? null : newKeyExchange(group, core.host.random(privLen(group)));
  return { cfg, old, spiIn: core.newEspSpi(), ni: core.host.random(32), ke, tsi, tsr, isKeRetried, done };
}

/** Queues a CREATE_CHILD_SA for a new Child SA of `cfg` on an established IKE SA (`tunkit ike initiate` of a second child). */
export function startNewChild(core: IkeCore, sa: IkeSa, cfg: ChildConfig, done: (err: string | null) => void): void {
  core.enqueue(sa, (s) => {
    const tsi = resolveTs(cfg.localTs, s.local.addr).filter((t) => t !== null);
    const tsr = resolveTs(cfg.remoteTs, s.remote.addr).filter((t) => t !== null);
    sendCreate(core, s, newOp(core, cfg, null, tsi, tsr, done));
  });
}

/** Queues a rekey of `ch`; false when it is not an installed SA of ours to rekey. */
export function startChildRekey(core: IkeCore, sa: IkeSa, ch: ChildSa): boolean {
  if (ch.state !== 'INSTALLED' || !ch.isOutInstalled) return false;
  ch.at.rekeyAtMs = null; // queued: the timer, a soft expire or the CLI must not queue it twice
  core.enqueue(sa, (s) => {
    if (ch.state !== 'INSTALLED' || !s.children.includes(ch)) return; // replaced or deleted meanwhile (the peer's rekey won the race)
    ch.state = 'REKEYING';
    core.host.log('info', `${tag(s)}: rekeying CHILD_SA ${ch.cfg.name}{${ch.uniqueId}} (SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o)`);
    sendCreate(core, s, newOp(core, ch.cfg, ch, ch.localTs, ch.remoteTs, null));
  });
  return true;
}

function sendCreate(core: IkeCore, sa: IkeSa, op: ChildOp): void {
  const ps: Payload[] = [
    ...(op.old !== null ? [{ type: PL.N, protocolId: PROTO_ESP, spi: u32(op.old.spiIn), notifyType: N.REKEY_SA, data: new Uint8Array(0) } as const] : []),
    { type: PL.SA, proposals: offered(op.cfg, op.ke).map((p, i) => toWire(p, i + 1, u32(op.spiIn))) },
    { type: PL.NONCE, data: op.ni },
    ...(op.ke !== null ? [{ type: PL.KE, group: op.ke.group, data: op.ke.publicValue } as const] : []),
    { type: PL.TSi, selectors: op.tsi },
    { type: PL.TSr, selectors: op.tsr },
  ];
  core.request(sa, CREATE_CHILD_SA, ps, (_raw, rps) => onResponse(core, sa, op, rps), () => core.remove(sa, 'CREATE_CHILD_SA not answered'), 'child');
}

/** The rekey or new child did not happen: put the old SA back (or leave it to the crossing rekey) and say why. */
function fail(core: IkeCore, sa: IkeSa, op: ChildOp, why: string, retry: boolean): void {
  op.ke?.dispose();
  core.host.log('warn', `${tag(sa)}: CHILD_SA ${op.cfg.name}: ${op.old !== null ? 'rekey' : 'create'} failed: ${why}`);
  core.emit(failure('negotiation', sa.conn.name, sa.uniqueId, sa.remote, `CHILD_SA ${op.cfg.name}: ${op.old !== null ? 'rekey' : 'create'} failed: ${why}`));
  const old = op.old;
  if (old !== null && old.state === 'REKEYING') {
    old.state = old.collision !== null ? 'REKEYED' : 'INSTALLED';
    if (old.state === 'INSTALLED' && retry) old.at.rekeyAtMs = core.now + RETRY_MS + (core.host.random(1)[0]! / 255) * RETRY_MS;
  }
  op.done?.(why);
}

function onResponse(core: IkeCore, sa: IkeSa, op: ChildOp, ps: readonly Payload[]): void {
  const err = findError(ps);
  if (err !== undefined) {
    const g = err.notifyType === N.INVALID_KE_PAYLOAD && err.data.length === 2 ? be16(err.data, 0) : null;
    if (g !== null && !op.isKeRetried && op.cfg.espProposals.some((p) => p.dh.includes(g))) {
      core.host.log('info', `${tag(sa)}: CHILD_SA ${op.cfg.name}: the peer wants key exchange group ${g}: retrying`);
      op.ke?.dispose();
      sendCreate(core, sa, newOp(core, op.cfg, op.old, op.tsi, op.tsr, op.done, g, true));
      return;
    }
    fail(core, sa, op, `refused with ${notifyName(err.notifyType)}`, err.notifyType === N.TEMPORARY_FAILURE);
    return;
  }
  const got = answer(sa, op, ps);
  if (typeof got === 'string') { fail(core, sa, op, got, false); return; }
  if (op.old !== null && !sa.children.includes(op.old)) {
    deleteSpi(core, sa, op.spiIn, null); // the old SA went meanwhile: the new one has no purpose
    fail(core, sa, op, 'the SA being rekeyed was deleted meanwhile', false);
    wipeKeys(got.keys);
    return;
  }
  const col = op.old?.collision ?? null;
  if (col !== null && compareNonce(minNonce(op.ni, got.nr), col.minNonce) < 0) {
    // §2.8.1: our exchange holds the lowest nonce, so our SA is the redundant one; the peer's replaces the old SA.
    core.host.log('info', `${tag(sa)}: CHILD_SA ${op.cfg.name}: rekey collision lost (lowest nonce): deleting our redundant SA ${op.spiIn.toString(16)}`);
    wipeKeys(got.keys);
    op.old!.state = 'REKEYED';
    deleteSpi(core, sa, op.spiIn, null);
    return;
  }
  install(core, sa, op, got);
}

interface Answer { readonly c: Chosen; readonly nr: Uint8Array; readonly keys: ChildKeys; readonly tsi: readonly TrafficSelector[]; readonly tsr: readonly TrafficSelector[] }

/** Checks the response and derives the keys; why not, as text. */
function answer(sa: IkeSa, op: ChildOp, ps: readonly Payload[]): Answer | string {
  const saP = first(ps, PL.SA);
  const nonce = first(ps, PL.NONCE);
  const tsi = first(ps, PL.TSi);
  const tsr = first(ps, PL.TSr);
  const ke = first(ps, PL.KE);
  if (saP === undefined || nonce === undefined || tsi === undefined || tsr === undefined) return 'the response lacks SA, Nr, TSi or TSr';
  const mine = offered(op.cfg, op.ke);
  const c = checkAnswer(saP.proposals, mine, false);
  if (typeof c === 'string') return c;
  if (c.spi.length !== 4) return `the responder's SPI is ${c.spi.length} bytes, not 4`;
  const wantsPfs = (mine[c.num - 1]?.dh.length ?? 0) > 0;
  if (wantsPfs !== (c.dh !== null) || (c.dh !== null && (ke === undefined || ke.group !== c.dh || op.ke?.group !== c.dh))) return `the responder's key exchange (group ${c.dh ?? 'none'}, KE ${ke?.group ?? 'none'}) is not what we offered (PFS ${op.ke?.group ?? 'none'})`;
  if (tsi.selectors.length === 0 || tsr.selectors.length === 0 || !tsi.selectors.every((t) => isWithin(t, op.tsi)) || !tsr.selectors.every((t) => isWithin(t, op.tsr))) {
    return 'the responder\'s selectors are not within what we proposed';
  }
  if (!isPolicyable(tsi.selectors) || !isPolicyable(tsr.selectors)) return 'selectors that are not prefixes cannot be xfrm policies yet';
  let shared: Uint8Array | null = null;
  if (op.ke !== null) {
    shared = op.ke.shared(ke!.data);
    op.ke.dispose();
    if (shared === null) return 'the peer\'s KE value is invalid';
  }
  const keys = deriveChildKeys(sa.prfAlg, sa.keys!.skD, childKeyLens(c), op.ni, nonce.data, shared);
  shared?.fill(0);
  return { c, nr: nonce.data, keys, tsi: tsi.selectors, tsr: tsr.selectors };
}

/** Initiator: installs the new SA (inbound, then outbound: the switch) and, for a rekey, retires the old one. */
function install(core: IkeCore, sa: IkeSa, op: ChildOp, a: Answer): void {
  const old = op.old;
  const ch = new ChildSa(core.nextChildId(), op.cfg, old?.reqid ?? core.nextReqid(), op.spiIn, be32(a.c.spi, 0), a.c, a.tsi, a.tsr,
    sa.isNat, { ...sa.local }, { ...sa.remote }, Math.floor(core.now / 1000));
  const limits = core.scheduleChild(ch);
  const ci: ChildInstall = { child: ch, keys: a.keys, isInitiator: true, ...(limits !== undefined ? { limits } : {}) };
  const why = core.applyAll([inStateRequest(ci), outStateRequest(ci), ...(old === null ? policyRequests(ch) : [])]);
  wipeKeys(a.keys);
  if (why !== null) {
    deleteSpi(core, sa, op.spiIn, null);
    fail(core, sa, op, `installing it failed: ${why}`, false);
    return;
  }
  sa.children.push(ch);
  core.host.log('info', `${tag(sa)}: CHILD_SA ${op.cfg.name}{${ch.uniqueId}} ${old !== null ? 'rekeyed' : 'established'} with SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o${a.c.dh !== null ? ' (PFS)' : ''}`);
  core.emit(old !== null ? childRekey(sa, old, ch) : childUpDown(sa, ch, true));
  op.done?.(null);
  if (old === null) return;
  old.state = 'REKEYED';
  removeOut(core, sa, old);
  deleteSpi(core, sa, old.spiIn, old);
}

/** Drops a replaced SA's outbound state (the new one already carries the traffic). */
function removeOut(core: IkeCore, sa: IkeSa, ch: ChildSa): void {
  if (!ch.isOutInstalled) return;
  ch.isOutInstalled = false;
  try {
    core.host.control(outStateDel(ch));
  } catch (e) {
    core.host.log('warn', `${tag(sa)}: ${ch.cfg.name}: removing outbound SA ${ch.spiOut.toString(16)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Queues INFORMATIONAL D(ESP, spi) for our inbound SPI. `ch` (a replaced SA)
 * then keeps its inbound state OLD_SA_LINGER_MS longer; without one there is
 * nothing of ours installed under that SPI.
 */
export function deleteSpi(core: IkeCore, sa: IkeSa, spi: number, ch: ChildSa | null): void {
  core.enqueue(sa, (s) => {
    if (ch !== null && !s.children.includes(ch)) return;
    core.request(s, INFORMATIONAL, [{ type: PL.D, protocolId: PROTO_ESP, spiSize: 4, spis: [u32(spi)] }], () => {
      if (ch !== null) ch.removeAtMs = core.now + OLD_SA_LINGER_MS;
    }, () => core.remove(s, 'delete not answered'));
  });
}

/** Queues the deletion of a whole Child SA of ours (hard expiry): D(ESP), then its states (and policies). */
export function deleteChild(core: IkeCore, sa: IkeSa, ch: ChildSa): void {
  ch.state = 'DELETING';
  core.enqueue(sa, (s) => {
    if (!s.children.includes(ch)) return;
    core.request(s, INFORMATIONAL, [{ type: PL.D, protocolId: PROTO_ESP, spiSize: 4, spis: [u32(ch.spiIn)] }],
      () => core.removeChild(s, ch), () => core.remove(s, 'delete not answered'));
  });
}

/** Installs the outbound state a rekey responder held back: the switch of our traffic to the new SA. */
export function activateOut(core: IkeCore, sa: IkeSa, ch: ChildSa): void {
  const keys = ch.pendingOut;
  if (keys === null) return;
  ch.pendingOut = null;
  const limits = limitsOf(ch.at, core.now, ch.volume);
  const why = core.applyAll([outStateRequest({ child: ch, keys, isInitiator: false, ...(limits !== undefined ? { limits } : {}) })]);
  wipeKeys(keys);
  if (why !== null) { core.host.log('error', `${tag(sa)}: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}}: installing the outbound SA failed: ${why}`); return; }
  ch.isOutInstalled = true;
}

/** The peer deleted `old`, which a rekey replaced: switch to the successor, drop the old outbound state, let the inbound one linger. */
export function retire(core: IkeCore, sa: IkeSa, old: ChildSa): void {
  for (const c of sa.children) if (c !== old && c.reqid === old.reqid && c.pendingOut !== null) activateOut(core, sa, c);
  old.state = 'REKEYED';
  removeOut(core, sa, old);
  old.removeAtMs = core.now + OLD_SA_LINGER_MS;
}

/** Responder: a CREATE_CHILD_SA request (a Child SA rekey, a new Child SA, or an IKE SA rekey). */
export function handleCreateChild(core: IkeCore, sa: IkeSa, mid: number, ps: readonly Payload[]): void {
  const saP = first(ps, PL.SA);
  const refuse = (n: number, data: Uint8Array = new Uint8Array(0), proto = 0, spi: Uint8Array = new Uint8Array(0)): void =>
    core.respond(sa, CREATE_CHILD_SA, mid, [{ type: PL.N, protocolId: proto, spi, notifyType: n, data }]);
  if (saP !== undefined && saP.proposals[0]?.protocolId === PROTO_IKE) { handleIkeRekey(core, sa, mid, ps); return; }
  if (sa.state !== 'ESTABLISHED') { refuse(N.TEMPORARY_FAILURE); return; } // an IKE rekey is under way (§2.25.2)
  const rekey = ps.find((p): p is Extract<Payload, { type: typeof PL.N }> => p.type === PL.N && p.notifyType === N.REKEY_SA);
  let old: ChildSa | null = null;
  if (rekey !== undefined) {
    const spi = rekey.spi.length === 4 ? be32(rekey.spi, 0) : -1;
    old = sa.children.find((c) => c.spiOut === spi) ?? null;
    if (old === null) { core.host.log('info', `${tag(sa)}: rekey of unknown CHILD_SA ${spi.toString(16)}: CHILD_SA_NOT_FOUND`); refuse(N.CHILD_SA_NOT_FOUND, new Uint8Array(0), PROTO_ESP, rekey.spi); return; }
    if (old.state !== 'INSTALLED' && old.state !== 'REKEYING') { refuse(N.TEMPORARY_FAILURE); return; } // already replaced or going (§2.25.1)
  }
  const got = respondChild(core, sa, ps, old);
  if (!Array.isArray(got)) { refuse(got.n, got.data); return; }
  core.respond(sa, CREATE_CHILD_SA, mid, got);
}

/** An error answer: the notify type and its data. */
interface Refusal { readonly n: number; readonly data: Uint8Array }
const refusal = (n: number, group?: number): Refusal => {
  const data = new Uint8Array(group === undefined ? 0 : 2);
  if (group !== undefined) put16(data, 0, group);
  return { n, data };
};

/** Builds and installs our side of the peer's Child SA; the response payloads, or the error notify. */
function respondChild(core: IkeCore, sa: IkeSa, ps: readonly Payload[], old: ChildSa | null): Payload[] | Refusal {
  const saP = first(ps, PL.SA);
  const nonce = first(ps, PL.NONCE);
  const tsi = first(ps, PL.TSi);
  const tsr = first(ps, PL.TSr);
  const ke = first(ps, PL.KE);
  if (saP === undefined || nonce === undefined || tsi === undefined || tsr === undefined) return refusal(N.INVALID_SYNTAX);
  const m = old === null ? matchChild(sa, tsi.selectors, tsr.selectors) : null;
  if (old === null && m === null) { core.host.log('warn', `${tag(sa)}: CREATE_CHILD_SA: TS_UNACCEPTABLE`); return refusal(N.TS_UNACCEPTABLE); }
  const cfg = old?.cfg ?? sa.conn.children[m!.cfgIndex]!;
  const c = selectChild(saP.proposals, cfg.espProposals);
  if (c === null || c.spi.length !== 4) { core.host.log('warn', `${tag(sa)}: NO_PROPOSAL_CHOSEN for CHILD_SA ${cfg.name}`); return refusal(N.NO_PROPOSAL_CHOSEN); }
  if (c.dh !== null && ke?.group !== c.dh) return refusal(N.INVALID_KE_PAYLOAD, c.dh);
  const kx = c.dh !== null ? newKeyExchange(c.dh, core.host.random(privLen(c.dh))) : null;
  const shared = kx !== null ? kx.shared(ke!.data) : null;
  if (kx !== null && shared === null) { kx.dispose(); return refusal(N.INVALID_SYNTAX); }
  const nr = core.host.random(32);
  const keys = deriveChildKeys(sa.prfAlg, sa.keys!.skD, childKeyLens(c), nonce.data, nr, shared);
  shared?.fill(0);
  const [lts, rts] = old !== null ? [old.localTs, old.remoteTs] : [m!.tsr, m!.tsi];
  const ch = new ChildSa(core.nextChildId(), cfg, old?.reqid ?? core.nextReqid(), core.newEspSpi(), be32(c.spi, 0), c, lts, rts,
    sa.isNat, { ...sa.local }, { ...sa.remote }, Math.floor(core.now / 1000));
  const limits = core.scheduleChild(ch);
  const ci: ChildInstall = { child: ch, keys, isInitiator: false, ...(limits !== undefined ? { limits } : {}) };
  const why = core.applyAll(old !== null ? [inStateRequest(ci)] : [inStateRequest(ci), outStateRequest(ci), ...policyRequests(ch)]);
  const pub = kx?.publicValue ?? null;
  kx?.dispose();
  if (why !== null) { wipeKeys(keys); core.host.log('error', `${tag(sa)}: CHILD_SA ${cfg.name}: installing it failed: ${why}`); return refusal(N.NO_PROPOSAL_CHOSEN); }
  if (old !== null) {
    ch.isOutInstalled = false; // make-before-break: our traffic moves once the initiator has the new inbound SA
    ch.pendingOut = keys;
    ch.outDueMs = core.now + OUT_SWITCH_FALLBACK_MS;
    if (old.state === 'REKEYING') old.collision = { child: ch, minNonce: minNonce(nonce.data, nr) };
    else old.state = 'REKEYED';
  } else {
    wipeKeys(keys);
  }
  sa.children.push(ch);
  core.emit(old !== null ? childRekey(sa, old, ch) : childUpDown(sa, ch, true));
  core.host.log('info', `${tag(sa)}: CHILD_SA ${cfg.name}{${ch.uniqueId}} ${old !== null ? `rekeyed by the peer${old.collision?.child === ch ? ' (collision)' : ''}` : 'established'} with SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o`);
  return [
    { type: PL.SA, proposals: [chosenToWire(c, u32(ch.spiIn))] },
    { type: PL.NONCE, data: nr },
    ...(pub !== null ? [{ type: PL.KE, group: c.dh!, data: pub } as const] : []),
    { type: PL.TSi, selectors: ch.remoteTs },
    { type: PL.TSr, selectors: ch.localTs },
  ];
}

/** §2.7 for a Child SA: the first peer proposal one of ours satisfies, a group required exactly when ours names one (PFS). */
function selectChild(offeredPs: readonly Extract<Payload, { type: typeof PL.SA }>['proposals'][number][], mine: readonly ProposalSpec[]): Chosen | null {
  for (const p of offeredPs) {
    for (const s of mine) {
      const c = matchOne(p, s, s.dh.length > 0);
      if (c !== null) return c;
    }
  }
  return null;
}
