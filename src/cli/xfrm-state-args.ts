// `tunkit xfrm state …` arguments → the JSON the daemon takes (xfrm/spec.ts),
// read the way iproute2 6.1's ip/xfrm_state.c reads `ip xfrm state …`:
//
//   do_xfrm_state                 add | update | delete | deleteall | list | get | flush | count | help
//     xfrm_state_modify           ID [ALGO-LIST] [mode M] [mark …] [reqid R] [seq S] [replay-window N]
//                                 [flag …] [extra-flag …] [sel SELECTOR] [limit …] [encap …]
//                                 [output-mark V [mask M]] [if_id N] [tfcpad N]
//     xfrm_state_get_or_delete    ID [--keys]
//     xfrm_state_list_or_deleteall [nokeys | --keys] [ID] [mode M] [reqid R] [flag …]
//
// tunkit implements ESP in transport and tunnel mode; ip keywords for what it
// does not have (ah/comp, beet, coa, ctx, offload, replay-seq…, allocspi) are
// refused by name. `seq SEQ` (the key manager's sequence number, which only
// matches an ACQUIRE to its larval SA) is checked as ip checks it and not
// sent: StateSpec has no such field. Keys are hidden in listings unless
// `--keys` is given (tunkit's default is ip's `nokeys`).

import { XFRMA_REPLAY_ESN_MAX } from '../xfrm/replay.js';
import { STATE_FLAGS, STATE_XFLAGS } from '../xfrm/spec.js';
import type {
  AlgoSpec, EncapSpec, LimitsSpec, MarkSpec, StateFlagName, StateId, StateRecord, StateSpec, StateXflagName,
} from '../xfrm/spec.js';
import { duparg, getU8, getUnsigned, invarg, matches, missarg, UsageError } from './args.js';
import { algoKeyHex, keyArg } from './xfrm-keymat-args.js';
import type { KeyInput } from './xfrm-keymat-args.js';
import {
  addrMatch, Argv, familyOf, getAddr, getU16, parseLimit, parseMark, parseMode, parseReqid, parseSelector,
  parseXfrmId, parseXfrmProto, selectorSpec, zeroAddr,
} from './xfrm-args-common.js';
import type { Family, Prefix, SelectorParse, XfrmIdParse } from './xfrm-args-common.js';

/** `state list` / `deleteall` filters (xfrm_state_filter_match); absent fields match anything. */
export interface StateFilter {
  readonly id?: XfrmIdParse;
  readonly mode?: 'transport' | 'tunnel';
  readonly reqid?: number;
  /** Any of these XFRM_STATE_* bits. */
  readonly flags?: number;
}

export type StateCommand =
  | { readonly cmd: 'add' | 'update'; readonly state: StateSpec }
  | { readonly cmd: 'del' | 'get'; readonly id: StateId; readonly isKeysShown: boolean }
  | { readonly cmd: 'list' | 'deleteall'; readonly filter: StateFilter; readonly isKeysShown: boolean }
  | { readonly cmd: 'flush' | 'count' | 'help' };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What xfrm_state_modify gathers before it builds the request. */
interface StateParse {
  pf: Family;
  id?: XfrmIdParse;
  mode: 'transport' | 'tunnel';
  reqid: number;
  replayWindow: number;
  flags: number;
  xflags: number;
  algos: { aead?: AlgoSpec; enc?: AlgoSpec; auth?: AlgoSpec; isAuthTrunc: boolean; hasComp: boolean };
  sel?: SelectorParse;
  limits: Mutable<LimitsSpec>;
  encap?: { type: EncapSpec['type']; sport: number; dport: number; oa: Prefix };
  mark?: MarkSpec;
  outputMark: { value: number; mask: number };
  ifId?: number;
  tfcpad: number;
}

type AlgoType = 'enc' | 'auth' | 'comp' | 'aead' | 'auth-trunc';
const ALGO_TYPES: readonly string[] = ['enc', 'auth', 'comp', 'aead', 'auth-trunc'];

/** One ALGO of xfrm_state_modify: the ALGO-TYPE duplicate rules, then NAME KEY [ICV-LEN | TRUNC-LEN]. */
function parseAlgo(a: Argv, st: StateParse, type: AlgoType, keys: KeyInput | undefined): void {
  const al = st.algos;
  const hasEnc = al.enc !== undefined;
  const hasAuth = al.auth !== undefined;
  const hasAead = al.aead !== undefined;
  const isDup = type === 'aead' ? hasEnc || hasAuth || hasAead
    : type === 'enc' ? hasEnc || hasAead
      : type === 'comp' ? al.hasComp : hasAuth || hasAead;
  if (isDup) throw duparg('ALGO-TYPE', a.cur);
  if (!a.hasNext) throw missarg('ALGO-NAME');
  const name = a.next();
  if (type === 'comp') { al.hasComp = true; return; }
  if (!a.hasNext) throw missarg('ALGO-KEYMAT');
  const key = keyArg(a.next(), keys);
  let bits: number | undefined;
  if (type === 'aead' || type === 'auth-trunc') {
    const what = type === 'aead' ? 'ALGO-ICV-LEN' : 'ALGO-TRUNC-LEN';
    if (!a.hasNext) throw missarg(what);
    const n = getUnsigned(a.next(), 0);
    if (n === null) throw invarg(`${what} value is invalid`, a.cur, what);
    bits = n;
  }
  const spec: AlgoSpec = { name, keyHex: algoKeyHex(key), ...(bits !== undefined ? { bits } : {}) };
  if (type === 'aead') al.aead = spec;
  else if (type === 'enc') al.enc = spec;
  else { al.auth = spec; al.isAuthTrunc = type === 'auth-trunc'; }
}

/** xfrm_state_flag_parse() / xfrm_state_extra_flag_parse(): a 0x… value, or a run of names. */
function parseFlagList(a: Argv, table: Readonly<Record<string, number>>, isExtra: boolean): number {
  const s = a.cur;
  if (s.length > 2 && s.startsWith('0x')) {
    const v = isExtra ? getUnsigned(s, 16) : getU8(s, 16);
    const known = Object.values(table).reduce((x, y) => x | y, 0);
    if (v === null) throw invarg(isExtra ? '"EXTRA-FLAG" is invalid' : 'FLAG value is invalid', s, isExtra ? 'extra-flag' : 'flag');
    if ((v & ~known) !== 0) throw invarg('unknown flag bits are not supported by tunkit', s, isExtra ? 'extra-flag' : 'flag');
    return v;
  }
  let v = 0;
  for (;;) {
    const bit = Object.hasOwn(table, a.cur) ? table[a.cur] : undefined;
    if (bit === undefined) { a.prev(); break; }
    v |= bit;
    if (!a.hasNext) break;
    a.next();
  }
  return v;
}

/** `encap espinudp|espinudp-nonike SPORT DPORT OADDR`. */
function parseEncap(a: Argv, st: StateParse): void {
  const t = a.next('encap');
  if (t !== 'espinudp' && t !== 'espinudp-nonike') {
    if (t === 'espintcp') throw invarg('ENCAP-TYPE "espintcp" is not supported by tunkit', t, 'encap');
    throw invarg('ENCAP-TYPE value is invalid', t, 'encap');
  }
  const sport = getU16(a.next('encap'));
  if (sport === null) throw invarg('SPORT value after "encap" is invalid', a.cur, 'encap');
  const dport = getU16(a.next('encap'));
  if (dport === null) throw invarg('DPORT value after "encap" is invalid', a.cur, 'encap');
  st.encap = { type: t, sport, dport, oa: getAddr(a.next('encap'), 0) };
}

/** `output-mark V [mask M]` (the mask only when it follows at once). */
function parseOutputMark(a: Argv, st: StateParse): void {
  const v = getUnsigned(a.next(), 0);
  if (v === null) throw invarg('value after "output-mark" is invalid', a.cur, 'output-mark');
  st.outputMark.value = v;
  if (a.argc <= 1) return;
  if (a.next() !== 'mask') { a.prev(); return; }
  const m = getUnsigned(a.next(), 0);
  if (m === null) throw invarg('mask value is invalid\n', a.cur, 'mask');
  st.outputMark.mask = m;
}

/** A u32 after `key` (replay-window, if_id, tfcpad), worded as xfrm_state_modify words it. */
function u32After(a: Argv, key: string): number {
  const n = getUnsigned(a.next(), 0);
  if (n === null) throw invarg(`value after "${key}" is invalid`, a.cur, key);
  return n;
}

const UNSUPPORTED_STATE = ['replay-seq', 'replay-seq-hi', 'replay-oseq', 'replay-oseq-hi', 'coa', 'ctx', 'offload'];

/** One keyword of xfrm_state_modify's loop; false when `k` is not one (ALGO or ID then). */
function stateKeyword(a: Argv, st: StateParse, k: string): boolean {
  switch (k) {
    case 'mode': st.mode = parseMode(a.next()); return true;
    case 'mark': st.mark = parseMark(a); return true;
    case 'reqid': st.reqid = parseReqid(a.next()); return true;
    case 'seq': if (getUnsigned(a.next(), 0) === null) throw invarg('SEQ value is invalid', a.cur, 'seq'); return true;
    case 'replay-window': st.replayWindow = u32After(a, k); return true;
    case 'flag': a.next(); st.flags |= parseFlagList(a, STATE_FLAGS, false); return true;
    case 'extra-flag': a.next(); st.xflags |= parseFlagList(a, STATE_XFLAGS, true); return true;
    case 'sel': {
      a.next();
      st.sel = parseSelector(a, 0);
      st.pf = st.sel.family;
      return true;
    }
    case 'limit': a.next(); parseLimit(a, st.limits); return true;
    case 'encap': parseEncap(a, st); return true;
    case 'output-mark': parseOutputMark(a, st); return true;
    case 'if_id': st.ifId = u32After(a, k); return true;
    case 'tfcpad': st.tfcpad = u32After(a, k); return true;
    default:
      if (UNSUPPORTED_STATE.includes(k)) throw invarg(`"${k}" is not supported by tunkit`, k);
      return false;
  }
}

/** xfrm_state_modify()'s loop: keywords, then an ALGO, then (once) the ID. */
function parseStateTokens(args: readonly string[], keys: KeyInput | undefined): StateParse {
  const a = new Argv(args);
  const st: StateParse = {
    pf: 0, mode: 'transport', reqid: 0, replayWindow: 0, flags: 0, xflags: 0,
    algos: { isAuthTrunc: false, hasComp: false }, limits: {}, outputMark: { value: 0, mask: 0 }, tfcpad: 0,
  };
  while (a.argc > 0) {
    const k = a.cur;
    if (!stateKeyword(a, st, k)) {
      if (ALGO_TYPES.includes(k)) parseAlgo(a, st, k as AlgoType, keys);
      else {
        if (st.id !== undefined) throw invarg('unknown', k);
        st.id = parseXfrmId(a, st.pf, false);
        if (st.pf === 0) st.pf = st.id.family;
      }
    }
    a.step();
  }
  return st;
}

/** xfrm_state_modify()'s checks after the loop, in ip's order. */
function checkState(st: StateParse): asserts st is StateParse & { id: XfrmIdParse } {
  if ((st.flags & STATE_FLAGS.esn) !== 0 && st.replayWindow === 0) {
    throw new UsageError('Error: esn flag set without replay-window.', 'replay-window');
  }
  if (st.replayWindow > XFRMA_REPLAY_ESN_MAX) {
    throw new UsageError(`Error: replay-window (${st.replayWindow}) > XFRMA_REPLAY_ESN_MAX (${XFRMA_REPLAY_ESN_MAX}).`, 'replay-window');
  }
  if (st.id === undefined) throw new UsageError('Not enough information: ID is required', 'ID');
  if (st.algos.hasComp) throw new UsageError('ALGO-TYPE value "comp" is invalid with XFRM-PROTO value "esp"', 'comp');
  if (st.algos.enc === undefined && st.algos.aead === undefined) {
    throw new UsageError('ALGO-TYPE value "enc" or "aead" is required with XFRM-PROTO value "esp"', 'enc');
  }
}

const flagNames = <N extends string>(table: Readonly<Record<N, number>>, v: number): N[] =>
  (Object.keys(table) as N[]).filter((n) => (v & table[n]) !== 0);

const hasAny = (o: object): boolean => Object.keys(o).length > 0;

/** The StateSpec xfrm_state_modify would have sent (what the kernel keeps of it, as JSON). */
function stateSpecOf(st: StateParse & { id: XfrmIdParse }): StateSpec {
  const f = st.id.family === 0 ? 4 : st.id.family;
  const { aead, enc, auth, isAuthTrunc } = st.algos;
  const om = st.outputMark;
  return {
    src: st.id.src?.addr ?? zeroAddr(f), dst: st.id.dst?.addr ?? zeroAddr(f), proto: 'esp', spi: st.id.spi ?? 0,
    mode: st.mode,
    ...(st.reqid !== 0 ? { reqid: st.reqid } : {}),
    ...(st.replayWindow !== 0 ? { replayWindow: st.replayWindow } : {}),
    ...(st.flags !== 0 ? { flags: flagNames<StateFlagName>(STATE_FLAGS, st.flags) } : {}),
    ...(st.xflags !== 0 ? { extraFlags: flagNames<StateXflagName>(STATE_XFLAGS, st.xflags) } : {}),
    ...(aead !== undefined ? { aead } : {}),
    ...(enc !== undefined ? { enc } : {}),
    ...(auth !== undefined ? { auth, authTrunc: isAuthTrunc } : {}),
    ...(st.encap !== undefined
      ? { encap: { type: st.encap.type, sport: st.encap.sport, dport: st.encap.dport, oa: st.encap.oa.addr ?? zeroAddr(f) } }
      : {}),
    ...(st.sel !== undefined ? { sel: selectorSpec(st.sel, f) } : {}),
    ...(hasAny(st.limits) ? { limits: { ...st.limits } } : {}),
    ...(st.ifId !== undefined ? { ifId: st.ifId } : {}),
    ...(st.mark !== undefined && st.mark.mask !== 0 ? { mark: st.mark } : {}),
    ...(om.value !== 0 ? { outputMark: { value: om.value, mask: om.mask !== 0 ? om.mask : 0xffffffff } } : {}),
    ...(st.tfcpad !== 0 ? { tfcpad: st.tfcpad } : {}),
  };
}

/** `state add|update …`: a StateSpec, or a UsageError naming the offending argument. */
export function parseStateModify(args: readonly string[], keys?: KeyInput): StateSpec {
  const st = parseStateTokens(args, keys);
  checkState(st);
  return stateSpecOf(st);
}

/** xfrm_state_get_or_delete(): ID [--keys]; `mark` is refused (StateId has none). */
function parseStateGetDel(args: readonly string[]): { id: StateId; isKeysShown: boolean } {
  const a = new Argv(args);
  let id: XfrmIdParse | undefined;
  let isKeysShown = false;
  while (a.argc > 0) {
    const k = a.cur;
    if (k === 'mark') throw invarg('"mark" is not supported by tunkit in state delete/get', k);
    if (k === '--keys') isKeysShown = true;
    else {
      if (id !== undefined) throw invarg('unknown', k);
      id = parseXfrmId(a, 0, false);
    }
    a.step();
  }
  if (id === undefined) throw new UsageError('Not enough information: ID is required', 'ID');
  const f = id.family === 0 ? 4 : id.family;
  return {
    id: { ...(id.src?.addr ? { src: id.src.addr } : {}), dst: id.dst?.addr ?? zeroAddr(f), proto: 'esp', spi: id.spi ?? 0 },
    isKeysShown,
  };
}

/** xfrm_state_list_or_deleteall(): [nokeys | --keys] [ID] [mode M] [reqid R] [flag …]. */
function parseStateList(args: readonly string[]): { filter: StateFilter; isKeysShown: boolean } {
  const a = new Argv(args);
  const f: Mutable<StateFilter> = {};
  let isKeysShown = false;
  let pf: Family = 0;
  while (a.argc > 0) {
    const k = a.cur;
    if (k === 'nokeys' || k === '--keys') isKeysShown = k === '--keys';
    else if (k === 'mode') f.mode = parseMode(a.next());
    else if (k === 'reqid') f.reqid = parseReqid(a.next());
    else if (k === 'flag') { a.next(); f.flags = (f.flags ?? 0) | parseFlagList(a, STATE_FLAGS, false); }
    else {
      if (f.id !== undefined) throw invarg('unknown', k);
      f.id = parseXfrmId(a, pf, true);
      if (pf === 0) pf = f.id.family;
    }
    a.step();
  }
  return { filter: f, isKeysShown };
}

/** xfrm_state_flush(): [proto esp]. */
function parseStateFlush(args: readonly string[]): void {
  const a = new Argv(args);
  let hasProto = false;
  while (a.argc > 0) {
    if (a.cur !== 'proto') throw invarg('unknown', a.cur);
    if (hasProto) throw duparg('proto', a.cur);
    hasProto = true;
    parseXfrmProto(a.next());
    a.step();
  }
}

/** xfrm_state_filter_match(): does record `r` pass `f`? */
export function matchState(r: StateRecord, f: StateFilter): boolean {
  const id = f.id;
  if (id !== undefined) {
    if (id.family !== 0 && familyOf(r.dst) !== id.family) return false;
    if (id.src !== undefined && id.src.addr !== null && !addrMatch(r.src, id.src.addr, id.src.plen)) return false;
    if (id.dst !== undefined && id.dst.addr !== null && !addrMatch(r.dst, id.dst.addr, id.dst.plen)) return false;
    if (id.spi !== undefined && r.spi !== id.spi) return false;
  }
  if (f.mode !== undefined && r.mode !== f.mode) return false;
  if (f.reqid !== undefined && (r.reqid ?? 0) !== f.reqid) return false;
  if (f.flags !== undefined) {
    const bits = (r.flags ?? []).reduce((v, n) => v | STATE_FLAGS[n], 0);
    if ((bits & f.flags) === 0) return false;
  }
  return true;
}

type StateVerb = (rest: readonly string[], keys: KeyInput | undefined) => StateCommand;
const stateList: StateVerb = (rest) => ({ cmd: 'list', ...parseStateList(rest) });
const stateDeleteAll: StateVerb = (rest) => ({ cmd: 'deleteall', ...parseStateList(rest) });

/**
 * do_xfrm_state()'s command words in ip's matches() order; null = refused
 * as not supported. The completion grammar (cli/grammar.ts) reads this table.
 */
export const STATE_COMMANDS: readonly (readonly [string, StateVerb | null])[] = [
  ['add', (rest, keys) => ({ cmd: 'add', state: parseStateModify(rest, keys) })],
  ['update', (rest, keys) => ({ cmd: 'update', state: parseStateModify(rest, keys) })],
  ['allocspi', null],
  ['delete', (rest) => ({ cmd: 'del', ...parseStateGetDel(rest) })],
  ['deleteall', stateDeleteAll], ['delall', stateDeleteAll],
  ['list', stateList], ['show', stateList], ['lst', stateList],
  ['get', (rest) => ({ cmd: 'get', ...parseStateGetDel(rest) })],
  ['flush', (rest) => { parseStateFlush(rest); return { cmd: 'flush' }; }],
  ['count', () => ({ cmd: 'count' })],
  ['help', () => ({ cmd: 'help' })],
];

/** do_xfrm_state(): the command word by matches() in ip's order; no word = list. */
export function parseStateArgs(args: readonly string[], keys?: KeyInput): StateCommand {
  const [w, ...rest] = args;
  if (w === undefined) return { cmd: 'list', filter: {}, isKeysShown: false };
  const hit = STATE_COMMANDS.find(([word]) => matches(w, word));
  if (hit === undefined) throw new UsageError(`Command "${w}" is unknown, try "tunkit xfrm state help".`, w);
  if (hit[1] === null) throw invarg(`"${hit[0]}" is not supported by tunkit`, w);
  return hit[1](rest, keys);
}

