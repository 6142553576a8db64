// Receive rules: gre_parse_header, ip_tunnel_rcv (in its order), ipip_rcv /
// sit_tunnel_rcv / ipip6_rcv, and the outer sanity checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { Verdict } from '../../src/tunnel/result.js';
import { Drop } from '../../src/wire/drop.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6 } from '../../src/wire/ipproto.js';
import { eth, gre, ip4, ip6, outer4 } from '../util/packets.js';
import type { GreOpts } from '../util/packets.js';
import { rx, up } from './harness.js';

// Packets arrive from the peer: outer 198.51.100.2 → 198.51.100.1 (outer4's default).
const greIn = (payload: Uint8Array, o: GreOpts, tos = 0): Uint8Array => outer4(gre(payload, o), { proto: IPPROTO_GRE, tos });

test('ipip decapsulation delivers the inner packet and counts rx_packets / rx_bytes', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'ipip' });
  const inner = ip4({ payloadLen: 30 });
  const r = rx(s, outer4(inner, { proto: IPPROTO_IPIP }));
  assert.equal(r.verdict, Verdict.Deliver);
  assert.equal(r.tunnel, t);
  assert.deepEqual(r.inner, inner);
  assert.equal(t.stats.rx_packets, 1);
  assert.equal(t.stats.rx_bytes, 50);
});

test('ip_tunnel_rcv 1: checksum presence must equal icsum → rx_crc_errors (both directions)', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', icsum: true });
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800 })).drop, Drop.CsumMismatch);
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800, csum: true })).verdict, Verdict.Deliver);
  assert.equal(t.stats.rx_crc_errors, 1);
  assert.equal(t.stats.rx_errors, 1);
  const s2 = new TunnelStack();
  const u = up(s2, { kind: 'gre' });
  assert.equal(rx(s2, greIn(ip4(), { proto: 0x0800, csum: true })).drop, Drop.CsumMismatch);
  assert.equal(u.stats.rx_crc_errors, 1);
});

test('ip_tunnel_rcv 2: iseq requires the S bit → rx_fifo_errors', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', iseq: true });
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800 })).drop, Drop.SeqMissing);
  assert.equal(t.stats.rx_fifo_errors, 1);
  assert.equal(t.stats.rx_errors, 1);
});

test('ip_tunnel_rcv 2: sequence numbers — numbered table, no reorder window, s32 wrap', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', iseq: true });
  // [seq, delivered?]: i_seqno starts at 0 (anything passes), then must not go backwards.
  const table: [number, boolean][] = [
    [5, true], [6, true], [6, false], [5, false], [8, true], [7, false], [9, true],
    [0x7ffffff0, true] /* s32 diff +0x7fffffe6 */, [9, false] /* behind */,
    [0x80000100, true], [9, true] /* (s32)(9 − 0x80000101) = +0x7fffff08: wraps to "ahead" */,
    [0x7ffffff0, true], [0xf0000000, true], [0xffffffff, true] /* i_seqno becomes 0 … */,
    [3, true] /* … so the next one always passes */, [2, false],
  ];
  table.forEach(([seq, ok], i) => {
    const r = rx(s, greIn(ip4(), { proto: 0x0800, seq }));
    assert.equal(r.verdict === Verdict.Deliver, ok, `row ${i}: seq ${seq}`);
    if (!ok) assert.equal(r.drop, Drop.SeqOutOfOrder, `row ${i}`);
  });
  assert.equal(t.stats.rx_fifo_errors, table.filter(([, ok]) => !ok).length);
  // i_seqno == 0 lets anything through — even a first number that is "behind" 0 as an s32.
  const s2 = new TunnelStack();
  up(s2, { kind: 'gre', iseq: true });
  assert.equal(rx(s2, greIn(ip4(), { proto: 0x0800, seq: 0x90000000 })).verdict, Verdict.Deliver);
  assert.equal(rx(s2, greIn(ip4(), { proto: 0x0800, seq: 0x90000000 })).drop, Drop.SeqOutOfOrder);
});

test('ip_tunnel_rcv order: a checksum mismatch is counted before a sequence failure', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', icsum: true, iseq: true });
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800 })).drop, Drop.CsumMismatch);
  assert.equal(t.stats.rx_crc_errors, 1);
  assert.equal(t.stats.rx_fifo_errors, 0);
});

test('ip_tunnel_rcv 3: inner header shorter than IPv4/IPv6 needs → rx_length_errors', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre' });
  assert.equal(rx(s, greIn(ip4().subarray(0, 19), { proto: 0x0800 })).drop, Drop.InnerTruncated);
  assert.equal(rx(s, greIn(ip6().subarray(0, 39), { proto: 0x86dd })).drop, Drop.InnerTruncated);
  assert.equal(t.stats.rx_length_errors, 2);
  assert.equal(t.stats.rx_errors, 2);
});

test('gre_parse_header: bad GRE checksum, version ≠ 0, routing bit → dropped before any tunnel', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', icsum: true });
  const bad = greIn(ip4(), { proto: 0x0800, csum: true });
  bad[bad.length - 1]! ^= 0xff;
  assert.equal(rx(s, bad).drop, Drop.GreChecksum);
  const v1 = greIn(ip4(), { proto: 0x880b });
  v1[21] = 1;
  assert.equal(rx(s, v1).drop, Drop.GreVersion);
  const rbit = greIn(ip4(), { proto: 0x0800 });
  rbit[20] = 0x40;
  assert.equal(rx(s, rbit).drop, Drop.GreRouting);
  assert.equal(s.drops[Drop.GreChecksum], 1);
  assert.equal(t.stats.rx_errors + t.stats.rx_packets, 0, 'no device counter moves');
});

test('key mismatch: no tunnel; the fallback gre0, when up, takes it without checking the key', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', key: 5 });
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800, key: 6 })).drop, Drop.NoTunnel);
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800 })).drop, Drop.NoTunnel, 'keyed tunnel refuses keyless packets');
  assert.equal(rx(s, greIn(ip4(), { proto: 0x0800, key: 5 })).tunnel, t);
  assert.equal(s.drops[Drop.NoTunnel], 2);
  assert.equal(s.gre.fallback.stats.drops[Drop.NoTunnel], 2, 'counted on gre0 in tunkit drops');
  assert.equal(s.gre.fallback.stats.rx_packets, 0, 'but not in its kernel counters (gre0 is down)');
  s.gre.fallback.isUp = true;
  const r = rx(s, greIn(ip4(), { proto: 0x0800, key: 6 }));
  assert.equal(r.verdict, Verdict.Deliver);
  assert.equal(r.tunnel, s.gre.fallback);
  assert.equal(s.gre.fallback.stats.rx_packets, 1);
});

test('gretap: TEB goes to the gretap table; rx_bytes include the Ethernet header; runt frames dropped', () => {
  const s = new TunnelStack();
  const l3 = up(s, { kind: 'gre' });
  const tap = up(s, { kind: 'gretap' });
  const frame = eth(ip4({ payloadLen: 30 }), 0x0800);
  const r = rx(s, greIn(frame, { proto: 0x6558 }));
  assert.equal(r.tunnel, tap);
  assert.deepEqual(r.inner, frame);
  assert.equal(tap.stats.rx_bytes, 64);
  assert.equal(l3.stats.rx_packets, 0);
  assert.equal(rx(s, greIn(frame.subarray(0, 13), { proto: 0x6558 })).drop, Drop.InnerTruncated);
  assert.equal(tap.stats.rx_errors, 0, '__iptunnel_pull_header failure counts nothing on the device');
  assert.equal(rx(s, greIn(eth(ip4().subarray(0, 10), 0x0800), { proto: 0x6558 })).drop, Drop.InnerTruncated);
  assert.equal(tap.stats.rx_length_errors, 1, 'IPv4 in the frame shorter than 20 bytes');
});

test('gre (L3): a payload the TUN cannot carry is counted rx_dropped after rx_packets', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre' });
  assert.equal(rx(s, greIn(new Uint8Array(40), { proto: 0x8847 })).drop, Drop.UnsupportedPayload);
  assert.equal(t.stats.rx_packets, 1);
  assert.equal(t.stats.rx_dropped, 1);
});

test('protocol 4: ipip tunnels first, then sit tunnels in mode ipip/any (tunnel4 priorities)', () => {
  const s = new TunnelStack();
  const sit = up(s, { kind: 'sit', mode: 'any' });
  const inner = outer4(ip4(), { proto: IPPROTO_IPIP });
  assert.equal(rx(s, inner).tunnel, sit, 'no ipip tunnel: sit any takes it');
  const ipip = up(s, { kind: 'ipip' });
  assert.equal(rx(s, inner).tunnel, ipip);
  const s2 = new TunnelStack();
  const only6 = up(s2, { kind: 'sit', mode: 'ip6ip' });
  assert.equal(rx(s2, inner).drop, Drop.ProtoMismatch, 'sit ip6ip refuses protocol 4');
  assert.equal(only6.stats.drops[Drop.ProtoMismatch], 1);
});

test('ipip mode any accepts protocol 4; sit ip6ip accepts 41; sit ipip refuses 41', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'sit' });
  const p6 = ip6();
  const r = rx(s, outer4(p6, { proto: IPPROTO_IPV6 }));
  assert.deepEqual(r.inner, p6);
  assert.equal(t.stats.rx_bytes, p6.length);
  const s2 = new TunnelStack();
  up(s2, { kind: 'sit', mode: 'ipip' });
  assert.equal(rx(s2, outer4(p6, { proto: IPPROTO_IPV6 })).drop, Drop.ProtoMismatch);
});

test('packet_is_spoofed: a remote-any sit checks 6to4 addresses against the outer ones', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'sit', remote: 'any' });
  const good = ip6({ src: '2002:c633:6402::1', dst: '2001:db8::1' }); // 198.51.100.2 embedded
  assert.equal(rx(s, outer4(good, { proto: IPPROTO_IPV6 })).verdict, Verdict.Deliver);
  const spoof = ip6({ src: '2002:c633:6409::1', dst: '2001:db8::1' });
  assert.equal(rx(s, outer4(spoof, { proto: IPPROTO_IPV6 })).drop, Drop.Spoofed);
  assert.equal(t.stats.rx_errors, 1);
  const s2 = new TunnelStack();
  up(s2, { kind: 'sit' });
  assert.equal(rx(s2, outer4(spoof, { proto: IPPROTO_IPV6 })).verdict, Verdict.Deliver, 'point-to-point skips the check');
});

test('outer IPv4 sanity: truncated, bad header checksum, fragment, unknown protocol', () => {
  const s = new TunnelStack();
  up(s, { kind: 'ipip' });
  const p = outer4(ip4(), { proto: IPPROTO_IPIP });
  assert.equal(rx(s, p.subarray(0, 19)).drop, Drop.Truncated);
  const bad = new Uint8Array(p);
  bad[8] = 1; // TTL changed, checksum not updated
  assert.equal(rx(s, bad).drop, Drop.BadIpChecksum);
  const frag = outer4(ip4(), { proto: IPPROTO_IPIP });
  const v = new Ip4Packet();
  v.wrap(frag);
  v.mf = true;
  v.fillChecksum();
  assert.equal(rx(s, frag).drop, Drop.Fragment);
  assert.equal(rx(s, outer4(ip4(), { proto: 17 })).drop, Drop.UnsupportedPayload);
});

test('a multicast outer destination counts multicast (ip_tunnel_rcv)', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', remote: '233.252.0.1', local: '198.51.100.1' });
  const key = t.p.ikey; // the group address (link_gre.c)
  const r = rx(s, outer4(gre(ip4(), { proto: 0x0800, key }), { proto: IPPROTO_GRE, src: '198.51.100.2', dst: '233.252.0.1' }));
  assert.equal(r.tunnel, t);
  assert.equal(t.stats.multicast, 1);
});

test('WCCP (GRE protocol 0x883e, no flags) is decoded as IPv4; v2 skips its 4-byte header', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre' });
  const inner = ip4();
  assert.deepEqual(rx(s, greIn(inner, { proto: 0x883e })).inner, inner);
  const v2 = new Uint8Array(4 + inner.length);
  v2.set(inner, 4);
  assert.deepEqual(rx(s, greIn(v2, { proto: 0x883e })).inner, inner);
  assert.equal(t.stats.rx_packets, 2);
});

test('the inner version must match the protocol: IPv4 inside protocol 41 or IPv6 inside protocol 4 never reaches the TUN', () => {
  const s = new TunnelStack();
  const sit = up(s, { kind: 'sit' });
  const ipip = up(s, { kind: 'ipip' });
  const a = rx(s, outer4(ip4(), { proto: IPPROTO_IPV6 }));
  assert.equal(a.verdict, Verdict.Drop);
  assert.equal(a.drop, Drop.UnsupportedPayload);
  assert.equal(sit.stats.rx_dropped, 1);
  const b = rx(s, outer4(ip6(), { proto: IPPROTO_IPIP }));
  assert.equal(b.drop, Drop.UnsupportedPayload);
  assert.equal(ipip.stats.rx_dropped, 1);
});
