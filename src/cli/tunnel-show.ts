// `tunkit [-s] [-j [-p]] tunnel show` output, byte for byte as iproute2 6.1
// prints `ip tunnel show` for the same tunnels:
//
//   print_tunnel (ip/iptunnel.c)   "NAME: PROTO/ip remote A local A[ dev D] ttl T|inherit[ tos T]
//                                   [ nopmtudisc][ 6rd-prefix P/L][ key K | ikey K okey K]"
//     tnl_strproto (ip/tunnel.c)     ip | gre | ipv6 | mpls | any
//     tnl_print_gre_flags            the key words, then for GRE one line per flag:
//                                   "\n  Drop packets out of sequence." (iseq), …
//   tnl_print_stats (ip/tunnel.c)  -s in the listing: two fixed-width counter rows
//   print_nlmsg_tunnel             each listed tunnel ends with '\n'
//   do_tunnels_list                -j: one JSON array; the '\n' after each object is
//                                  written straight to stdout between the writer's items
//
// Only ARPHRD_TUNNEL, ARPHRD_IPGRE and ARPHRD_SIT devices are listed (ipip,
// gre, sit and their fallback devices tunl0, gre0, sit0), in dump (ifindex)
// order; gretap (ARPHRD_ETHER) and xfrm (ARPHRD_NONE) are not tunnels to ip
// tunnel. Every sit device reports the default 6rd prefix 2002::/16 that
// ipip6_tunnel_clone_6rd gives it (CONFIG_IPV6_SIT_6RD, as Debian builds it),
// which print_tunnel shows when the tunnel's protocol is IPv6.

import type { LinkRecord } from '../daemon/link-record.js';
import { TNL_CSUM, TNL_KEY, TNL_SEQ } from '../tunnel/types.js';
import { formatIp4, parseIp4 } from '../wire/addr.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_MPLS } from '../wire/ipproto.js';
import { formatJsonw } from './format.js';
import type { JsonObject, JsonValue, StatsRecord } from './format.js';
import type { TunnelParm } from './tunnel-args.js';
import { wordTable } from '../wire/table.js';

/** One tunnel as ip tunnel sees it: its ioctl parameters, and the link's counters for -s. */
export interface ShownTunnel {
  readonly parm: TunnelParm;
  /** The device answers SIOCGET6RD with a prefix (sit). */
  readonly has6rd: boolean;
  readonly stats: StatsRecord;
}

const PROTO_OF_MODE: Readonly<Record<string, number>> = wordTable({
  ipip: IPPROTO_IPIP, ip6ip: IPPROTO_IPV6, mplsip: IPPROTO_MPLS, any: 0,
});

const addrU32 = (a: string): number => (a === 'any' ? 0 : (parseIp4(a) ?? 0));

/**
 * A `link show` record as SIOCGETTUNNEL would return it, or null for devices
 * ip tunnel cannot query (gretap, xfrm: no ndo_siocdevprivate, EOPNOTSUPP).
 */
export function shownTunnel(r: LinkRecord): ShownTunnel | null {
  if (r.kind !== 'ipip' && r.kind !== 'gre' && r.kind !== 'sit') return null;
  const isGre = r.kind === 'gre';
  const proto = isGre ? IPPROTO_GRE : (PROTO_OF_MODE[r.mode ?? ''] ?? Number(r.mode));
  // ipip_tunnel_ctl / ipip6_tunnel_ctl never keep keys or GRE flags.
  const iflags = isGre ? (r.ikey !== null ? TNL_KEY : 0) | (r.iseq ? TNL_SEQ : 0) | (r.icsum ? TNL_CSUM : 0) : 0;
  const oflags = isGre ? (r.okey !== null ? TNL_KEY : 0) | (r.oseq ? TNL_SEQ : 0) | (r.ocsum ? TNL_CSUM : 0) : 0;
  return {
    parm: {
      name: r.name, proto, remote: addrU32(r.remote), local: addrU32(r.local), link: r.link ?? '',
      ttl: r.ttl, tos: r.tos, df: r.pmtudisc, iflags, oflags,
      ikey: isGre ? (r.ikey ?? 0) : 0, okey: isGre ? (r.okey ?? 0) : 0,
    },
    has6rd: r.kind === 'sit', stats: r.stats,
  };
}

/** ip/tunnel.c tnl_strproto(). */
export function tnlStrproto(proto: number): string {
  switch (proto) {
    case IPPROTO_IPIP: return 'ip';
    case IPPROTO_GRE: return 'gre';
    case IPPROTO_IPV6: return 'ipv6';
    case 50: return 'esp';
    case IPPROTO_MPLS: return 'mpls';
    case 0: return 'any';
    default: return 'unknown';
  }
}

/** etc/iproute2/rt_dsfield as rtnl_dsfield_n2a() names values; others print as 0x%02x. */
const DSFIELD_NAMES: Readonly<Record<number, string>> = {
  0x00: 'default', 0x28: 'AF11', 0x30: 'AF12', 0x38: 'AF13', 0x48: 'AF21', 0x50: 'AF22', 0x58: 'AF23',
  0x68: 'AF31', 0x70: 'AF32', 0x78: 'AF33', 0x88: 'AF41', 0x90: 'AF42', 0x98: 'AF43',
  0x20: 'CS1', 0x40: 'CS2', 0x60: 'CS3', 0x80: 'CS4', 0xa0: 'CS5', 0xc0: 'CS6', 0xe0: 'CS7', 0xb8: 'EF',
};
const dsfieldN2a = (v: number): string => DSFIELD_NAMES[v] ?? `0x${v.toString(16).padStart(2, '0')}`;

/** The prefix ipip6_tunnel_clone_6rd gives every sit device. */
const SIX_RD_PREFIX = '2002::';
const SIX_RD_PREFIXLEN = 16;

/** [json key, json value or undefined (text only), text] per item, in print_tunnel's order. */
type Item = readonly [string, JsonValue | undefined, string];

function items(t: ShownTunnel): Item[] {
  const p = t.parm;
  const out: Item[] = [
    ['ifname', p.name, `${p.name}: `],
    ['mode', `${tnlStrproto(p.proto)}/ip`, `${tnlStrproto(p.proto)}/ip `],
    // format_host / rt_addr_n2a print 0.0.0.0 in JSON, the text says "any".
    ['remote', formatIp4(p.remote), `remote ${p.remote !== 0 ? formatIp4(p.remote) : 'any'} `],
    ['local', formatIp4(p.local), `local ${p.local !== 0 ? formatIp4(p.local) : 'any'}`],
  ];
  if (p.link !== '') out.push(['dev', p.link, ` dev ${p.link}`]);
  out.push(p.ttl !== 0 ? ['ttl', p.ttl, ` ttl ${p.ttl}`] : ['ttl', undefined, ' ttl inherit']);
  if (p.tos === 1) out.push(['tos', undefined, ' tos inherit']);
  else if (p.tos !== 0) {
    const text = (p.tos & 1) !== 0 ? `inherit/${dsfieldN2a(p.tos & ~1)}` : dsfieldN2a(p.tos);
    out.push(['tos', dsfieldN2a(p.tos), ` tos ${text}`]);
  }
  if (!p.df) out.push(['nopmtudisc', null, ' nopmtudisc']);
  if (p.proto === IPPROTO_IPV6 && t.has6rd) {
    out.push(['6rd-prefix', SIX_RD_PREFIX, ` 6rd-prefix ${SIX_RD_PREFIX}`], ['6rd-prefixlen', SIX_RD_PREFIXLEN, `/${SIX_RD_PREFIXLEN}`]);
  }
  out.push(...greFlags(p));
  return out;
}

/** ip/tunnel.c tnl_print_gre_flags(). */
function greFlags(p: TunnelParm): Item[] {
  const out: Item[] = [];
  const hasIkey = (p.iflags & TNL_KEY) !== 0;
  const hasOkey = (p.oflags & TNL_KEY) !== 0;
  if (hasIkey && hasOkey && p.ikey === p.okey) out.push(['key', p.ikey, ` key ${p.ikey}`]);
  else {
    if (hasIkey) out.push(['ikey', p.ikey, ` ikey ${p.ikey}`]);
    if (hasOkey) out.push(['okey', p.okey, ` okey ${p.okey}`]);
  }
  if (p.proto !== IPPROTO_GRE) return out;
  const flags: string[] = [];
  let text = '';
  if ((p.iflags & TNL_SEQ) !== 0) { flags.push('rx_drop_ooseq'); text += '\n  Drop packets out of sequence.'; }
  if ((p.iflags & TNL_CSUM) !== 0) { flags.push('rx_csum'); text += '\n  Checksum in received packet is required.'; }
  if ((p.oflags & TNL_SEQ) !== 0) { flags.push('tx_seq'); text += '\n  Sequence packets on output.'; }
  if ((p.oflags & TNL_CSUM) !== 0) { flags.push('tx_csum'); text += '\n  Checksum output packets.'; }
  out.push(['flags', flags, text]);
  return out;
}

/** print_tunnel() in text mode, without the final newline. */
export function formatTunnel(t: ShownTunnel): string {
  return items(t).map(([, , text]) => text).join('');
}

/** print_tunnel() in JSON mode: the object's members in print order. */
export function tunnelJson(t: ShownTunnel): JsonObject {
  const o: Record<string, JsonValue> = {};
  for (const [k, v] of items(t)) if (v !== undefined) o[k] = v;
  return o;
}

/** ip/tunnel.c tnl_print_stats(): printf's %-Nlld left-aligned columns. */
export function formatTunnelStats(s: StatsRecord): string {
  const col = (v: number, w: number): string => String(v).padEnd(w);
  return '\nRX: Packets    Bytes        Errors CsumErrs OutOfSeq Mcasts\n'
    + `    ${col(s.rx_packets, 10)} ${col(s.rx_bytes, 12)} ${col(s.rx_errors, 6)} ${col(s.rx_frame_errors, 8)} `
    + `${col(s.rx_fifo_errors, 8)} ${col(s.multicast, 8)}\n`
    + 'TX: Packets    Bytes        Errors DeadLoop NoRoute  NoBufs\n'
    + `    ${col(s.tx_packets, 10)} ${col(s.tx_bytes, 12)} ${col(s.tx_errors, 6)} ${col(s.collisions, 8)} `
    + `${col(s.tx_carrier_errors, 8)} ${col(s.tx_dropped, 6)}`;
}

/**
 * do_tunnels_list(): every tunnel, each followed by '\n' (-s: its counters
 * first, text only, as JSON has no place for tnl_print_stats' printf). With
 * -j the JSON array that interleaving gives: `[{…}\n,{…}\n]\n`.
 */
export function formatTunnelList(ts: readonly ShownTunnel[], o: { statsLevel: number; isJson: boolean; isPretty: boolean }): string {
  if (o.isJson) {
    const sp = o.isPretty ? ' ' : '';
    const body = ts.map((t) => `${formatJsonw(tunnelJson(t), o.isPretty, 1)}\n`).join(',');
    return `[${sp}${body}${ts.length > 0 ? sp : ''}]\n`;
  }
  return ts.map((t) => `${formatTunnel(t)}${o.statsLevel > 0 ? formatTunnelStats(t.stats) : ''}\n`).join('');
}

/** ip_tunnel_parm_match(): the filters `show` takes in a listing (zero/empty = any). */
export function matchTunnel(f: TunnelParm, p: TunnelParm): boolean {
  return (f.link === '' || f.link === p.link) && (f.name === '' || f.name === p.name)
    && (f.remote === 0 || f.remote === p.remote) && (f.local === 0 || f.local === p.local)
    && (f.ikey === 0 || f.ikey === p.ikey);
}
