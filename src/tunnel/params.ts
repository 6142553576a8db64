// Tunnel configuration → validated TunnelParams, with the kernel's netlink
// validation (EINVAL) and iproute2's own argument checks, plus MTU rules.
//
// Sources: ipip_netlink_parms / ip_tunnel_netlink_parms (ttl forces DF,
// pmtudisc defaults on), ipgre_netlink_parms (ignore_df needs !DF → EINVAL),
// ipgre_tunnel_validate (no version/routing flags), ipgre_tap_validate
// (only an explicit zero remote is refused, and iproute2 ≥ 4.19 never sends one), ipgre_tunnel_init (multicast remote needs a local),
// ipip_tunnel_ioctl_verify_protocol, ipip6_netlink_parms (sit modes),
// iproute2 ip/link_iptnl.c & link_gre.c ("ttl != 0 and nopmtudisc are
// incompatible"), ip_tunnel_bind_dev / ipip6_tunnel_bind_dev (default MTU),
// __ip_tunnel_change_mtu (MTU range), dev_valid_name (device names).

import { ConfigError } from '../wire/errors.js';
import { isIp4Multicast, parseIp4 } from '../wire/addr.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_MPLS } from '../wire/ipproto.js';
import {
  ETH_DATA_LEN, ETH_HLEN, IP6_MAX_MTU, IP_MAX_MTU, IPV6_MIN_MTU, MIN_MTU, OUTER_IP4_LEN,
  TNL_CSUM, TNL_KEY, TNL_SEQ, TunnelKind,
} from './types.js';
import type { TunnelParams } from './types.js';
import { wordTable } from '../wire/table.js';

/** User-facing tunnel configuration, as the CLI parses `ip link add … type K …`. */
export interface TunnelConfig {
  readonly name: string;
  readonly kind: string;
  readonly local?: string;
  readonly remote?: string;
  readonly link?: number;
  readonly ttl?: number | 'inherit';
  readonly tos?: number | 'inherit';
  readonly key?: number | string;
  readonly ikey?: number | string;
  readonly okey?: number | string;
  readonly seq?: boolean;
  readonly iseq?: boolean;
  readonly oseq?: boolean;
  readonly csum?: boolean;
  readonly icsum?: boolean;
  readonly ocsum?: boolean;
  /** undefined = default (on). */
  readonly pmtudisc?: boolean;
  readonly ignoreDf?: boolean;
  /** sit: ip6ip | ipip | mplsip | any; ipip: ipip | mplsip | any. Default any (iproute2). */
  readonly mode?: string;
  readonly mtu?: number;
  /**
   * `ip link add NAME type K` with no type arguments: iproute2 then sends no
   * IFLA_INFO_DATA and the kernel keeps its bare defaults — ipip_netlink_parms
   * / ipgre_netlink_parms return before setting DF (nopmtudisc), ipip keeps
   * mode ipip, sit mode ip6ip with ttl 64 (ipip6_netlink_parms).
   */
  readonly bare?: boolean;
}

const KINDS: Record<string, TunnelKind> = wordTable({
  ipip: TunnelKind.Ipip, gre: TunnelKind.Gre, gretap: TunnelKind.Gretap, sit: TunnelKind.Sit,
});

/** Validation options. */
export interface ParamOptions {
  /**
   * Also apply iproute2's own argument checks (default true). With false only
   * the kernel's netlink validation runs — e.g. `ttl 64 nopmtudisc` is then
   * accepted and the TTL forces DF anyway, as a raw netlink request would.
   */
  readonly iproute2?: boolean;
}

/** Validates a config and returns kernel-equivalent parameters; throws ConfigError naming the field. */
export function makeTunnelParams(c: TunnelConfig, opts: ParamOptions = {}): TunnelParams {
  validateName(c.name);
  const kind = KINDS[c.kind];
  if (kind === undefined) throw new ConfigError('type', `unknown tunnel type "${c.kind}" (ipip, gre, gretap, sit)`);
  const isGre = kind === TunnelKind.Gre || kind === TunnelKind.Gretap;
  const local = addrField('local', c.local);
  const remote = addrField('remote', c.remote);
  const ttl = byteField('ttl', c.ttl, 0);
  const tos = byteField('tos', c.tos, 1);
  if (!isGre) rejectGreOnly(c);
  const keys = isGre ? greKeys(c) : { iflags: 0, oflags: 0, ikey: 0, okey: 0 };
  if (isGre && isIp4Multicast(remote)) {
    // link_gre.c: a multicast ("broadcast") tunnel without a key is keyed by its group address.
    if (keys.ikey === 0) { keys.ikey = remote; keys.iflags |= TNL_KEY; }
    if (keys.okey === 0) { keys.okey = remote; keys.oflags |= TNL_KEY; }
  }
  // ipip/sit (ip_tunnel_netlink_parms, ipip6_netlink_parms): a non-zero TTL
  // forces DF, and iproute2's link_iptnl.c refuses "ttl N nopmtudisc".
  // gre/gretap (ipgre_netlink_parms): DF comes from pmtudisc alone.
  if (!isGre && opts.iproute2 !== false && ttl !== 0 && c.pmtudisc === false) {
    throw new ConfigError('nopmtudisc', 'ttl != 0 and nopmtudisc are incompatible');
  }
  const bare = c.bare === true;
  const df = !bare && (c.pmtudisc !== false || (!isGre && ttl !== 0));
  const ignoreDf = c.ignoreDf === true;
  if (ignoreDf && !isGre) throw new ConfigError('ignore-df', `not supported by ${c.kind} tunnels`);
  if (ignoreDf && df) throw new ConfigError('ignore-df', 'requires nopmtudisc (the kernel returns EINVAL)');
  if (isGre && isIp4Multicast(remote) && local === 0) throw new ConfigError('local', 'a multicast remote needs a local address');
  const link = c.link ?? 0;
  if (!Number.isInteger(link) || link < 0) throw new ConfigError('dev', `bad ifindex ${String(link)}`);
  const proto = bare && c.mode === undefined ? (kind === TunnelKind.Sit ? IPPROTO_IPV6 : kind === TunnelKind.Ipip ? IPPROTO_IPIP : IPPROTO_GRE) : protoField(kind, c.mode);
  const p: TunnelParams = {
    name: c.name, kind, local, remote, link, ttl: bare && kind === TunnelKind.Sit && c.ttl === undefined ? 64 : ttl, tos, df, ignoreDf,
    ...keys, proto, mtu: 0,
  };
  if (c.mtu !== undefined) checkMtu(p, c.mtu);
  return { ...p, mtu: c.mtu ?? 0 };
}

/**
 * dev_valid_name (net/core/dev.c): 1..15 bytes, not "." or "..", and no
 * byte that is '/', ':' or isspace() — the kernel's ctype, which also counts
 * 0xA0 (so UTF-8 text containing that byte is refused).
 */
export function validateName(name: string): void {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length > 15) throw new ConfigError('name', `"${name}" must be 1 to 15 bytes`);
  const bad = (c: number): boolean => c === 0x2f || c === 0x3a || c === 0x20 || c === 0xa0 || (c >= 0x09 && c <= 0x0d);
  if (name === '.' || name === '..' || bytes.some(bad)) throw new ConfigError('name', `"${name}" is not a valid device name`);
}

function addrField(field: string, v: string | undefined): number {
  if (v === undefined || v === 'any') return 0;
  const a = parseIp4(v);
  if (a === null) throw new ConfigError(field, `"${v}" is not an IPv4 address or "any"`);
  return a;
}

/** ttl/tos: a byte, or "inherit" (ttl 0, tos 1 — what iproute2 sends for "inherit"). */
function byteField(field: string, v: number | 'inherit' | undefined, inherit: number): number {
  if (v === undefined) return 0; // not given: ttl 0 (inherit), tos 0
  if (v === 'inherit') return inherit;
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new ConfigError(field, `${String(v)} is not in 0..255`);
  return v;
}

function rejectGreOnly(c: TunnelConfig): void {
  for (const f of ['key', 'ikey', 'okey', 'seq', 'iseq', 'oseq', 'csum', 'icsum', 'ocsum'] as const) {
    if (c[f] !== undefined && c[f] !== false) throw new ConfigError(f, `only gre and gretap tunnels have ${f}`);
  }
}

/**
 * iproute2's tnl_parse_key: without a '.', get_u32(arg, 0) — strtoul in base
 * 0 (0x… hex, 0… octal, else decimal); with a '.', get_addr32 — 1 to 4
 * dotted decimal bytes filling from the left ("203.0.113" = 203.0.113.0).
 */
function keyField(field: string, v: number | string): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(field, `${v} is not a 32-bit key`);
    return v >>> 0;
  }
  if (!v.includes('.')) {
    const m = /^(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(v);
    if (m === null) throw new ConfigError(field, `"${v}" is not a number or dotted quad`);
    const n = m[1] !== undefined ? parseInt(m[1], 16) : m[2] !== undefined ? (m[2] === '' ? 0 : parseInt(m[2], 8)) : Number(m[3]);
    return keyField(field, n);
  }
  const parts = v.split('.');
  if (parts.length > 4 || parts.some((x) => !/^[0-9]{1,3}$/.test(x) || Number(x) > 255)) {
    throw new ConfigError(field, `"${v}" is not a number or dotted quad`);
  }
  let k = 0;
  for (let i = 0; i < 4; i++) k = k * 256 + Number(parts[i] ?? 0);
  return k >>> 0;
}

function greKeys(c: TunnelConfig): { iflags: number; oflags: number; ikey: number; okey: number } {
  let iflags = 0;
  let oflags = 0;
  let ikey = 0;
  let okey = 0;
  if (c.key !== undefined) {
    ikey = okey = keyField('key', c.key);
    iflags |= TNL_KEY; oflags |= TNL_KEY;
  }
  if (c.ikey !== undefined) { ikey = keyField('ikey', c.ikey); iflags |= TNL_KEY; }
  if (c.okey !== undefined) { okey = keyField('okey', c.okey); oflags |= TNL_KEY; }
  if (c.seq === true || c.iseq === true) iflags |= TNL_SEQ;
  if (c.seq === true || c.oseq === true) oflags |= TNL_SEQ;
  if (c.csum === true || c.icsum === true) iflags |= TNL_CSUM;
  if (c.csum === true || c.ocsum === true) oflags |= TNL_CSUM;
  return { iflags, oflags, ikey, okey };
}

function protoField(kind: TunnelKind, mode: string | undefined): number {
  if (kind === TunnelKind.Gre || kind === TunnelKind.Gretap) {
    if (mode !== undefined) throw new ConfigError('mode', 'gre tunnels have no mode');
    return IPPROTO_GRE;
  }
  const modes: Record<string, number> = kind === TunnelKind.Sit
    ? { ip6ip: IPPROTO_IPV6, ipip: IPPROTO_IPIP, mplsip: IPPROTO_MPLS, any: 0 }
    : { ipip: IPPROTO_IPIP, mplsip: IPPROTO_MPLS, any: 0 };
  // iproute2 (ip/link_iptnl.c) always sends IFLA_IPTUN_PROTO, 0 ("any")
  // unless `mode` says otherwise: `ip -d link` shows "ipip any" / "sit any".
  const dflt = 'any';
  const proto = modes[mode ?? dflt];
  if (proto === undefined) throw new ConfigError('mode', `"${mode}" is not one of ${Object.keys(modes).join(', ')}`);
  return proto;
}

/** Tunnel header length after the outer IPv4 header: tunnel->hlen (gre_calc_hlen of o_flags). */
export function tunnelHlen(p: TunnelParams): number {
  if (p.kind !== TunnelKind.Gre && p.kind !== TunnelKind.Gretap) return 0;
  let h = 4;
  if (p.oflags & TNL_CSUM) h += 4;
  if (p.oflags & TNL_KEY) h += 4;
  if (p.oflags & TNL_SEQ) h += 4;
  return h;
}

/** dev->hard_header_len: 14 for gretap (ARPHRD_ETHER), 0 for the L3 tunnels. */
export const hardHeaderLen = (p: TunnelParams): number => (p.kind === TunnelKind.Gretap ? ETH_HLEN : 0);

/**
 * Default device MTU for an underlay MTU (ip_tunnel_bind_dev: underlay − 20 −
 * hlen − hard_header_len, at least 68; ipip6_tunnel_bind_dev for sit: underlay
 * − 20, at least 1280). So 1480 ipip/sit, 1476 gre (+4 per C/K/S), 1462 gretap.
 */
export function defaultMtu(p: TunnelParams, underlayMtu = ETH_DATA_LEN): number {
  if (p.kind === TunnelKind.Sit) return Math.max(IPV6_MIN_MTU, underlayMtu - OUTER_IP4_LEN);
  const under = Math.min(underlayMtu, IP_MAX_MTU); // ip_tunnel_bind_dev: min(tdev->mtu, IP_MAX_MTU)
  return Math.max(MIN_MTU, under - OUTER_IP4_LEN - tunnelHlen(p) - hardHeaderLen(p));
}

/** Largest MTU `ip link set … mtu N` accepts (__ip_tunnel_change_mtu; sit: max_mtu = IP6_MAX_MTU − 20). */
export function maxMtu(p: TunnelParams): number {
  if (p.kind === TunnelKind.Sit) return IP6_MAX_MTU - OUTER_IP4_LEN;
  return IP_MAX_MTU - hardHeaderLen(p) - OUTER_IP4_LEN - tunnelHlen(p);
}

/** Smallest MTU accepted: 68 (ETH_MIN_MTU), sit 1280 (dev->min_mtu = IPV6_MIN_MTU). */
export const minMtu = (p: TunnelParams): number => (p.kind === TunnelKind.Sit ? IPV6_MIN_MTU : MIN_MTU);

/** Throws ConfigError('mtu') unless minMtu(p) ≤ mtu ≤ maxMtu(p) (strict, as ip_tunnel_change_mtu). */
export function checkMtu(p: TunnelParams, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < minMtu(p) || mtu > maxMtu(p)) {
    throw new ConfigError('mtu', `${String(mtu)} is outside ${minMtu(p)}..${maxMtu(p)}`);
  }
}
