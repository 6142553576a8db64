// `link show` output (src/cli/link-show.ts) against a real Linux 6.1 /
// iproute2 6.1 `ip -d -s link show ipip1` and the print_* functions of
// ip/ipaddress.c, ip/link_iptnl.c and ip/link_gre.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StatusError } from '../../src/cli/args.js';
import {
  deviceKindOf, deviceParamsOf, formatLinkShow, formatLinkText, linkJson, selectDevices,
} from '../../src/cli/link-show.js';
import type { DeviceInfo, DeviceKind, DeviceParams, ShowOptions } from '../../src/cli/link-show.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { LINK_STAT_NAMES } from '../../src/tunnel/stats.js';
import type { LinkStatName } from '../../src/tunnel/stats.js';

const R = '198.51.100.1';
const L = '198.51.100.2';

const zeroStats = (): Record<LinkStatName, number> => {
  const s = {} as Record<LinkStatName, number>;
  for (const k of LINK_STAT_NAMES) s[k] = 0;
  return s;
};
const PARAMS: DeviceParams = {
  local: L, remote: R, ttl: 0, tos: 0, pmtudisc: true, ignoreDf: false, hasIkey: false, hasOkey: false,
  ikey: 0, okey: 0, iseq: false, oseq: false, icsum: false, ocsum: false, mode: 'any',
};
/** The reference device: `ip link add ipip1 type ipip remote 198.51.100.1 local 198.51.100.2`, ifindex 10. */
const IPIP1: DeviceInfo = {
  ifindex: 10, name: 'ipip1', kind: 'ipip', mtu: 1480, isUp: true, hasCarrier: true, params: PARAMS,
  stats: { ...zeroStats(), rx_bytes: 94, rx_packets: 2, tx_bytes: 262, tx_packets: 4 }, drops: {},
};
const opts = (o: Partial<ShowOptions> = {}): ShowOptions =>
  ({ statsLevel: 0, hasDetails: false, isJson: false, isPretty: false, ...o });
const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;

const L1 = '10: ipip1@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000';
const L2 = '    link/ipip 198.51.100.2 peer 198.51.100.1';
const L2_D = '    link/ipip 198.51.100.2 peer 198.51.100.1 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 ';
const L3_D = '    ipip any remote 198.51.100.1 local 198.51.100.2 ttl inherit pmtudisc addrgenmode eui64 numtxqueues 1 '
  + 'numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ';
const RX = [
  '    RX:  bytes packets errors dropped  missed   mcast           ',
  '            94       2      0       0       0       0 ',
];
const TX = [
  '    TX:  bytes packets errors dropped carrier collsns           ',
  '           262       4      0       0       0       0 ',
];

test('reference: ip -d -s link show ipip1 (Linux 6.1, iproute2 6.1), byte for byte', () => {
  assert.equal(formatLinkShow([IPIP1], opts({ hasDetails: true, statsLevel: 1 })), lines(L1, L2_D, L3_D, ...RX, ...TX));
});

test('ip -s link show: the same without the detail line and tail', () => {
  assert.equal(formatLinkShow([IPIP1], opts({ statsLevel: 1 })), lines(L1, L2, ...RX, ...TX));
});

test('ip link show and ip -d link show', () => {
  assert.equal(formatLinkShow([IPIP1], opts()), lines(L1, L2));
  assert.equal(formatLinkShow([IPIP1], opts({ hasDetails: true })), lines(L1, L2_D, L3_D));
  assert.equal(formatLinkShow([IPIP1, { ...IPIP1, ifindex: 11 }], opts()), lines(L1, L2, L1.replace('10:', '11:'), L2));
  assert.equal(formatLinkShow([], opts()), '');
});

test('ip -s -s: the RX/TX error rows of print_stats64, with the transns column', () => {
  assert.equal(formatLinkShow([IPIP1], opts({ statsLevel: 2 })), lines(L1, L2, ...RX,
    '    RX errors:  length    crc   frame    fifo overrun',
    '                     0      0       0       0       0 ',
    ...TX,
    '    TX errors: aborted   fifo  window heartbt transns',
    '                     0      0       0       0       0 '));
  assert.equal(formatLinkShow([IPIP1], opts({ statsLevel: 3 })), formatLinkShow([IPIP1], opts({ statsLevel: 2 })));
});

test('print_stats64: size_columns widens columns (and sizes TX errors one column right, as iproute2 does)', () => {
  const d: DeviceInfo = {
    ...IPIP1, carrierChanges: 2,
    stats: { ...zeroStats(), rx_bytes: 12345678901, rx_crc_errors: 1234567, tx_packets: 98765432, tx_heartbeat_errors: 123456789 },
  };
  assert.equal(formatLinkShow([d], opts({ statsLevel: 2 })), lines(L1, L2,
    '    RX:   bytes  packets  errors dropped  missed     mcast           ',
    '    12345678901        0       0       0       0         0 ',
    '    RX errors:    length     crc   frame    fifo   overrun',
    '                       0 1234567       0       0         0 ',
    '    TX:   bytes  packets  errors dropped carrier   collsns           ',
    '              0 98765432       0       0       0         0 ',
    '    TX errors:   aborted    fifo  window heartbt   transns',
    '                       0       0       0 123456789         2 '));
});

test('tunkit drops: one line after the counters, only with -s and only non-zero, in Drop order', () => {
  const d: DeviceInfo = { ...IPIP1, drops: { SeqOutOfOrder: 2, NoTunnel: 0, Truncated: 5, Custom: 1 } };
  assert.equal(formatLinkShow([d], opts({ statsLevel: 1 })), lines(L1, L2, ...RX, ...TX,
    '    tunkit drops: Truncated 5, SeqOutOfOrder 2, Custom 1'));
  assert.equal(formatLinkShow([d], opts()), lines(L1, L2));
  assert.equal(formatLinkShow([{ ...IPIP1, drops: { NoTunnel: 0 } }], opts({ statsLevel: 1 })), lines(L1, L2, ...RX, ...TX));
});

test('flags and state: down (qdisc noop), up without carrier (NO-CARRIER), no remote (no POINTOPOINT)', () => {
  assert.equal(formatLinkText({ ...IPIP1, isUp: false }, opts()).split('\n')[0],
    '10: ipip1@NONE: <POINTOPOINT,NOARP> mtu 1480 qdisc noop state DOWN mode DEFAULT group default qlen 1000');
  assert.equal(formatLinkText({ ...IPIP1, hasCarrier: false }, opts()).split('\n')[0],
    '10: ipip1@NONE: <NO-CARRIER,POINTOPOINT,NOARP,UP> mtu 1480 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000');
  const anyRemote = formatLinkText({ ...IPIP1, params: { ...PARAMS, remote: 'any', local: 'any' } }, opts({ hasDetails: true }));
  assert.equal(anyRemote.split('\n')[0], '10: ipip1@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000');
  assert.ok(anyRemote.split('\n')[1]!.startsWith('    link/ipip 0.0.0.0 brd 0.0.0.0 promiscuity'));
  assert.ok(anyRemote.split('\n')[2]!.startsWith('    ipip any remote any local any ttl inherit pmtudisc addrgenmode'));
  assert.equal(formatLinkText({ ...IPIP1, txqlen: 0, qdisc: 'fq_codel' }, opts()).split('\n')[0],
    '10: ipip1@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 qdisc fq_codel state UNKNOWN mode DEFAULT group default ');
});

const GRE1: DeviceInfo = {
  ...IPIP1, ifindex: 11, name: 'gre1', kind: 'gre', mtu: 1468,
  params: {
    ...PARAMS, mode: undefined, link: 'eth0', ttl: 64, tos: 0x10, hasIkey: true, hasOkey: true, ikey: 9, okey: 0x01020304,
    iseq: true, oseq: true, icsum: true, ocsum: true,
  },
};

test('gre (gre_print_opt): dev, ttl N, tos 0x…, keys as dotted quads, flags; pmtudisc is JSON-only', () => {
  const t = formatLinkText(GRE1, opts({ hasDetails: true })).split('\n');
  assert.equal(t[0], '11: gre1@eth0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1468 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000');
  assert.equal(t[1], '    link/gre 198.51.100.2 peer 198.51.100.1 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 ');
  assert.ok(t[2]!.startsWith('    gre remote 198.51.100.1 local 198.51.100.2 dev eth0 ttl 64 tos 0x10 '
    + 'ikey 0.0.0.9 okey 1.2.3.4 iseq oseq icsum ocsum addrgenmode eui64 numtxqueues 1 '), t[2]);
  const off = formatLinkText({ ...GRE1, params: { ...GRE1.params, ttl: 0, tos: 1, pmtudisc: false, ignoreDf: true } },
    opts({ hasDetails: true })).split('\n')[2];
  assert.ok(off!.startsWith('    gre remote 198.51.100.1 local 198.51.100.2 dev eth0 ttl inherit tos inherit nopmtudisc ignore-df ikey'), off);
});

test('gre with a multicast remote: BROADCAST|POINTOPOINT, no NOARP (ipgre_tunnel_init + ip_tunnel_bind_dev)', () => {
  const d: DeviceInfo = { ...GRE1, params: { ...GRE1.params, remote: '239.1.1.1', link: undefined } };
  assert.equal(formatLinkText(d, opts()),
    lines('11: gre1@NONE: <BROADCAST,POINTOPOINT,UP,LOWER_UP> mtu 1468 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
      '    link/gre 198.51.100.2 peer 239.1.1.1'));
});

const TAP1: DeviceInfo = { ...GRE1, ifindex: 12, name: 'tap1', kind: 'gretap', mtu: 1462, mac: '02:00:5e:00:53:01', params: { ...PARAMS, mode: undefined } };

test('gretap: ether_setup flags, link/ether MAC brd ff:ff:ff:ff:ff:ff, ETH_MIN_MTU 68 and max_mtu 0 (ipgre_tap_setup)', () => {
  assert.equal(formatLinkText(TAP1, opts({ hasDetails: true })).split('\n').slice(0, 3).join('\n'), [
    '12: tap1@NONE: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1462 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    '    link/ether 02:00:5e:00:53:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 0 ',
    '    gretap remote 198.51.100.1 local 198.51.100.2 ttl inherit addrgenmode eui64 numtxqueues 1 numrxqueues 1 '
      + 'gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ',
  ].join('\n'));
  const j = linkJson(TAP1, opts());
  assert.equal(j.link_type, 'ether');
  assert.equal(j.address, '02:00:5e:00:53:01');
  assert.equal(j.broadcast, 'ff:ff:ff:ff:ff:ff');
  assert.equal('link_pointtopoint' in j, false);
  const jd = linkJson(TAP1, opts({ hasDetails: true }));
  assert.deepEqual([jd.min_mtu, jd.max_mtu], [68, 0]);
});

const SIT1: DeviceInfo = {
  ...IPIP1, ifindex: 13, name: 'sit1', kind: 'sit',
  params: { ...PARAMS, mode: 'ip6ip', remote: 'any', ttl: 64, tos: 1, pmtudisc: false },
};

test('sit (iptunnel_print_opt): link/sit, mode, ttl, tos inherit, nopmtudisc, 6rd-prefix; min/max MTU of ipip6_tunnel_setup', () => {
  // No minMtu/maxMtu given: the kind's own bounds (IPV6_MIN_MTU, IP6_MAX_MTU - 20).
  assert.equal(formatLinkText(SIT1, opts({ hasDetails: true })).split('\n').slice(0, 3).join('\n'), [
    '13: sit1@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    '    link/sit 198.51.100.2 brd 0.0.0.0 promiscuity 0  allmulti 0 minmtu 1280 maxmtu 65555 ',
    '    sit ip6ip remote any local 198.51.100.2 ttl 64 tos inherit nopmtudisc 6rd-prefix 2002::/16 addrgenmode eui64 numtxqueues 1 numrxqueues 1 '
      + 'gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ',
  ].join('\n'));
});

test('sit JSON: min_mtu/max_mtu and the 6rd "prefix"/"prefixlen" after pmtudisc, no relay prefix (iptunnel_print_opt)', () => {
  const j = JSON.parse(formatLinkShow([SIT1], opts({ isJson: true, hasDetails: true }))) as { min_mtu: number; max_mtu: number; linkinfo: { info_data: Record<string, unknown> } }[];
  assert.deepEqual([j[0]!.min_mtu, j[0]!.max_mtu], [1280, 65555]);
  const data = j[0]!.linkinfo.info_data;
  assert.deepEqual(Object.keys(data), ['proto', 'remote', 'local', 'ttl', 'tos', 'pmtudisc', 'prefix', 'prefixlen']);
  assert.equal(data.prefix, '2002::');
  assert.equal(data.prefixlen, 16);
  assert.equal('relay_prefix' in data, false);
  // ipip has no 6rd: neither in text nor JSON.
  assert.doesNotMatch(formatLinkText(IPIP1, opts({ hasDetails: true })), /6rd/);
  assert.equal('prefix' in (linkJson(IPIP1, opts({ hasDetails: true })).linkinfo as { info_data: object }).info_data, false);
});

test('fallback gre0 never up: no inet6_dev, so no addrgenmode in text or JSON (addrGenMode none)', () => {
  const gre0: DeviceInfo = { ...IPIP1, name: 'gre0', kind: 'gre', addrGenMode: 'none', params: { ...PARAMS, local: 'any', remote: 'any', mode: undefined } };
  const t = formatLinkText(gre0, opts({ hasDetails: true })).split('\n');
  assert.equal(t[2], '    gre remote any local any ttl inherit numtxqueues 1 numrxqueues 1 '
    + 'gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ');
  assert.equal('inet6_addr_gen_mode' in linkJson(gre0, opts({ hasDetails: true })), false);
  assert.equal(linkJson({ ...gre0, addrGenMode: 'eui64' }, opts({ hasDetails: true })).inet6_addr_gen_mode, 'eui64');
});

// ---- JSON ----

test('JSON (ip -j link show): print_linkinfo keys in order; round-trips through JSON.parse', () => {
  const out = formatLinkShow([IPIP1], opts({ isJson: true }));
  assert.ok(out.endsWith('}]\n'));
  const [dev] = JSON.parse(out) as Record<string, unknown>[];
  assert.deepEqual(dev, {
    ifindex: 10, link: null, ifname: 'ipip1', flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'], mtu: 1480,
    qdisc: 'noqueue', operstate: 'UNKNOWN', linkmode: 'DEFAULT', group: 'default', txqlen: 1000,
    link_type: 'ipip', address: L, link_pointtopoint: true, broadcast: R,
  });
  assert.deepEqual(Object.keys(dev!), ['ifindex', 'link', 'ifname', 'flags', 'mtu', 'qdisc', 'operstate', 'linkmode',
    'group', 'txqlen', 'link_type', 'address', 'link_pointtopoint', 'broadcast']);
  assert.equal(out, `[${JSON.stringify(dev)}]\n`, 'compact form: no spaces, as jsonw without -p');
});

test('JSON -d: details, linkinfo.info_kind / info_data (iptunnel_print_opt keys)', () => {
  const j = JSON.parse(formatLinkShow([IPIP1], opts({ isJson: true, hasDetails: true }))) as Record<string, unknown>[];
  const d = j[0]!;
  assert.deepEqual(Object.keys(d).slice(14), ['promiscuity', 'allmulti', 'min_mtu', 'max_mtu', 'linkinfo',
    'inet6_addr_gen_mode', 'num_tx_queues', 'num_rx_queues', 'gso_max_size', 'gso_max_segs', 'tso_max_size',
    'tso_max_segs', 'gro_max_size']);
  assert.deepEqual(d.linkinfo, { info_kind: 'ipip', info_data: { proto: 'any', remote: R, local: L, ttl: 0, pmtudisc: true } });
  assert.equal(d.inet6_addr_gen_mode, 'eui64');
  assert.equal(d.gro_max_size, 65536);
});

test('JSON gre info_data (gre_print_opt keys): link, ttl, tos "0x10", pmtudisc, ikey/okey, flags', () => {
  const j = linkJson({ ...GRE1, params: { ...GRE1.params, ignoreDf: true, pmtudisc: false } }, opts({ hasDetails: true }));
  const round = JSON.parse(JSON.stringify(j)) as { link: string; linkinfo: { info_kind: string; info_data: Record<string, unknown> } };
  assert.equal(round.link, 'eth0');
  assert.equal(round.linkinfo.info_kind, 'gre');
  assert.deepEqual(round.linkinfo.info_data, {
    remote: R, local: L, link: 'eth0', ttl: 64, tos: '0x10', pmtudisc: false, ignore_df: true,
    ikey: '0.0.0.9', okey: '1.2.3.4', iseq: true, oseq: true, icsum: true, ocsum: true,
  });
  const on = linkJson({ ...GRE1, params: { ...PARAMS, mode: undefined, tos: 1 } }, opts({ hasDetails: true }));
  assert.deepEqual((on.linkinfo as { info_data: unknown }).info_data, { remote: R, local: L, ttl: 0, tos: '0x1', pmtudisc: true });
});

test('JSON -s / -s -s: stats64 rx/tx keys of print_stats64, then tunkit_drops', () => {
  const d: DeviceInfo = { ...IPIP1, drops: { NoTunnel: 3, Truncated: 0 } };
  const s1 = (JSON.parse(formatLinkShow([d], opts({ isJson: true, statsLevel: 1 }))) as Record<string, unknown>[])[0]!;
  assert.deepEqual(s1.stats64, {
    rx: { bytes: 94, packets: 2, errors: 0, dropped: 0, over_errors: 0, multicast: 0 },
    tx: { bytes: 262, packets: 4, errors: 0, dropped: 0, carrier_errors: 0, collisions: 0 },
  });
  assert.deepEqual(s1.tunkit_drops, { NoTunnel: 3 });
  assert.deepEqual(Object.keys(s1).slice(-2), ['stats64', 'tunkit_drops']);
  const s2 = (JSON.parse(formatLinkShow([d], opts({ isJson: true, statsLevel: 2 }))) as { stats64: { rx: object; tx: object } }[])[0]!;
  assert.deepEqual(Object.keys(s2.stats64.rx), ['bytes', 'packets', 'errors', 'dropped', 'over_errors', 'multicast',
    'length_errors', 'crc_errors', 'frame_errors', 'fifo_errors', 'missed_errors']);
  assert.deepEqual(Object.keys(s2.stats64.tx), ['bytes', 'packets', 'errors', 'dropped', 'carrier_errors', 'collisions',
    'aborted_errors', 'fifo_errors', 'window_errors', 'heartbeat_errors', 'carrier_changes']);
  const none = (JSON.parse(formatLinkShow([d], opts({ isJson: true }))) as Record<string, unknown>[])[0]!;
  assert.equal('stats64' in none, false);
  assert.equal('tunkit_drops' in none, false);
});

test('JSON -p: lib/json_writer.c layout ("[ {", 8-space members, inline arrays, "},{", " } ]")', () => {
  const out = formatLinkShow([IPIP1, { ...IPIP1, ifindex: 11 }], opts({ isJson: true, isPretty: true, hasDetails: true }));
  assert.ok(out.startsWith('[ {\n        "ifindex": 10,\n        "link": null,\n        "ifname": "ipip1",\n'
    + '        "flags": [ "POINTOPOINT","NOARP","UP","LOWER_UP" ],\n'), out);
  assert.ok(out.includes('        "linkinfo": {\n            "info_kind": "ipip",\n            "info_data": {\n'
    + '                "proto": "any",\n'));
  assert.ok(out.includes('                "pmtudisc": true\n            }\n        },\n'));
  assert.ok(out.includes('        "gro_max_size": 65536\n    },{\n        "ifindex": 11,'));
  assert.ok(out.endsWith('        "gro_max_size": 65536\n    } ]\n'));
  assert.deepEqual(JSON.parse(out), JSON.parse(formatLinkShow([IPIP1, { ...IPIP1, ifindex: 11 }], opts({ isJson: true, hasDetails: true }))));
  assert.equal(formatLinkShow([], opts({ isJson: true, isPretty: true })), '[ ]\n');
  assert.equal(formatLinkShow([], opts({ isJson: true })), '[]\n');
});

// ---- helpers ----

test('deviceParamsOf(makeTunnelParams(…)) reproduces the reference line; kinds and modes', () => {
  const p = makeTunnelParams({ name: 'ipip1', kind: 'ipip', remote: R, local: L, mode: 'any' });
  assert.equal(deviceKindOf(p), 'ipip');
  assert.equal(formatLinkShow([{ ...IPIP1, params: deviceParamsOf(p) }], opts({ hasDetails: true, statsLevel: 1 })),
    lines(L1, L2_D, L3_D, ...RX, ...TX));
  assert.equal(deviceParamsOf(makeTunnelParams({ name: 's', kind: 'sit', mode: 'ip6ip' })).mode, 'ip6ip');
  assert.equal(deviceParamsOf(makeTunnelParams({ name: 's', kind: 'ipip', mode: 'ipip' })).mode, 'ipip');
  assert.equal(deviceParamsOf(makeTunnelParams({ name: 's', kind: 'ipip', mode: 'any' })).mode, 'any');
  assert.equal(deviceParamsOf(makeTunnelParams({ name: 's', kind: 'sit', mode: 'mplsip' })).mode, 'mplsip');
  const g = deviceParamsOf(makeTunnelParams({ name: 'g', kind: 'gretap', remote: R, ikey: 7, oseq: true, icsum: true, ttl: 3 }), 'eth0');
  assert.deepEqual(g, {
    local: 'any', remote: R, ttl: 3, tos: 0, pmtudisc: true, ignoreDf: false, hasIkey: true, hasOkey: false,
    ikey: 7, okey: 0, iseq: false, oseq: true, icsum: true, ocsum: false, link: 'eth0',
  });
  assert.equal(deviceKindOf(makeTunnelParams({ name: 'g', kind: 'gretap', remote: R })), 'gretap');
});

test('selectDevices: name, type and up/down filters; a missing name exits 1 as ip', () => {
  const devs = [IPIP1, GRE1, { ...TAP1, isUp: false }];
  assert.deepEqual(selectDevices(devs, { cmd: 'show' }).map((d) => d.name), ['ipip1', 'gre1', 'tap1']);
  assert.deepEqual(selectDevices(devs, { cmd: 'show', name: 'gre1' }).map((d) => d.name), ['gre1']);
  assert.deepEqual(selectDevices(devs, { cmd: 'show', kind: 'gretap' }).map((d) => d.name), ['tap1']);
  assert.deepEqual(selectDevices(devs, { cmd: 'show', state: 'up' }).map((d) => d.name), ['ipip1', 'gre1']);
  assert.deepEqual(selectDevices(devs, { cmd: 'show', state: 'down' }).map((d) => d.name), ['tap1']);
  assert.deepEqual(selectDevices(devs, { cmd: 'show', name: 'gre1', kind: 'ipip' }), []);
  assert.throws(() => selectDevices(devs, { cmd: 'show', name: 'nope' }), (e: unknown) => {
    // ipaddr_list_flush_or_save: the message, then return -1 (exit 1).
    assert.ok(e instanceof StatusError);
    assert.equal(e.status, 1);
    assert.equal(e.message, 'Device "nope" does not exist.');
    return true;
  });
});

test('property: any device prints without throwing and its JSON parses back', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const statsArb = fc.tuple(...LINK_STAT_NAMES.map(() => fc.nat()))
    .map((vs) => Object.fromEntries(LINK_STAT_NAMES.map((k, i) => [k, vs[i] ?? 0])) as Record<LinkStatName, number>);
  const dev = fc.record({
    kind: fc.constantFrom<DeviceKind>('ipip', 'gre', 'gretap', 'sit'),
    isUp: fc.boolean(), hasCarrier: fc.boolean(), stats: statsArb,
    ttl: fc.integer({ min: 0, max: 255 }), tos: fc.integer({ min: 0, max: 255 }), ikey: u32,
    remote: fc.constantFrom('any', R, '239.0.0.1'), name: fc.string({ minLength: 1, maxLength: 15 }),
    drops: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.nat()),
  });
  const o = fc.record({ statsLevel: fc.integer({ min: 0, max: 3 }), hasDetails: fc.boolean(), isJson: fc.boolean(), isPretty: fc.boolean() });
  fc.assert(fc.property(dev, o, (r, show) => {
    const d: DeviceInfo = {
      ...IPIP1, kind: r.kind, name: r.name, isUp: r.isUp, hasCarrier: r.hasCarrier, stats: r.stats, drops: r.drops,
      params: { ...PARAMS, ttl: r.ttl, tos: r.tos, ikey: r.ikey, hasIkey: true, remote: r.remote },
    };
    const out = formatLinkShow([d], show);
    assert.ok(out.endsWith('\n'));
    if (show.isJson) {
      const [j] = JSON.parse(out) as { ifname: string; stats64?: { rx: { bytes: number } } }[];
      assert.equal(j!.ifname, r.name);
      if (show.statsLevel > 0) assert.equal(j!.stats64!.rx.bytes, r.stats.rx_bytes);
    } else {
      assert.ok(out.startsWith(`10: ${r.name}@NONE: <`));
    }
  }), { numRuns: 500 });
});
