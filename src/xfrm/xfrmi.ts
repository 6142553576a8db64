// The device counters of an xfrm interface (net/xfrm/xfrm_interface.c),
// applied where each packet's fate is known:
//
//   xfrmiTxDone     the send result of an ESP packet xfrmi_xmit2 built:
//                   taken → tx_packets/tx_bytes (inner length); refused by
//                   the socket → tx_errors + tx_aborted_errors (the data
//                   path's stand-in for dst_output failing)
//   xfrmiTxRefused  XfrmStack.output refused it: no policy, no state or a
//                   block policy (xfrm_lookup_with_ifid fails) →
//                   tx_carrier_errors + tx_errors + tx_dropped
//                   (tx_err_link_failure, then xfrmi_xmit's tx_err); too big
//                   → tx_errors + tx_dropped (the ICMP error is the caller's
//                   to write back, r.icmpLen); a refusal after the lookup
//                   (expired state, sequence exhausted) → tx_errors +
//                   tx_aborted_errors
//   xfrmiRxDone     a packet a state of its if_id decrypted was written to
//                   the device (xfrmi_rcv_cb: rx_packets/rx_bytes) or the
//                   write failed (rx_dropped)

import { ConfigError } from '../wire/errors.js';
import { XfrmStat } from './mib.js';
import { XDrop } from './result.js';
import type { XfrmResult } from './result.js';

// xfrmi_newlink / xfrmi_change_mtu: MTU 68..65535 (ETH_MIN_MTU .. IP_MAX_MTU),
// default ETH_DATA_LEN; if_id a non-zero u32.
export const XFRMI_MIN_MTU = 68;
export const XFRMI_MAX_MTU = 65535;
export const XFRMI_DEFAULT_MTU = 1500;

/** Throws ConfigError('mtu') unless an xfrm interface may have this MTU. */
export function checkXfrmiMtu(mtu: unknown): void {
  if (typeof mtu !== 'number' || !Number.isInteger(mtu)) throw new ConfigError('mtu', 'must be a number');
  if (mtu < XFRMI_MIN_MTU) throw new ConfigError('mtu', `${mtu} is less than the device minimum ${XFRMI_MIN_MTU}`);
  if (mtu > XFRMI_MAX_MTU) throw new ConfigError('mtu', `${mtu} is greater than the device maximum ${XFRMI_MAX_MTU}`);
}

/** Throws ConfigError('if_id') unless `ifId` is a non-zero u32 (xfrmi_newlink). */
export function checkXfrmIfId(ifId: unknown): number {
  if (typeof ifId !== 'number' || !Number.isInteger(ifId) || ifId < 0 || ifId > 0xffffffff) throw new ConfigError('if_id', 'must be an unsigned 32-bit integer');
  if (ifId === 0) throw new ConfigError('if_id', 'if_id must be non zero (xfrmi_newlink)');
  return ifId;
}

/** The counters these rules touch (a subset of rtnl_link_stats64, as the shells' LinkStats has them). */
export interface XfrmiStats {
  tx_packets: number;
  tx_bytes: number;
  tx_errors: number;
  tx_dropped: number;
  tx_carrier_errors: number;
  tx_aborted_errors: number;
  rx_packets: number;
  rx_bytes: number;
  rx_dropped: number;
}

/** Refusals that happen in xfrm_lookup (→ tx_err_link_failure). */
const isLookupFailure = (r: XfrmResult): boolean =>
  r.drop === XDrop.NoPolicy || r.mib === XfrmStat.OutNoStates || r.mib === XfrmStat.OutPolBlock;

/** An ESP packet of `innerLen` inner bytes was taken by the socket (isSent) or refused. */
export function xfrmiTxDone(s: XfrmiStats, innerLen: number, isSent: boolean): void {
  if (isSent) {
    s.tx_packets++;
    s.tx_bytes += innerLen;
  } else {
    s.tx_errors++;
    s.tx_aborted_errors++;
  }
}

/** XfrmStack.output refused the packet (r as it left it). */
export function xfrmiTxRefused(s: XfrmiStats, r: XfrmResult): void {
  s.tx_errors++;
  if (isLookupFailure(r)) {
    s.tx_carrier_errors++;
    s.tx_dropped++;
  } else if (r.drop === XDrop.TooBig) {
    s.tx_dropped++;
  } else {
    s.tx_aborted_errors++;
  }
}

/** A decrypted packet of `len` bytes was written to the device (isWritten) or refused by it. */
export function xfrmiRxDone(s: XfrmiStats, len: number, isWritten: boolean): void {
  if (isWritten) {
    s.rx_packets++;
    s.rx_bytes += len;
  } else {
    s.rx_dropped++;
  }
}
