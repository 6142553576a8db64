// `tunkit xfrm …` → a typed command, as ip/ipxfrm.c do_xfrm() and
// ip/xfrm_monitor.c do_xfrm_monitor() dispatch `ip xfrm …`:
//
//   xfrm { state | sa } …      xfrm-state-args.ts
//   xfrm policy …              xfrm-policy-args.ts
//   xfrm monitor [nokeys] [all | acquire | expire | SA | aevent | policy | report | mapping]…
//   xfrm stat                  tunkit's own: /proc/net/xfrm_stat (exact word; ip would read "stat" as state)
//   xfrm help

import { invarg, matches, UsageError } from './args.js';
import { parsePolicyArgs } from './xfrm-policy-args.js';
import type { PolicyCommand } from './xfrm-policy-args.js';
import { parseStateArgs } from './xfrm-state-args.js';
import type { KeyInput } from './xfrm-keymat-args.js';
import type { StateCommand } from './xfrm-state-args.js';

/** Event groups of `xfrm monitor` (XFRMNLGRP_*); `mapping` is XFRMNLGRP_MAPPING, which ip only gets with `all`. */
export type MonitorGroup = 'acquire' | 'expire' | 'sa' | 'aevent' | 'policy' | 'report' | 'mapping';

export type XfrmCommand =
  | { readonly obj: 'state'; readonly state: StateCommand }
  | { readonly obj: 'policy'; readonly policy: PolicyCommand }
  /** `groups` empty = all. */
  | { readonly obj: 'monitor'; readonly groups: ReadonlySet<MonitorGroup> }
  | { readonly obj: 'stat' }
  | { readonly obj: 'help'; readonly usage: string };

export const XFRM_USAGE = [
  'Usage: tunkit xfrm XFRM-OBJECT { COMMAND | help }',
  'where  XFRM-OBJECT := state | policy | monitor | stat',
].join('\n');

export const XFRM_STATE_USAGE = [
  'Usage: tunkit xfrm state { add | update } ID [ ALGO-LIST ] [ mode MODE ]',
  '        [ mark MARK [ mask MASK ] ] [ reqid REQID ] [ seq SEQ ]',
  '        [ replay-window SIZE ] [ flag FLAG-LIST ] [ sel SELECTOR ] [ LIMIT-LIST ]',
  '        [ encap ENCAP ] [ extra-flag EXTRA-FLAG-LIST ]',
  '        [ output-mark OUTPUT-MARK [ mask MASK ] ] [ if_id IF_ID ] [ tfcpad LENGTH ]',
  'Usage: tunkit xfrm state { delete | get } ID [ --keys ]',
  'Usage: tunkit xfrm state deleteall [ ID ] [ mode MODE ] [ reqid REQID ] [ flag FLAG-LIST ]',
  'Usage: tunkit xfrm state list [ nokeys | --keys ] [ ID ] [ mode MODE ] [ reqid REQID ]',
  '        [ flag FLAG-LIST ]',
  'Usage: tunkit xfrm state flush [ proto esp ]',
  'Usage: tunkit xfrm state count',
  'ID := [ src ADDR ] [ dst ADDR ] [ proto esp ] [ spi SPI ]',
  'ALGO-LIST := [ ALGO-LIST ] ALGO',
  'ALGO := { enc | auth } ALGO-NAME ALGO-KEYMAT |',
  '        auth-trunc ALGO-NAME ALGO-KEYMAT ALGO-TRUNC-LEN |',
  '        aead ALGO-NAME ALGO-KEYMAT ALGO-ICV-LEN',
  'ALGO-KEYMAT := 0xHEX | STRING (the string\'s bytes)',
  'MODE := transport | tunnel',
  'FLAG-LIST := [ FLAG-LIST ] FLAG',
  'FLAG := noecn | decap-dscp | nopmtudisc | wildrecv | icmp | af-unspec | align4 | esn',
  'EXTRA-FLAG-LIST := [ EXTRA-FLAG-LIST ] EXTRA-FLAG',
  'EXTRA-FLAG := dont-encap-dscp | oseq-may-wrap',
  'SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]',
  'UPSPEC := proto { { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |',
  '                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |',
  '                  gre [ key { DOTTED-QUAD | NUMBER } ] | PROTO }',
  'LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT',
  'LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |',
  '         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT',
  'ENCAP := { espinudp | espinudp-nonike } SPORT DPORT OADDR',
  'Keys: tunkitd sends keys only when asked (--keys); otherwise they print as',
  '"<<Keys hidden>>", which is what `ip xfrm state list nokeys` prints.',
].join('\n');

export const XFRM_POLICY_USAGE = [
  'Usage: tunkit xfrm policy { add | update } SELECTOR dir DIR',
  '        [ mark MARK [ mask MASK ] ] [ index INDEX ] [ ptype main ]',
  '        [ action ACTION ] [ priority PRIORITY ] [ if_id IF_ID ] [ LIMIT-LIST ] [ TMPL-LIST ]',
  'Usage: tunkit xfrm policy { delete | get } { SELECTOR | index INDEX } dir DIR [ ptype main ]',
  'Usage: tunkit xfrm policy { deleteall | list } [ nosock ] [ SELECTOR ] [ dir DIR ]',
  '        [ index INDEX ] [ ptype PTYPE ] [ action ACTION ] [ priority PRIORITY ]',
  'Usage: tunkit xfrm policy flush [ ptype main ]',
  'Usage: tunkit xfrm policy count',
  'Usage: tunkit xfrm policy setdefault DIR ACTION [ DIR ACTION ] [ DIR ACTION ]',
  'Usage: tunkit xfrm policy getdefault',
  'SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]',
  'UPSPEC := proto { { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |',
  '                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |',
  '                  gre [ key { DOTTED-QUAD | NUMBER } ] | PROTO }',
  'DIR := in | out | fwd',
  'ACTION := allow | block     (setdefault: accept | block)',
  'LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT',
  'LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |',
  '         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT',
  'TMPL-LIST := [ TMPL-LIST ] tmpl TMPL',
  'TMPL := ID [ mode MODE ] [ reqid REQID ] [ level LEVEL ]',
  'ID := [ src ADDR ] [ dst ADDR ] [ proto esp ] [ spi SPI ]',
  'MODE := transport | tunnel',
  'LEVEL := required | use',
].join('\n');

export const XFRM_MONITOR_USAGE = [
  'Usage: tunkit xfrm monitor [ nokeys ] [ all | OBJECTS | help ]',
  'OBJECTS := { acquire | expire | SA | aevent | policy | report | mapping }',
].join('\n');

/** do_xfrm_monitor()'s group words in ip's matches() order (read by cli/grammar.ts too). */
export const MONITOR_GROUPS: readonly (readonly [string, MonitorGroup])[] = [
  ['acquire', 'acquire'], ['expire', 'expire'], ['SA', 'sa'], ['aevent', 'aevent'], ['policy', 'policy'],
  ['report', 'report'], ['mapping', 'mapping'],
];

/** do_xfrm_monitor()'s argument loop: matches() in ip's order, `all`/`nokeys` exact. */
function parseMonitor(args: readonly string[]): XfrmCommand {
  const groups = new Set<MonitorGroup>();
  const words = MONITOR_GROUPS;
  for (const w of args) {
    if (matches(w, 'file')) throw invarg('"file" is not supported by tunkit', w);
    if (w === 'nokeys' || w === 'all') continue;
    if (matches(w, 'all-nsid')) throw invarg('"all-nsid" is not supported by tunkit', w);
    const g = words.find(([word]) => matches(w, word));
    if (g !== undefined) { groups.add(g[1]); continue; }
    if (matches(w, 'help')) return { obj: 'help', usage: XFRM_MONITOR_USAGE };
    throw new UsageError(`Argument "${w}" is unknown, try "tunkit xfrm monitor help".`, w);
  }
  return { obj: 'monitor', groups };
}

type XfrmVerb = (rest: readonly string[], keys: KeyInput | undefined) => XfrmCommand;
const xfrmState: XfrmVerb = (rest, keys) => {
  const state = parseStateArgs(rest, keys);
  return state.cmd === 'help' ? { obj: 'help', usage: XFRM_STATE_USAGE } : { obj: 'state', state };
};
const xfrmStat: XfrmVerb = (rest) => {
  if (rest.length > 0) throw invarg('xfrm stat takes no arguments', rest[0] ?? '', 'stat');
  return { obj: 'stat' };
};

/**
 * ipxfrm.c do_xfrm()'s objects: [word, exact?, parser] in ip's order
 * (`stat`/`stats` are tunkit's, exact); read by cli/grammar.ts too.
 */
export const XFRM_OBJECTS: readonly (readonly [string, boolean, XfrmVerb])[] = [
  ['stat', true, xfrmStat], ['stats', true, xfrmStat],
  ['state', false, xfrmState], ['sa', false, xfrmState],
  ['policy', false, (rest) => {
    const policy = parsePolicyArgs(rest);
    return policy.cmd === 'help' ? { obj: 'help', usage: XFRM_POLICY_USAGE } : { obj: 'policy', policy };
  }],
  ['monitor', false, (rest) => parseMonitor(rest)],
  ['help', false, () => ({ obj: 'help', usage: XFRM_USAGE })],
];

/** ipxfrm.c do_xfrm(); a missing or unknown object is ip's usage() (exit 255). */
export function parseXfrmArgs(args: readonly string[], keys?: KeyInput): XfrmCommand {
  const [w, ...rest] = args;
  if (w === undefined) throw new UsageError(XFRM_USAGE, 'XFRM-OBJECT');
  const hit = XFRM_OBJECTS.find(([word, exact]) => (exact ? w === word : matches(w, word)));
  if (hit === undefined) throw new UsageError(XFRM_USAGE, w);
  return hit[2](rest, keys);
}
