// The start-up steps of tunkitd that reach the host beyond the node's own
// devices (main.ts start()): opening the data path's sockets and the policy
// TUN (openSockets), and, after a --config start, sweeping what an earlier
// run left that the file no longer declares (sweep, persist.ts sweepStale).

import { DATAPATH_BATCH } from '../datapath/datapath.js';
import type { Datapath } from '../datapath/datapath.js';
import type { PooledBatch } from '../io/pool.js';
import type { TunLinux } from '../io/tun-linux.js';
import { openUdp } from '../io/udp.js';
import type { UdpConn } from '../io/udp.js';
import { openPolicyTun } from './device-gone.js';
import { errText } from './log.js';
import type { Log } from './log.js';
import type { TunkitNode } from './node.js';
import { sweepStale } from './persist.js';
import { RawSockets } from './raw-sockets.js';
import { POLICY_DEV } from './xfrm-routes.js';
import type { XfrmRoutes } from './xfrm-routes.js';

/**
 * The data path's sockets and the policy TUN: raw IPv4 for protocols 4, 41,
 * 47, 50 and ICMP (raw-sockets.ts; without CAP_NET_RAW, warned and left for
 * a request that needs them), the NAT-T UDP socket on natTPort (charon.port_nat_t,
 * 4500 by default, 0: random; ESP-in-UDP both ways, and it holds the port so no
 * ICMP port unreachable goes out), and POLICY_DEV (up, no addresses: routes point into it).
 */
export function openSockets(dp: Datapath, log: Log, natTPort: number): { tun: TunLinux | null; natT: UdpConn | null; raws: RawSockets } {
  const raws = new RawSockets(dp, log);
  raws.start();
  // Each conn receives into the data path's arena (beside its GRO staging slab).
  const opts = (): { batchSize: number; rx: PooledBatch | undefined } => ({ batchSize: DATAPATH_BATCH, rx: dp.connRx() });
  let natT: UdpConn | null = null;
  try {
    natT = openUdp(0, natTPort, opts());
    dp.addNatT(natT);
    dp.setUdpTx(natT);
  } catch (e) {
    log.warn('natt_port_taken', { port: natTPort, err: errText(e), effect: 'ESP-in-UDP is not received' });
  }
  // TSO/GRO on the policy TUN too (datapath/offload.ts): super-packets read whole,
  // split and sealed per segment (as xfrm_output_gso), received segments merged.
  const tun = openPolicyTun(log);
  if (tun !== null) dp.attachPolicy(POLICY_DEV, tun);
  return { tun, natT, raws };
}

/**
 * After a --config start: what an earlier run left (persistent devices,
 * blackholes, policy routes) that the file no longer declares is removed,
 * as a reload would remove it.
 */
export function sweep(log: Log, node: TunkitNode, routes: XfrmRoutes): void {
  const keep = new Set([POLICY_DEV, ...node.all.keys(), ...node.fallbacks.deviceNames(), ...node.xfrmLinks.all.keys()]);
  try {
    const { removed, errors } = sweepStale(keep, POLICY_DEV, routes.wantedKeys());
    for (const r of removed) log.action('stale_removed', { what: r });
    for (const e of errors) log.warn('stale_remove_failed', { err: e });
  } catch (e) {
    log.warn('stale_remove_failed', { err: errText(e), effect: 'what an earlier run left stays (tunkitd --teardown removes it)' });
  }
}
