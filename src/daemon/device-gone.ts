// The policy TUN, and tunkit's devices deleted behind its back (`ip link
// del`): the data path sees their reads fail (EBADFD) and tells deviceGone
// once; here each is made anew with what tunkit keeps of it, and read again:
//   - a tunnel's TUN/TAP: same name, kind, MTU, up state (TunkitNode.reopenLink),
//     addresses and routes (LinkMemory);
//   - an xfrm interface: same name, if_id, MTU, up state (XfrmLinks.reopen),
//     addresses and routes;
//   - the policy TUN (ipsec0): same name and MTU, up, then tunkit's policy
//     routes go into it again (XfrmRoutes.relink) — while it was missing
//     the fail-closed blackholes (policy-routes.ts) dropped what they carry.
// All are made by openOwnedTun (persist.ts): persistent, with tunkit's
// alias. A link device gets back the addresses and main-table routes it
// had (link-memory.ts remembers them while it exists). One log line per
// recreation (device_recreated with what was put back, or device_recreate
// with the error).

import { DATAPATH_BATCH } from '../datapath/datapath.js';
import type { Datapath } from '../datapath/datapath.js';
import type { TunLinux } from '../io/tun-linux.js';
import { errText } from './log.js';
import type { Log } from './log.js';
import { offloadFromEnv } from './linux-devices.js';
import type { LinkMemory } from './link-memory.js';
import type { TunkitNode } from './node.js';
import { openOwnedTun } from './persist.js';
import { hasNetAdmin } from './privs.js';
import { POLICY_DEV } from './xfrm-routes.js';
import type { XfrmRoutes } from './xfrm-routes.js';

/**
 * The policy TUN, up; null, warned once, when tunkitd lacks CAP_NET_ADMIN
 * and no usable ipsec0 was pre-created (README "Least privilege"): route-based
 * IPsec (xfrm interfaces) and the tunnels still work, policy-based does not.
 */
export function openPolicyTun(log: Log): TunLinux | null {
  let tun: TunLinux | null = null;
  try {
    const opened = openOwnedTun(POLICY_DEV, { batchSize: DATAPATH_BATCH, offload: offloadFromEnv() });
    tun = opened.tun;
    if (opened.adopted) log.info('adopted', { dev: POLICY_DEV });
    if (!tun.isUp) tun.up();
    return tun;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM' || hasNetAdmin()) throw e;
    void tun?.close();
    log.warn('policy_tun_unavailable', { dev: POLICY_DEV, err: errText(e),
      effect: `policy-based IPsec (${POLICY_DEV}) is unavailable; pre-create ${POLICY_DEV} (mode tun, alias tunkitd, up) to have it` });
    return null;
  }
}

/** What a recreation needs: the daemon's parts, and the policy TUN (replaced here when it is made anew). */
export interface GoneCtx {
  readonly node: TunkitNode;
  readonly dp: Datapath;
  readonly log: Log;
  readonly routes: XfrmRoutes;
  /** The links' addresses and routes as they were (null: not remembered, e.g. in tests). */
  readonly memory: LinkMemory | null;
  policyTun: TunLinux | null;
}

/** Datapath deviceGone: device `name` (tunnel, xfrm interface or the policy TUN) is made anew and attached. */
export function reopenGone(c: GoneCtx, name: string): void {
  try {
    if (name === POLICY_DEV) {
      reopenPolicyTun(c);
      return;
    }
    const xl = c.node.xfrmLinks.get(name) !== undefined ? c.node.reopenXfrmLink(name) : null;
    if (xl !== null) {
      c.dp.attachXfrmi(xl.name, xl.ifId, xl.stats, xl.dev.tun);
      recreated(c, name, xl.dev.ifindex, xl.mtu, xl.isUp);
      return;
    }
    const e = c.node.reopenLink(name);
    if (e === null) return; // deleted through tunkit meanwhile
    c.dp.attachTunnel(e.tunnel, e.dev.tun);
    recreated(c, name, e.dev.ifindex, e.tunnel.mtu, e.tunnel.isUp);
  } catch (err) {
    c.log.error('device_recreate', { dev: name, err: errText(err) });
  }
}

/** A link's device made anew: its addresses and routes put back (LinkMemory), one line. */
function recreated(c: GoneCtx, name: string, ifindex: number, mtu: number, up: boolean): void {
  const got = c.memory?.restore(name, ifindex, up) ?? { addrs: 0, routes: 0 };
  c.log.warn('device_recreated', { dev: name, mtu, up, addresses: got.addrs, routes: got.routes });
}

/** The policy TUN anew, with the MTU the old one had, up, read, and tunkit's policy routes into it. */
function reopenPolicyTun(c: GoneCtx): void {
  const old = c.policyTun;
  if (old === null) return; // stopped or never had one
  const mtu = old.mtu; // as last set or read (SIOCGIFMTU): the device is gone
  c.policyTun = null;
  void old.close();
  const tun = openPolicyTun(c.log);
  if (tun === null) return; // warned: policy-based IPsec stays off, the blackholes keep failing closed
  c.policyTun = tun;
  if (tun.refreshMtu() !== mtu) tun.mtu = mtu;
  c.dp.attachPolicy(POLICY_DEV, tun);
  c.routes.relink();
  c.log.warn('device_recreated', { dev: POLICY_DEV, mtu: tun.mtu, up: tun.isUp, note: 'tunkit\'s policy routes are installed into it again' });
}
