// Installing and removing a Child SA (RFC 7296 §2.17, §1.3) through the
// daemon's xfrm control requests — the same `xfrm.state.add` /
// `xfrm.policy.add` that `tunkit xfrm` sends, so IKE never reaches into the
// xfrm core. A tunnel-mode Child SA is two states (in: peer → us with our
// SPI; out: us → peer with the peer's SPI) and, per selector pair, an out
// and an in policy naming the SAs' reqid. With NAT (or encap=yes) both
// states carry `encap espinudp` with the IKE SA's ports (RFC 3948).
//
// A rekeyed Child SA keeps its reqid, so the policies stay and only the
// states change: the data path picks the newest valid outbound state of a
// reqid (xfrm_state_look_at), which makes "install the new outbound state"
// the switch. The states carry the child's lifetimes as xfrm limits (soft =
// the rekey time, hard = life_time), whose expire events the core reacts to
// as charon does.

import type { XfrmRequest } from '../control/ike.js';
import type { AlgoSpec, LimitsSpec, PolicySpec, StateSpec } from '../control/xfrm.js';
import { toHex } from '../wire/bytes.js';
import type { TrafficSelector } from '../wire/ike/ts.js';
import { encrKeyLen, ENCRS, INTEGS } from './algs.js';
import type { ChildKeys, KeyLens } from './prf.js';
import type { Chosen } from './proposal.js';
import type { IkeHost } from './core.js';
import type { ChildSa, Endpoint } from './sa.js';
import { tsToCidr } from './ts.js';

/**
 * ESP key lengths (bytes) of a chosen proposal: cipher key (+ the 4-byte salt
 * of an AEAD: RFC 4106 §8.1 for GCM, RFC 7634 §2 for ChaCha20-Poly1305, whose
 * 32-byte key has no Key Length attribute), HMAC key.
 */
export function childKeyLens(c: Chosen): KeyLens {
  const e = ENCRS.get(c.encr.id)!;
  return { encr: encrKeyLen(c.encr) + e.saltLen, integ: c.integ !== null ? INTEGS.get(c.integ)!.keyLen : 0 };
}

/** The xfrm algorithms of one direction. */
function algos(c: Chosen, ek: Uint8Array, ak: Uint8Array): Pick<StateSpec, 'aead' | 'enc' | 'auth' | 'authTrunc'> {
  const e = ENCRS.get(c.encr.id)!;
  if (e.isAead) return { aead: { name: e.xfrmName, keyHex: toHex(ek), bits: e.icvLen * 8 } };
  const i = INTEGS.get(c.integ!)!;
  const enc: AlgoSpec = { name: e.xfrmName, keyHex: toHex(ek) };
  return { enc, auth: { name: i.xfrmName, keyHex: toHex(ak), bits: i.icvLen * 8 }, authTrunc: true };
}

/** Everything install() needs; keys are wiped by the caller once the requests went out. */
export interface ChildInstall {
  readonly child: ChildSa;
  readonly keys: ChildKeys;
  /** True when we were the original initiator of the IKE SA (we then send with the I→R keys). */
  readonly isInitiator: boolean;
  /** xfrm lifetimes of both states (absent: none). */
  readonly limits?: LimitsSpec;
}

const cidr = (t: TrafficSelector): string => tsToCidr(t)!;

function state(src: Endpoint, dst: Endpoint, spi: number, reqid: number, c: Chosen, ek: Uint8Array, ak: Uint8Array, encap: boolean, limits: LimitsSpec | undefined): StateSpec {
  return {
    src: src.addr, dst: dst.addr, proto: 'esp', spi, mode: 'tunnel', reqid, replayWindow: 32, ...algos(c, ek, ak),
    ...(limits !== undefined ? { limits } : {}),
    ...(encap ? { encap: { type: 'espinudp', sport: src.port, dport: dst.port, oa: '0.0.0.0' } } : {}),
  };
}

/** The policies of a child, each as it is added (out and in per selector pair). */
function policies(ch: ChildSa): PolicySpec[] {
  const out: PolicySpec[] = [];
  for (const l of ch.localTs) {
    for (const r of ch.remoteTs) {
      const proto = l.ipProto || r.ipProto;
      const sel = (src: TrafficSelector, dst: TrafficSelector): PolicySpec['sel'] => ({ src: cidr(src), dst: cidr(dst), ...(proto !== 0 ? { proto } : {}) });
      out.push({ sel: sel(l, r), dir: 'out', tmpls: [{ src: ch.local.addr, dst: ch.remote.addr, proto: 'esp', mode: 'tunnel', reqid: ch.reqid }] });
      out.push({ sel: sel(r, l), dir: 'in', tmpls: [{ src: ch.remote.addr, dst: ch.local.addr, proto: 'esp', mode: 'tunnel', reqid: ch.reqid }] });
    }
  }
  return out;
}

/** The inbound state (peer → us, our SPI). `isInitiator`: we initiated the exchange that made it (§2.17 key order). */
export function inStateRequest(ci: ChildInstall): XfrmRequest {
  const { child: ch, keys: k } = ci;
  const [e, a] = ci.isInitiator ? [k.encrR, k.integR] : [k.encrI, k.integI];
  return { op: 'xfrm.state.add', args: { state: state(ch.remote, ch.local, ch.spiIn, ch.reqid, ch.chosen, e, a, ch.encap, ci.limits) } };
}

/** The outbound state (us → peer, the peer's SPI). */
export function outStateRequest(ci: ChildInstall): XfrmRequest {
  const { child: ch, keys: k } = ci;
  const [e, a] = ci.isInitiator ? [k.encrI, k.integI] : [k.encrR, k.integR];
  return { op: 'xfrm.state.add', args: { state: state(ch.local, ch.remote, ch.spiOut, ch.reqid, ch.chosen, e, a, ch.encap, ci.limits) } };
}

/** The policies of a child (shared by every SA of its reqid: a rekey keeps them). */
export const policyRequests = (ch: ChildSa): XfrmRequest[] => policies(ch).map((p) => ({ op: 'xfrm.policy.add', args: { policy: p } }));

/** The same policies as updates (their templates follow a peer that moved: liveness.ts). */
export const policyUpdateRequests = (ch: ChildSa): XfrmRequest[] => policies(ch).map((p) => ({ op: 'xfrm.policy.update', args: { policy: p } }));

/** The requests that install a Child SA: inbound state, outbound state, then the policies. */
export function installRequests(ci: ChildInstall): XfrmRequest[] {
  return [inStateRequest(ci), outStateRequest(ci), ...policyRequests(ci.child)];
}

/** Removal of the outbound state alone (a rekey switched to the new one). */
export const outStateDel = (ch: ChildSa): XfrmRequest => ({ op: 'xfrm.state.del', args: { id: { dst: ch.remote.addr, proto: 'esp', spi: ch.spiOut } } });

/**
 * The requests that remove a Child SA: policies first when it takes them
 * along (no packet goes out in the clear meanwhile: none matches), then the
 * states it still has installed.
 */
export function uninstallRequests(ch: ChildSa, withPolicies = true): XfrmRequest[] {
  const reqs: XfrmRequest[] = withPolicies ? policies(ch).map((p) => ({ op: 'xfrm.policy.del', args: { id: { sel: p.sel, dir: p.dir } } })) : [];
  if (ch.isInInstalled) reqs.push({ op: 'xfrm.state.del', args: { id: { dst: ch.local.addr, proto: 'esp', spi: ch.spiIn } } });
  if (ch.isOutInstalled) reqs.push(outStateDel(ch));
  return reqs;
}

/** True when every selector can be an xfrm policy selector (a prefix). */
export const isPolicyable = (ts: readonly TrafficSelector[]): boolean => ts.every((t) => tsToCidr(t) !== null);

/** Applies requests in order; on a refusal takes back what went in (newest first) and returns why, else null. */
export function applyAll(host: IkeHost, reqs: readonly XfrmRequest[]): string | null {
  const done: XfrmRequest[] = [];
  for (const r of reqs) {
    try {
      host.control(r);
      done.push(r);
    } catch (e) {
      for (const d of done.reverse()) undo(host, d);
      return e instanceof Error ? e.message : String(e);
    }
  }
  return null;
}

function undo(host: IkeHost, r: XfrmRequest): void {
  try {
    if (r.op === 'xfrm.state.add') host.control({ op: 'xfrm.state.del', args: { id: { dst: r.args.state.dst, proto: 'esp', spi: r.args.state.spi } } });
    else if (r.op === 'xfrm.policy.add') host.control({ op: 'xfrm.policy.del', args: { id: { sel: r.args.policy.sel, dir: r.args.policy.dir } } });
  } catch (e) {
    host.log('warn', `rolling back ${r.op}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
