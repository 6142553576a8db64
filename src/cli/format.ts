// Text output in iproute2's formats. `ip -s -s link` prints counters in
// column blocks whose header words right-align the numbers below them
// (ip/ipaddress.c print_stats64); tunkit prints the same blocks, then its
// own per-reason drop counters.

import { dropName, DROP_CODES } from '../wire/drop.js';
import type { LinkStats } from '../tunnel/stats.js';

/** One header line and the value line under it, each value right-aligned to its column. */
function block(label: string, cols: readonly string[], vals: readonly number[]): string[] {
  const widths = cols.map((c, i) => Math.max(c.length, String(vals[i] ?? 0).length));
  const head = `    ${label}${cols.map((c, i) => ` ${c.padStart(widths[i]!)}`).join('')}`;
  const pad = ' '.repeat(label.length);
  const line = `    ${pad}${vals.map((v, i) => ` ${String(v).padStart(widths[i]!)}`).join('')}`;
  return [head, line];
}

/** The counter blocks of `ip -s link` (level 1) or `ip -s -s link` (level 2). */
export function formatLinkStats(s: LinkStats, level = 2): string {
  const out = [
    ...block('RX:', ['bytes', 'packets', 'errors', 'dropped', 'missed', 'mcast'],
      [s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, s.rx_missed_errors, s.multicast]),
  ];
  if (level > 1) {
    out.push(...block('RX errors:', ['length', 'crc', 'frame', 'fifo', 'overrun'],
      [s.rx_length_errors, s.rx_crc_errors, s.rx_frame_errors, s.rx_fifo_errors, s.rx_over_errors]));
  }
  out.push(...block('TX:', ['bytes', 'packets', 'errors', 'dropped', 'carrier', 'collsns'],
    [s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, s.tx_carrier_errors, s.collisions]));
  if (level > 1) {
    out.push(...block('TX errors:', ['aborted', 'fifo', 'window', 'heartbt'],
      [s.tx_aborted_errors, s.tx_fifo_errors, s.tx_window_errors, s.tx_heartbeat_errors]));
  }
  const drops = formatDrops(s.drops);
  if (drops !== '') out.push(`    drop reasons: ${drops}`);
  return out.join('\n');
}

/** "SeqOutOfOrder 2, CsumMismatch 1" for the non-zero entries of a drop table. */
export function formatDrops(drops: Uint32Array): string {
  return DROP_CODES.filter((c) => (drops[c] ?? 0) > 0).map((c) => `${dropName(c)} ${drops[c]}`).join(', ');
}
