// `tunkit link …` arguments → typed commands, read the way iproute2 reads
// `ip link …`:
//
//   do_iplink (ip/iplink.c)           add | set | change | delete | show | lst | list | help
//     iplink_parse                    [dev] NAME | name NAME | up | down | mtu N | type KIND ARGS…
//       iptunnel_parse_opt            ipip, sit   (ip/link_iptnl.c, exact keywords)  tunnel-link-args.ts
//       gre_parse_opt                 gre, gretap (ip/link_gre.c, keywords by prefix)  tunnel-link-args.ts
//       xfrm_parse_opt                xfrm        (ip/link_xfrm.c)                     xfrm-link-args.ts
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
import { ArgCursor, checkAltIfname, checkIfname, duparg, duparg2, findKeyword, invarg, matches, parseMtu, UsageError } from './args.js';
import { checkAsKernel } from './link-errors.js';
import { tunnelConfig } from './tunnel-link-args.js';
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
