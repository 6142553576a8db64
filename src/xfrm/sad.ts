// The Security Association Database: net/xfrm/xfrm_state.c's tables.
//
//   inbound   lookupIn(daddr, spi)  xfrm_state_lookup (byspi hash: SPI, then
//             destination address and protocol)
//   outbound  findOut(tmpl, flow)   xfrm_state_find: the states matching a
//             policy template (endpoints for tunnel mode, the flow's own
//             addresses for transport mode; reqid, mode, SPI if the template
//             names one, if_id) whose selector matches the flow; the best is
//             a valid one before a dying one, then the newest
//             (xfrm_state_look_at).
//
// Both lookups are hashed, so their cost does not grow with the SAD: the
// inbound one by SPI (net->xfrm.state_byspi, xfrm_spi_hash; then daddr,
// family), the outbound one by (daddr, saddr) and, when the template names
// a reqid, by (daddr, saddr, reqid) — net->xfrm.state_bydst, xfrm_dst_hash
// of daddr, saddr and reqid. Each chain is filtered with the full rule
// above, and the choice depends only on km state and genid, so a chain's
// order never matters.
//
// The control plane adds, updates (xfrm_state_update: lifetimes and encap
// of a valid state; keys and SPI never change), moves (xfrm_state_migrate:
// new outer addresses and encap for the same state), deletes and flushes. A
// state leaving the SAD is destroyed (XfrmState.destroy: its native crypto
// context freed and its key bytes wiped), as xfrm_state_gc_destroy →
// esp_destroy frees the kernel's crypto_aead.

import { VpnError } from '../wire/errors.js';
import { UDP_ENCAP_ESPINUDP_NON_IKE, XFRM_MODE_TRANSPORT } from './config.js';
import type { Encap, SaConfig } from './config.js';
import { wipeKeys } from './esp-crypto.js';
import { formatXAddr, selectorMatch, xaddrAt, xaddrEqual } from './selector.js';
import { hashAddr, hashKey, hashWord, HASH_SEED } from './xhash.js';
import type { Flow, XAddr } from './selector.js';
import type { StateSpec } from './spec.js';
import { KmState, XfrmState } from './state.js';

/** The template fields findOut matches (a parsed `tmpl`, spd.ts). */
export interface TmplMatch {
  readonly src: XAddr | null;
  readonly dst: XAddr | null;
  readonly spi: number;
  readonly mode: number;
  readonly reqid: number;
}

/** Address bytes of a family. */
const alen = (a: XAddr): number => (a.family === 4 ? 4 : 16);

/** The (daddr, saddr) chain hash of a state or template (the same words as pairHashAt over a flow). */
const pairHash = (src: XAddr, dst: XAddr): number => hashAddr(hashAddr(HASH_SEED, dst.bytes, 0, alen(dst)), src.bytes, 0, alen(src));

/** The byspi key: the SPI as int32 (a Smi: a u32 ≥ 2^31 would be boxed per packet). */
const spiKey = (spi: number): number => spi | 0;

export class Sad {
  /** spiKey → states with that SPI (state_byspi). */
  private readonly bySpi = new Map<number, XfrmState[]>();
  /** hashKey(daddr, saddr) → states (state_bydst, any reqid). */
  private readonly byPair = new Map<number, XfrmState[]>();
  /** hashKey(daddr, saddr, reqid) → states (state_bydst). */
  private readonly byReqid = new Map<number, XfrmState[]>();
  /** Oldest first. */
  private readonly states: XfrmState[] = [];
  private genid = 0;

  /** Every state, newest first (the order `ip xfrm state` lists them in). */
  list(): readonly XfrmState[] { return [...this.states].reverse(); }

  get count(): number { return this.states.length; }

  /** Exact (daddr, spi) match, or null. */
  get(dst: XAddr, spi: number): XfrmState | null {
    const l = this.bySpi.get(spiKey(spi));
    if (l === undefined) return null;
    for (const x of l) if (xaddrEqual(x.cfg.dst, dst)) return x;
    return null;
  }

  /** xfrm_state_add: EEXIST when (dst, spi, esp) is taken. Owns cfg's key bytes from here (wiped if refused). */
  add(cfg: SaConfig, spec: StateSpec, nowMs: number): XfrmState {
    let x: XfrmState;
    try {
      if (this.get(cfg.dst, cfg.spi) !== null) throw new VpnError('EEXIST', 'File exists: a state with this dst, proto and spi exists', 'spi');
      x = new XfrmState(cfg, spec, nowMs, ++this.genid);
    } catch (e) {
      wipeKeys(cfg.crypto); // refused: the request's key bytes go now, not with the garbage
      throw e;
    }
    this.insert(x);
    return x;
  }

  /**
   * xfrm_state_update: ESRCH when absent. A valid state takes the new
   * lifetimes and encapsulation (same type) and stops dying; the rest of the
   * new request is ignored, as the kernel ignores it.
   */
  update(cfg: SaConfig, spec: StateSpec): XfrmState {
    const old = this.get(cfg.dst, cfg.spi);
    if (old === null) throw new VpnError('ESRCH', 'No such process: no state with this dst, proto and spi', 'spi');
    const encap = old.cfg.encap !== null && cfg.encap !== null && old.cfg.encap.type === cfg.encap.type ? cfg.encap : old.cfg.encap;
    const merged: SaConfig = { ...old.cfg, limits: cfg.limits, encap };
    if (cfg.crypto !== old.cfg.crypto) wipeKeys(cfg.crypto); // keys never change: the request's copy is dropped
    // relocate: same addresses, so the hashes stay; an inbound SA now expects the peer at the new encap sport (esp_input_done2 reads x->encap).
    old.relocate(merged, { ...old.spec, ...(spec.limits !== undefined ? { limits: spec.limits } : {}), ...(encap !== null && spec.encap !== undefined ? { encap: spec.encap } : {}) });
    if (old.km === KmState.Dying) old.km = KmState.Valid;
    return old;
  }

  /**
   * xfrm_state_migrate for one state (XFRM_MSG_MIGRATE, with XFRMA_ENCAP):
   * x goes to the outer addresses src → dst with `encap` (null: none). The
   * kernel clones the state, carrying over its replay state and sequence
   * numbers; here the state itself moves, so its counters and lifetimes stay
   * too. EEXIST (nothing changed) when another state has (dst, spi).
   */
  move(x: XfrmState, src: XAddr, dst: XAddr, encap: Encap | null): void {
    const taken = this.get(dst, x.cfg.spi);
    if (taken !== null && taken !== x) throw new VpnError('EEXIST', 'File exists: a state with this dst, proto and spi exists', 'dst');
    if (this.states.indexOf(x) < 0) throw new Error('Sad.move: the state is not in this SAD');
    this.unhash(x);
    const { encap: _e, ...rest } = x.spec;
    const type = encap?.type === UDP_ENCAP_ESPINUDP_NON_IKE ? 'espinudp-nonike' as const : 'espinudp' as const;
    const e = encap === null ? {} : { encap: { type, sport: encap.sport, dport: encap.dport, oa: formatXAddr(encap.oa) } };
    x.relocate({ ...x.cfg, src, dst, encap }, { ...rest, src: formatXAddr(src), dst: formatXAddr(dst), ...e });
    this.hash(x);
  }

  /** xfrm_state_delete; ESRCH when absent. */
  del(dst: XAddr, spi: number): XfrmState {
    const x = this.get(dst, spi);
    if (x === null) throw new VpnError('ESRCH', 'No such process: no state with this dst, proto and spi', 'spi');
    this.remove(x);
    return x;
  }

  /** Removes a state (hard expiry or delete) and destroys its crypto context and keys; no-op when absent. */
  remove(x: XfrmState): void {
    const j = this.states.indexOf(x);
    if (j < 0) return;
    this.states.splice(j, 1);
    this.unhash(x);
    x.destroy();
  }

  /** Takes x out of the three hashes (not out of `states`). */
  private unhash(x: XfrmState): void {
    const h = pairHash(x.cfg.src, x.cfg.dst);
    unchain(this.bySpi, spiKey(x.cfg.spi), x);
    unchain(this.byPair, hashKey(h), x);
    unchain(this.byReqid, hashKey(hashWord(h, x.cfg.reqid)), x);
  }

  /** Removes every state, destroying each one's crypto context and keys. */
  flush(): number {
    const n = this.states.length;
    for (const x of this.states) x.destroy();
    this.states.length = 0;
    this.bySpi.clear();
    this.byPair.clear();
    this.byReqid.clear();
    return n;
  }

  /** xfrm_state_lookup for an inbound packet: destination address at b[dstOff] (family bytes), SPI (as u32 or its int32 bits: the key is spi | 0). */
  lookupIn(spi: number, family: 4 | 6, b: Uint8Array, dstOff: number): XfrmState | null {
    const l = this.bySpi.get(spiKey(spi));
    if (l === undefined) return null;
    for (let i = 0; i < l.length; i++) {
      const x = l[i]!;
      if (x.cfg.family === family && xaddrAt(x.cfg.dst, b, dstOff)) return x;
    }
    return null;
  }

  /**
   * xfrm_state_find for one template and flow; null when no usable state
   * exists (→ acquire). Hashed: only the states with the template's (or, in
   * transport mode, the flow's) addresses — and its reqid if it names one — are looked at.
   */
  findOut(t: TmplMatch, f: Flow, ifId: number): XfrmState | null {
    let h: number;
    if (t.mode === XFRM_MODE_TRANSPORT) {
      const n = f.family === 4 ? 4 : 16;
      h = hashAddr(hashAddr(HASH_SEED, f.buf, f.dstOff, n), f.buf, f.srcOff, n);
    } else if (t.src !== null && t.dst !== null) {
      h = pairHash(t.src, t.dst);
    } else {
      return this.best(this.states, t, f, ifId); // a tunnel template without endpoints (validated policies have them)
    }
    const chain = t.reqid !== 0 ? this.byReqid.get(hashKey(hashWord(h, t.reqid))) : this.byPair.get(hashKey(h));
    return chain === undefined ? null : this.best(chain, t, f, ifId);
  }

  /** xfrm_state_look_at over `list`: the usable states matching t and f; valid before dying, then the newest. */
  private best(list: readonly XfrmState[], t: TmplMatch, f: Flow, ifId: number): XfrmState | null {
    let best: XfrmState | null = null;
    const transport = t.mode === XFRM_MODE_TRANSPORT;
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      const c = x.cfg;
      if (!x.isUsable || c.mode !== t.mode || c.ifId !== ifId) continue;
      if ((t.reqid !== 0 && c.reqid !== t.reqid) || (t.spi !== 0 && c.spi !== t.spi)) continue;
      if (transport) {
        if (c.family !== f.family || !xaddrAt(c.dst, f.buf, f.dstOff) || !xaddrAt(c.src, f.buf, f.srcOff)) continue;
      } else if ((t.dst !== null && !xaddrEqual(t.dst, c.dst)) || (t.src !== null && !xaddrEqual(t.src, c.src))) {
        continue;
      }
      if (!selectorMatch(c.sel, f)) continue;
      if (best === null || best.km > x.km || (best.km === x.km && best.genid < x.genid)) best = x;
    }
    return best;
  }

  /**
   * __xfrm_state_insert: a state joins the byspi hash only when its SPI is
   * non-zero, so an SPI-0 state is never found by (daddr, spi): add does not
   * see it (no EEXIST), and get, update, delete (xfrm_user_state_lookup) and
   * inbound lookups answer ESRCH / no match. It leaves by flush or expiry.
   */
  private insert(x: XfrmState): void {
    this.states.push(x);
    this.hash(x);
  }

  /** Puts x in the three hashes (the byspi one only with a non-zero SPI). */
  private hash(x: XfrmState): void {
    const h = pairHash(x.cfg.src, x.cfg.dst);
    if (x.cfg.spi !== 0) chain(this.bySpi, spiKey(x.cfg.spi), x);
    chain(this.byPair, hashKey(h), x);
    chain(this.byReqid, hashKey(hashWord(h, x.cfg.reqid)), x);
  }
}

function chain(m: Map<number, XfrmState[]>, k: number, x: XfrmState): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [x]);
  else l.push(x);
}

function unchain(m: Map<number, XfrmState[]>, k: number, x: XfrmState): void {
  const l = m.get(k);
  if (l === undefined) return;
  const i = l.indexOf(x);
  if (i >= 0) l.splice(i, 1);
  if (l.length === 0) m.delete(k);
}
