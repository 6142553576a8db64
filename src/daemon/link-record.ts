// The JSON the daemon returns for `link show`: everything `ip -d -s link`
// prints for a tunnel, in plain fields (the CLI formats it).

import { formatIp4 } from '../wire/addr.js';
import { dropName, DROP_CODES } from '../wire/drop.js';
import type { LinkStatName } from '../tunnel/stats.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { KIND_NAMES, TNL_CSUM, TNL_KEY, TNL_SEQ } from '../tunnel/types.js';

export interface LinkRecord {
  ifindex: number;
  name: string;
  kind: string;
  mtu: number;
  isUp: boolean;
  mac: string | null;
  /** Underlay device name the tunnel is bound to ("dev PHYS"), or null. */
  link: string | null;
  local: string;
  remote: string;
  ttl: number;
  tos: number;
  pmtudisc: boolean;
  ignoreDf: boolean;
  ikey: number | null;
  okey: number | null;
  iseq: boolean;
  oseq: boolean;
  icsum: boolean;
  ocsum: boolean;
  /** sit/ipip mode name ("ip6ip", "ipip", "any", …), null for gre. */
  mode: string | null;
  /** Learnt path MTU of the underlay route (0 if none). */
  pmtu: number;
  stats: Record<LinkStatName, number>;
  drops: Record<string, number>;
  /** xfrm interfaces only: IFLA_XFRM_IF_ID, addrgenmode, and the MTU bounds ip -d prints. */
  ifId?: number;
  /** 'none': no inet6_dev (a tunl0/gre0 fallback never brought up); see fallbackAddrGenMode. */
  addrGenMode?: 'eui64' | 'random' | 'none';
  minMtu?: number;
  maxMtu?: number;
}

const MODES: Record<number, string> = { 41: 'ip6ip', 4: 'ipip', 137: 'mplsip', 0: 'any' };

/** A record for `t`, whose device is `ifindex`/`mac`, bound to underlay `link` (name or null). */
export function linkRecord(t: Tunnel, ifindex: number, mac: string | null, link: string | null, isUp: boolean, nowMs: number): LinkRecord {
  const p = t.p;
  const drops: Record<string, number> = {};
  for (const c of DROP_CODES) {
    const n = t.stats.drops[c] ?? 0;
    if (n > 0) drops[dropName(c)] = n;
  }
  return {
    ifindex, name: t.name, kind: KIND_NAMES[t.kind], mtu: t.mtu, isUp, mac, link,
    local: p.local === 0 ? 'any' : formatIp4(p.local),
    remote: p.remote === 0 ? 'any' : formatIp4(p.remote),
    ttl: p.ttl, tos: p.tos, pmtudisc: p.df, ignoreDf: p.ignoreDf,
    ikey: (p.iflags & TNL_KEY) !== 0 ? p.ikey : null,
    okey: (p.oflags & TNL_KEY) !== 0 ? p.okey : null,
    iseq: (p.iflags & TNL_SEQ) !== 0, oseq: (p.oflags & TNL_SEQ) !== 0,
    icsum: (p.iflags & TNL_CSUM) !== 0, ocsum: (p.oflags & TNL_CSUM) !== 0,
    mode: t.isGre ? null : (MODES[p.proto] ?? String(p.proto)),
    pmtu: t.learntPmtu(nowMs),
    stats: t.stats.snapshot(),
    drops,
  };
}

/**
 * addrgenmode of a fallback device. ip_tunnel_init_net registers tunl0/gre0
 * with dev->mtu still 0 (ip_tunnel_setup sets none; the bound MTU is assigned
 * after register_netdev), so addrconf_notify(NETDEV_REGISTER) skips
 * ipv6_add_dev (mtu < IPV6_MIN_MTU) and the device reports no inet6 until
 * NETDEV_UP adds one. sit0 (ipip6_tunnel_setup) and gretap0 (ether_setup)
 * have an MTU at register time and so an inet6_dev from the start.
 */
export function fallbackAddrGenMode(kind: string, hasBeenUp: boolean): 'eui64' | 'none' {
  return (kind === 'ipip' || kind === 'gre') && !hasBeenUp ? 'none' : 'eui64';
}
