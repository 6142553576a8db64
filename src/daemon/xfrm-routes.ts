// Which routes the policy TUN needs, from the SPD and SAD (what strongSwan's
// kernel-libipsec installs): one per out policy with a tunnel-mode template
// and if_id 0, to its selector's destination prefix, carrying the SA's ESP
// payload MTU once a state exists — the kernel's bundle route has
// xfrm_state_mtu from the start (xfrm_init_pmtu), so TCP never sends a
// segment the SA cannot carry. A prefix that would also swallow the
// template's own peer address gets no route (the ESP packets themselves
// would loop into the TUN). PolicyRoutes (policy-routes.ts) keeps the
// kernel's table in step over rtnetlink: in-place MTU changes, fail-closed
// blackholes, re-installation after the device went down.

import type { LogFn } from './log.js';
import { XFRM_MODE_TUNNEL } from '../xfrm/config.js';
import { espPayloadMtu } from '../xfrm/esp-out.js';
import { Flow, formatPrefix, prefixMatch } from '../xfrm/selector.js';
import type { XfrmPolicy } from '../xfrm/spd.js';
import { XFRM_POLICY_OUT } from '../xfrm/spd.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { PolicyRoutes, routeKey } from './policy-routes.js';
import type { WantedRoute } from './policy-routes.js';

/** The policy TUN: out policies' traffic is routed into it. */
export const POLICY_DEV = 'ipsec0';

export interface XfrmRoutesEvents { readonly warn: LogFn }

export class XfrmRoutes {
  private readonly routes: PolicyRoutes;

  constructor(private readonly xfrm: XfrmStack, private readonly ev: XfrmRoutesEvents) {
    this.routes = new PolicyRoutes(POLICY_DEV, (event, f) => ev.warn(event, f));
  }

  /** Follows the device's link state and our routes (call once POLICY_DEV exists). */
  watch(): void { this.routes.watch(); }

  /** Removes every route (and blackhole) it installed (daemon shutdown). */
  clear(): void { this.routes.stop(); }

  /** Recomputes the wanted routes from the SPD/SAD and applies the difference. */
  syncRoutes(): void {
    const want = new Map<string, WantedRoute>();
    for (const p of this.xfrm.spd.list()) {
      if (p.dir !== XFRM_POLICY_OUT || p.ifId !== 0 || p.isBlock || p.isMarkScoped) continue; // mark-scoped: never matches what the TUN reads (mark 0)
      const t = p.tmpls.find((x) => x.mode === XFRM_MODE_TUNNEL);
      if (t === undefined) continue;
      if (t.dst !== null && t.dst.family === p.sel.dst.family && prefixMatch(p.sel.dst, t.dst.bytes, 0)) {
        this.ev.warn('policy_route_skipped', { dst: formatPrefix(p.sel.dst), peer: formatPrefix({ ...t.dst, plen: 32 }), reason: 'the policy covers its own peer' });
        continue;
      }
      const x = this.xfrm.sad.findOut(t, probe(p), 0);
      want.set(routeKey(p.sel.dst), { prefix: p.sel.dst, mtu: x !== null ? espPayloadMtu(x, x.routeMtu) : null });
    }
    this.routes.sync(want);
  }
}

/** A flow inside a policy's selector (its addresses with host bits zero), for finding the state a template would use. */
function probe(p: XfrmPolicy): Flow {
  const n = p.sel.family === 6 ? 16 : 4;
  const b = new Uint8Array(2 * n);
  b.set(p.sel.src.bytes.subarray(0, n), 0);
  b.set(p.sel.dst.bytes.subarray(0, n), n);
  const f = new Flow();
  f.family = p.sel.family === 6 ? 6 : 4;
  f.buf = b;
  f.srcOff = 0;
  f.dstOff = n;
  f.proto = p.sel.proto;
  return f;
}
