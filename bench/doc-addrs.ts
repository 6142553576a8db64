// Addresses for the scale benches (scale.bench.ts, control.bench.ts), from
// the documentation ranges only: 192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849). The benches need
// up to 10,000 distinct sites and peers; IPv4 documentation space holds 768
// addresses, so:
//   peers  outer IPv4 addresses cycle through the hosts .1–.254 of the three
//          /24s, less HUB and LOCAL: PEER_COUNT (760) of them, peer(i) =
//          peer(i + PEER_COUNT). Whatever else keys a tunnel or SA (GRE key,
//          SPI, reqid) stays distinct per i, so the tables stay keyed one
//          object per i.
//   sites  inner IPv6 prefixes, one /64 per site: 2001:db8:HI:LO::/64 with
//          HI = i >> 8 and LO = i & 255 (a 16-bit group each). The hub's
//          own prefix HUB_NET, 2001:db8:ffff::/48, is outside every site
//          (HI stays below 0xffff for any i < 2^24).

/** The hub's outer address. */
export const HUB = '198.51.100.1';
/** The receiver's outer address in the tunnel benches. */
export const LOCAL = '192.0.2.1';

const PEERS: readonly string[] = ['192.0.2', '198.51.100', '203.0.113']
  .flatMap((net) => Array.from({ length: 254 }, (_, h) => `${net}.${h + 1}`))
  .filter((a) => a !== HUB && a !== LOCAL);
export const PEER_COUNT = PEERS.length;

/** Site i's outer (IPv4) address: the documentation hosts in turn, repeating every PEER_COUNT sites. */
export const peer = (i: number): string => PEERS[i % PEER_COUNT]!;

const siteNet = (i: number): string => `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}`;
/** Site i's inner prefix, 2001:db8:HI:LO::/64. */
export const site = (i: number): string => `${siteNet(i)}::/64`;
/** Host `h` of site i's prefix. */
export const siteHost = (i: number, h = 1): string => `${siteNet(i)}::${h.toString(16)}`;

/** The hub's inner prefix and one host in it. */
export const HUB_NET = '2001:db8:ffff::/48';
export const HUB_HOST = '2001:db8:ffff::1';
