// `tunkit [-d] [-s [-s]] [-j [-p]] link show` output for tunkit devices, as
// iproute2 6.1 prints a Linux 6.1 tunnel device:
//
//   print_linkinfo (ip/ipaddress.c)      ifindex, name@link, <flags>, mtu … qlen
//     print_link_flags                     dev_get_flags() of the tunnel (below)
//     "link/TYPE ADDR peer|brd BRD"       IFLA_ADDRESS / IFLA_BROADCAST
//     -d: promiscuity … maxmtu             (6.1 prints " allmulti %u ": two spaces)
//     -d: print_linktype                   "    KIND " + iptunnel_print_opt (ip/link_iptnl.c)
//                                                     or gre_print_opt (ip/link_gre.c)
//     -d: addrgenmode … gro_max_size       print_af_spec and the queue/GSO attributes
//     -s: print_stats64                    format.ts formatStats64
//   tunkit: "    tunkit drops: Reason N, …" (-s, non-zero only); JSON "tunkit_drops".
//
// JSON goes through lib/json_writer.c's layout (format.ts formatJsonw) with
// the keys print_linkinfo, print_stats64 and the print_opt functions use.

import type { LinkStatName } from '../tunnel/stats.js';
import { TNL_CSUM, TNL_KEY, TNL_SEQ, TunnelKind } from '../tunnel/types.js';
import type { TunnelParams } from '../tunnel/types.js';
import { formatIp4, isIp4Multicast, parseIp4 } from '../wire/addr.js';
import { IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_MPLS } from '../wire/ipproto.js';
import { StatusError } from './args.js';
import type { GlobalOptions } from './args.js';
import { formatJsonw, formatStats64, stats64Json, tunkitDropsLine } from './format.js';
import type { JsonObject, JsonValue } from './format.js';
import type { LinkShow } from './link-args.js';

export type DeviceKind = 'ipip' | 'gre' | 'gretap' | 'sit' | 'xfrm';
/** IFLA_IPTUN_PROTO as iptunnel_print_opt names it. */
export type TunnelMode = 'ipip' | 'ip6ip' | 'mplsip' | 'any';

/** Tunnel parameters as plain, printable fields (what IFLA_INFO_DATA carries). */
export interface DeviceParams {
  /** Dotted quad, or 'any' for 0.0.0.0. */
  readonly local: string;
  readonly remote: string;
  /** 0 = inherit. */
  readonly ttl: number;
  /** 1 = inherit; other values are the DS byte. */
  readonly tos: number;
  /** IFLA_*_PMTUDISC: DF set on outer packets (also forced by a non-zero ttl). */
  readonly pmtudisc: boolean;
  /** gre/gretap ignore-df. */
  readonly ignoreDf: boolean;
  /** TNL_KEY in i_flags / o_flags, and the u32 keys (printed as dotted quads). */
  readonly hasIkey: boolean;
  readonly hasOkey: boolean;
  readonly ikey: number;
  readonly okey: number;
  readonly iseq: boolean;
  readonly oseq: boolean;
  readonly icsum: boolean;
  readonly ocsum: boolean;
  /** ipip/sit only (gre has no mode). */
  readonly mode?: TunnelMode;
  /** Underlay device NAME ("dev PHYS"); undefined = not bound (prints name@NONE). */
  readonly link?: string;
}

/**
 * One device as the daemon reports it to `link show`. The optional fields are
 * kernel attributes a userspace device has no real counterpart for; their
 * defaults are what Linux 6.1 reported for the ipip reference device.
 */
export interface DeviceInfo {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: DeviceKind;
  readonly mtu: number;
  readonly isUp: boolean;
  readonly hasCarrier: boolean;
  /** gretap's Ethernet address ("aa:bb:cc:dd:ee:ff"); ignored by the L3 kinds. */
  readonly mac?: string;
  readonly params: DeviceParams;
  readonly stats: Readonly<Record<LinkStatName, number>>;
  /** tunkit's per-reason drop counters by Drop name (format.ts dropsRecord). */
  readonly drops: Readonly<Record<string, number>>;
  /** Default: "noqueue" when up, "noop" when down (an inactive device's noop_qdisc). */
  readonly qdisc?: string;
  /** Default 1000. 0 omits "qlen" as print_queuelen does. */
  readonly txqlen?: number;
  /** IFLA_MIN_MTU / IFLA_MAX_MTU; default by kind (mtuBounds). */
  readonly minMtu?: number;
  readonly maxMtu?: number;
  /** IFLA_CARRIER_CHANGES (the -s -s "transns" column); default 0. */
  readonly carrierChanges?: number;
  /** xfrm interfaces: IFLA_XFRM_IF_ID. */
  readonly ifId?: number;
  /**
   * IFLA_INET6_ADDR_GEN_MODE; default eui64 (an ARPHRD_NONE device turns random once up: addrconf_dev_config).
   * 'none': the device has no inet6_dev, so IFLA_AF_SPEC has no inet6 and ip prints no addrgenmode.
   */
  readonly addrGenMode?: 'eui64' | 'random' | 'none';
}

/** The global options that shape `link show` output. */
export type ShowOptions = Pick<GlobalOptions, 'statsLevel' | 'hasDetails' | 'isJson' | 'isPretty'>;

const MODES: Readonly<Record<number, TunnelMode>> = {
  [IPPROTO_IPIP]: 'ipip', [IPPROTO_IPV6]: 'ip6ip', [IPPROTO_MPLS]: 'mplsip', 0: 'any',
};
const KINDS: Readonly<Record<TunnelKind, DeviceKind>> = {
  [TunnelKind.Ipip]: 'ipip', [TunnelKind.Gre]: 'gre', [TunnelKind.Gretap]: 'gretap', [TunnelKind.Sit]: 'sit',
};

/** The kind name of validated parameters. */
export const deviceKindOf = (p: TunnelParams): DeviceKind => KINDS[p.kind];

/** DeviceParams of validated parameters, as ipip_fill_info / ipgre_fill_info would report them. */
export function deviceParamsOf(p: TunnelParams, linkName?: string): DeviceParams {
  const isGre = p.kind === TunnelKind.Gre || p.kind === TunnelKind.Gretap;
  const mode = isGre ? undefined : MODES[p.proto];
  return {
    local: p.local === 0 ? 'any' : formatIp4(p.local),
    remote: p.remote === 0 ? 'any' : formatIp4(p.remote),
    ttl: p.ttl, tos: p.tos, pmtudisc: p.df, ignoreDf: p.ignoreDf,
    hasIkey: (p.iflags & TNL_KEY) !== 0, hasOkey: (p.oflags & TNL_KEY) !== 0, ikey: p.ikey, okey: p.okey,
    iseq: (p.iflags & TNL_SEQ) !== 0, oseq: (p.oflags & TNL_SEQ) !== 0,
    icsum: (p.iflags & TNL_CSUM) !== 0, ocsum: (p.oflags & TNL_CSUM) !== 0,
    ...(mode !== undefined ? { mode } : {}), ...(linkName !== undefined ? { link: linkName } : {}),
  };
}

/** The devices a `link show` filter selects; a named device that is absent is ENODEV as in ip. */
export function selectDevices(devs: readonly DeviceInfo[], f: LinkShow): DeviceInfo[] {
  const out = devs.filter((d) => (f.name === undefined || d.name === f.name)
    && (f.kind === undefined || d.kind === f.kind)
    && (f.state === undefined || d.isUp === (f.state === 'up')));
  if (f.name !== undefined && !devs.some((d) => d.name === f.name)) {
    throw new StatusError(`Device "${f.name}" does not exist.`, 'dev', 1); // ipaddr_list_flush_or_save: return -1
  }
  return out;
}

// ---- link-level attributes (dev_get_flags, IFLA_ADDRESS/BROADCAST, operstate) ----

const addr = (a: string): string => (a === 'any' ? '0.0.0.0' : a);
const hasRemote = (d: DeviceInfo): boolean => addr(d.params.remote) !== '0.0.0.0';

interface LinkAttrs {
  readonly flags: string[];
  readonly isP2p: boolean;
  readonly linkType: string;
  readonly address: string;
  readonly broadcast: string;
  readonly operstate: string;
  readonly qdisc: string;
}

/**
 * dev->flags: ipip/sit/gre set IFF_NOARP in setup; ip_tunnel_bind_dev (and
 * ipip6_tunnel_bind_dev) add IFF_POINTOPOINT when there is a remote; a gre
 * with a multicast remote is IFF_BROADCAST instead of NOARP
 * (ipgre_tunnel_init); gretap is ether_setup's BROADCAST|MULTICAST.
 * dev_get_flags adds RUNNING/LOWER_UP while up with carrier; print_link_flags
 * shows NO-CARRIER for UP without RUNNING and drops RUNNING.
 */
function linkAttrs(d: DeviceInfo): LinkAttrs {
  if (d.kind === 'xfrm') return xfrmAttrs(d);
  const isEther = d.kind === 'gretap';
  const isMcast = d.kind === 'gre' && isIp4Multicast(parseIp4(addr(d.params.remote)) ?? 0);
  const isP2p = !isEther && hasRemote(d);
  const flags: string[] = [];
  if (d.isUp && !d.hasCarrier) flags.push('NO-CARRIER');
  if (isEther || isMcast) flags.push('BROADCAST');
  if (isP2p) flags.push('POINTOPOINT');
  if (isEther) flags.push('MULTICAST');
  if (!isEther && !isMcast) flags.push('NOARP');
  if (d.isUp) flags.push('UP');
  if (d.isUp && d.hasCarrier) flags.push('LOWER_UP');
  return {
    flags, isP2p,
    linkType: isEther ? 'ether' : d.kind,
    address: isEther ? (d.mac ?? '00:00:00:00:00:00') : addr(d.params.local),
    broadcast: isEther ? 'ff:ff:ff:ff:ff:ff' : addr(d.params.remote),
    // A tunnel's carrier never toggles, so its operstate stays IF_OPER_UNKNOWN while up.
    operstate: d.isUp && d.hasCarrier ? 'UNKNOWN' : 'DOWN',
    qdisc: d.qdisc ?? (d.isUp ? 'noqueue' : 'noop'),
  };
}

/** xfrmi_dev_setup: ARPHRD_NONE ("link/none", no addresses), IFF_NOARP only. */
function xfrmAttrs(d: DeviceInfo): LinkAttrs {
  const flags = [...(d.isUp && !d.hasCarrier ? ['NO-CARRIER'] : []), 'NOARP', ...(d.isUp ? ['UP'] : []), ...(d.isUp && d.hasCarrier ? ['LOWER_UP'] : [])];
  return {
    flags, isP2p: false, linkType: 'none', address: '', broadcast: '',
    operstate: d.isUp && d.hasCarrier ? 'UNKNOWN' : 'DOWN', qdisc: d.qdisc ?? (d.isUp ? 'noqueue' : 'noop'),
  };
}

/** The -d attributes after the kind line, as Linux 6.1 reports them for a tunnel. */
const DETAIL_TAIL: readonly (readonly [string, string, number])[] = [
  ['num_tx_queues', 'numtxqueues', 1], ['num_rx_queues', 'numrxqueues', 1],
  ['gso_max_size', 'gso_max_size', 65536], ['gso_max_segs', 'gso_max_segs', 65535],
  ['tso_max_size', 'tso_max_size', 65536], ['tso_max_segs', 'tso_max_segs', 65535],
  ['gro_max_size', 'gro_max_size', 65536],
];

/**
 * dev->min_mtu / max_mtu as the setup functions leave them (Linux 6.1):
 * ipgre_tap_setup runs ether_setup (min_mtu ETH_MIN_MTU 68) then clears
 * max_mtu; ipip6_tunnel_setup sets IPV6_MIN_MTU 1280 and IP6_MAX_MTU (65575)
 * minus t_hlen (0 + sizeof(struct iphdr) at setup time); ipip_tunnel_setup and
 * ipgre_tunnel_setup (ip_tunnel_setup) set neither, so both stay 0.
 */
export function mtuBounds(kind: DeviceKind): readonly [number, number] {
  if (kind === 'gretap') return [68, 0];
  if (kind === 'sit') return [1280, 65575 - 20];
  return [0, 0];
}

// ---- print_opt: iptunnel_print_opt / gre_print_opt ----

/** print_0xhex's "%#llx". */
const hex = (v: number): string => (v === 0 ? '0' : `0x${v.toString(16)}`);

/** [json key, json value, text] per printed item, in print order; text null = JSON only. */
type OptItem = readonly [string, JsonValue, string | null];

function tunnelOpts(d: DeviceInfo): OptItem[] {
  // xfrm_print_opt (ip/link_xfrm.c): only a non-zero if_id.
  if (d.kind === 'xfrm') return d.ifId !== undefined && d.ifId !== 0 ? [['if_id', hex(d.ifId), `if_id ${hex(d.ifId)} `]] : [];
  const p = d.params;
  const isGre = d.kind === 'gre' || d.kind === 'gretap';
  const items: OptItem[] = [];
  if (!isGre && p.mode !== undefined) items.push(['proto', p.mode, `${p.mode} `]);
  items.push(['remote', p.remote, `remote ${p.remote} `], ['local', p.local, `local ${p.local} `]);
  if (p.link !== undefined) items.push(['link', p.link, `dev ${p.link} `]);
  items.push(['ttl', p.ttl, p.ttl !== 0 ? `ttl ${p.ttl} ` : 'ttl inherit ']);
  if (p.tos !== 0) items.push(['tos', hex(p.tos), p.tos !== 1 ? `tos ${hex(p.tos)} ` : 'tos inherit ']);
  if (!isGre) {
    items.push(['pmtudisc', p.pmtudisc, p.pmtudisc ? 'pmtudisc ' : 'nopmtudisc ']);
    // sit: the default 6rd prefix ipip6_tunnel_clone_6rd gives every device
    // (CONFIG_IPV6_SIT_6RD); relay prefix 0 is not printed. In JSON
    // iptunnel_print_opt prints "prefix"/"prefixlen" only; in text one item.
    if (d.kind === 'sit') items.push(['prefix', '2002::', '6rd-prefix 2002::/16 '], ['prefixlen', 16, null]);
    return items;
  }
  items.push(['pmtudisc', p.pmtudisc, p.pmtudisc ? null : 'nopmtudisc ']);
  if (p.ignoreDf) items.push(['ignore_df', true, 'ignore-df ']);
  if (p.hasIkey) items.push(['ikey', formatIp4(p.ikey), `ikey ${formatIp4(p.ikey)} `]);
  if (p.hasOkey) items.push(['okey', formatIp4(p.okey), `okey ${formatIp4(p.okey)} `]);
  for (const f of ['iseq', 'oseq', 'icsum', 'ocsum'] as const) if (p[f]) items.push([f, true, `${f} `]);
  return items;
}

// ---- text ----

/** One device in print_linkinfo's text layout, ending with its newline. */
export function formatLinkText(d: DeviceInfo, o: ShowOptions): string {
  const a = linkAttrs(d);
  const txqlen = d.txqlen ?? 1000;
  let s = `${d.ifindex}: ${d.name}@${d.params.link ?? 'NONE'}: <${a.flags.join(',')}> mtu ${d.mtu} `
    + `qdisc ${a.qdisc} state ${a.operstate} mode DEFAULT group default ${txqlen !== 0 ? `qlen ${txqlen}` : ''}`;
  s += a.linkType === 'none' ? '\n    link/none ' : `\n    link/${a.linkType} ${a.address}${a.isP2p ? ' peer ' : ' brd '}${a.broadcast}`;
  if (o.hasDetails) {
    const [minMtu, maxMtu] = mtuBounds(d.kind);
    s += ` promiscuity 0  allmulti 0 minmtu ${d.minMtu ?? minMtu} maxmtu ${d.maxMtu ?? maxMtu} `;
    const gen = d.addrGenMode ?? 'eui64';
    s += `\n    ${d.kind} ${tunnelOpts(d).map(([, , t]) => t ?? '').join('')}${gen !== 'none' ? `addrgenmode ${gen} ` : ''}`;
    s += DETAIL_TAIL.map(([, word, v]) => `${word} ${v} `).join('');
  }
  if (o.statsLevel > 0) {
    s += `\n${formatStats64(d.stats, o.statsLevel, d.carrierChanges ?? 0).join('\n')}`;
    const drops = tunkitDropsLine(d.drops);
    if (drops !== null) s += `\n${drops}`;
  }
  return `${s}\n`;
}

// ---- JSON ----

/** One device as print_linkinfo's JSON object (keys in its print order). */
export function linkJson(d: DeviceInfo, o: ShowOptions): JsonObject {
  const a = linkAttrs(d);
  const txqlen = d.txqlen ?? 1000;
  const j: Record<string, JsonValue> = {
    ifindex: d.ifindex, link: d.params.link ?? null, ifname: d.name, flags: a.flags, mtu: d.mtu,
    qdisc: a.qdisc, operstate: a.operstate, linkmode: 'DEFAULT', group: 'default',
  };
  if (txqlen !== 0) j.txqlen = txqlen;
  j.link_type = a.linkType;
  if (a.linkType !== 'none') {
    j.address = a.address;
    if (a.isP2p) j.link_pointtopoint = true;
    j.broadcast = a.broadcast;
  }
  if (o.hasDetails) {
    const [minMtu, maxMtu] = mtuBounds(d.kind);
    Object.assign(j, { promiscuity: 0, allmulti: 0, min_mtu: d.minMtu ?? minMtu, max_mtu: d.maxMtu ?? maxMtu });
    j.linkinfo = { info_kind: d.kind, info_data: Object.fromEntries(tunnelOpts(d).map(([k, v]) => [k, v])) };
    const gen = d.addrGenMode ?? 'eui64';
    if (gen !== 'none') j.inet6_addr_gen_mode = gen;
    for (const [key, , v] of DETAIL_TAIL) j[key] = v;
  }
  if (o.statsLevel > 0) {
    j.stats64 = stats64Json(d.stats, o.statsLevel, d.carrierChanges ?? 0);
    j.tunkit_drops = Object.fromEntries(Object.entries(d.drops).filter(([, n]) => n > 0));
  }
  return j;
}

/**
 * The whole `link show` output: text blocks one after another, or with -j
 * one JSON array (`[ ]` when empty under -p) and a final newline, as
 * new_json_obj/delete_json_obj frame it.
 */
export function formatLinkShow(devs: readonly DeviceInfo[], o: ShowOptions): string {
  if (o.isJson) return `${formatJsonw(devs.map((d) => linkJson(d, o)), o.isPretty)}\n`;
  return devs.map((d) => formatLinkText(d, o)).join('');
}
