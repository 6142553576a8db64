// Text and JSON output in iproute2's formats, byte for byte:
//   - the counter blocks of `ip -s [-s] link` (ip/ipaddress.c print_stats64,
//     size_columns, lib/utils.c print_num), text and JSON;
//   - iproute2's streaming JSON writer (lib/json_writer.c), whose spacing
//     (`[ {`, `},{`, 4-space indents under -p) JSON.stringify cannot produce;
//   - tunkit's own per-reason drop counters, printed after iproute2's lines.

import { dropName, DROP_CODES } from '../wire/drop.js';
import { LINK_STAT_NAMES } from '../tunnel/stats.js';
import type { LinkStatName, LinkStats } from '../tunnel/stats.js';

/** A counter snapshot by kernel name (LinkStats.snapshot()). */
export type StatsRecord = Readonly<Record<LinkStatName, number>>;

// ---- print_stats64, text ----

/** lib/utils.c print_num() without -human: "%*llu " (right-aligned, then one space). */
const num = (width: number, v: number): string => `${String(v).padStart(width)} `;

/** ip/ipaddress.c size_columns(): widen cols[i] to the digit count of vals[i]. */
function sizeColumns(cols: number[], vals: readonly number[]): void {
  vals.forEach((v, i) => { cols[i] = Math.max(cols[i] ?? 0, String(v).length); });
}

/**
 * The lines of ip/ipaddress.c print_stats64() in text mode: `level` is
 * show_stats (1 = -s, 2+ = -s -s). `carrierChanges` is IFLA_CARRIER_CHANGES;
 * when given, -s -s adds the "transns" column as Linux does for every device.
 * Compressed, nohandler and otherhost counters are always 0 here, so their
 * columns stay blank exactly as iproute2 leaves them.
 */
export function formatStats64(s: StatsRecord, level: number, carrierChanges?: number): string[] {
  const cols = ['*X errors:', 'packets', 'errors', 'dropped', 'heartbt', 'overrun', 'compressed', 'otherhost']
    .map((w) => w.length);
  const cc = carrierChanges ?? 0;
  sizeColumns(cols, [s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, s.rx_missed_errors, s.multicast, 0, 0]);
  if (level > 1) {
    sizeColumns(cols, [0, s.rx_length_errors, s.rx_crc_errors, s.rx_frame_errors, s.rx_fifo_errors,
      s.rx_over_errors, 0, 0]);
  }
  sizeColumns(cols, [s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, s.tx_carrier_errors, s.collisions, 0, 0]);
  // iproute2 sizes the TX-error row one column to the right of where it prints
  // it (aborted in cols[2] but printed under cols[1]); mirrored as is.
  if (level > 1) {
    sizeColumns(cols, [0, 0, s.tx_aborted_errors, s.tx_fifo_errors, s.tx_window_errors,
      s.tx_heartbeat_errors, cc, 0]);
  }
  const c = (i: number): number => cols[i] ?? 0;
  const head = (label: string, words: readonly string[]): string =>
    `    ${label}: ${'bytes'.padStart(c(0) - 4)}${words.map((w, i) => ` ${w.padStart(c(i + 1))}`).join('')} ${''.padStart(c(6))}`;
  const out = [
    head('RX', ['packets', 'errors', 'dropped', 'missed', 'mcast']),
    `    ${[s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, s.rx_missed_errors, s.multicast]
      .map((v, i) => num(c(i), v)).join('')}`,
  ];
  const errHead = (label: string, words: readonly string[]): string =>
    `    ${label} errors:${''.padStart(c(0) - 10)}${words.map((w, i) => ` ${w.padStart(c(i + 1))}`).join('')}`;
  const errVals = (vals: readonly number[]): string =>
    `${''.padStart(c(0) + 5)}${vals.map((v, i) => num(c(i + 1), v)).join('')}`;
  if (level > 1) {
    out.push(errHead('RX', ['length', 'crc', 'frame', 'fifo', 'overrun']),
      errVals([s.rx_length_errors, s.rx_crc_errors, s.rx_frame_errors, s.rx_fifo_errors, s.rx_over_errors]));
  }
  out.push(head('TX', ['packets', 'errors', 'dropped', 'carrier', 'collsns']),
    `    ${[s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, s.tx_carrier_errors, s.collisions]
      .map((v, i) => num(c(i), v)).join('')}`);
  if (level > 1) {
    const tx = [s.tx_aborted_errors, s.tx_fifo_errors, s.tx_window_errors, s.tx_heartbeat_errors];
    out.push(errHead('TX', ['aborted', 'fifo', 'window', 'heartbt', carrierChanges !== undefined ? 'transns' : '']),
      errVals(carrierChanges !== undefined ? [...tx, cc] : tx));
  }
  return out;
}

// ---- print_stats64, JSON ----

/** ip/ipaddress.c print_stats64() in JSON mode: the object under "stats64". */
export function stats64Json(s: StatsRecord, level: number, carrierChanges?: number): JsonObject {
  const rx: Record<string, number> = {
    bytes: s.rx_bytes, packets: s.rx_packets, errors: s.rx_errors, dropped: s.rx_dropped,
    over_errors: s.rx_over_errors, multicast: s.multicast,
  };
  const tx: Record<string, number> = {
    bytes: s.tx_bytes, packets: s.tx_packets, errors: s.tx_errors, dropped: s.tx_dropped,
    carrier_errors: s.tx_carrier_errors, collisions: s.collisions,
  };
  if (level > 1) {
    Object.assign(rx, {
      length_errors: s.rx_length_errors, crc_errors: s.rx_crc_errors, frame_errors: s.rx_frame_errors,
      fifo_errors: s.rx_fifo_errors, missed_errors: s.rx_missed_errors,
    });
    Object.assign(tx, {
      aborted_errors: s.tx_aborted_errors, fifo_errors: s.tx_fifo_errors,
      window_errors: s.tx_window_errors, heartbeat_errors: s.tx_heartbeat_errors,
    });
    // `if (carrier_changes)` tests the attribute, not its value: printed even when 0.
    if (carrierChanges !== undefined) tx.carrier_changes = carrierChanges;
  }
  return { rx, tx };
}

// ---- lib/json_writer.c ----

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;
/** Members print in insertion order (no integer-like keys, which JS would reorder). */
export interface JsonObject { readonly [key: string]: JsonValue }

/** jsonw_puts(): C escapes, other control characters and DEL as \u00XX. */
function jsonwString(s: string): string {
  const esc: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f', '\b': '\\b', '\\': '\\\\', '"': '\\"' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    out += esc[ch] ?? (code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : ch);
  }
  return `${out}"`;
}

/**
 * One value as lib/json_writer.c writes it at nesting `depth`: with pretty,
 * each object member starts a new line indented 4 spaces per level, arrays
 * stay on one line as `[ a,b ]`, and an empty object is `{}`.
 */
export function formatJsonw(v: JsonValue, isPretty: boolean, depth = 0): string {
  const eol = (d: number): string => (isPretty ? `\n${'    '.repeat(d)}` : '');
  if (v === null) return 'null';
  if (typeof v === 'string') return jsonwString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isJsonArray(v)) {
    const sp = isPretty ? ' ' : '';
    const items = v.map((x) => formatJsonw(x, isPretty, depth + 1)).join(',');
    return `[${sp}${items}${v.length > 0 ? sp : ''}]`;
  }
  const members = Object.entries(v);
  if (members.length === 0) return '{}';
  const body = members.map(([k, x]) => `${eol(depth + 1)}${jsonwString(k)}:${isPretty ? ' ' : ''}${formatJsonw(x, isPretty, depth + 1)}`);
  return `{${body.join(',')}${eol(depth)}}`;
}

const isJsonArray = (v: readonly JsonValue[] | JsonObject): v is readonly JsonValue[] => Array.isArray(v);

// ---- tunkit's drop counters ----

/** A drop table as a name → count record of its non-zero entries, in Drop-code order. */
export function dropsRecord(drops: Uint32Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of DROP_CODES) if ((drops[c] ?? 0) > 0) out[dropName(c)] = drops[c]!;
  return out;
}

/** "SeqOutOfOrder 2, CsumMismatch 1": non-zero entries, known reasons in Drop-code order first. */
export function formatDropsRecord(drops: Readonly<Record<string, number>>): string {
  const rank = new Map(DROP_CODES.map((c, i) => [dropName(c), i]));
  return Object.entries(drops)
    .filter(([, n]) => n > 0)
    .map(([k, n], i) => ({ k, n, r: rank.get(k) ?? DROP_CODES.length + i }))
    .sort((a, b) => a.r - b.r)
    .map(({ k, n }) => `${k} ${n}`)
    .join(', ');
}

/** "SeqOutOfOrder 2, CsumMismatch 1" for the non-zero entries of a drop table. */
export function formatDrops(drops: Uint32Array): string {
  return formatDropsRecord(dropsRecord(drops));
}

/** The `    tunkit drops: …` line tunkit adds after iproute2's counters; null when all are zero. */
export function tunkitDropsLine(drops: Readonly<Record<string, number>>): string | null {
  const text = formatDropsRecord(drops);
  return text === '' ? null : `    tunkit drops: ${text}`;
}

/**
 * The counter blocks of `ip -s link` (level 1) or `ip -s -s link` (level 2),
 * exactly as print_stats64 lays them out (with a zero "transns" column, since
 * LinkStats keeps no carrier-change count), then tunkit's drop line.
 */
export function formatLinkStats(s: LinkStats, level = 2): string {
  const snap = {} as Record<LinkStatName, number>;
  for (const k of LINK_STAT_NAMES) snap[k] = s[k];
  const out = formatStats64(snap, level, 0);
  const drops = tunkitDropsLine(dropsRecord(s.drops));
  if (drops !== null) out.push(drops);
  return out.join('\n');
}

/**
 * A record's keys in iproute2's JSON style (print_*(PRINT_JSON, "key", …)
 * keys are lower snake_case: "link_type", "min_mtu", "ignore_df"), for
 * tunkit's own `-j xfrm` output: `replayWindow` → `replay_window`, and a
 * boolean's `is`/`has` prefix dropped as iproute2 names flags (`isEsn` →
 * `esn`). Values are kept; applied recursively through arrays and objects.
 */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [snakeKey(k), snakeKeys(x)]));
}

/** One key: camelCase → snake_case, `isFoo`/`hasFoo` → `foo`. */
export const snakeKey = (k: string): string =>
  k.replace(/^(?:is|has)(?=[A-Z])/, '').replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
