// Routes into the policy TUN for the out policies that need it (what
// strongSwan's kernel-libipsec does): `ip route replace PREFIX dev
// POLICY_DEV [mtu N]` for each out policy's selector destination, except a
// prefix that would also swallow the template's own peer address. Moved
// verbatim from the former xfrm-datapath.ts (syncRoutes, probe, route) so
// the rtnetlink change to route() can be re-applied here.

import { execFileSync } from 'node:child_process';
import { XFRM_MODE_TUNNEL } from '../xfrm/config.js';
import { espPayloadMtu } from '../xfrm/esp-out.js';
import { Flow, formatPrefix, prefixMatch } from '../xfrm/selector.js';
import type { XfrmPolicy } from '../xfrm/spd.js';
import { XFRM_POLICY_OUT } from '../xfrm/spd.js';
import type { XfrmStack } from '../xfrm/xfrm.js';

export const POLICY_DEV = 'ipsec0';

export interface PolicyRoutesEvents {
  warn(msg: string): void;
}

export class PolicyRoutes {
  private routes = new Set<string>();

  constructor(private readonly xfrm: XfrmStack, private readonly ev: PolicyRoutesEvents) {}

  /** Removes every route this object installed (daemon shutdown). */
  clear(): void {
    for (const r of this.routes) this.route('del', r);
    this.routes.clear();
  }

  /** Routes for the out policies that capture through the policy TUN (tunnel templates, if_id 0). */
  syncRoutes(): void {
    const want = new Set<string>();
    for (const p of this.xfrm.spd.list()) {
      if (p.dir !== XFRM_POLICY_OUT || p.ifId !== 0 || p.isBlock) continue;
      const t = p.tmpls.find((x) => x.mode === XFRM_MODE_TUNNEL);
      if (t === undefined) continue;
      if (t.dst !== null && t.dst.family === p.sel.dst.family && prefixMatch(p.sel.dst, t.dst.bytes, 0)) {
        this.ev.warn(`policy ${formatPrefix(p.sel.dst)}: covers its own peer ${formatPrefix({ ...t.dst, plen: 32 })}; no route installed`);
        continue;
      }
      // The kernel's bundle route carries xfrm_state_mtu from the start (xfrm_init_pmtu), so TCP
      // never sends a segment the SA cannot carry; the TUN route gets the same MTU when a state exists.
      const x = this.xfrm.sad.findOut(t, this.probe(p), 0);
      want.add(`${formatPrefix(p.sel.dst)}${x !== null ? ` mtu ${espPayloadMtu(x, x.routeMtu)}` : ''}`);
    }
    for (const r of this.routes) if (!want.has(r)) this.route('del', r);
    for (const r of want) if (!this.routes.has(r)) this.route('replace', r);
    this.routes = want;
  }

  /** A flow inside a policy's selector (its addresses with host bits zero), for finding the state a template would use. */
  private probe(p: XfrmPolicy): Flow {
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

  /** `route` is "PREFIX[ mtu N]". */
  private route(verb: 'replace' | 'del', route: string): void {
    const [prefix = '', ...rest] = route.split(' ');
    const args = [...(prefix.includes(':') ? ['-6'] : []), 'route', verb, prefix, 'dev', POLICY_DEV, ...(verb === 'replace' ? rest : [])];
    try {
      execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      this.ev.warn(`ip ${args.join(' ')}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
}
