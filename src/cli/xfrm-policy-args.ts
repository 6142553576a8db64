// `tunkit xfrm policy …` arguments → the JSON the daemon takes (xfrm/spec.ts),
// read the way iproute2 6.1's ip/xfrm_policy.c reads `ip xfrm policy …`:
//
//   do_xfrm_policy                add | update | delete | deleteall | list | get | flush | count
//                                 | setdefault | getdefault | help
//     xfrm_policy_modify          SELECTOR dir DIR [mark …] [index I] [ptype main] [action A]
//                                 [priority P] [if_id N] [limit …]… [tmpl TMPL]…
//       xfrm_tmpl_parse           TMPL := ID [mode M] [reqid R] [level required|use]
//     xfrm_policy_get_or_delete   { SELECTOR | index I } dir DIR
//     xfrm_policy_list_or_deleteall [SELECTOR] [dir D] [index I] [action A] [priority P] [nosock]
//     xfrm_spd_setdefault         DIR ACTION [DIR ACTION]…
//
// Refused by name (tunkit has no such thing): ctx, ptype sub, policy flags
// (localok, icmp), `set hthresh…`; `mark`/`if_id` in delete/get (PolicyId
// carries neither, so tunkit finds policies by selector+dir or by index).

import type { LimitsSpec, MarkSpec, PolicyDefaults, PolicyDir, PolicyId, PolicyRecord, PolicySpec, TmplSpec } from '../xfrm/spec.js';
import { duparg, getU8, getUnsigned, invarg, matches, UsageError } from './args.js';
import {
  addrMatch, Argv, familyOf, parseLimit, parseMark, parseMode, parseReqid, parseSelector, parseXfrmId,
  selectorSpec, splitPrefix,
} from './xfrm-args-common.js';
import type { Family, SelectorParse, XfrmIdParse } from './xfrm-args-common.js';

/** `policy list` / `deleteall` filters (xfrm_policy_filter_match); absent fields match anything. */
export interface PolicyFilter {
  readonly sel?: SelectorParse;
  readonly dir?: PolicyDir;
  readonly index?: number;
  readonly action?: 'allow' | 'block';
  readonly priority?: number;
  /** `ptype sub` or a `flag` filter: tunkit has no sub policies and no policy flags, so nothing matches. */
  readonly isNothing?: boolean;
}

export type PolicyCommand =
  | { readonly cmd: 'add' | 'update'; readonly policy: PolicySpec }
  | { readonly cmd: 'del' | 'get'; readonly id: PolicyId }
  | { readonly cmd: 'list' | 'deleteall'; readonly filter: PolicyFilter }
  | { readonly cmd: 'setdefault'; readonly defaults: Partial<PolicyDefaults> }
  | { readonly cmd: 'flush' | 'count' | 'getdefault' | 'help' };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** xfrm_policy_dir_parse(). */
function parseDir(s: string): PolicyDir {
  if (s === 'in' || s === 'out' || s === 'fwd') return s;
  throw invarg('DIR value is invalid', s, 'dir');
}

/** xfrm_policy_ptype_parse(): main (the only type tunkit has) or sub (refused). */
function parsePtype(s: string): void {
  if (s === 'sub') throw invarg('PTYPE "sub" is not supported by tunkit', s, 'ptype');
  if (s !== 'main') throw invarg('PTYPE value is invalid', s, 'ptype');
}

/** `action allow|block` (xfrm_policy_modify / list). */
function parseAction(s: string): 'allow' | 'block' {
  if (s === 'allow' || s === 'block') return s;
  throw invarg('ACTION value is invalid\n', s, 'action');
}

/** xfrm_policy_flag_parse(): 0x… or a run of localok|icmp; returns the bits. */
function parsePolicyFlags(a: Argv): number {
  const s = a.cur;
  if (s.length > 2 && s.startsWith('0x')) {
    const v = getU8(s, 16);
    if (v === null) throw invarg('FLAG value is invalid', s, 'flag');
    return v;
  }
  let v = 0;
  for (;;) {
    if (a.cur === 'localok') v |= 1;
    else if (a.cur === 'icmp') v |= 2;
    else { a.prev(); break; }
    if (!a.hasNext) break;
    a.next();
  }
  return v;
}

/** A u32 with ip's "NAME value is invalid" wording (index, priority, if_id). */
function u32Value(s: string, what: string, field: string): number {
  const n = getUnsigned(s, 0);
  if (n === null) throw invarg(`${what} value is invalid`, s, field);
  return n;
}

interface PolicyParse {
  pf: Family;
  sel?: SelectorParse;
  dir?: PolicyDir;
  index?: number;
  priority?: number;
  action?: 'allow' | 'block';
  tmpls: TmplSpec[];
  ifId?: number;
  mark?: MarkSpec;
  limits: Mutable<LimitsSpec>;
  hasPtype: boolean;
}

/** xfrm_tmpl_parse(): on the token after "tmpl"; `family` is ip's preferred_family at that point. */
function parseTmpl(a: Argv, p: PolicyParse): void {
  let mode: 'transport' | 'tunnel' = 'transport';
  let reqid = 0;
  let level: 'required' | 'use' = 'required';
  let id: XfrmIdParse | undefined;
  for (;;) {
    const k = a.cur;
    if (k === 'mode') mode = parseMode(a.next());
    else if (k === 'reqid') reqid = parseReqid(a.next());
    else if (k === 'level') {
      const v = a.next();
      if (v !== 'required' && v !== 'use') throw invarg('LEVEL value is invalid\n', v, 'level');
      level = v;
    } else {
      if (id !== undefined) { a.prev(); break; }
      id = parseXfrmId(a, 0, false);
      if (id.family !== 0) p.pf = id.family;
    }
    if (!a.hasNext) break;
    a.next();
  }
  p.tmpls.push({
    ...(id?.src?.addr ? { src: id.src.addr } : {}),
    ...(id?.dst?.addr ? { dst: id.dst.addr } : {}),
    proto: 'esp',
    ...(id?.spi !== undefined && id.spi !== 0 ? { spi: id.spi } : {}),
    mode,
    ...(reqid !== 0 ? { reqid } : {}),
    ...(level === 'use' ? { level } : {}),
  });
}

/** One keyword of xfrm_policy_modify's loop; false for the SELECTOR. */
function policyKeyword(a: Argv, p: PolicyParse, k: string): boolean {
  switch (k) {
    case 'dir':
      if (p.dir !== undefined) throw duparg('dir', k);
      p.dir = parseDir(a.next());
      return true;
    case 'ctx': throw invarg('"ctx" is not supported by tunkit', k);
    case 'mark': p.mark = parseMark(a); return true;
    case 'index': p.index = u32Value(a.next(), 'INDEX', 'index'); return true;
    case 'ptype':
      if (p.hasPtype) throw duparg('ptype', k);
      p.hasPtype = true;
      parsePtype(a.next());
      return true;
    case 'action': p.action = parseAction(a.next()); return true;
    case 'priority': p.priority = u32Value(a.next(), 'PRIORITY', 'priority'); return true;
    case 'flag':
      a.next();
      if (parsePolicyFlags(a) !== 0) throw invarg('policy flags are not supported by tunkit', 'flag');
      return true;
    case 'limit': a.next(); parseLimit(a, p.limits); return true;
    case 'tmpl': a.next(); parseTmpl(a, p); return true;
    case 'if_id': p.ifId = u32Value(a.next(), 'IF_ID', 'if_id'); return true;
    default: return false;
  }
}

/** `policy add|update …`: a PolicySpec, or a UsageError naming the offending argument. */
export function parsePolicyModify(args: readonly string[]): PolicySpec {
  const a = new Argv(args);
  const p: PolicyParse = { pf: 0, tmpls: [], limits: {}, hasPtype: false };
  while (a.argc > 0) {
    const k = a.cur;
    if (!policyKeyword(a, p, k)) {
      if (p.sel !== undefined) throw duparg('unknown', k);
      p.sel = parseSelector(a, p.pf);
      if (p.pf === 0) p.pf = p.sel.family;
    }
    a.step();
  }
  if (p.dir === undefined) throw new UsageError('Not enough information: DIR is required.', 'dir');
  const emptySel: SelectorParse = { family: 0, proto: 0, sport: 0, dport: 0, sportMask: 0, dportMask: 0 };
  return {
    sel: selectorSpec(p.sel ?? emptySel, 4), dir: p.dir,
    ...(p.index !== undefined && p.index !== 0 ? { index: p.index } : {}),
    ...(p.priority !== undefined ? { priority: p.priority } : {}),
    ...(p.action !== undefined ? { action: p.action } : {}),
    ...(p.tmpls.length > 0 ? { tmpls: p.tmpls } : {}),
    ...(p.ifId !== undefined ? { ifId: p.ifId } : {}),
    ...(p.mark !== undefined && p.mark.mask !== 0 ? { mark: p.mark } : {}),
    ...(Object.keys(p.limits).length > 0 ? { limits: { ...p.limits } } : {}),
  };
}

/** xfrm_policy_get_or_delete(): { SELECTOR | index I } dir DIR [ptype main]. */
function parsePolicyGetDel(args: readonly string[]): PolicyId {
  const a = new Argv(args);
  let dir: PolicyDir | undefined;
  let index: number | undefined;
  let sel: SelectorParse | undefined;
  let hasPtype = false;
  while (a.argc > 0) {
    const k = a.cur;
    if (k === 'dir') {
      if (dir !== undefined) throw duparg('dir', k);
      dir = parseDir(a.next());
    } else if (k === 'ctx' || k === 'mark' || k === 'if_id') {
      throw invarg(`"${k}" is not supported by tunkit in policy delete/get`, k);
    } else if (k === 'index') {
      if (index !== undefined) throw duparg('index', k);
      index = u32Value(a.next(), 'INDEX', 'index');
    } else if (k === 'ptype') {
      if (hasPtype) throw duparg('ptype', k);
      hasPtype = true;
      parsePtype(a.next());
    } else {
      if (sel !== undefined) throw invarg('unknown', k);
      sel = parseSelector(a, 0);
    }
    a.step();
  }
  if (dir === undefined) throw new UsageError('Not enough information: DIR is required.', 'dir');
  if (sel === undefined && index === undefined) {
    throw new UsageError('Not enough information: either SELECTOR or INDEX is required.', 'SELECTOR');
  }
  // lib/utils.c duparg2() as iproute2 6.1 words it.
  if (sel !== undefined && index !== undefined) throw new UsageError('Error: either "SELECTOR" is duplicate, or "INDEX" is a garbage.', 'index');
  return sel !== undefined ? { sel: selectorSpec(sel, 4), dir } : { dir, index: index ?? 0 };
}

/** xfrm_policy_list_or_deleteall()'s filter arguments. */
function parsePolicyList(args: readonly string[]): PolicyFilter {
  const a = new Argv(args);
  const f: Mutable<PolicyFilter> = {};
  while (a.argc > 0) {
    const k = a.cur;
    if (k === 'dir') f.dir = parseDir(a.next());
    else if (k === 'index') f.index = u32Value(a.next(), 'INDEX', 'index');
    else if (k === 'ptype') {
      const v = a.next();
      if (v !== 'main' && v !== 'sub') throw invarg('PTYPE value is invalid', v, 'ptype');
      if (v === 'sub') f.isNothing = true;
    } else if (k === 'action') f.action = parseAction(a.next());
    else if (k === 'priority') f.priority = u32Value(a.next(), 'PRIORITY', 'priority');
    else if (k === 'flag') { a.next(); if (parsePolicyFlags(a) !== 0) f.isNothing = true; }
    else if (k !== 'nosock') {
      if (f.sel !== undefined) throw invarg('unknown', k);
      f.sel = parseSelector(a, 0);
    }
    a.step();
  }
  return f;
}

/** xfrm_spd_setdefault(): in|fwd|out accept|block, each at most once. */
function parseSetDefault(args: readonly string[]): Partial<PolicyDefaults> {
  const a = new Argv(args);
  const d: Partial<Mutable<PolicyDefaults>> = {};
  while (a.argc > 0) {
    const k = a.cur;
    if (k !== 'in' && k !== 'fwd' && k !== 'out') throw invarg('unknown direction', k);
    if (d[k] !== undefined) throw duparg(k, k);
    const v = a.next();
    if (v !== 'accept' && v !== 'block') throw invarg(`${k} policy value is invalid`, v, k);
    d[k] = v;
    a.step();
  }
  return d;
}

/** xfrm_policy_filter_match(): does record `r` pass `f`? */
export function matchPolicy(r: PolicyRecord, f: PolicyFilter): boolean {
  if (f.isNothing === true) return false;
  if (f.dir !== undefined && r.dir !== f.dir) return false;
  if (f.index !== undefined && r.index !== f.index) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.priority !== undefined && r.priority !== f.priority) return false;
  const s = f.sel;
  if (s === undefined) return true;
  const src = splitPrefix(r.sel.src);
  const dst = splitPrefix(r.sel.dst);
  if (s.family !== 0 && familyOf(src.addr) !== s.family) return false;
  if (s.src?.addr != null && !addrMatch(src.addr, s.src.addr, s.src.plen)) return false;
  if (s.dst?.addr != null && !addrMatch(dst.addr, s.dst.addr, s.dst.plen)) return false;
  if (s.dev !== undefined && r.sel.dev !== s.dev) return false;
  if (s.proto !== 0 && (r.sel.proto ?? 0) !== s.proto) return false;
  if (s.sportMask !== 0 && (r.sel.sport ?? 0) !== s.sport) return false;
  if (s.dportMask !== 0 && (r.sel.dport ?? 0) !== s.dport) return false;
  return true;
}

/** `policy flush [ ptype PTYPE ]`. */
function parsePolicyFlush(rest: readonly string[]): PolicyCommand {
  const a = new Argv(rest);
  let hasPtype = false;
  while (a.argc > 0) {
    if (a.cur !== 'ptype') throw invarg('unknown', a.cur);
    if (hasPtype) throw duparg('ptype', a.cur);
    hasPtype = true;
    parsePtype(a.next());
    a.step();
  }
  return { cmd: 'flush' };
}

type PolicyVerb = (rest: readonly string[]) => PolicyCommand;
const policyList: PolicyVerb = (rest) => ({ cmd: 'list', filter: parsePolicyList(rest) });
const policyDeleteAll: PolicyVerb = (rest) => ({ cmd: 'deleteall', filter: parsePolicyList(rest) });

/**
 * do_xfrm_policy()'s command words in ip's matches() order; null = refused
 * as not supported (`set` is hthresh). The completion grammar
 * (cli/grammar.ts) reads this table.
 */
export const POLICY_COMMANDS: readonly (readonly [string, PolicyVerb | null])[] = [
  ['add', (rest) => ({ cmd: 'add', policy: parsePolicyModify(rest) })],
  ['update', (rest) => ({ cmd: 'update', policy: parsePolicyModify(rest) })],
  ['delete', (rest) => ({ cmd: 'del', id: parsePolicyGetDel(rest) })],
  ['deleteall', policyDeleteAll], ['delall', policyDeleteAll],
  ['list', policyList], ['show', policyList], ['lst', policyList],
  ['get', (rest) => ({ cmd: 'get', id: parsePolicyGetDel(rest) })],
  ['flush', parsePolicyFlush],
  ['count', () => ({ cmd: 'count' })],
  ['set', null],
  ['setdefault', (rest) => ({ cmd: 'setdefault', defaults: parseSetDefault(rest) })],
  ['getdefault', () => ({ cmd: 'getdefault' })],
  ['help', () => ({ cmd: 'help' })],
];

/** do_xfrm_policy(): the command word by matches() in ip's order; no word = list. */
export function parsePolicyArgs(args: readonly string[]): PolicyCommand {
  const [w, ...rest] = args;
  if (w === undefined) return { cmd: 'list', filter: {} };
  const hit = POLICY_COMMANDS.find(([word]) => matches(w, word));
  if (hit === undefined) throw new UsageError(`Command "${w}" is unknown, try "tunkit xfrm policy help".`, w);
  if (hit[1] === null) throw invarg(`"${hit[0]}"${hit[0] === 'set' ? ' (hthresh)' : ''} is not supported by tunkit`, w);
  return hit[1](rest);
}
