// tnl_update_pmtu (net/ipv4/ip_tunnel.c) and ipip6_tunnel_xmit's MTU rules:
// an inner packet too big for the path is refused and an ICMP error goes
// back to its sender with the usable MTU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { Verdict } from '../../src/tunnel/result.js';
import { Drop } from '../../src/wire/drop.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { Ip6Packet } from '../../src/wire/ip6.js';
import { Icmp4Packet, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from '../../src/wire/icmp4.js';
import { Icmp6Packet, ICMPV6_PKT_TOOBIG } from '../../src/wire/icmp6.js';
import { be16 } from '../../src/wire/bytes.js';
import { a4, eth, ip4, ip6, MAC_A, MAC_B } from '../util/packets.js';
import { NOW, tx, up } from './harness.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';

/** Asserts `icmp` is an ICMPv4 FRAG_NEEDED from the inner destination to the inner source with `mtu`, quoting `inner`. */
function expectFragNeeded(icmp: Uint8Array | null, inner: Uint8Array, mtu: number, at = 0): void {
  assert.ok(icmp !== null, 'an ICMP error was queued');
  const ip = new Ip4Packet();
  assert.equal(ip.check(icmp, at), Drop.None);
  assert.ok(ip.verifyChecksum());
  assert.equal(ip.src, a4('192.0.2.2'), 'from the inner destination');
  assert.equal(ip.dst, a4('192.0.2.1'), 'to the inner sender');
  assert.equal(ip.df, false, 'ICMP socket: IP_PMTUDISC_DONT');
  const ic = new Icmp4Packet();
  assert.equal(ic.check(icmp, ip.payloadOffset, ip.payloadLen), Drop.None);
  assert.ok(ic.verifyChecksum());
  assert.equal(ic.type, ICMP_DEST_UNREACH);
  assert.equal(ic.code, ICMP_FRAG_NEEDED);
  assert.equal(ic.nextHopMtu, mtu);
  assert.deepEqual(icmp.subarray(ic.payloadOffset, ic.payloadOffset + 548), inner.subarray(0, 548), 'quotes the offending packet (576-byte cap)');
  assert.equal(ip.totalLen, 576);
}

function expectTooBig(icmp: Uint8Array | null, inner: Uint8Array, mtu: number): void {
  assert.ok(icmp !== null, 'an ICMPv6 error was queued');
  const ip = new Ip6Packet();
  assert.equal(ip.check(icmp), Drop.None);
  const ic = new Icmp6Packet();
  assert.equal(ic.check(icmp, 40, ip.payloadLen), Drop.None);
  assert.ok(ic.verifyChecksum(icmp, ip.srcOffset, icmp, ip.dstOffset));
  assert.equal(ic.type, ICMPV6_PKT_TOOBIG);
  assert.equal(ic.mtu, mtu);
  assert.deepEqual(icmp.subarray(24, 40), inner.subarray(8, 24), 'to the inner sender');
  assert.equal(icmp.length, 1280, 'quote capped at IPV6_MIN_MTU');
}

const big4 = (df: boolean): Uint8Array => ip4({ payloadLen: 1480, df }); // 1500 bytes
const raise = (t: Tunnel, mtu: number): Tunnel => { t.mtu = mtu; return t; };

test('ipip, device MTU raised to 1500: a 1500-byte DF packet → FRAG_NEEDED 1480, dropped, tx_errors', () => {
  const t = raise(up(new TunnelStack(), { kind: 'ipip' }), 1500);
  const a = tx(t, big4(true));
  assert.equal(a.verdict, Verdict.Drop);
  assert.equal(a.drop, Drop.TxTooBig);
  expectFragNeeded(a.icmp, big4(true), 1480);
  assert.equal(t.stats.tx_errors, 1);
  assert.equal(t.stats.tx_packets, 0);
});

test('tnl_update_pmtu: the MTU subtracts the GRE header (key+seq+csum → 1464)', () => {
  const t = raise(up(new TunnelStack(), { kind: 'gre', key: 1, seq: true, csum: true }), 1500);
  expectFragNeeded(tx(t, big4(true)).icmp, big4(true), 1464);
  assert.equal(t.oSeqno, 1, '__gre_xmit consumed a sequence number before the PMTU drop');
});

test('without inner DF an oversize IPv4 packet is sent, no ICMP', () => {
  const t = raise(up(new TunnelStack(), { kind: 'ipip' }), 1500);
  const a = tx(t, big4(false));
  assert.equal(a.verdict, Verdict.Xmit);
  assert.equal(a.icmp, null);
});

test('nopmtudisc still sends FRAG_NEEDED for an inner DF packet (df includes the inner DF)', () => {
  const t = raise(up(new TunnelStack(), { kind: 'ipip', pmtudisc: false }), 1500);
  expectFragNeeded(tx(t, big4(true)).icmp, big4(true), 1480);
});

test('a learnt path MTU lowers the usable size (ipv4_update_pmtu)', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.updatePmtu(1400, NOW);
  const p = ip4({ payloadLen: 1400 - 20, df: true });
  expectFragNeeded(tx(t, p).icmp, p, 1380);
  assert.equal(tx(t, ip4({ payloadLen: 1360, df: true })).verdict, Verdict.Xmit);
});

test('IPv6 payload: PKT_TOOBIG with the tunnel MTU (≥ 1280), none below 1280', () => {
  const t = raise(up(new TunnelStack(), { kind: 'gre' }), 1500);
  const p = ip6({ payloadLen: 1460 });
  const a = tx(t, p);
  assert.equal(a.drop, Drop.TxTooBig);
  expectTooBig(a.icmp, p, 1476);
  t.updatePmtu(1200, NOW);
  const b = tx(t, p);
  assert.equal(b.icmp, null, 'mtu 1176 < IPV6_MIN_MTU: no PTB');
});

test('sit (ipip6_tunnel_xmit): PTB with route MTU − 20; below 1280 the MTU is raised and DF cleared', () => {
  const t = raise(up(new TunnelStack(), { kind: 'sit' }), 1500);
  const p = ip6({ payloadLen: 1460 });
  const a = tx(t, p);
  expectTooBig(a.icmp, p, 1480);
  t.updatePmtu(1000, NOW);
  const ok = tx(t, ip6({ payloadLen: 1240 }));
  assert.equal(ok.verdict, Verdict.Xmit);
  assert.equal(new Ip4Packet().wrap(ok.pkt) && (ok.pkt[6]! & 0x40), 0, 'outer DF cleared');
  expectTooBig(tx(t, ip6({ payloadLen: 1260 })).icmp, ip6({ payloadLen: 1260 }), 1280);
});

test('sit: a route MTU below 68 + 20 counts a collision', () => {
  const t = up(new TunnelStack(), { kind: 'sit' });
  t.underlayMtu = 80;
  assert.equal(tx(t, ip6()).drop, Drop.TxLoop);
  assert.equal(t.stats.collisions, 1);
});

test('gretap: PMTU applies to the IPv4 inside the frame; the error comes back framed with swapped MACs', () => {
  const t = raise(up(new TunnelStack(), { kind: 'gretap' }), 1500);
  const inner = big4(true);
  const a = tx(t, eth(inner, 0x0800));
  assert.equal(a.drop, Drop.TxTooBig);
  assert.ok(a.icmp !== null);
  assert.deepEqual(a.icmp.subarray(0, 6), MAC_A, 'to the sender MAC');
  assert.deepEqual(a.icmp.subarray(6, 12), MAC_B);
  assert.equal(be16(a.icmp, 12), 0x0800);
  expectFragNeeded(a.icmp, inner, 1500 - 20 - 4 - 14, 14);
});

test('a learnt PMTU below 552 is clamped and locked: outer DF is cleared (ip_mtu_locked)', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.updatePmtu(400, NOW);
  assert.equal(t.routeMtu(NOW), 552);
  const a = tx(t, ip4({ payloadLen: 100 }));
  assert.equal(a.verdict, Verdict.Xmit);
  assert.equal(a.pkt[6]! & 0x40, 0);
});

test('no ICMP error about an ICMP error or a non-first fragment (icmp_send rules), still dropped', () => {
  const t = raise(up(new TunnelStack(), { kind: 'ipip' }), 1500);
  const p = big4(true);
  p[9] = 1;
  p[20] = 3; // the payload is an ICMP destination-unreachable error
  const ip = new Ip4Packet();
  ip.wrap(p);
  ip.fillChecksum();
  const a = tx(t, p);
  assert.equal(a.drop, Drop.TxTooBig);
  assert.equal(a.icmp, null);
});
