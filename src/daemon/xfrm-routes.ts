// Which routes the policy TUN needs, from the SPD and SAD (what strongSwan's
// kernel-libipsec installs): one per out policy with a tunnel-mode template
// and if_id 0, to its selector's destination prefix, carrying the SA's ESP
// payload MTU once a state exists — the kernel's bundle route has
// xfrm_state_mtu from the start (xfrm_init_pmtu), so TCP never sends a
// segment the SA cannot carry. PolicyRoutes (policy-routes.ts) keeps the
// kernel's tables in step over rtnetlink: in-place MTU changes, fail-closed
// blackholes, re-installation after the device went down.
//
// Full tunnels: a selector that contains the template's own peer (0.0.0.0/0
// with tmpl dst = the peer's underlay address) cannot go in the main table —
// a 0.0.0.0/0 route there would replace the default route, and the ESP
// packets to the peer would loop into the TUN. Such prefixes go in tunkit's
// own table FULL_TUNNEL_TABLE, consulted before main by `ip rule pref
// FULL_TUNNEL_PREF lookup FULL_TUNNEL_TABLE` (charon's table 220 pattern),
// next to a `throw` route for each such peer: the lookup for the peer's own
// address falls through to the main table and leaves by whatever underlay
// route it has now — nothing to follow when the gateway changes, unlike a
// copied host route. The table's blackholes and throws, and the rule,
// outlive the process: with tunkitd dead, the full tunnel's traffic is
// dropped, the peer stays reachable for IKE/ESP.

import type { LogFn } from './log.js';
import { XFRM_MODE_TUNNEL } from '../xfrm/config.js';
import { espPayloadMtu } from '../xfrm/esp-out.js';
import { Flow, prefixMatch } from '../xfrm/selector.js';
import type { XfrmPolicy } from '../xfrm/spd.js';
import { XFRM_POLICY_OUT } from '../xfrm/spd.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { Coalescer } from './coalesce.js';
import { PolicyRoutes, routeKey } from './policy-routes.js';
import type { WantedRoute } from './policy-routes.js';
import type { IpPrefix } from '../io/netlink.js';

/** The policy TUN: out policies' traffic is routed into it. */
export const POLICY_DEV = 'ipsec0';
/** tunkit's routing table for full-tunnel policies (not charon's 220, so both can run), and its rule's preference (before main's 32766). */
export const FULL_TUNNEL_TABLE = 4220;
export const FULL_TUNNEL_PREF = 4220;

export interface XfrmRoutesEvents { readonly warn: LogFn }

export class XfrmRoutes {
  private readonly routes: PolicyRoutes;
  private readonly full: PolicyRoutes;
  private readonly coalesced = new Coalescer(() => this.sync());

  constructor(private readonly xfrm: XfrmStack, ev: XfrmRoutesEvents) {
    this.routes = new PolicyRoutes(POLICY_DEV, (event, f) => ev.warn(event, f));
    this.full = new PolicyRoutes(POLICY_DEV, (event, f) => ev.warn(event, f), FULL_TUNNEL_TABLE, FULL_TUNNEL_PREF);
  }

  /** Follows the device's link state and our routes (call once POLICY_DEV exists). */
  watch(): void { this.routes.watch(); this.full.watch(); }

  /** POLICY_DEV was made anew (deleted behind our back): its routes go into the new device. */
  relink(): void { this.routes.relink(); this.full.relink(); }

  /** Removes every route (and blackhole, throw, rule) it installed (teardown). */
  clear(): void { this.coalesced.stop(); this.routes.stop(); this.full.stop(); }

  /** Lets go of the routes (daemon stop): they, their blackholes, throws and rule stay, failing closed. */
  detach(): void { this.coalesced.stop(); this.routes.stop(true); this.full.stop(true); }

  /**
   * syncRoutes soon, coalesced with the changes that follow (coalesce.ts):
   * the sync reads every policy, so one per change made adding N policies O(N²).
   */
  schedule(): void { this.coalesced.schedule(); }

  /** Recomputes the wanted routes from the SPD/SAD and applies the difference (now). */
  syncRoutes(): void {
    this.coalesced.run();
  }

  private sync(): void {
    const w = this.wanted();
    this.routes.sync(w.want);
    this.full.sync(w.full, w.peers);
  }

  /** The main-table prefixes (routeKey) that have a route now: what a start must not sweep away. */
  wantedKeys(): Set<string> {
    return new Set(this.wanted().want.keys());
  }

  /** want: main-table routes; full: full-tunnel prefixes (own table) with their peers' throw holes. */
  private wanted(): { want: Map<string, WantedRoute>; full: Map<string, WantedRoute>; peers: Map<string, IpPrefix> } {
    const want = new Map<string, WantedRoute>();
    const full = new Map<string, WantedRoute>();
    const peers = new Map<string, IpPrefix>();
    for (const p of this.xfrm.spd.list()) {
      if (p.dir !== XFRM_POLICY_OUT || p.ifId !== 0 || p.isBlock || p.isMarkScoped) continue; // mark-scoped: never matches what the TUN reads (mark 0)
      const t = p.tmpls.find((x) => x.mode === XFRM_MODE_TUNNEL);
      if (t === undefined) continue;
      const x = this.xfrm.sad.findOut(t, probe(p), 0);
      const w = { prefix: p.sel.dst, mtu: x !== null ? espPayloadMtu(x, x.routeMtu) : null };
      if (t.dst !== null && t.dst.family === p.sel.dst.family && prefixMatch(p.sel.dst, t.dst.bytes, 0)) {
        const peer: IpPrefix = { family: t.dst.family === 6 ? 6 : 4, bytes: t.dst.bytes, plen: t.dst.family === 6 ? 128 : 32 };
        peers.set(routeKey(peer), peer);
        full.set(routeKey(p.sel.dst), w);
      } else {
        want.set(routeKey(p.sel.dst), w);
      }
    }
    return { want, full, peers };
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
