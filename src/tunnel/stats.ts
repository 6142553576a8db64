// Per-device counters with the kernel's names (struct rtnl_link_stats64, as
// printed by `ip -s -s link`), plus tunkit's per-reason drop table.
// Which kernel path bumps which counter is documented at each increment site.

import { DROP_TABLE_SIZE } from '../wire/drop.js';

/** Counter names in `ip -s -s link` order; the keys of LinkStats. */
export const LINK_STAT_NAMES = [
  'rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'rx_missed_errors', 'multicast',
  'rx_length_errors', 'rx_crc_errors', 'rx_frame_errors', 'rx_fifo_errors', 'rx_over_errors',
  'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped', 'tx_carrier_errors', 'collisions',
  'tx_aborted_errors', 'tx_fifo_errors', 'tx_window_errors', 'tx_heartbeat_errors',
] as const;
export type LinkStatName = (typeof LINK_STAT_NAMES)[number];

/** Monotonic counters of one tunnel device. Fields are plain numbers (exact to 2^53). */
export class LinkStats {
  rx_bytes = 0;
  rx_packets = 0;
  rx_errors = 0;
  rx_dropped = 0;
  rx_missed_errors = 0;
  multicast = 0;
  rx_length_errors = 0;
  rx_crc_errors = 0;
  rx_frame_errors = 0;
  rx_fifo_errors = 0;
  rx_over_errors = 0;
  tx_bytes = 0;
  tx_packets = 0;
  tx_errors = 0;
  tx_dropped = 0;
  tx_carrier_errors = 0;
  collisions = 0;
  tx_aborted_errors = 0;
  tx_fifo_errors = 0;
  tx_window_errors = 0;
  tx_heartbeat_errors = 0;
  /** Packets passed up that the kernel would log as "non-ECT from … with TOS=…" (IP_ECN_decapsulate returned 1). */
  ecn_logged = 0;
  /** tunkit's own per-reason drop counters, indexed by Drop code. */
  readonly drops = new Uint32Array(DROP_TABLE_SIZE);

  /** A plain snapshot for the control plane (CLI, JSON). */
  snapshot(): Record<LinkStatName, number> {
    const out = {} as Record<LinkStatName, number>;
    for (const k of LINK_STAT_NAMES) out[k] = this[k];
    return out;
  }
}
