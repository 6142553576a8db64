// The inbound policy check (net/xfrm/xfrm_policy.c __xfrm_policy_check) for
// a received packet's flow: the decrypting SA's selector, the in policy and
// its templates against that SA. XfrmStack.checkIn calls it after ESP input
// (xfrm.ts input) and for every clear-text packet (checkInClear). Counts
// each refusal in the MIB it is given; allocates nothing.

import { XFRM_MODE_TRANSPORT } from './config.js';
import { XfrmStat } from './mib.js';
import type { XfrmMib } from './mib.js';
import { selectorMatch, xaddrEqual } from './selector.js';
import type { Flow } from './selector.js';
import { XFRM_POLICY_IN } from './spd.js';
import type { Spd, Tmpl } from './spd.js';
import type { XfrmState } from './state.js';

/**
 * __xfrm_policy_check for flow f; `sa` the state that decrypted the packet
 * (null for a clear-text packet). Returns the XfrmStat index counted in
 * `mib` for a refusal (the caller drops), or -1 when the packet may pass.
 */
export function policyCheckIn(spd: Spd, mib: XfrmMib, f: Flow, sa: XfrmState | null): number {
  if (sa !== null && !selectorMatch(sa.cfg.sel, f)) return count(mib, XfrmStat.InStateMismatch);
  const p = spd.lookup(XFRM_POLICY_IN, f, sa !== null ? sa.cfg.ifId : 0);
  if (p === null) {
    if (spd.defaults.in === 'block') return count(mib, XfrmStat.InNoPols);
    if (sa !== null && sa.cfg.mode !== XFRM_MODE_TRANSPORT) return count(mib, XfrmStat.InNoPols);
    return -1;
  }
  if (p.isBlock) return count(mib, XfrmStat.InPolBlock);
  let used = sa === null;
  for (let i = 0; i < p.tmpls.length; i++) {
    const t = p.tmpls[i]!;
    if (!used && tmplOk(t, sa!)) { used = true; continue; }
    if (!t.optional) return count(mib, XfrmStat.InTmplMismatch);
  }
  // secpath_has_nontransport: a tunnel SA the policy did not ask for is refused.
  if (!used && sa!.cfg.mode !== XFRM_MODE_TRANSPORT) return count(mib, XfrmStat.InTmplMismatch);
  return -1;
}

function count(mib: XfrmMib, i: number): number {
  mib.inc(i);
  return i;
}

/** xfrm_state_ok: does SA x satisfy template t (proto esp, SPI, reqid, mode, tunnel endpoints)? */
function tmplOk(t: Tmpl, x: XfrmState): boolean {
  const c = x.cfg;
  if (t.mode !== c.mode || (t.spi !== 0 && t.spi !== c.spi) || (t.reqid !== 0 && t.reqid !== c.reqid)) return false;
  if (c.mode === XFRM_MODE_TRANSPORT) return true;
  return (t.dst === null || xaddrEqual(t.dst, c.dst)) && (t.src === null || xaddrEqual(t.src, c.src));
}
