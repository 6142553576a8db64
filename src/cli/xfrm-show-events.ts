// `tunkit xfrm monitor` lines and the small xfrm reports, as iproute2 6.1
// prints them:
//
//   formatXfrmEvent   ip/xfrm_monitor.c xfrm_accept_msg(): SA and policy messages
//                     ("Updated "/"Deleted "/"Expired " titles), xfrm_acquire_print,
//                     xfrm_state_flush_print, xfrm_policy_flush_print, xfrm_mapping_print
//   formatDefaults    ip/xfrm_policy.c xfrm_policy_default_print
//   formatSadCount    ip/xfrm_state.c print_sadinfo
//   formatSpdCount    ip/xfrm_policy.c print_spdinfo (counted from the policy list)
//
// The acquire event carries the flow's addresses and protocol only, so its
// "sel" line has no ports (ICMP type/code) and no dev, which the kernel's
// would have (__xfrm4_init_tempsel). A flush event names no protocol: tunkit
// flushes every SA, which ip reports as "proto 0".

import type { PolicyDefaults, PolicyRecord, XfrmEvent } from '../xfrm/spec.js';
import { familyOf } from './xfrm-args-common.js';
import { addrText, formatPolicy, formatState, selectorLine } from './xfrm-show.js';
import type { XfrmShowOptions } from './xfrm-show.js';
import type { MonitorGroup } from './xfrm-args.js';

/** xfrm_acquire_print(): "acquire proto esp", the flow's selector, then the policy indented. */
function formatAcquire(e: Extract<XfrmEvent, { type: 'xfrm.acquire' }>, o: XfrmShowOptions): string {
  const st = o.statsLevel > 0;
  let s = `acquire proto esp ${st ? 'spi 0x00000000(0) ' : ''}\n`;
  const host = familyOf(e.src) === 6 ? 128 : 32;
  s += selectorLine({ src: `${e.src}/${host}`, dst: `${e.dst}/${host}`, ...(e.proto !== 0 ? { proto: e.proto } : {}) }, o, '  sel ');
  s += formatPolicy(e.policy, o, 'new', '    ', '  policy ');
  if (st) s += '  seq 0x00000000 enc-mask ffffffff auth-mask ffffffff comp-mask ffffffff';
  return `${s}\n`;
}

/** xfrm_mapping_print(): "Mapping change OLD:PORT -> NEW:PORT" and the SA (xfrm_usersa_print). */
function formatMapping(e: Extract<XfrmEvent, { type: 'xfrm.mapping' }>): string {
  return `Mapping change ${addrText(e.oldSrc)}:${e.oldSport} -> ${addrText(e.newSrc)}:${e.newSport}\n`
    + `\tdst ${addrText(e.dst)}  reqid 0x0 protocol esp  SPI 0x${(e.spi >>> 0).toString(16)}\n`;
}

/** One monitor message, exactly as xfrm_accept_msg() prints it (multi-line, ending in "\n"). */
export function formatXfrmEvent(e: XfrmEvent, o: XfrmShowOptions): string {
  switch (e.type) {
    case 'xfrm.newsa': return formatState(e.state, o, 'new');
    case 'xfrm.updsa': return formatState(e.state, o, 'upd');
    case 'xfrm.delsa': return formatState(e.state, o, 'del');
    case 'xfrm.expire': return formatState(e.state, o, 'expire', e.hard);
    case 'xfrm.newpolicy': return formatPolicy(e.policy, o, 'new');
    case 'xfrm.updpolicy': return formatPolicy(e.policy, o, 'upd');
    case 'xfrm.delpolicy': return formatPolicy(e.policy, o, 'del');
    case 'xfrm.acquire': return formatAcquire(e, o);
    case 'xfrm.flushsa': return 'Flushed state proto 0\n';
    case 'xfrm.flushpolicy': return 'Flushed policy ptype main \n';
    case 'xfrm.mapping': return formatMapping(e);
  }
}

/** The netlink multicast group each event goes to (net/xfrm/xfrm_user.c xfrm_send_*). */
export function eventGroup(e: XfrmEvent): MonitorGroup {
  switch (e.type) {
    case 'xfrm.acquire': return 'acquire';
    case 'xfrm.expire': return 'expire';
    case 'xfrm.mapping': return 'mapping';
    case 'xfrm.newsa': case 'xfrm.updsa': case 'xfrm.delsa': case 'xfrm.flushsa': return 'sa';
    case 'xfrm.newpolicy': case 'xfrm.updpolicy': case 'xfrm.delpolicy': case 'xfrm.flushpolicy': return 'policy';
  }
}

/** xfrm_policy_default_print(). */
export function formatDefaults(d: PolicyDefaults): string {
  return `Default policies:\n in:  ${d.in}\n fwd: ${d.fwd}\n out: ${d.out}\n`;
}

/** print_sadinfo() without the hash-bucket figures (-s), which tunkitd has no equivalent of. */
export const formatSadCount = (count: number): string => `\t SAD count ${count}\n`;

/** print_spdinfo(): per-direction counts; tunkit has no socket policies, so -s shows zeros for them. */
export function formatSpdCount(policies: readonly PolicyRecord[], o: XfrmShowOptions): string {
  const n = (d: string): number => policies.filter((p) => p.dir === d).length;
  return `\t SPD IN  ${n('in')} OUT ${n('out')} FWD ${n('fwd')}${o.statsLevel > 0 ? ' (Sock: IN 0 OUT 0 FWD 0)' : ''}\n`;
}
