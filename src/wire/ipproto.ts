// IP protocol numbers (IPv4 Protocol field, IPv6 Next Header field) and the
// two-bit ECN codepoints of the IPv4 TOS / IPv6 Traffic Class byte.
//
// Sources: IANA "Assigned Internet Protocol Numbers" registry and
// include/uapi/linux/in.h (IPPROTO_*), include/net/ipv6.h (NEXTHDR_*);
// ECN codepoints from RFC 3168 §5 and include/net/inet_ecn.h (INET_ECN_*).
//
//   TOS / Traffic Class byte (RFC 2474 §3, RFC 3168 §5):
//     0   1   2   3   4   5   6   7
//   +---+---+---+---+---+---+---+---+
//   |         DSCP          |  ECN  |
//   +---+---+---+---+---+---+---+---+

/** IPv6 Hop-by-Hop Options (RFC 8200 §4.3); only valid right after the IPv6 header. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
/** IPv4-in-IP encapsulation (RFC 2003): ipip and sit "any/ipip" mode. */
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** IPv6 encapsulation (RFC 4213 6in4 / sit, RFC 2473 ip6ip6). */
export const IPPROTO_IPV6 = 41;
/** IPv6 Routing header (RFC 8200 §4.4). */
export const IPPROTO_ROUTING = 43;
/** IPv6 Fragment header (RFC 8200 §4.5). */
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
/** Authentication Header (RFC 4302); length unit is 4 bytes, not 8. */
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
/** IPv6 No Next Header (RFC 8200 §4.7). */
export const IPPROTO_NONE = 59;
/** IPv6 Destination Options (RFC 8200 §4.6). */
export const IPPROTO_DSTOPTS = 60;
/** IPv6 Mobility header (RFC 6275 §6.1). */
export const IPPROTO_MH = 135;
/** MPLS-in-IP (RFC 4023). */
export const IPPROTO_MPLS = 137;
/** Host Identity Protocol (RFC 7401 §5.1); an IPv6 extension header (IANA). */
export const IPPROTO_HIP = 139;
/** Shim6 (RFC 5533 §5); an IPv6 extension header (IANA). */
export const IPPROTO_SHIM6 = 140;

/** ECN codepoints (RFC 3168 §5; include/net/inet_ecn.h). */
export const INET_ECN_NOT_ECT = 0;
export const INET_ECN_ECT_1 = 1;
export const INET_ECN_ECT_0 = 2;
export const INET_ECN_CE = 3;
export const INET_ECN_MASK = 3;
