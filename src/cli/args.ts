// The `tunkit` command line before the object's own arguments, as iproute2's
// ip/ip.c main() and do_cmd() read it:
//
//   tunkit [ OPTIONS ] OBJECT { COMMAND | help } ...
//   tunkit [ OPTIONS ] [ -force ] -batch FILE      (FILE "-" is stdin; batch.ts)
//   OPTIONS := -s[tatistics] (repeatable; -ss counts twice) | -d[etails] |
//              -j[son] | -p[retty] | -he[lp] | -V[ersion] | --socket PATH | --
//   OBJECT  := link | tunnel | monitor | xfrm | stats | help   (any prefix ip itself would resolve)
//
// Options and objects resolve by prefix in ip.c's own table order, so `-s`
// is -stats, `-h` is -human (refused), `l` is link and `m` is maddress
// (which tunkit refuses by name).
// Also here, shared with link-args.ts: iproute2's lib/utils.c error builders
// (invarg, duparg, duparg2, missarg, incomplete_command), matches(), NEXT_ARG,
// number and address readers (get_u8, get_unsigned, get_integer, get_addr,
// check_ifname), ip/tunnel.c tnl_parse_key and lib/rt_names.c rtnl_dsfield_a2n.

import { parseIp4 } from '../wire/addr.js';
import { VpnError } from '../wire/errors.js';
import { wordTable } from '../wire/table.js';

/** A malformed command line; `field` names the offending keyword or token. Exit status 255 like ip's exit(-1). */
export class UsageError extends VpnError {
  constructor(message: string, field?: string, options?: ErrorOptions) {
    super('EUSAGE', message, field, options);
  }
}

/**
 * A command-line or lookup failure that ip reports through a `return -1`
 * (do_cmd negates it: exit 1) rather than exit(-1) (255): the exit status
 * rides with the error (main.ts report()).
 */
export class StatusError extends UsageError {
  constructor(message: string, field: string, readonly status: number) {
    super(message, field);
  }
}

/** lib/utils.c matches(): true when `prefix` is a non-empty prefix of `word`. */
export const matches = (prefix: string, word: string): boolean =>
  prefix.length > 0 && prefix.length <= word.length && word.startsWith(prefix);

/** The first [word, exact?, action] of an iproute2 keyword chain that tok names: exactly, or by prefix (matches). */
export const findKeyword = <A>(table: readonly (readonly [string, boolean, A])[], tok: string): readonly [string, boolean, A] | undefined =>
  table.find(([w, exact]) => (exact ? tok === w : matches(tok, w)));

/** lib/utils.c invarg(): `Error: argument "ARG" is wrong: MSG`. */
export const invarg = (msg: string, arg: string, field = arg): UsageError =>
  new UsageError(`Error: argument "${arg}" is wrong: ${msg}`, field);

/** lib/utils.c duparg(): a keyword given twice. */
export const duparg = (key: string, arg: string): UsageError =>
  new UsageError(`Error: duplicate "${key}": "${arg}" is the second value.`, key);

/** lib/utils.c duparg2(): a second device name where one was already given. */
export const duparg2 = (key: string, arg: string): UsageError =>
  new UsageError(`Error: either "${key}" is duplicate, or "${arg}" is garbage.`, arg);

/** lib/utils.c missarg(). */
export const missarg = (key: string): UsageError =>
  new UsageError(`Error: argument "${key}" is required`, key);

/** NEXT_ARG() → incomplete_command(), naming the keyword whose value is missing. */
export const incompleteCommand = (key: string): UsageError =>
  new UsageError(`Command line is not complete: "${key}" needs a value. Try option "help"`, key);

// ---- strtoul/strtol as iproute2 calls them (whole string must be consumed) ----

const C_SPACE = /^[ \t\n\v\f\r]*/;

/**
 * strtoul(s, &end, base) with `*end == '\0'` required; base 0 takes 0x… hex,
 * 0… octal or decimal, base 16 an optional 0x. Returns the magnitude and sign,
 * or null when nothing parses or characters are left over.
 */
function strtox(s: string, base: 0 | 10 | 16): { neg: boolean; mag: number } | null {
  const t = s.replace(C_SPACE, '');
  const m = /^([+-]?)(.*)$/s.exec(t);
  const body = m?.[2] ?? '';
  const neg = m?.[1] === '-';
  let re: RegExp;
  if (base === 16) re = /^(?:0[xX])?([0-9a-fA-F]+)$/;
  else if (base === 10) re = /^([0-9]+)$/;
  else re = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
  const d = re.exec(body)?.[1];
  if (d === undefined) return null;
  let mag: number;
  if (base === 16) mag = parseInt(d, 16);
  else if (base === 10) mag = Number(d);
  else if (/^0[xX]/.test(d)) mag = parseInt(d.substring(2), 16);
  else if (d.startsWith('0')) mag = d.length === 1 ? 0 : parseInt(d, 8);
  else mag = Number(d);
  return { neg, mag };
}

/** strtoul into [0, max]: a '-' wraps to a huge value, so only "-0" survives (as in C). */
function getUnsignedMax(s: string, base: 0 | 10 | 16, max: number): number | null {
  const r = strtox(s, base);
  if (r === null) return null;
  if (r.neg && r.mag !== 0) return null;
  return r.mag <= max ? r.mag : null;
}

/** lib/utils.c get_u8(). */
export const getU8 = (s: string, base: 0 | 10 | 16 = 0): number | null => getUnsignedMax(s, base, 0xff);

/** lib/utils.c get_unsigned(): a u32. */
export const getUnsigned = (s: string, base: 0 | 10 | 16 = 0): number | null => getUnsignedMax(s, base, 0xffffffff);

/** lib/utils.c get_integer(): strtol into the range of a C int. */
export function getInteger(s: string, base: 0 | 10 | 16 = 0): number | null {
  const r = strtox(s, base);
  if (r === null) return null;
  const v = r.neg ? -r.mag : r.mag;
  return v >= -0x80000000 && v <= 0x7fffffff ? v : null;
}

/** An `mtu N` value (ip/iplink.c: get_integer, else invarg). */
export function parseMtu(v: string): number {
  const mtu = getInteger(v, 0);
  if (mtu === null) throw invarg('Invalid "mtu" value', v, 'mtu');
  return mtu;
}

/** A token cursor with iproute2's NEXT_ARG(). */
export class ArgCursor {
  private i = 0;
  constructor(private readonly t: readonly string[]) {}
  get isDone(): boolean { return this.i >= this.t.length; }
  take(): string { return this.t[this.i++] ?? ''; }
  /** NEXT_ARG(): the value after keyword `key`, or an incomplete-command error naming it. */
  value(key: string): string {
    const v = this.t[this.i++];
    if (v === undefined) throw incompleteCommand(key);
    return v;
  }
  rest(): string[] { return this.t.filter((_, j) => j >= this.i); }
}

// ---- device names (lib/utils.c) ----

/** check_altifname(): non-empty, no '/' and no white space. */
export const checkAltIfname = (s: string): boolean => s !== '' && !/[/\s]/.test(s);
/** check_ifname(): check_altifname, below IFNAMSIZ (16) bytes, and not "." or "..". */
export const checkIfname = (s: string): boolean =>
  checkAltIfname(s) && Buffer.byteLength(s) < 16 && s !== '.' && s !== '..';

// ---- values (lib/utils.c get_addr, ip/tunnel.c tnl_parse_key, lib/rt_names.c) ----

/** lib/utils.c get_addr_ipv4(): 1 to 4 dot-separated strtoul(…, 0) parts ("203.0.113" is 203.0.113.0). */
export function getAddrIpv4(s: string): string | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const bytes = [0, 0, 0, 0];
  for (const [i, p] of parts.entries()) {
    const n = getUnsigned(p, 0);
    if (n === null || n > 255) return null;
    bytes[i] = n;
  }
  return bytes.join('.');
}

/** lib/utils.c get_addr(…, AF_INET): "any"/"all"/"default" or an IPv4 address; `key` names the field. */
export function getInetAddr(key: string, v: string): string {
  if (v === 'any' || v === 'all' || v === 'default') return 'any';
  const a = v.includes(':') ? null : getAddrIpv4(v);
  if (a === null) throw new UsageError(`Error: inet address is expected rather than "${v}".`, key);
  return a;
}

/** ip/tunnel.c tnl_parse_key(): a dotted quad (get_addr32) or a u32 (get_unsigned, base 0). */
export function tnlParseKey(key: string, v: string): number {
  if (v.includes('.')) {
    const a = getAddrIpv4(v);
    if (a === null) throw new UsageError(`Error: an IP address is expected rather than "${v}"`, key);
    return parseIp4(a) ?? 0;
  }
  const n = getUnsigned(v, 0);
  if (n === null) {
    throw new UsageError(`invalid value for "${key}": "${v}"; it should be an unsigned integer`, key);
  }
  return n;
}

/** link_iptnl.c / link_gre.c "ttl N | inherit" (get_u8 base 0; 0 = inherit). */
export function parseTtlArg(v: string): number {
  if (v === 'inherit') return 0;
  const n = getU8(v, 0);
  if (n === null) throw invarg('invalid TTL', v, 'ttl');
  return n;
}

/** etc/iproute2/rt_dsfield, as rtnl_dsfield_a2n() looks names up. */
const DSFIELD_NAMES: Readonly<Record<string, number>> = wordTable({
  default: 0x00, AF11: 0x28, AF12: 0x30, AF13: 0x38, AF21: 0x48, AF22: 0x50, AF23: 0x58,
  AF31: 0x68, AF32: 0x70, AF33: 0x78, AF41: 0x88, AF42: 0x90, AF43: 0x98,
  CS1: 0x20, CS2: 0x40, CS3: 0x60, CS4: 0x80, CS5: 0xa0, CS6: 0xc0, CS7: 0xe0, EF: 0xb8,
});

/** link_iptnl.c / link_gre.c "tos T | inherit": lib/rt_names.c rtnl_dsfield_a2n() — a name or HEX ("10" is 0x10); inherit = 1. */
export function parseTosArg(v: string): number {
  if (v === 'inherit') return 1;
  const n = Object.hasOwn(DSFIELD_NAMES, v) ? DSFIELD_NAMES[v] : getU8(v, 16);
  if (n === undefined || n === null) throw invarg('bad TOS value', v, 'tos');
  return n;
}

// ---- global options (ip.c main) ----

/** What the global options ask for; plain data for the command and formatter. */
export interface GlobalOptions {
  /** iproute2's show_stats: 0, 1 (-s) or 2+ (-s -s / -ss). */
  readonly statsLevel: number;
  /** -d / -details (show_details). */
  readonly hasDetails: boolean;
  /** -j / -json. */
  readonly isJson: boolean;
  /** -p / -pretty (only affects JSON, as in iproute2). */
  readonly isPretty: boolean;
  /** --socket PATH: the tunkitd control socket; undefined = the daemon's default. */
  readonly socketPath?: string;
  /** -force: `-batch` goes on past a failed command (ip.c's force). */
  readonly isForce?: boolean;
}

/**
 * Objects tunkit implements, and what an option asks for instead of an
 * object: `help` (-help), `version` (-V / --version), `batch` (-batch FILE,
 * args = [FILE]).
 */
export type TunkitObject = 'link' | 'tunnel' | 'monitor' | 'xfrm' | 'stats' | 'save' | 'reload' | 'ike' | 'capture' | 'help' | 'version' | 'batch';

/** A parsed command line: options, the object, and the object's own arguments (COMMAND ...). */
export interface CommandLine {
  readonly options: GlobalOptions;
  readonly object: TunkitObject;
  readonly args: readonly string[];
}

export const USAGE = [
  'Usage: tunkit [ OPTIONS ] OBJECT { COMMAND | help }',
  '       tunkit [ -force ] -batch filename',
  '       tunkit save             (the running state as a config file)',
  '       tunkit reload [ FILE ]  (apply the config file\'s difference)',
  '       tunkit capture DEV [ inner | outer ] [ -w FILE ] [ -c COUNT ]  (pcap, stdout without -w)',
  'where  OBJECT := { link | tunnel | monitor | xfrm | ike | stats | help }',
  '       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -j[son] | -p[retty] |',
  '                    -he[lp] | --socket PATH }',
].join('\n');

export type OptKind = 'stats' | 'details' | 'json' | 'pretty' | 'help' | 'socket' | 'version' | 'force' | 'batch' | 'unsupported';

/** ip.c main()'s option chain in order: [name, kind, exact?]; the first match wins (cli/grammar.ts reads it too). */
export const OPTIONS: readonly (readonly [string, OptKind, boolean])[] = [
  ['-loops', 'unsupported', false], ['-family', 'unsupported', false],
  ['-4', 'unsupported', true], ['-6', 'unsupported', true], ['-0', 'unsupported', true],
  ['-M', 'unsupported', true], ['-B', 'unsupported', true],
  ['-human', 'unsupported', false], ['-human-readable', 'unsupported', false], ['-iec', 'unsupported', false],
  ['-stats', 'stats', false], ['-statistics', 'stats', false], ['-details', 'details', false],
  ['-resolve', 'unsupported', false], ['-oneline', 'unsupported', false],
  ['-timestamp', 'unsupported', false], ['-tshort', 'unsupported', false],
  ['-Version', 'version', false], ['-force', 'force', false], ['-batch', 'batch', false],
  ['-brief', 'unsupported', false], ['-json', 'json', false], ['-pretty', 'pretty', false],
  ['-rcvbuf', 'unsupported', false], ['-color', 'unsupported', false], ['-help', 'help', false],
  ['-netns', 'unsupported', false], ['-Numeric', 'unsupported', false], ['-all', 'unsupported', false],
  ['-echo', 'unsupported', true],
  // tunkit's own, last so that no ip abbreviation changes meaning.
  ['-socket', 'socket', false],
];

/** ip.c cmds[] in order; tunkit implements the ones named in TunkitObject. */
export const IP_OBJECTS = [
  'address', 'addrlabel', 'maddress', 'route', 'rule', 'neighbor', 'neighbour', 'ntable', 'ntbl',
  'link', 'l2tp', 'fou', 'ila', 'macsec', 'tunnel', 'tunl', 'tuntap', 'tap', 'token', 'tcpmetrics',
  'tcp_metrics', 'monitor', 'xfrm', 'mroute', 'mrule', 'netns', 'netconf', 'vrf', 'sr', 'nexthop',
  'mptcp', 'ioam', 'help', 'stats',
  // tunkit's own, last so that no ip abbreviation changes meaning.
  'save', 'reload', 'ike', 'capture',
] as const;
export const SUPPORTED: ReadonlySet<string> = new Set<TunkitObject>(['link', 'tunnel', 'monitor', 'xfrm', 'stats', 'save', 'reload', 'ike', 'capture', 'help']);

function lookupOption(opt: string): readonly [string, OptKind, boolean] | undefined {
  // matches_color() strips "=always|auto|never" before matching "-color".
  const bare = opt.split('=')[0] ?? opt;
  return OPTIONS.find(([name, , exact]) => (exact ? opt === name : matches(name === '-color' ? bare : opt, name)));
}

/** ip.c do_cmd(): the first object in cmds[] that `word` is a prefix of. */
export function resolveObject(word: string): TunkitObject {
  const hit = IP_OBJECTS.find((o) => matches(word, o));
  if (hit === undefined) throw new UsageError(`Object "${word}" is unknown, try "tunkit help".`, word);
  if (hit === 'tunl') return 'tunnel';
  if (!SUPPORTED.has(hit)) throw new UsageError(`Object "${hit}" is not supported by tunkit (link, tunnel, monitor, xfrm, ike, stats, save, reload, capture).`, word);
  return hit as TunkitObject;
}

/**
 * Parses argv (without node and script) in ip.c main()'s way; throws
 * UsageError. -V / -Version (and tunkit's --version, which ip refuses) ends
 * the parse as ip's exit(0) does; -batch FILE returns object `batch` and, as
 * in ip, the options after it still count and any words after them are
 * ignored.
 */
export function parseArgs(argv: readonly string[]): CommandLine {
  let statsLevel = 0;
  let hasDetails = false;
  let isJson = false;
  let isPretty = false;
  let isHelp = false;
  let isForce = false;
  let batchFile: string | undefined;
  let socketPath: string | undefined;
  let i = 0;
  const opts = (): GlobalOptions => ({
    statsLevel, hasDetails, isJson, isPretty, ...(socketPath !== undefined ? { socketPath } : {}), ...(isForce ? { isForce } : {}),
  });
  for (; i < argv.length; i++) {
    const raw = argv[i]!;
    if (raw === '--') { i++; break; }
    if (!raw.startsWith('-')) break;
    if (raw === '--version') return { options: opts(), object: 'version', args: [] };
    const opt = raw.startsWith('--') ? raw.substring(1) : raw;
    if (/^-s{2,}$/.test(opt)) { statsLevel += opt.length - 1; continue; } // tunkit: -ss = -s -s
    const o = lookupOption(opt);
    if (o === undefined) throw new UsageError(`Option "${opt}" is unknown, try "tunkit -help".`, raw);
    switch (o[1]) {
      case 'stats': statsLevel++; break;
      case 'details': hasDetails = true; break;
      case 'json': isJson = true; break;
      case 'pretty': isPretty = true; break;
      case 'help': isHelp = true; break;
      case 'version': return { options: opts(), object: 'version', args: [] };
      case 'force': isForce = true; break;
      case 'batch': {
        const file = argv[++i];
        if (file === undefined) throw new UsageError(USAGE, 'batch');
        batchFile = file;
        break;
      }
      case 'socket': {
        const path = argv[++i];
        if (path === undefined || path === '') throw missarg('socket path');
        socketPath = path;
        break;
      }
      case 'unsupported': throw new UsageError(`Option "${opt}" (${o[0]}) is not supported by tunkit.`, raw);
    }
  }
  const options = opts();
  if (isHelp) return { options, object: 'help', args: [] };
  if (batchFile !== undefined) return { options, object: 'batch', args: [batchFile] };
  const word = argv[i];
  if (word === undefined) throw new UsageError(USAGE, 'OBJECT');
  return { options, object: resolveObject(word), args: argv.filter((_, j) => j > i) };
}
