// Tunnel types, validated parameters and header-size constants.
// Mirrors struct ip_tunnel_parm_kern (include/net/ip_tunnels.h) plus the
// netlink-only knobs (pmtudisc, ignore_df). Addresses are u32 numbers; 0 is
// "any" exactly as in the kernel's parms.iph.saddr/daddr.

/** Tunnel kinds with numeric codes (compared on the hot path). */
export const TunnelKind = { Ipip: 1, Gre: 2, Gretap: 3, Sit: 4 } as const;
export type TunnelKind = (typeof TunnelKind)[keyof typeof TunnelKind];

export const KIND_NAMES: Readonly<Record<TunnelKind, string>> = {
  [TunnelKind.Ipip]: 'ipip',
  [TunnelKind.Gre]: 'gre',
  [TunnelKind.Gretap]: 'gretap',
  [TunnelKind.Sit]: 'sit',
};

/** Fallback device names per kind (ip_tunnel_init_net / sit_init_net). */
export const FALLBACK_NAMES: Readonly<Record<TunnelKind, string>> = {
  [TunnelKind.Ipip]: 'tunl0',
  [TunnelKind.Gre]: 'gre0',
  [TunnelKind.Gretap]: 'gretap0',
  [TunnelKind.Sit]: 'sit0',
};

/** GRE flag bits as carried in i_flags/o_flags (the GRE header's first-word bits). */
export const TNL_CSUM = 0x8000;
export const TNL_KEY = 0x2000;
export const TNL_SEQ = 0x1000;

/** Outer IPv4 header without options (iptunnel_xmit builds exactly this). */
export const OUTER_IP4_LEN = 20;
/** ETH_HLEN: the hard_header_len of a gretap (ARPHRD_ETHER) device. */
export const ETH_HLEN = 14;
/** ETH_DATA_LEN: MTU assumed for the underlay when none is known (ip_tunnel_bind_dev). */
export const ETH_DATA_LEN = 1500;
/** ETH_MIN_MTU / IPV4_MIN_MTU (include/net/ip.h, if_ether.h). */
export const MIN_MTU = 68;
/**
 * IP_MAX_MTU (include/net/ip.h) = 0xFFFF, the bound of __ip_tunnel_change_mtu
 * and ip_tunnel_bind_dev. Measured on Linux 6.1: the largest MTUs accepted are
 * ipip 65515, gre key+seq+csum 65499, gretap 65497 (= 65535 − 20 − hlen − hh).
 */
export const IP_MAX_MTU = 0xffff;
/** IPV6_MIN_MTU: sit clamps its device MTU to at least this (ipip6_tunnel_bind_dev). */
export const IPV6_MIN_MTU = 1280;
/** IP6_MAX_MTU = 0xFFFF + sizeof(ipv6hdr) (include/net/ipv6.h): sit's max_mtu base. */
export const IP6_MAX_MTU = 0xffff + 40;
/** ip_rt_min_pmtu (net/ipv4/route.c): a learnt PMTU below this is clamped and locked (DF off). */
export const IP_RT_MIN_PMTU = 552;
/** ip_rt_mtu_expires: learnt PMTU entries expire after 10 minutes (ms). */
export const PMTU_EXPIRES_MS = 600_000;
/** IPTUNNEL_ERR_TIMEO = 30 * HZ (include/net/ip_tunnels.h), in ms. */
export const IPTUNNEL_ERR_TIMEO_MS = 30_000;
/** sysctl_ip_default_ttl: TTL of locally generated packets (ICMP errors, ttl-inherit of non-IP). */
export const IP_DEFAULT_TTL = 64;

/**
 * Validated tunnel parameters (what `ip link add … type K …` leaves in the
 * kernel after its netlink validation). Immutable; a change makes a new one.
 */
export interface TunnelParams {
  readonly name: string;
  readonly kind: TunnelKind;
  /** Local outer address (u32), 0 = any. */
  readonly local: number;
  /** Remote outer address (u32), 0 = any (NBMA). */
  readonly remote: number;
  /** ifindex of the underlay device the tunnel is bound to ("dev PHYS"), 0 = any. */
  readonly link: number;
  /** Outer TTL; 0 = inherit from the inner packet. */
  readonly ttl: number;
  /** Outer TOS; bit 0 set (value 1) = inherit the inner DS field. */
  readonly tos: number;
  /** IP_DF in parms.iph.frag_off: pmtudisc, or forced by a non-zero ttl. */
  readonly df: boolean;
  /** gre/gretap ignore_df: never copy the inner DF (requires !df). */
  readonly ignoreDf: boolean;
  /** Receive/transmit GRE flags (TNL_CSUM|TNL_KEY|TNL_SEQ); 0 for ipip/sit. */
  readonly iflags: number;
  readonly oflags: number;
  /** Keys (u32), meaningful only when TNL_KEY is in the matching flags (else 0). */
  readonly ikey: number;
  readonly okey: number;
  /** parms.iph.protocol: ipip 4 (IPPROTO_IPIP) or 0 (any); sit 41 (ip6ip), 4 (ipip) or 0 (any); gre 47. */
  readonly proto: number;
  /** Explicit device MTU, or 0 for the kernel default from the underlay. */
  readonly mtu: number;
}
