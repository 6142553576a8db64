// `tunkit link add NAME type {ipip | sit | gre | gretap} ARGS…`: the type's
// arguments, read the way iproute2 reads them (link-args.ts parses what
// comes before `type`; xfrm-link-args.ts reads `type xfrm`):
//
//   iptunnel_parse_opt   ipip, sit   (ip/link_iptnl.c, exact keywords)
//   gre_parse_opt        gre, gretap (ip/link_gre.c, keywords by prefix)
//
// Owns the two keyword tables (also offered for completion: IPTNL_WORDS,
// GRE_WORDS), the wrong-type hints (link-errors.ts kindHelp) and the
// TunnelConfig they build, before makeTunnelParams (link-args.ts linkAdd).

import type { TunnelConfig } from '../tunnel/params.js';
import { isIp4Multicast, parseIp4 } from '../wire/addr.js';
import {
  ArgCursor, duparg, findKeyword, getInetAddr, invarg, parseMtu, parseTosArg, parseTtlArg, tnlParseKey, UsageError,
} from './args.js';
import { kindHelp } from './link-errors.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The locals of iptunnel_parse_opt / gre_parse_opt, with their defaults. */
interface TunnelArgs {
  local: string;
  remote: string;
  linkDev?: string;
  ttl: number;
  tos: number;
  pmtudisc: boolean;
  /** proto: iproute2 sends 0 ("any") unless `mode` says otherwise. */
  mode: string;
  hasIkey: boolean; hasOkey: boolean; ikey: number; okey: number;
  iseq: boolean; oseq: boolean; icsum: boolean; ocsum: boolean;
  /** 0 unset, 1 ignore-df, 2 noignore-df (link_gre.c: "use 2 for presence"). */
  ignoreDf: 0 | 1 | 2;
  mtu?: number;
  /** A keyword other than tunkit's `mtu` was seen, i.e. iproute2 would call parse_opt at all. */
  hasTypeArgs: boolean;
}

type Handler = (a: TunnelArgs, tok: string, ts: ArgCursor, kind: string) => void;

const unsupported: Handler = (_a, tok) => { throw invarg('not supported by tunkit', tok); };
const remote: Handler = (a, _t, ts) => { a.remote = getInetAddr('remote', ts.value('remote')); };
const local: Handler = (a, _t, ts) => { a.local = getInetAddr('local', ts.value('local')); };
const dev: Handler = (a, _t, ts) => { a.linkDev = ts.value('dev'); };
const ttl: Handler = (a, tok, ts) => { a.ttl = parseTtlArg(ts.value(tok)); };
const tos: Handler = (a, tok, ts) => { a.tos = parseTosArg(ts.value(tok)); };
const pmtu = (on: boolean): Handler => (a) => { a.pmtudisc = on; };

/** iptunnel_parse_opt "mode": ipip accepts ipip/mplsip/any, sit also ip6ip (with their long names). */
const mode: Handler = (a, _t, ts, kind) => {
  const v = ts.value('mode');
  if (kind === 'sit' && (v === 'ipv6/ipv4' || v === 'ip6ip')) a.mode = 'ip6ip';
  else if (v === 'ipv4/ipv4' || v === 'ipip' || v === 'ip4ip4') a.mode = 'ipip';
  else if (v === 'mpls/ipv4' || v === 'mplsip') a.mode = 'mplsip';
  else if (v === 'any/ipv4' || v === 'any') a.mode = 'any';
  else throw invarg('Cannot guess tunnel mode.', v, 'mode');
};

const ENCAP_WORDS = [
  'noencap', 'encap', 'encap-sport', 'encap-dport', 'encap-csum', 'noencap-csum',
  'encap-udp6-csum', 'noencap-udp6-csum', 'encap-remcsum', 'noencap-remcsum', 'external',
];

/** ip/link_iptnl.c iptunnel_parse_opt(): exact keywords except dev/dsfield. */
const IPTNL: readonly (readonly [string, boolean, Handler])[] = [
  ['mode', true, mode], ['remote', true, remote], ['local', true, local], ['dev', false, dev],
  ['ttl', true, ttl], ['hoplimit', true, ttl], ['hlim', true, ttl],
  ['tos', true, tos], ['tclass', true, tos], ['tc', true, tos], ['dsfield', false, tos],
  ['nopmtudisc', true, pmtu(false)], ['pmtudisc', true, pmtu(true)], ['isatap', true, unsupported],
  ...ENCAP_WORDS.map((w) => [w, true, unsupported] as const),
  ['6rd-prefix', true, unsupported], ['6rd-relay_prefix', true, unsupported],
  ['6rd-reset', true, unsupported], ['fwmark', true, unsupported],
];

/** One GRE flag (gre_parse_opt's iflags/oflags updates): [in?, out?] set on or off. */
function greFlag(flag: 'seq' | 'csum', dirs: 'io' | 'i' | 'o', on: boolean): Handler {
  return (a) => {
    if (dirs.includes('i')) { if (flag === 'seq') a.iseq = on; else a.icsum = on; }
    if (dirs.includes('o')) { if (flag === 'seq') a.oseq = on; else a.ocsum = on; }
  };
}
function greKey(dirs: 'io' | 'i' | 'o', on: boolean): Handler {
  const key = dirs === 'io' ? 'key' : `${dirs}key`;
  return (a, _t, ts) => {
    const k = on ? tnlParseKey(key, ts.value(key)) : 0;
    if (dirs.includes('i')) { a.hasIkey = on; a.ikey = k; }
    if (dirs.includes('o')) { a.hasOkey = on; a.okey = k; }
  };
}

/** ip/link_gre.c gre_parse_opt(): keywords by prefix (matches) except the encap/ignore-df ones. */
const GRE: readonly (readonly [string, boolean, Handler])[] = [
  ['key', false, greKey('io', true)], ['nokey', false, greKey('io', false)],
  ['ikey', false, greKey('i', true)], ['noikey', false, greKey('i', false)],
  ['okey', false, greKey('o', true)], ['nookey', false, greKey('o', false)],
  ['seq', false, greFlag('seq', 'io', true)], ['noseq', false, greFlag('seq', 'io', false)],
  ['iseq', false, greFlag('seq', 'i', true)], ['noiseq', false, greFlag('seq', 'i', false)],
  ['oseq', false, greFlag('seq', 'o', true)], ['nooseq', false, greFlag('seq', 'o', false)],
  ['csum', false, greFlag('csum', 'io', true)], ['nocsum', false, greFlag('csum', 'io', false)],
  ['icsum', false, greFlag('csum', 'i', true)], ['noicsum', false, greFlag('csum', 'i', false)],
  ['ocsum', false, greFlag('csum', 'o', true)], ['noocsum', false, greFlag('csum', 'o', false)],
  ['nopmtudisc', false, pmtu(false)], ['pmtudisc', false, pmtu(true)],
  ['remote', false, remote], ['local', false, local], ['dev', false, dev],
  ['ttl', false, ttl], ['hoplimit', false, ttl], ['hlim', false, ttl],
  ['tos', false, tos], ['tclass', false, tos], ['dsfield', false, tos],
  ...ENCAP_WORDS.map((w) => [w, true, unsupported] as const),
  ['ignore-df', true, (a) => { a.ignoreDf = 1; }], ['noignore-df', true, (a) => { a.ignoreDf = 2; }],
  ['fwmark', true, unsupported],
];

/** The keywords each table parses (not those it refuses); cli/grammar.ts offers them for completion. */
export const IPTNL_WORDS: readonly string[] = IPTNL.filter(([, , h]) => h !== unsupported).map(([w]) => w);
export const GRE_WORDS: readonly string[] = GRE.filter(([, , h]) => h !== unsupported).map(([w]) => w);

const GRE_ONLY = new Set(GRE.filter(([, , h]) => h !== unsupported).map(([w]) => w));
const IPTNL_ONLY = new Set(['mode', 'tc', 'isatap', '6rd-prefix', '6rd-relay_prefix', '6rd-reset']);

/** One keyword of the type's arguments; the tunkit `mtu` extension and wrong-type errors last. */
function typeKeyword(a: TunnelArgs, kind: string, tok: string, ts: ArgCursor): void {
  const isGre = kind === 'gre' || kind === 'gretap';
  const kw = findKeyword(isGre ? GRE : IPTNL, tok);
  if (kw !== undefined) {
    a.hasTypeArgs = true;
    kw[2](a, tok, ts, kind);
  } else if (tok === 'mtu') {
    const v = ts.value('mtu');
    if (a.mtu !== undefined) throw duparg('mtu', v);
    a.mtu = parseMtu(v);
  } else if (!isGre && GRE_ONLY.has(tok)) {
    throw kindHelp(kind, tok, `only gre and gretap tunnels have "${tok}", not ${kind}`);
  } else if (isGre && IPTNL_ONLY.has(tok)) {
    throw kindHelp(kind, tok, `only ipip and sit tunnels have "${tok}", not ${kind}`);
  } else {
    throw kindHelp(kind, tok, `"${tok}" is not a keyword of ${kind}`);
  }
}

/** The tunnel kinds tunnelConfig takes (`xfrm` is xfrm-link-args.ts's). */
export const KINDS: readonly string[] = ['ipip', 'gre', 'gretap', 'sit'];

/** The type's arguments into a TunnelConfig (before makeTunnelParams). */
export function tunnelConfig(name: string, kind: string, args: readonly string[]): { config: TunnelConfig; linkDev?: string } {
  if (!KINDS.includes(kind)) throw invarg('tunkit supports the types ipip, gre, gretap, sit and xfrm', kind, 'type');
  const a: TunnelArgs = {
    local: 'any', remote: 'any', ttl: 0, tos: 0, pmtudisc: true, mode: 'any',
    hasIkey: false, hasOkey: false, ikey: 0, okey: 0, iseq: false, oseq: false, icsum: false, ocsum: false,
    ignoreDf: 0, hasTypeArgs: false,
  };
  const ts = new ArgCursor(args);
  while (!ts.isDone) typeKeyword(a, kind, ts.take(), ts);
  const c: Mutable<TunnelConfig> = { name, kind, local: a.local, remote: a.remote };
  if (a.mtu !== undefined) c.mtu = a.mtu;
  // iplink_modify calls parse_opt only when the type has arguments; without
  // them the kernel's bare defaults apply (TunnelConfig.bare).
  if (!a.hasTypeArgs) return { config: { ...c, bare: true } };
  // link_iptnl.c iptunnel_parse_opt: exit(-1) (255) before anything is sent.
  if ((kind === 'ipip' || kind === 'sit') && a.ttl !== 0 && !a.pmtudisc) {
    throw new UsageError('ttl != 0 and nopmtudisc are incompatible', 'nopmtudisc');
  }
  Object.assign(c, { ttl: a.ttl, tos: a.tos, pmtudisc: a.pmtudisc });
  if (kind === 'ipip' || kind === 'sit') c.mode = a.mode;
  else greConfig(c, a);
  return { config: c, ...(a.linkDev !== undefined ? { linkDev: a.linkDev } : {}) };
}

/** gre_parse_opt's tail: multicast remote → keys default to it and a local is required. */
function greConfig(c: Mutable<TunnelConfig>, a: TunnelArgs): void {
  const r = a.remote === 'any' ? 0 : (parseIp4(a.remote) ?? 0);
  if (isIp4Multicast(r)) {
    if (a.ikey === 0) { a.ikey = r; a.hasIkey = true; }
    if (a.okey === 0) { a.okey = r; a.hasOkey = true; }
    if (a.local === 'any') throw new UsageError('A broadcast tunnel requires a source address.', 'local');
  }
  if (a.hasIkey) c.ikey = a.ikey;
  if (a.hasOkey) c.okey = a.okey;
  Object.assign(c, { iseq: a.iseq, oseq: a.oseq, icsum: a.icsum, ocsum: a.ocsum });
  if (a.ignoreDf !== 0) c.ignoreDf = a.ignoreDf === 1;
}
