// `tunkit link …` arguments → typed commands, read the way iproute2 reads
// `ip link …`:
//
//   do_iplink (ip/iplink.c)           add | set | change | delete | show | lst | list | help
//     iplink_parse                    [dev] NAME | name NAME | up | down | mtu N | type KIND ARGS…
//       iptunnel_parse_opt            ipip, sit   (ip/link_iptnl.c, exact keywords)
//       gre_parse_opt                 gre, gretap (ip/link_gre.c, keywords by prefix)
//     ipaddr_list_flush_or_save       show [[dev] NAME] [type KIND] [up | down] (ip/ipaddress.c)
//
// Keywords resolve in iproute2's own order with its own prefix rules, so an
// abbreviation means here what it means to ip. iproute2 keywords tunkit does
// not implement are refused by name rather than misread as a device name.
// `link add` ends by running makeTunnelParams, so the kernel's validation
// errors surface here as RemoteError (EINVAL) naming the field
// (link-errors.ts checkAsKernel); iproute2's own are UsageError.
// tunkit extension: `mtu N` is also accepted among the type's arguments.

import type { TunnelConfig } from '../tunnel/params.js';
import { isIp4Multicast, parseIp4 } from '../wire/addr.js';
import {
  ArgCursor, checkAltIfname, checkIfname, duparg, duparg2, getInetAddr, getInteger, invarg, matches,
  parseTosArg, parseTtlArg, tnlParseKey, UsageError,
} from './args.js';
import { checkAsKernel, kindHelp } from './link-errors.js';
import { xfrmLinkConfig } from './xfrm-link-args.js';
import type { XfrmLinkConfig } from './xfrm-link-args.js';

/** `link add`: a config that passed makeTunnelParams with its underlay unresolved. */
export interface LinkAdd {
  readonly cmd: 'add';
  /** `link` (the underlay ifindex) is left unset: the daemon resolves `linkDev` and fills it in. */
  readonly config: TunnelConfig | XfrmLinkConfig;
  /** `dev PHYS` among the type's arguments: the underlay device NAME (IFLA_IPTUN_LINK / IFLA_GRE_LINK). */
  readonly linkDev?: string;
  /** `up` / `down` given before `type` (iplink_parse's IFF_UP change); undefined = leave down. */
  readonly isUp?: boolean;
}
/** `link set [dev] NAME [up | down] [mtu N]`; the daemon range-checks mtu (checkMtu). */
export interface LinkSet {
  readonly cmd: 'set';
  readonly name: string;
  readonly isUp?: boolean;
  readonly mtu?: number;
}
/** `link delete [dev] NAME`. */
export interface LinkDel { readonly cmd: 'del'; readonly name: string }
/** `link show [[dev] NAME] [type KIND] [up | down]`; absent fields do not filter. */
export interface LinkShow {
  readonly cmd: 'show';
  readonly name?: string;
  readonly kind?: string;
  readonly state?: 'up' | 'down';
}
/** `link help`, or `help` where iproute2 would print its usage. */
export interface LinkHelp { readonly cmd: 'help' }
export type LinkCommand = LinkAdd | LinkSet | LinkDel | LinkShow | LinkHelp;

export const LINK_USAGE = [
  'Usage: tunkit link add [ name ] NAME [ up ] [ mtu MTU ] type TYPE [ ARGS ]',
  '       tunkit link set { [ dev ] DEVICE } [ up | down ] [ mtu MTU ]',
  '       tunkit link delete { [ dev ] DEVICE }',
  '       tunkit link show [ [ dev ] DEVICE ] [ type TYPE ] [ up | down ]',
  'TYPE := { ipip | gre | gretap | sit | xfrm }',
  'ARGS := [ remote ADDR ] [ local ADDR ] [ ttl TTL ] [ tos TOS ] [ [no]pmtudisc ] [ dev PHYS ]',
  '        ipip, sit: [ mode { ipip | mplsip | any } | sit: ip6ip ]',
  '        gre, gretap: [ [i|o]key KEY ] [ [i|o]seq ] [ [i|o]csum ] [ [no]ignore-df ]',
  '        xfrm: [ dev PHYS ] if_id IF_ID (route-based IPsec: the states and policies with this if_id)',
].join('\n');

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// ---- iplink_parse: the generic part before `type` ----

interface Generic {
  name?: string;
  dev?: string;
  /** dev was set by `name` (iproute2's `dev == name` pointer test in duparg2). */
  isDevFromName: boolean;
  mtu?: number;
  isUp?: boolean;
  kind?: string;
  typeArgs: readonly string[];
  isHelp: boolean;
}
export type GenericAction = 'up' | 'down' | 'name' | 'mtu' | 'type' | 'unsupported';

/** iplink_parse's keyword chain in order: [word, exact?, action]; the first match wins. */
export const GENERIC: readonly (readonly [string, boolean, GenericAction])[] = [
  ['up', true, 'up'], ['down', true, 'down'], ['name', true, 'name'], ['index', true, 'unsupported'],
  ['link', false, 'unsupported'], ['address', false, 'unsupported'], ['broadcast', false, 'unsupported'],
  ['brd', true, 'unsupported'], ['txqueuelen', false, 'unsupported'], ['qlen', true, 'unsupported'],
  ['txqlen', false, 'unsupported'], ['mtu', true, 'mtu'], ['inet', true, 'unsupported'],
  ['xdpgeneric', true, 'unsupported'], ['xdpdrv', true, 'unsupported'], ['xdpoffload', true, 'unsupported'],
  ['xdp', true, 'unsupported'], ['netns', true, 'unsupported'], ['multicast', true, 'unsupported'],
  ['allmulticast', true, 'unsupported'], ['promisc', true, 'unsupported'], ['trailers', true, 'unsupported'],
  ['arp', true, 'unsupported'], ['carrier', true, 'unsupported'], ['vf', true, 'unsupported'],
  ['master', false, 'unsupported'], ['vrf', true, 'unsupported'], ['nomaster', false, 'unsupported'],
  ['dynamic', false, 'unsupported'], ['type', false, 'type'], ['alias', false, 'unsupported'],
  ['group', true, 'unsupported'], ['mode', true, 'unsupported'], ['state', true, 'unsupported'],
  ['numtxqueues', false, 'unsupported'], ['numrxqueues', false, 'unsupported'],
  ['addrgenmode', false, 'unsupported'], ['link-netns', false, 'unsupported'],
  ['link-netnsid', false, 'unsupported'], ['protodown', true, 'unsupported'],
  ['protodown_reason', true, 'unsupported'], ['gso_max_size', true, 'unsupported'],
  ['gso_max_segs', true, 'unsupported'], ['gro_max_size', true, 'unsupported'],
  ['gso_ipv4_max_size', true, 'unsupported'], ['gro_ipv4_max_size', true, 'unsupported'],
  ['parentdev', true, 'unsupported'],
];

const findKeyword = <A>(table: readonly (readonly [string, boolean, A])[], tok: string): readonly [string, boolean, A] | undefined =>
  table.find(([w, exact]) => (exact ? tok === w : matches(tok, w)));

/** The final `else` of iplink_parse: `help`, or [dev] NAME. */
function genericDevice(g: Generic, tok: string, ts: ArgCursor): void {
  if (matches(tok, 'help')) { g.isHelp = true; return; }
  const dev = tok === 'dev' ? ts.value('dev') : tok;
  if (g.dev !== undefined && !g.isDevFromName) throw duparg2('dev', dev);
  if (!checkAltIfname(dev)) throw invarg('"dev" not a valid ifname', dev, 'dev');
  g.dev = dev;
  g.isDevFromName = false;
}

/** ip/iplink.c iplink_parse(): the arguments before `type`, then the type's. */
function parseGeneric(args: readonly string[]): Generic {
  const ts = new ArgCursor(args);
  const g: Generic = { isDevFromName: false, typeArgs: [], isHelp: false };
  while (!ts.isDone && !g.isHelp) {
    const tok = ts.take();
    const kw = findKeyword(GENERIC, tok);
    if (kw === undefined) { genericDevice(g, tok, ts); continue; }
    const [word, , action] = kw;
    if (action === 'up' || action === 'down') g.isUp = action === 'up';
    else if (action === 'name') {
      const v = ts.value('name');
      if (g.name !== undefined) throw duparg('name', v);
      if (!checkIfname(v)) throw invarg('"name" not a valid ifname', v, 'name');
      g.name = v;
      if (g.dev === undefined) { g.dev = v; g.isDevFromName = true; }
    } else if (action === 'mtu') {
      const v = ts.value('mtu');
      if (g.mtu !== undefined) throw duparg('mtu', v);
      g.mtu = parseMtu(v);
    } else if (action === 'type') {
      g.kind = ts.value('type');
      g.typeArgs = ts.rest();
      break;
    } else {
      throw invarg(`"${word}" is not supported by tunkit`, tok, word);
    }
  }
  // "Allow ip link add dev and ip link add name": either one names the device.
  if (g.name === undefined) g.name = g.dev;
  else if (g.dev === undefined) g.dev = g.name;
  return g;
}

function parseMtu(v: string): number {
  const mtu = getInteger(v, 0);
  if (mtu === null) throw invarg('Invalid "mtu" value', v, 'mtu');
  return mtu;
}

// ---- the type's arguments (link_iptnl.c / link_gre.c) ----

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
function tunnelConfig(name: string, kind: string, args: readonly string[]): { config: TunnelConfig; linkDev?: string } {
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

// ---- commands ----

function linkAdd(args: readonly string[]): LinkCommand {
  const g = parseGeneric(args);
  if (g.isHelp) return { cmd: 'help' };
  // iplink_parse's own check first, then iplink_modify's.
  if (g.name !== g.dev) {
    throw new UsageError('both "name" and "dev" cannot be used when creating devices.', 'name');
  }
  if (g.kind === undefined) throw new UsageError('Not enough information: "type" argument is required', 'type');
  if (g.name === undefined) throw new UsageError('Not enough information: "name" argument is required', 'name');
  if (g.kind === 'xfrm') {
    const x = xfrmLinkConfig(g.name, g.typeArgs, g.mtu);
    return { cmd: 'add', ...x, ...(g.isUp !== undefined ? { isUp: g.isUp } : {}) };
  }
  const { config, linkDev } = tunnelConfig(g.name, g.kind, g.typeArgs);
  const mtu = g.mtu ?? config.mtu;
  if (g.mtu !== undefined && config.mtu !== undefined) throw duparg('mtu', String(config.mtu));
  const full: TunnelConfig = mtu === undefined ? config : { ...config, mtu };
  checkAsKernel(full);
  return {
    cmd: 'add', config: full,
    ...(linkDev !== undefined ? { linkDev } : {}), ...(g.isUp !== undefined ? { isUp: g.isUp } : {}),
  };
}

function linkSet(args: readonly string[]): LinkCommand {
  const g = parseGeneric(args);
  if (g.isHelp) return { cmd: 'help' };
  if (g.kind !== undefined) throw invarg('changing tunnel parameters is not supported by tunkit', g.kind, 'type');
  if (g.dev === undefined) throw new UsageError('Not enough information: "dev" argument is required.', 'dev');
  if (g.name !== g.dev) throw invarg('renaming is not supported by tunkit', g.name ?? '', 'name');
  return {
    cmd: 'set', name: g.dev,
    ...(g.isUp !== undefined ? { isUp: g.isUp } : {}), ...(g.mtu !== undefined ? { mtu: g.mtu } : {}),
  };
}

function linkDel(args: readonly string[]): LinkCommand {
  const g = parseGeneric(args);
  if (g.isHelp) return { cmd: 'help' };
  const bad = g.kind !== undefined ? 'type' : g.mtu !== undefined ? 'mtu' : g.isUp === undefined ? undefined : g.isUp ? 'up' : 'down';
  if (bad !== undefined) throw invarg('not valid with "link delete"', bad);
  if (g.dev === undefined) throw new UsageError('Not enough information: "dev" argument is required.', 'dev');
  if (g.name !== g.dev) throw invarg('not valid with "link delete"', 'name');
  return { cmd: 'del', name: g.dev };
}

/** ip/ipaddress.c ipaddr_list_flush_or_save() filters, as `ip link show` reads them. */
const SHOW_UNSUPPORTED = ['to', 'scope', 'label', 'group', 'master', 'vrf', 'nomaster', 'proto', 'novf'];

function linkShow(args: readonly string[]): LinkCommand {
  const ts = new ArgCursor(args);
  const s: Mutable<LinkShow> = { cmd: 'show' };
  while (!ts.isDone) {
    const tok = ts.take();
    if (tok === 'up' || tok === 'down') s.state = tok;
    else if (tok === 'type') s.kind = ts.value('type');
    else if (SHOW_UNSUPPORTED.includes(tok)) throw invarg(`"${tok}" is not supported by tunkit`, tok);
    else {
      if (tok !== 'dev' && matches(tok, 'help')) return { cmd: 'help' };
      const name = tok === 'dev' ? ts.value('dev') : tok;
      if (s.name !== undefined) throw duparg2('dev', name);
      s.name = name;
    }
  }
  return s;
}

/** ip/iplink.c do_iplink(): the command word by prefix, in iproute2's order; null = not supported (cli/grammar.ts reads it too). */
export const COMMANDS: readonly (readonly [string, ((a: readonly string[]) => LinkCommand) | null])[] = [
  ['add', linkAdd], ['set', linkSet], ['change', linkSet], ['replace', null], ['delete', linkDel],
  ['show', linkShow], ['lst', linkShow], ['list', linkShow], ['xstats', null], ['afstats', null],
  ['property', null], ['help', () => ({ cmd: 'help' })],
];

/**
 * Parses the arguments after `link` (CommandLine.args). No arguments is
 * `show`. Throws UsageError for malformed input (StatusError when ip exits
 * 1) and RemoteError when makeTunnelParams rejects a `link add`; all name
 * the field.
 */
export function parseLinkArgs(args: readonly string[]): LinkCommand {
  const [word, ...rest] = args;
  if (word === undefined) return { cmd: 'show' };
  const hit = COMMANDS.find(([w]) => matches(word, w));
  if (hit === undefined) throw new UsageError(`Command "${word}" is unknown, try "tunkit link help".`, word);
  const [name, fn] = hit;
  if (fn === null) throw new UsageError(`Command "${name}" is not supported by tunkit.`, word);
  return fn(rest);
}
