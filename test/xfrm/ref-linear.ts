// The SPD/SAD lookups as they were before the hashed tables (linear scans
// over every policy/state): the obvious reference the differential tests
// compare the indexed Spd.lookup and Sad.findOut/lookupIn against.
import { XFRM_MODE_TRANSPORT } from '../../src/xfrm/config.js';
import type { TmplMatch } from '../../src/xfrm/sad.js';
import { selectorMatch, xaddrAt, xaddrEqual } from '../../src/xfrm/selector.js';
import type { Flow } from '../../src/xfrm/selector.js';
import type { XfrmPolicy } from '../../src/xfrm/spd.js';
import type { XfrmState } from '../../src/xfrm/state.js';

/** xfrm_policy_lookup_bytype by scanning `list` (one direction's policies). */
export function refPolicyLookup(list: readonly XfrmPolicy[], f: Flow, ifId: number, mark = 0): XfrmPolicy | null {
  let best: XfrmPolicy | null = null;
  for (const p of list) {
    if ((mark & p.mark.mask) >>> 0 !== p.mark.value) continue; // xfrm_policy_match
    if (p.ifId !== ifId || (p.sel.family !== 0 && p.sel.family !== f.family) || !selectorMatch(p.sel, f)) continue;
    if (best === null || p.priority < best.priority || (p.priority === best.priority && p.pos < best.pos)) best = p;
  }
  return best;
}

/** xfrm_state_find by scanning `states` (any order: the choice depends only on km and genid). */
export function refFindOut(states: readonly XfrmState[], t: TmplMatch, f: Flow, ifId: number): XfrmState | null {
  let best: XfrmState | null = null;
  const transport = t.mode === XFRM_MODE_TRANSPORT;
  for (const x of states) {
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

/** xfrm_state_lookup by scanning `states` oldest first. */
export function refLookupIn(states: readonly XfrmState[], spi: number, family: 4 | 6, b: Uint8Array, dstOff: number): XfrmState | null {
  for (const x of states) if (x.cfg.spi === spi && x.cfg.family === family && xaddrAt(x.cfg.dst, b, dstOff)) return x;
  return null;
}
