// `tunkit tunnel …` arguments, read the way iproute2 6.1 reads `ip tunnel …`
// (ip/iptunnel.c):
//
//   do_iptunnel      add | change | delete | show | lst | list | help   (by prefix)
//   parse_args       mode { ipip | gre | sit | ... } remote A local A [i|o]key K [i|o]seq
//                    [i|o]csum [no]pmtudisc dev D ttl T tos T [name] NAME   (exact words)
//                    then the mode from the name's prefix (gre…, ipip…, sit…),
//                    "Keys are not allowed with ipip and sit tunnels", a
//                    multicast remote keys the tunnel and needs a local
//   do_add           "ttl != 0 and nopmtudisc are incompatible", tnl_defname
//
// The result is struct ip_tunnel_parm as parse_args leaves it (TunnelParm),
// with `link` as the device NAME (the daemon resolves it, as ll_name_to_index
// does). `change NAME …` starts from the tunnel's current parameters when
// NAME is the first word (parse_args's count == 0 SIOCGETTUNNEL): the caller
// fetches them and passes them in.

import { isIp4Multicast, parseIp4 } from '../wire/addr.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { TNL_CSUM, TNL_KEY, TNL_SEQ } from '../tunnel/types.js';
import {
  ArgCursor, checkIfname, duparg2, getAddrIpv4, getU8, invarg, matches, parseTosArg, tnlParseKey, UsageError,
} from './args.js';
import { wordTable } from '../wire/table.js';

/** struct ip_tunnel_parm: what an `ip tunnel` ioctl carries. Addresses and keys are u32, 0 = any / none. */
export interface TunnelParm {
  /** '' when no name was given. */
  readonly name: string;
  /** iph.protocol: IPPROTO_IPIP, IPPROTO_GRE, IPPROTO_IPV6, 137 (mplsip) or 0 (any / not given). */
  readonly proto: number;
  readonly remote: number;
  readonly local: number;
  /** Underlay device name ("dev PHYS"), '' = none. */
  readonly link: string;
  /** 0 = inherit. */
  readonly ttl: number;
  /** 1 = inherit; bit 0 with other bits = inherit with that fallback (ip's "inherit/0x10"). */
  readonly tos: number;
  /** iph.frag_off & IP_DF. */
  readonly df: boolean;
  /** TNL_KEY | TNL_SEQ | TNL_CSUM. */
  readonly iflags: number;
  readonly oflags: number;
  readonly ikey: number;
  readonly okey: number;
}

export type TunnelCommand =
  | { readonly cmd: 'add' | 'change'; readonly parm: TunnelParm }
  | { readonly cmd: 'del'; readonly parm: TunnelParm }
  | { readonly cmd: 'show'; readonly parm: TunnelParm }
  | { readonly cmd: 'help' };

export const TUNNEL_USAGE = [
  'Usage: tunkit tunnel { add | change | del | show } [ NAME ]',
  '        [ mode { gre | ipip | sit } ]',
  '        [ remote ADDR ] [ local ADDR ]',
  '        [ [i|o]seq ] [ [i|o]key KEY ] [ [i|o]csum ]',
  '        [ ttl TTL ] [ tos TOS ] [ [no]pmtudisc ] [ dev PHYS_DEV ]',
  '',
  'Where: NAME := STRING',
  '       ADDR := { IP_ADDRESS | any }',
  '       TOS  := { STRING | 00..ff | inherit | inherit/STRING | inherit/00..ff }',
  '       TTL  := { 1..255 | inherit }',
  '       KEY  := { DOTTED_QUAD | NUMBER }',
].join('\n');

/** A failure iproute2 reports with `return -1` (exit status 1), not exit(-1). */
export class TunnelError extends UsageError {
  readonly status = 1;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** parse_args's starting point: memset 0, version 4, ihl 5, frag_off DF. */
export const EMPTY_PARM: TunnelParm = {
  name: '', proto: 0, remote: 0, local: 0, link: '', ttl: 0, tos: 0, df: true, iflags: 0, oflags: 0, ikey: 0, okey: 0,
};

/** lib/utils.c get_addr32(): "any"/"all"/"default" or a dotted quad; exits 1 otherwise. */
function getAddr32(v: string): number {
  if (v === 'any' || v === 'all' || v === 'default') return 0;
  const a = v.includes(':') ? null : getAddrIpv4(v);
  if (a === null) throw new TunnelError(`Error: an IP address is expected rather than "${v}"`, 'address');
  return parseIp4(a) ?? 0;
}

/** The words of `mode` and the protocol each sets; isatap and vti are named to refuse them. */
export const MODES: Readonly<Record<string, number | 'isatap' | 'vti'>> = wordTable({
  ipip: IPPROTO_IPIP, 'ip/ip': IPPROTO_IPIP, gre: IPPROTO_GRE, 'gre/ip': IPPROTO_GRE,
  sit: IPPROTO_IPV6, 'ipv6/ip': IPPROTO_IPV6, isatap: 'isatap', vti: 'vti',
});

function setProto(p: Mutable<TunnelParm>, proto: number): void {
  if (p.proto !== 0 && p.proto !== proto) throw new UsageError('You managed to ask for more than one tunnel mode.', 'mode');
  p.proto = proto;
}

function parseMode(p: Mutable<TunnelParm>, v: string): void {
  const m = Object.hasOwn(MODES, v) ? MODES[v] : undefined;
  if (m === undefined) throw new UsageError(`Unknown tunnel mode "${v}"`, 'mode');
  if (m === 'isatap' || m === 'vti') throw invarg(`mode ${m} is not supported by tunkit (ipip, gre, sit)`, v, 'mode');
  setProto(p, m);
}

/** "key" | "ikey" | "okey" (tnl_parse_key). */
function parseKey(p: Mutable<TunnelParm>, word: 'key' | 'ikey' | 'okey', v: string): void {
  const k = tnlParseKey(word, v);
  if (word !== 'okey') { p.iflags |= TNL_KEY; p.ikey = k; }
  if (word !== 'ikey') { p.oflags |= TNL_KEY; p.okey = k; }
}

/** Flag words: [iflags bits, oflags bits]. */
const FLAGS: Readonly<Record<string, readonly [number, number]>> = wordTable({
  seq: [TNL_SEQ, TNL_SEQ], iseq: [TNL_SEQ, 0], oseq: [0, TNL_SEQ],
  csum: [TNL_CSUM, TNL_CSUM], icsum: [TNL_CSUM, 0], ocsum: [0, TNL_CSUM],
});

/**
 * parse_args's "tos"/"tclass"/"dsfield" after strsep(&dsfield, "/"): "inherit"
 * is bit 0, "inherit/X" adds rtnl_dsfield_a2n(X), anything else is
 * rtnl_dsfield_a2n of the part before any '/'. ip names that part in its error.
 */
function parseTos(v: string): number {
  const slash = v.indexOf('/');
  const head = slash < 0 ? v : v.substring(0, slash);
  const dsfield = (s: string): number => {
    if (s === 'inherit') throw invarg('bad TOS value', head, 'tos');
    try {
      return parseTosArg(s);
    } catch {
      throw invarg('bad TOS value', head, 'tos');
    }
  };
  if (head !== 'inherit') return dsfield(head);
  return slash < 0 ? 1 : 1 | dsfield(v.substring(slash + 1));
}

/** parse_args's keywords (exact words, but any prefix of "dsfield"). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'mode', 'key', 'ikey', 'okey', 'seq', 'iseq', 'oseq', 'csum', 'icsum', 'ocsum', 'nopmtudisc', 'pmtudisc',
  'remote', 'local', 'dev', 'ttl', 'hoplimit', 'hlim', 'tos', 'tclass',
]);
const isKeyword = (tok: string): boolean => KEYWORDS.has(tok) || matches(tok, 'dsfield');

/** One keyword of parse_args; false when `tok` is not a keyword (so it names the tunnel). */
function keyword(p: Mutable<TunnelParm>, tok: string, ts: ArgCursor): boolean {
  if (tok === 'mode') parseMode(p, ts.value('mode'));
  else if (tok === 'key' || tok === 'ikey' || tok === 'okey') parseKey(p, tok, ts.value(tok));
  else if (Object.hasOwn(FLAGS, tok)) {
    const [i, o] = FLAGS[tok]!;
    p.iflags |= i;
    p.oflags |= o;
  } else if (tok === 'nopmtudisc') p.df = false;
  else if (tok === 'pmtudisc') p.df = true;
  else if (tok === 'remote') p.remote = getAddr32(ts.value('remote'));
  else if (tok === 'local') p.local = getAddr32(ts.value('local'));
  else if (tok === 'dev') p.link = ts.value('dev');
  else if (tok === 'ttl' || tok === 'hoplimit' || tok === 'hlim') {
    const v = ts.value(tok);
    if (v !== 'inherit') {
      const n = getU8(v, 0);
      if (n === null) throw invarg('invalid TTL', v, 'ttl');
      p.ttl = n;
    }
  } else if (tok === 'tos' || tok === 'tclass' || matches(tok, 'dsfield')) {
    p.tos = parseTos(ts.value(tok));
  } else return false;
  return true;
}

/** Words ip tunnel has that tunkit does not implement (prl, 6rd): refused by name rather than taken as a NAME. */
const UNSUPPORTED = ['prl-default', 'prl-nodefault', 'prl-delete', '6rd-prefix', '6rd-relay_prefix', '6rd-reset'];

/** The name-prefix guesses at the end of parse_args. */
function guessProto(name: string): number {
  if (name.startsWith('gre')) return IPPROTO_GRE;
  if (name.startsWith('ipip')) return IPPROTO_IPIP;
  if (name.startsWith('sit')) return IPPROTO_IPV6;
  if (name.startsWith('isatap') || name.startsWith('vti')) {
    throw invarg('isatap and vti tunnels are not supported by tunkit (ipip, gre, sit)', name, 'name');
  }
  return 0;
}

/**
 * ip/iptunnel.c parse_args(). `old` is the tunnel's current parameters for
 * `change NAME …` (used only when NAME is the first word). Throws UsageError
 * (exit 255) for ip's exit(-1) and TunnelError (exit 1) for its return -1.
 */
export function parseTunnelParm(args: readonly string[], old?: TunnelParm): TunnelParm {
  let p: Mutable<TunnelParm> = { ...EMPTY_PARM };
  const ts = new ArgCursor(args);
  for (let count = 0; !ts.isDone; count++) {
    let tok = ts.take();
    if (keyword(p, tok, ts)) continue;
    if (UNSUPPORTED.includes(tok)) throw invarg('not supported by tunkit', tok);
    if (tok === 'name') tok = ts.value('name');
    else if (matches(tok, 'help')) throw new UsageError(TUNNEL_USAGE, 'help');
    if (p.name !== '') throw duparg2('name', tok);
    if (!checkIfname(tok)) throw invarg('"name" not a valid ifname', tok, 'name');
    if (count === 0 && old !== undefined) p = { ...old };
    p.name = tok;
  }
  if (p.proto === 0) p.proto = guessProto(p.name);
  if (((p.iflags | p.oflags) & TNL_KEY) !== 0 && p.proto !== IPPROTO_GRE) {
    throw new TunnelError('Keys are not allowed with ipip and sit tunnels', 'key');
  }
  if (isIp4Multicast(p.remote)) {
    if (p.ikey === 0) { p.ikey = p.remote; p.iflags |= TNL_KEY; }
    if (p.okey === 0) { p.okey = p.remote; p.oflags |= TNL_KEY; }
    if (p.local === 0) throw new TunnelError('A broadcast tunnel requires a source address', 'local');
  }
  return p;
}

/** tnl_defname(): the fallback device of the mode, or null when the mode is unknown. */
export function tnlDefname(p: TunnelParm): string | null {
  switch (p.proto) {
    case IPPROTO_IPIP: return 'tunl0';
    case IPPROTO_GRE: return 'gre0';
    case IPPROTO_IPV6: return 'sit0';
    default: return null;
  }
}

/** The NAME when the first word names the tunnel (parse_args's count == 0 branch, where `change` loads the current parameters), else null. */
export function leadingName(args: readonly string[]): string | null {
  const [first, second] = args;
  if (first === undefined || isKeyword(first) || UNSUPPORTED.includes(first) || matches(first, 'help')) return null;
  return first === 'name' ? (second ?? null) : first;
}

/** do_add()'s own checks after parse_args. */
export function checkAdd(p: TunnelParm): void {
  if (p.ttl !== 0 && !p.df) throw new TunnelError('ttl != 0 and nopmtudisc are incompatible', 'nopmtudisc');
  if (tnlDefname(p) === null) throw new TunnelError('cannot determine tunnel mode (ipip, gre, vti or sit)', 'mode');
}

type TunnelVerb = 'add' | 'change' | 'del' | 'show' | 'help';

/**
 * ip/iptunnel.c do_iptunnel()'s command words by prefix, in its order;
 * null = refused as not supported. Read by cli/grammar.ts too.
 */
export const TUNNEL_COMMANDS: readonly (readonly [string, TunnelVerb | null])[] = [
  ['add', 'add'], ['change', 'change'], ['delete', 'del'], ['show', 'show'], ['lst', 'show'], ['list', 'show'],
  ['prl', null], ['6rd', null], ['help', 'help'],
];

/** ip/iptunnel.c do_iptunnel(): the command word by prefix; no arguments is `show`. */
export function parseTunnelCommand(args: readonly string[]): { cmd: TunnelVerb; rest: readonly string[] } {
  const [word, ...rest] = args;
  if (word === undefined) return { cmd: 'show', rest: [] };
  const hit = TUNNEL_COMMANDS.find(([w]) => matches(word, w));
  if (hit === undefined) throw new UsageError(`Command "${word}" is unknown, try "tunkit tunnel help".`, word);
  if (hit[1] === null) throw new UsageError(`Command "${word}" is not supported by tunkit.`, word);
  return { cmd: hit[1], rest };
}
