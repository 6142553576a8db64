// swanctl.conf's liveness and action keys (swanctl.conf(5)), read for
// swanctl.ts: a connection's dpd_delay / dpd_timeout, a child's
// start_action / dpd_action / close_action. Pure; liveness.ts and trap.ts
// act on what this returns.
//
// Action words as strongSwan's swanctl parser (parse_action) takes them:
//   none | clear        → 'none'   (do nothing: the SAs are just gone)
//   trap | route        → 'trap'   (install the child's policies with no SA;
//                                   a first packet's acquire starts IKE)
//   start | restart     → 'start'  (initiate the child again)

import { wordTable } from '../wire/table.js';

/** What a child does on dpd / close / load. */
export type ChildAction = 'none' | 'trap' | 'start';

/** A connection's DPD settings in seconds (0 = off). dpd_timeout is IKEv1's only: with IKEv2 the retransmission schedule decides death. */
export interface DpdConfig { readonly delaySec: number; readonly timeoutSec: number }

export interface ChildActions {
  /** When the peer is found dead (DPD, or any request of ours given up). */
  readonly dpd: ChildAction;
  /** When the peer deletes the Child SA or its IKE SA. */
  readonly close: ChildAction;
}

export const NO_DPD: DpdConfig = { delaySec: 0, timeoutSec: 0 };
export const NO_ACTIONS: ChildActions = { dpd: 'none', close: 'none' };

/** The keys these readers take, for Reader.check's lists. */
export const CONN_LIVE_KEYS: readonly string[] = ['dpd_delay', 'dpd_timeout'];
export const CHILD_LIVE_KEYS: readonly string[] = ['dpd_action', 'close_action'];

/** What swanctl.ts's Reader offers (structurally). */
export interface KeyReader {
  value(key: string): { readonly value: string } | undefined;
  fail(key: string, why: string): never;
}

const UNITS: Readonly<Record<string, number>> = wordTable({ '': 1, s: 1, m: 60, h: 3600, d: 86400 });

/** A strongSwan time value ("30", "30s", "5m", "1h", "1d"; fractions allowed) in seconds, or null. */
export function parseSeconds(v: string): number | null {
  const m = /^(\d{1,9}(?:\.\d{1,6})?)\s*([smhd]?)$/.exec(v.trim());
  return m === null ? null : Number(m[1]) * UNITS[m[2]!]!;
}

function seconds(r: KeyReader, key: string): number {
  const v = r.value(key);
  if (v === undefined) return 0;
  const s = parseSeconds(v.value);
  return s === null ? r.fail(key, `"${v.value}" is not a time (seconds, or a number with s, m, h or d)`) : s;
}

const WORDS: Readonly<Record<string, ChildAction>> = wordTable({ none: 'none', clear: 'none', trap: 'trap', route: 'trap', start: 'start', restart: 'start' });

function action(r: KeyReader, key: string, allowed: readonly ChildAction[]): ChildAction {
  const v = r.value(key);
  if (v === undefined) return 'none';
  const a = WORDS[v.value];
  if (a === undefined || !allowed.includes(a)) {
    const words = Object.keys(WORDS).filter((w) => allowed.includes(WORDS[w]!));
    return r.fail(key, `"${v.value}" is not one of ${words.join(', ')}`);
  }
  return a;
}

/** A connection's dpd_delay and dpd_timeout. */
export function readDpd(r: KeyReader): DpdConfig {
  return { delaySec: seconds(r, 'dpd_delay'), timeoutSec: seconds(r, 'dpd_timeout') };
}

/** A child's dpd_action and close_action. */
export function readActions(r: KeyReader): ChildActions {
  return { dpd: action(r, 'dpd_action', ['none', 'trap', 'start']), close: action(r, 'close_action', ['none', 'trap', 'start']) };
}

/** A child's start_action: none, trap (route) or start. */
export function readStartAction(r: KeyReader): ChildAction {
  return action(r, 'start_action', ['none', 'trap', 'start']);
}
