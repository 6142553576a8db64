// Transmit rules of ip_tunnel_xmit / iptunnel_xmit / gre_build_header
// (net/ipv4/ip_tunnel.c, ip_tunnel_core.c, include/net/gre.h). Each test
// names the kernel function whose behaviour it pins down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { PacketResult, Verdict } from '../../src/tunnel/result.js';
import { tunnelXmit } from '../../src/tunnel/xmit.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { Drop } from '../../src/wire/drop.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { GrePacket } from '../../src/wire/gre.js';
import { be16, be32 } from '../../src/wire/bytes.js';
import { IPPROTO_GRE, IPPROTO_IPIP } from '../../src/wire/ipproto.js';
import { a4, ip4, ip6 } from '../util/packets.js';
import { NOW, tx, up } from './harness.js';

const outer = (pkt: Uint8Array): Ip4Packet => {
  const v = new Ip4Packet();
  assert.equal(v.check(pkt), Drop.None);
  assert.ok(v.verifyChecksum(), 'outer header checksum');
  return v;
};

test('iptunnel_xmit: 20-byte outer header, protocol, addresses, fresh IDs', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  const inner = ip4({ ttl: 33 });
  const a = tx(t, inner);
  assert.equal(a.verdict, Verdict.Xmit);
  const o = outer(a.pkt);
  assert.equal(o.headerLen, 20);
  assert.equal(o.protocol, IPPROTO_IPIP);
  assert.equal(o.src, a4('198.51.100.1'));
  assert.equal(o.dst, a4('198.51.100.2'));
  assert.equal(a.dst, a4('198.51.100.2'));
  assert.equal(o.totalLen, 20 + inner.length);
  assert.deepEqual(a.pkt.subarray(20), inner, 'inner packet carried unchanged');
  const b = tx(t, inner);
  assert.equal(outer(b.pkt).ident, (o.ident + 1) & 0xffff, 'each packet gets a new ID');
});

test('ip_tunnel_xmit: ttl 0 (inherit) copies the inner TTL / hop limit; no payload → 64', () => {
  const s = new TunnelStack();
  assert.equal(outer(tx(up(s, { kind: 'ipip' }), ip4({ ttl: 33 })).pkt).ttl, 33);
  assert.equal(outer(tx(up(s, { kind: 'gre', name: 'g6', local: '198.51.100.5' }), ip6({ hop: 7 })).pkt).ttl, 7);
  assert.equal(outer(tx(up(s, { kind: 'sit' }), ip6({ hop: 9 })).pkt).ttl, 9, 'ipip6_tunnel_xmit: hop limit');
});

test('ip_tunnel_netlink_parms: a fixed TTL is used and forces DF (even with nopmtudisc over raw netlink)', () => {
  const s = new TunnelStack();
  const t = s.add(makeTunnelParams({ name: 'ttl1', kind: 'ipip', local: '198.51.100.1', remote: '198.51.100.2', ttl: 200, pmtudisc: false }, { iproute2: false }));
  t.isUp = true;
  const o = outer(tx(t, ip4({ ttl: 5, df: false })).pkt);
  assert.equal(o.ttl, 200);
  assert.ok(o.df);
});

test('pmtudisc (default) sets outer DF even when the inner has none', () => {
  const t = up(new TunnelStack(), { kind: 'gre' });
  assert.ok(outer(tx(t, ip4({ df: false })).pkt).df);
});

test('nopmtudisc: outer DF copies the inner DF (ip_tunnel_xmit df |= inner DF)', () => {
  const t = up(new TunnelStack(), { kind: 'ipip', pmtudisc: false });
  assert.equal(outer(tx(t, ip4({ df: false })).pkt).df, false);
  assert.equal(outer(tx(t, ip4({ df: true })).pkt).df, true);
});

test('ignore-df (gre, nopmtudisc): the inner DF is not copied', () => {
  const t = up(new TunnelStack(), { kind: 'gre', pmtudisc: false, ignoreDf: true });
  assert.equal(outer(tx(t, ip4({ df: true })).pkt).df, false);
});

test('TOS: fixed value keeps its DSCP; inherit copies the inner DS field (ip_tunnel_xmit tos & 1)', () => {
  const s = new TunnelStack();
  const fixed = up(s, { kind: 'ipip', tos: 0xb8 });
  assert.equal(outer(tx(fixed, ip4({ tos: 0x28 })).pkt).tos, 0xb8);
  const inh = up(s, { kind: 'gre', tos: 'inherit' });
  assert.equal(outer(tx(inh, ip4({ tos: 0x28 })).pkt).tos, 0x28);
  assert.equal(outer(tx(inh, ip6({ tclass: 0x48 })).pkt).tos, 0x48, 'IPv6 traffic class');
});

test('INET_ECN_encapsulate: outer ECN copies the inner, CE becomes ECT(0)', () => {
  const t = up(new TunnelStack(), { kind: 'ipip', tos: 0x20 });
  const ecn = (inner: number): number => outer(tx(t, ip4({ tos: inner })).pkt).tos;
  assert.equal(ecn(0x00), 0x20, 'Not-ECT');
  assert.equal(ecn(0x01), 0x21, 'ECT(1)');
  assert.equal(ecn(0x02), 0x22, 'ECT(0)');
  assert.equal(ecn(0x03), 0x22, 'CE → ECT(0)');
  const s = up(new TunnelStack(), { kind: 'sit' });
  assert.equal(outer(tx(s, ip6({ tclass: 0x03 })).pkt).tos, 0x02, 'sit: CE → ECT(0)');
});

test('gre_build_header: C|K|S order, key, first sequence number 0, valid checksum', () => {
  const t = up(new TunnelStack(), { kind: 'gre', key: 0x01020304, seq: true, csum: true });
  const g = new GrePacket();
  const seqs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = tx(t, ip4());
    assert.equal(outer(a.pkt).protocol, IPPROTO_GRE);
    assert.equal(g.check(a.pkt, 20), Drop.None);
    assert.equal(be16(a.pkt, 20), 0xb000, 'C, K and S set, version 0');
    assert.equal(g.protocolType, 0x0800);
    assert.equal(g.headerLen, 16);
    assert.equal(be32(a.pkt, 28), 0x01020304, 'key after checksum word');
    assert.ok(g.verifyChecksum(), 'checksum over GRE header + payload');
    assert.equal(be16(a.pkt, 26), 0, 'Reserved1 zero');
    seqs.push(be32(a.pkt, 32));
  }
  assert.deepEqual(seqs, [0, 1, 2]);
});

test('gre protocol type follows the payload: 0x86dd for IPv6, 0x6558 (TEB) on gretap', () => {
  const s = new TunnelStack();
  const a = tx(up(s, { kind: 'gre' }), ip6());
  assert.equal(be16(a.pkt, 22), 0x86dd);
  const frame = new Uint8Array(14 + 84);
  frame[12] = 0x08;
  frame.set(ip4({ payloadLen: 64 }), 14);
  const b = tx(up(s, { kind: 'gretap' }), frame);
  assert.equal(b.verdict, Verdict.Xmit);
  assert.equal(be16(b.pkt, 22), 0x6558);
  assert.deepEqual(b.pkt.subarray(24), frame);
});

test('okey only on transmit, ikey only on receive', () => {
  const t = up(new TunnelStack(), { kind: 'gre', ikey: 7, okey: 9 });
  const a = tx(t, ip4());
  assert.equal(be16(a.pkt, 20), 0x2000);
  assert.equal(be32(a.pkt, 24), 9);
});

test('iptunnel_xmit_stats: tx_packets and tx_bytes count the inner network length', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', key: 1, seq: true });
  tx(t, ip4({ payloadLen: 64 }));
  tx(t, ip4({ payloadLen: 27 }));
  assert.equal(t.stats.tx_packets, 2);
  assert.equal(t.stats.tx_bytes, 84 + 47);
  const tap = up(s, { kind: 'gretap' });
  const frame = new Uint8Array(14 + 84);
  frame[12] = 0x08;
  frame.set(ip4({ payloadLen: 64 }), 14);
  tx(tap, frame);
  assert.equal(tap.stats.tx_bytes, 84, 'gretap: frame minus the Ethernet header');
});

test('ipip_tunnel_xmit: IPv6 payloads and mode mismatches are tx_dropped', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  const a = tx(t, ip6());
  assert.equal(a.verdict, Verdict.Drop);
  assert.equal(a.drop, Drop.TxUnsupported);
  assert.equal(t.stats.tx_dropped, 1);
  assert.equal(t.stats.drops[Drop.TxUnsupported], 1);
  const m = up(new TunnelStack(), { kind: 'ipip', mode: 'mplsip' });
  assert.equal(tx(m, ip4()).drop, Drop.TxUnsupported);
});

test('sit_tunnel_xmit: IPv4 payloads go out as protocol 4 (no mode check on transmit)', () => {
  const t = up(new TunnelStack(), { kind: 'sit' });
  assert.equal(outer(tx(t, ip4()).pkt).protocol, IPPROTO_IPIP);
});

test('pskb_inet_may_pull: a runt inner packet is dropped (ipip tx_dropped, sit tx_errors)', () => {
  const s = new TunnelStack();
  const i = up(s, { kind: 'ipip' });
  assert.equal(tx(i, ip4().subarray(0, 12)).drop, Drop.TxMalformed);
  assert.equal(i.stats.tx_dropped, 1);
  const st = up(s, { kind: 'sit' });
  assert.equal(tx(st, ip6().subarray(0, 30)).drop, Drop.TxMalformed);
  assert.equal(st.stats.tx_errors, 1);
});

test('a down device transmits nothing and counts nothing', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.isUp = false;
  assert.equal(tx(t, ip4()).drop, Drop.DeviceDown);
  assert.equal(t.stats.tx_packets + t.stats.tx_errors + t.stats.tx_dropped, 0);
});

test('too little headroom is a programmer error (RangeError), enough headroom is fine', () => {
  const t = up(new TunnelStack(), { kind: 'gre', key: 1 }); // needs 20 + 8 bytes
  const p = ip4();
  const buf = new Uint8Array(27 + p.length);
  buf.set(p, 27);
  assert.throws(() => tunnelXmit(t, buf, 27, p.length, NOW, new PacketResult()), RangeError);
  const ok = new Uint8Array(28 + p.length);
  ok.set(p, 28);
  assert.equal(tunnelXmit(t, ok, 28, p.length, NOW, new PacketResult()), Verdict.Xmit);
});

test('ip_tunnel_xmit: no route → tx_carrier_errors; route into the tunnel → collisions', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.hasRoute = false;
  assert.equal(tx(t, ip4()).drop, Drop.TxNoRoute);
  assert.equal(t.stats.tx_carrier_errors, 1);
  assert.equal(t.stats.tx_errors, 1);
  t.hasRoute = true;
  t.routeLoops = true;
  assert.equal(tx(t, ip4()).drop, Drop.TxLoop);
  assert.equal(t.stats.collisions, 1);
  assert.equal(t.stats.tx_errors, 2);
});

test('NBMA (remote any): outer destination from the inner IPv4 destination / v4-compatible IPv6', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', remote: 'any' });
  const a = tx(t, ip4({ dst: '203.0.113.9' }));
  assert.equal(a.dst, a4('203.0.113.9'));
  assert.equal(tx(t, ip6({ dst: '::203.0.113.7' })).dst, a4('203.0.113.7'));
  const bad = tx(t, ip6({ dst: '2001:db8::9' }));
  assert.equal(bad.drop, Drop.TxNoDest);
  assert.ok(bad.icmp !== null && bad.icmp[40] === 1 && bad.icmp[41] === 3, 'dst_link_failure: ICMPv6 address unreachable');
  const zero = tx(t, ip4({ dst: '0.0.0.0' }));
  assert.equal(zero.drop, Drop.TxNoDest);
  assert.equal(t.stats.tx_fifo_errors, 1);
});

test('sit remote any: 6to4 destination 2002:V4::/48 (try_6rd) and v4-compatible next hop', () => {
  const t = up(new TunnelStack(), { kind: 'sit', remote: 'any' });
  assert.equal(tx(t, ip6({ dst: '2002:cb00:7105::1' })).dst, a4('203.0.113.5'));
  assert.equal(tx(t, ip6({ dst: '::198.51.100.9' })).dst, a4('198.51.100.9'));
  const none = tx(t, ip6({ dst: '2001:db8::1' }));
  assert.equal(none.drop, Drop.TxNoDest);
  assert.equal(none.icmp, null, 'ipip6_tunnel_xmit sends no ICMP when no destination is found');
});

test('transmit uses NOW only through the PMTU expiry', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.updatePmtu(1300, NOW);
  assert.equal(tx(t, ip4({ payloadLen: 1300, df: true }), NOW).drop, Drop.TxTooBig);
  assert.equal(tx(t, ip4({ payloadLen: 1300, df: true }), NOW + 600_000).verdict, Verdict.Xmit);
});
