// `tunkit tunnel show` against iproute2 6.1's ip/iptunnel.c print_tunnel,
// ip/tunnel.c tnl_print_gre_flags / tnl_print_stats / do_tunnels_list: the
// expected strings are written out from those functions' format strings
// (" ttl %u", " key %u", "%s  Drop packets out of sequence.", "%-10lld " …),
// one case per branch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkRecord } from '../../src/daemon/link-record.js';
import { LINK_STAT_NAMES } from '../../src/tunnel/stats.js';
import type { LinkStatName } from '../../src/tunnel/stats.js';
import { formatTunnel, formatTunnelList, shownTunnel, tnlStrproto } from '../../src/cli/tunnel-show.js';
import type { ShownTunnel } from '../../src/cli/tunnel-show.js';

const ZERO = Object.fromEntries(LINK_STAT_NAMES.map((k) => [k, 0])) as Record<LinkStatName, number>;

/** A `link show` record with tunkit's defaults for what a case does not set. */
export function rec(over: Partial<LinkRecord> & Pick<LinkRecord, 'name' | 'kind'>): LinkRecord {
  return {
    ifindex: 5, mtu: 1476, isUp: false, mac: null, link: null, local: 'any', remote: 'any', ttl: 0, tos: 0,
    pmtudisc: true, ignoreDf: false, ikey: null, okey: null, iseq: false, oseq: false, icsum: false, ocsum: false,
    mode: over.kind === 'gre' ? null : 'any', pmtu: 0, stats: ZERO, drops: {}, ...over,
  };
}

const shown = (r: LinkRecord): ShownTunnel => {
  const t = shownTunnel(r);
  assert.ok(t !== null, `${r.kind} is an ip tunnel`);
  return t;
};

const GOLDEN: readonly (readonly [string, LinkRecord, string])[] = [
  ['gre, same key both ways: " key %u" in decimal',
    rec({ name: 'gre1', kind: 'gre', remote: '203.0.113.2', local: '203.0.113.1', ikey: 5, okey: 5 }),
    'gre1: gre/ip remote 203.0.113.2 local 203.0.113.1 ttl inherit key 5'],
  ['the gre fallback device: no addresses, no DF',
    rec({ name: 'gre0', kind: 'gre', pmtudisc: false, ifindex: 0 }),
    'gre0: gre/ip remote any local any ttl inherit nopmtudisc'],
  ['gre: ikey/okey differ (dotted quad key printed as its u32), dev, ttl, tos, then one line per flag',
    rec({ name: 'gre2', kind: 'gre', remote: '203.0.113.3', local: '203.0.113.1', link: 'eth0', ttl: 64, tos: 0x10,
      ikey: 0x01020304, okey: 7, iseq: true, icsum: true, oseq: true, ocsum: true }),
    'gre2: gre/ip remote 203.0.113.3 local 203.0.113.1 dev eth0 ttl 64 tos 0x10 ikey 16909060 okey 7'
    + '\n  Drop packets out of sequence.\n  Checksum in received packet is required.'
    + '\n  Sequence packets on output.\n  Checksum output packets.'],
  ['gre: only okey, only the output flags',
    rec({ name: 'gre3', kind: 'gre', remote: '192.0.2.4', okey: 9, oseq: true }),
    'gre3: gre/ip remote 192.0.2.4 local any ttl inherit okey 9\n  Sequence packets on output.'],
  ['ipip mode ipip: tos inherit, a ttl',
    rec({ name: 'ipip1', kind: 'ipip', mode: 'ipip', remote: '198.51.100.2', local: '198.51.100.1', ttl: 10, tos: 1 }),
    'ipip1: ip/ip remote 198.51.100.2 local 198.51.100.1 ttl 10 tos inherit'],
  ['ipip mode any, nopmtudisc; a DS name from rt_dsfield',
    rec({ name: 'ipip2', kind: 'ipip', mode: 'any', remote: '198.51.100.3', pmtudisc: false, tos: 0x28 }),
    'ipip2: any/ip remote 198.51.100.3 local any ttl inherit tos AF11 nopmtudisc'],
  ['ipip mode mplsip; tos inherit with a fallback value ("inherit/NAME")',
    rec({ name: 'ipip3', kind: 'ipip', mode: 'mplsip', remote: '198.51.100.4', tos: 0x29 }),
    'ipip3: mpls/ip remote 198.51.100.4 local any ttl inherit tos inherit/AF11'],
  ['sit (ip6ip): the default 6rd prefix every sit device has',
    rec({ name: 'sit1', kind: 'sit', mode: 'ip6ip', remote: '192.0.2.2', local: '192.0.2.1' }),
    'sit1: ipv6/ip remote 192.0.2.2 local 192.0.2.1 ttl inherit 6rd-prefix 2002::/16'],
  ['sit0, the fallback: ttl 64, nopmtudisc',
    rec({ name: 'sit0', kind: 'sit', mode: 'ip6ip', ttl: 64, pmtudisc: false, ifindex: 0 }),
    'sit0: ipv6/ip remote any local any ttl 64 nopmtudisc 6rd-prefix 2002::/16'],
  ['sit mode any: no 6rd (print_tunnel asks only for protocol IPv6)',
    rec({ name: 'sit2', kind: 'sit', mode: 'any', remote: '192.0.2.3' }),
    'sit2: any/ip remote 192.0.2.3 local any ttl inherit'],
  ['sit mode ipip',
    rec({ name: 'sit3', kind: 'sit', mode: 'ipip', remote: '192.0.2.5', tos: 0xb8 }),
    'sit3: ip/ip remote 192.0.2.5 local any ttl inherit tos EF'],
];

for (const [name, r, want] of GOLDEN) {
  test(`print_tunnel: ${name}`, () => assert.equal(formatTunnel(shown(r)), want));
}

test('tnl_strproto: every protocol name', () => {
  assert.deepEqual([4, 47, 41, 50, 137, 0, 99].map(tnlStrproto), ['ip', 'gre', 'ipv6', 'esp', 'mpls', 'any', 'unknown']);
});

test('gretap and xfrm devices are not ip tunnels (ARPHRD_ETHER, ARPHRD_NONE)', () => {
  assert.equal(shownTunnel(rec({ name: 'gt1', kind: 'gretap' })), null);
  assert.equal(shownTunnel(rec({ name: 'xfrm1', kind: 'xfrm' })), null);
});

test('listing: each tunnel then "\\n"; -s adds tnl_print_stats rows (left-aligned, fixed widths)', () => {
  const a = shown(GOLDEN[0]![1]);
  const stats = { ...ZERO, rx_packets: 12, rx_bytes: 1008, rx_errors: 1, rx_frame_errors: 2, rx_fifo_errors: 3, multicast: 4,
    tx_packets: 11, tx_bytes: 924, tx_errors: 5, collisions: 6, tx_carrier_errors: 7, tx_dropped: 8 };
  const b = { ...shown(GOLDEN[4]![1]), stats };
  const o = { statsLevel: 0, isJson: false, isPretty: false };
  assert.equal(formatTunnelList([a, b], o), `${GOLDEN[0]![2]}\n${GOLDEN[4]![2]}\n`);
  assert.equal(formatTunnelList([], o), '');
  assert.equal(formatTunnelList([b], { ...o, statsLevel: 1 }), `${GOLDEN[4]![2]}
RX: Packets    Bytes        Errors CsumErrs OutOfSeq Mcasts
    12         1008         1      2        3        4       
TX: Packets    Bytes        Errors DeadLoop NoRoute  NoBufs
    11         924          5      6        7        8     
`);
});

test('listing -j: the object per tunnel, the raw "\\n" print_nlmsg_tunnel writes after each, 0.0.0.0 for any', () => {
  const o = { statsLevel: 1, isJson: true, isPretty: false };
  const ts = [shown(GOLDEN[1]![1]), shown(GOLDEN[2]![1]), shown(GOLDEN[4]![1]), shown(GOLDEN[7]![1])];
  assert.equal(formatTunnelList(ts, o), '['
    + '{"ifname":"gre0","mode":"gre/ip","remote":"0.0.0.0","local":"0.0.0.0","nopmtudisc":null,"flags":[]}\n'
    + ',{"ifname":"gre2","mode":"gre/ip","remote":"203.0.113.3","local":"203.0.113.1","dev":"eth0","ttl":64,"tos":"0x10",'
    + '"ikey":16909060,"okey":7,"flags":["rx_drop_ooseq","rx_csum","tx_seq","tx_csum"]}\n'
    + ',{"ifname":"ipip1","mode":"ip/ip","remote":"198.51.100.2","local":"198.51.100.1","ttl":10}\n'
    + ',{"ifname":"sit1","mode":"ipv6/ip","remote":"192.0.2.2","local":"192.0.2.1","6rd-prefix":"2002::","6rd-prefixlen":16}\n'
    + ']\n');
  assert.equal(formatTunnelList([], o), '[]\n');
  assert.equal(formatTunnelList([], { ...o, isPretty: true }), '[ ]\n');
  assert.equal(formatTunnelList([shown(GOLDEN[0]![1])], { ...o, isPretty: true }), '[ {\n'
    + '        "ifname": "gre1",\n        "mode": "gre/ip",\n        "remote": "203.0.113.2",\n'
    + '        "local": "203.0.113.1",\n        "key": 5,\n        "flags": [ ]\n    }\n ]\n');
});
