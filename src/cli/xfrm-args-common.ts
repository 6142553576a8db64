// The pieces of `ip xfrm` argument parsing that state and policy share, as
// iproute2 6.1's ip/ipxfrm.c and lib/utils.c write them:
//
//   Argv                     the argc/argv walk: NEXT_ARG, NEXT_ARG_OK, PREV_ARG
//   getPrefix / getAddr      get_prefix / get_addr (families, "/PLEN", messages)
//   parseXfrmId              xfrm_id_parse      ID := [src ADDR] [dst ADDR] [proto esp] [spi SPI]
//   parseSelector            xfrm_selector_parse + xfrm_selector_upspec_parse
//   parseMode, parseMark, parseLimit, parseReqid
//
// The sub-parsers keep iproute2's cursor contract: they start on their first
// token and return with the cursor on the last token they consumed (after a
// PREV_ARG back-track), so the caller's `argc--; argv++` (Argv.step) lands on
// the next keyword. Porting the walk itself, rather than re-deriving a
// grammar, keeps ip's odd corners (which token an error names, what a
// repeated keyword means) the same here.

import { formatIp6, parseIp6 } from '../wire/addr.js';
import type { LimitsSpec, SelectorSpec } from '../xfrm/spec.js';
import { checkIfname, getAddrIpv4, getUnsigned, incompleteCommand, invarg, missarg, UsageError } from './args.js';
import { wordTable } from '../wire/table.js';

/** 0 = AF_UNSPEC (ip's preferred_family before any address was seen). */
export type Family = 0 | 4 | 6;

/** The argv walk of an iproute2 parser: `cur` is *argv, `argc` what is left including it. */
export class Argv {
  private i = 0;
  constructor(private readonly t: readonly string[]) {}
  get argc(): number { return this.t.length - this.i; }
  get cur(): string { return this.t[this.i] ?? ''; }
  /** NEXT_ARG(): moves on, or fails naming `key` (default: the keyword being completed). */
  next(key = this.cur): string {
    this.i++;
    if (this.argc <= 0) throw incompleteCommand(key);
    return this.cur;
  }
  /** NEXT_ARG_OK(). */
  get hasNext(): boolean { return this.argc - 1 > 0; }
  /** PREV_ARG(). */
  prev(): void { this.i--; }
  /** The `argc--; argv++;` that ends each turn of a command's top loop. */
  step(): void { this.i++; }
}

// ---- /etc/protocols (Debian 12 netbase, as getprotobyname/getprotobynumber read it) ----

const PROTOCOLS: readonly (readonly [number, string, ...string[]])[] = [
  [0, 'ip', 'IP'], [0, 'hopopt', 'HOPOPT'], [1, 'icmp', 'ICMP'], [2, 'igmp', 'IGMP'], [3, 'ggp', 'GGP'],
  [4, 'ipencap', 'IP-ENCAP'], [5, 'st', 'ST'], [6, 'tcp', 'TCP'], [8, 'egp', 'EGP'], [9, 'igp', 'IGP'],
  [12, 'pup', 'PUP'], [17, 'udp', 'UDP'], [20, 'hmp', 'HMP'], [22, 'xns-idp', 'XNS-IDP'], [27, 'rdp', 'RDP'],
  [29, 'iso-tp4', 'ISO-TP4'], [33, 'dccp', 'DCCP'], [36, 'xtp', 'XTP'], [37, 'ddp', 'DDP'],
  [38, 'idpr-cmtp', 'IDPR-CMTP'], [41, 'ipv6', 'IPv6'], [43, 'ipv6-route', 'IPv6-Route'],
  [44, 'ipv6-frag', 'IPv6-Frag'], [45, 'idrp', 'IDRP'], [46, 'rsvp', 'RSVP'], [47, 'gre', 'GRE'],
  [50, 'esp', 'IPSEC-ESP'], [51, 'ah', 'IPSEC-AH'], [57, 'skip', 'SKIP'], [58, 'ipv6-icmp', 'IPv6-ICMP'],
  [59, 'ipv6-nonxt', 'IPv6-NoNxt'], [60, 'ipv6-opts', 'IPv6-Opts'], [73, 'rspf', 'RSPF', 'CPHB'],
  [81, 'vmtp', 'VMTP'], [88, 'eigrp', 'EIGRP'], [89, 'ospf', 'OSPFIGP'], [93, 'ax.25', 'AX.25'],
  [94, 'ipip', 'IPIP'], [97, 'etherip', 'ETHERIP'], [98, 'encap', 'ENCAP'], [103, 'pim', 'PIM'],
  [108, 'ipcomp', 'IPCOMP'], [112, 'vrrp', 'VRRP'], [115, 'l2tp', 'L2TP'], [124, 'isis', 'ISIS'],
  [132, 'sctp', 'SCTP'], [133, 'fc', 'FC'], [135, 'mobility-header', 'Mobility-Header'],
  [136, 'udplite', 'UDPLite'], [137, 'mpls-in-ip', 'MPLS-in-IP'], [138, 'manet'], [139, 'hip', 'HIP'],
  [140, 'shim6', 'Shim6'], [141, 'wesp', 'WESP'], [142, 'rohc', 'ROHC'], [143, 'ethernet', 'Ethernet'],
];

/** getprotobyname(): official name or alias, case-sensitive. */
export const protoByName = (s: string): number | undefined => PROTOCOLS.find((p) => p.includes(s, 1))?.[0];

/** ipxfrm.c strxf_proto(): getprotobynumber()'s name, else the number. */
export const protoName = (n: number): string => PROTOCOLS.find((p) => p[0] === n)?.[1] ?? String(n);

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, DCCP: 33, GRE: 47, ICMPV6: 58, SCTP: 132, MH: 135 } as const;

// ---- addresses (lib/utils.c get_addr_1, get_prefix_1, get_netmask) ----

/** An address as get_addr_1 leaves it: family, canonical text (null for any/all/default) and bit length. */
export interface Prefix { readonly family: Family; readonly addr: string | null; readonly plen: number }

export const familyOf = (addr: string): 4 | 6 => (addr.includes(':') ? 6 : 4);
export const zeroAddr = (f: Family): string => (f === 6 ? '::' : '0.0.0.0');
const familyVerbose = (f: Family): string => (f === 0 ? 'any valid' : f === 4 ? 'inet' : 'inet6');

/** __get_addr_1 for inet/inet6: null if `s` is not an address of `family` (0 = either). */
function getAddr1(s: string, family: Family): Prefix | null {
  if (s === 'default' || s === 'all' || s === 'any') return { family, addr: null, plen: -2 };
  if (s.includes(':')) {
    if (family === 4) return null;
    const b = parseIp6(s);
    return b === null ? null : { family: 6, addr: formatIp6(b), plen: -1 };
  }
  if (family === 6) return null;
  const a = getAddrIpv4(s);
  return a === null ? null : { family: 4, addr: a, plen: -1 };
}

/** lib/utils.c get_netmask(): a prefix length (base 0) or a contiguous dotted mask. */
function getNetmask(s: string): number | null {
  const n = getUnsigned(s, 0);
  if (n !== null) return n;
  const m = s.includes('.') ? getAddrIpv4(s) : null;
  if (m === null) return null;
  const v = m.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const bits = 32 - Math.log2(((~v) >>> 0) + 1);
  return Number.isInteger(bits) ? bits : null;
}

/** lib/utils.c get_prefix(): ADDR[/PLEN]; a bare address is a host prefix, any/all/default a /0. */
export function getPrefix(s: string, family: Family): Prefix {
  const slash = s.indexOf('/');
  const a = getAddr1(slash < 0 ? s : s.substring(0, slash), family);
  const fail = (): UsageError => new UsageError(`Error: ${familyVerbose(family)} prefix is expected rather than "${s}".`, s);
  if (a === null) throw fail();
  const maxBits = a.family === 6 ? 128 : a.family === 4 ? 32 : 0;
  if (slash < 0) return { ...a, plen: a.plen === -2 ? 0 : maxBits };
  const plen = a.plen === -2 ? null : getNetmask(s.substring(slash + 1));
  if (plen === null || plen > maxBits) throw fail();
  return { ...a, plen };
}

/** lib/utils.c get_addr(): an address of `family` (0 = either). */
export function getAddr(s: string, family: Family): Prefix {
  const a = getAddr1(s, family);
  if (a === null) throw new UsageError(`Error: ${familyVerbose(family)} address is expected rather than "${s}".`, s);
  return a;
}

// ---- numbers ----

/** lib/utils.c get_u16(). */
export function getU16(s: string): number | null {
  const n = getUnsigned(s, 0);
  return n !== null && n <= 0xffff ? n : null;
}

/**
 * lib/utils.c get_u64() (strtoull, base 0). tunkit keeps limits as JS numbers,
 * so values past 2^53 - 1 are refused rather than rounded.
 */
export function getU64(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return s.trim() === '-0' ? 0 : null;
  const d = m[1]!;
  const v = /^0[xX]/.test(d) ? BigInt(d) : d.length > 1 && d.startsWith('0') ? BigInt(`0o${d.substring(1)}`) : BigInt(d);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
}

/** ipxfrm.c xfrm_reqid_parse(). */
export function parseReqid(s: string): number {
  const n = getUnsigned(s, 0);
  if (n === null) throw invarg('REQID value is invalid', s, 'reqid');
  return n;
}

/** ipxfrm.c xfrm_mode_parse(): matches() in ip's order; tunkit implements transport and tunnel. */
export function parseMode(s: string): 'transport' | 'tunnel' {
  const m = ['transport', 'tunnel', 'ro', 'in_trigger', 'beet'].find((w) => s.length > 0 && w.startsWith(s));
  if (m === undefined) throw invarg('MODE value is invalid', s, 'mode');
  if (m !== 'transport' && m !== 'tunnel') throw invarg(`MODE "${m}" is not supported by tunkit`, s, 'mode');
  return m;
}

/** ipxfrm.c xfrm_parse_mark(): on "mark"; MARK [mask MASK], the mask 0xffffffff unless given. */
export function parseMark(a: Argv): { value: number; mask: number } {
  const v = getUnsigned(a.next(), 0);
  if (v === null) throw invarg('MARK value is invalid\n', a.cur, 'mark');
  if (a.argc <= 1) return { value: v, mask: 0xffffffff };
  if (a.next() !== 'mask') {
    a.prev();
    return { value: v, mask: 0xffffffff };
  }
  const m = getUnsigned(a.next(), 0);
  if (m === null) throw invarg('MASK value is invalid\n', a.cur, 'mask');
  return { value: v, mask: m };
}

const LIMIT_KEYS: Readonly<Record<string, keyof LimitsSpec>> = wordTable({
  'time-soft': 'timeSoft', 'time-hard': 'timeHard', 'time-use-soft': 'timeUseSoft', 'time-use-hard': 'timeUseHard',
  'byte-soft': 'byteSoft', 'byte-hard': 'byteHard', 'packet-soft': 'packetSoft', 'packet-hard': 'packetHard',
});

/** ipxfrm.c xfrm_lifetime_cfg_parse(): after "limit", one LIMIT into `lft`. */
export function parseLimit(a: Argv, lft: { -readonly [K in keyof LimitsSpec]: LimitsSpec[K] }): void {
  const key = a.cur;
  const field = Object.hasOwn(LIMIT_KEYS, key) ? LIMIT_KEYS[key] : undefined;
  if (field === undefined) throw invarg('LIMIT value is invalid', key, 'limit');
  const v = getU64(a.next());
  if (v === null) throw invarg(`value after "${key}" is invalid`, a.cur, key);
  lft[field] = v;
}

// ---- ID (xfrm_id_parse) ----

/** A parsed ID; undefined = not given (ip's filter masks). `family` is the last address's. */
export interface XfrmIdParse {
  src?: Prefix;
  dst?: Prefix;
  proto?: 50;
  spi?: number;
  family: Family;
}

const XFRM_PROTOS: Readonly<Record<string, number>> = { esp: 50, ah: 51, comp: 108, route2: 43, hao: 60, 'ipsec-any': 255 };

/** ipxfrm.c xfrm_xfrmproto_getbyname(), with tunkit's ESP-only refusal. */
export function parseXfrmProto(s: string): 50 {
  const p = Object.hasOwn(XFRM_PROTOS, s) ? XFRM_PROTOS[s] : undefined;
  if (p === undefined) throw invarg('XFRM-PROTO value is invalid', s, 'proto');
  if (p !== 50) throw invarg(`XFRM-PROTO "${s}" is not supported by tunkit (esp only)`, s, 'proto');
  return p;
}

/** ipxfrm.c xfrm_id_parse(); `isLoose` allows a missing proto (list/deleteall filters). */
export function parseXfrmId(a: Argv, family: Family, isLoose: boolean): XfrmIdParse {
  const id: XfrmIdParse = { family: 0 };
  for (;;) {
    const k = a.cur;
    if (k === 'src' || k === 'dst') {
      const p = getPrefix(a.next(), family);
      if (p.family === 0) throw invarg(`value after "${k}" has an unrecognized address family`, a.cur, k);
      id[k] = p;
      id.family = p.family;
    } else if (k === 'proto') {
      id.proto = parseXfrmProto(a.next());
    } else if (k === 'spi') {
      const n = getUnsigned(a.next(), 0);
      if (n === null) throw invarg('SPI value is invalid', a.cur, 'spi');
      id.spi = n;
    } else {
      a.prev();
      break;
    }
    if (!a.hasNext) break;
    a.next();
  }
  if (id.src !== undefined && id.dst !== undefined && id.src.family !== id.dst.family) {
    throw invarg('the same address family is required between values after "src" and "dst"', a.cur, 'dst');
  }
  if (!isLoose && id.proto === undefined) throw missarg('XFRM-PROTO');
  return id;
}

// ---- SELECTOR (xfrm_selector_parse) ----

/** A selector as iproute2 fills struct xfrm_selector (ports host order, masks 0 or 0xffff). */
export interface SelectorParse {
  family: Family;
  src?: Prefix;
  dst?: Prefix;
  dev?: string;
  proto: number;
  sport: number;
  dport: number;
  sportMask: number;
  dportMask: number;
}

/** One UPSPEC keyword (the branches of xfrm_selector_upspec_parse); false if `k` is none. */
function upspecWord(a: Argv, sel: SelectorParse, k: string, seen: Set<string>): boolean {
  if (k === 'proto') {
    const v = a.next();
    const n = v === 'any' ? 0 : protoByName(v) ?? getUnsigned(v, 0);
    if (n === null || n > 255) throw invarg('PROTO value is invalid', v, 'proto');
    sel.proto = n;
  } else if (k === 'sport' || k === 'dport') {
    const n = getU16(a.next());
    if (n === null) throw invarg(`value after "${k}" is invalid`, a.cur, k);
    sel[k] = n;
    if (n !== 0) sel[k === 'sport' ? 'sportMask' : 'dportMask'] = 0xffff;
  } else if (k === 'type' || k === 'code') {
    const n = getU16(a.next());
    if (n === null || n > 0xff) throw invarg(`value after "${k}" is invalid`, a.cur, k);
    if (k === 'type') { sel.sport = n; sel.sportMask = 0xffff; } else { sel.dport = n; sel.dportMask = 0xffff; }
  } else if (k === 'key') {
    const v = a.next();
    const key = greKey(v);
    sel.sport = key >>> 16; sel.dport = key & 0xffff; sel.sportMask = 0xffff; sel.dportMask = 0xffff;
  } else {
    return false;
  }
  seen.add(k);
  return true;
}

/** The selector `key`: get_addr32 for a dotted quad, else get_unsigned. */
function greKey(v: string): number {
  if (v.includes('.')) {
    const q = getAddrIpv4(v);
    if (q === null) throw new UsageError(`Error: an IP address is expected rather than "${v}"`, 'key');
    return q.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  }
  const n = getUnsigned(v, 0);
  if (n === null) throw new UsageError('value after "key" is invalid', 'key');
  return n;
}

/** xfrm_selector_upspec_parse()'s closing checks: ports, type/code and key only with their protocols. */
function checkUpspec(sel: SelectorParse, seen: Set<string>): void {
  const p = sel.proto;
  const name = protoName(p);
  if ((seen.has('sport') || seen.has('dport')) && ![IPPROTO.TCP, IPPROTO.UDP, IPPROTO.SCTP, IPPROTO.DCCP, 0].includes(p as 0)) {
    throw new UsageError(`"sport" and "dport" are invalid with PROTO value "${name}"`, 'sport');
  }
  if ((seen.has('type') || seen.has('code')) && ![IPPROTO.ICMP, IPPROTO.ICMPV6, IPPROTO.MH].includes(p as 1)) {
    throw new UsageError(`"type" and "code" are invalid with PROTO value "${name}"`, 'type');
  }
  if (seen.has('key') && p !== IPPROTO.GRE) throw new UsageError(`"key" is invalid with PROTO value "${name}"`, 'key');
}

function parseUpspec(a: Argv, sel: SelectorParse): void {
  const seen = new Set<string>();
  for (;;) {
    if (!upspecWord(a, sel, a.cur, seen)) {
      a.prev();
      break;
    }
    if (!a.hasNext) break;
    a.next();
  }
  checkUpspec(sel, seen);
}

/** ipxfrm.c xfrm_selector_parse(): SELECTOR := [src ADDR[/PLEN]] [dst ADDR[/PLEN]] [dev DEV] [UPSPEC]. */
export function parseSelector(a: Argv, family: Family): SelectorParse {
  const sel: SelectorParse = { family, proto: 0, sport: 0, dport: 0, sportMask: 0, dportMask: 0 };
  let hasUpspec = false;
  for (;;) {
    const k = a.cur;
    if (k === 'src' || k === 'dst') {
      const p = getPrefix(a.next(), family);
      if (p.family === 0) throw invarg(`value after "${k}" has an unrecognized address family`, a.cur, k);
      sel[k] = p;
      sel.family = p.family;
    } else if (k === 'dev') {
      const v = a.next();
      if (v !== 'none' && !checkIfname(v)) throw invarg('DEV value is invalid', v, 'dev');
      sel.dev = v === 'none' ? undefined : v;
    } else if (hasUpspec) {
      a.prev();
      break;
    } else {
      hasUpspec = true;
      parseUpspec(a, sel);
    }
    if (!a.hasNext) break;
    a.next();
  }
  if (sel.src !== undefined && sel.dst !== undefined && sel.src.family !== sel.dst.family) {
    throw invarg('the same address family is required between values after "src" and "dst"', a.cur, 'dst');
  }
  return sel;
}

/** The address as bytes (4 or 16), for prefix comparison. */
function addrBytes(s: string): Uint8Array | null {
  if (s.includes(':')) return parseIp6(s);
  const a = getAddrIpv4(s);
  return a === null ? null : Uint8Array.from(a.split('.').map(Number));
}

/** ipxfrm.c xfrm_addr_match(): true when the first `bits` bits of the two addresses agree. */
export function addrMatch(a: string, b: string, bits: number): boolean {
  const x = addrBytes(a);
  const y = addrBytes(b);
  if (x === null || y === null || x.length !== y.length) return false;
  for (let i = 0; i < bits; i++) {
    const m = 0x80 >> (i & 7);
    if (((x[i >> 3] ?? 0) & m) !== ((y[i >> 3] ?? 0) & m)) return false;
  }
  return true;
}

/** "ADDR/PLEN" or a bare address (a host prefix) → address text and prefix length. */
export function splitPrefix(s: string): { addr: string; plen: number } {
  const [addr = s, plen] = s.split('/');
  return { addr, plen: plen !== undefined ? Number(plen) : familyOf(addr) === 6 ? 128 : 32 };
}

const prefixText = (p: Prefix | undefined, f: Family): string => `${p?.addr ?? zeroAddr(f)}/${p?.plen ?? 0}`;

/** The SelectorSpec for a parsed selector; `fallback` is the family the kernel gives an AF_UNSPEC one. */
export function selectorSpec(s: SelectorParse, fallback: 4 | 6): SelectorSpec {
  const f = s.family === 0 ? fallback : s.family;
  return {
    src: prefixText(s.src, f), dst: prefixText(s.dst, f),
    ...(s.proto !== 0 ? { proto: s.proto } : {}),
    ...(s.sportMask !== 0 || s.sport !== 0 ? { sport: s.sport, sportMask: s.sportMask } : {}),
    ...(s.dportMask !== 0 || s.dport !== 0 ? { dport: s.dport, dportMask: s.dportMask } : {}),
    ...(s.dev !== undefined ? { dev: s.dev } : {}),
  };
}
