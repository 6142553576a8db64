// Tunnel and transport mode header rules of the ESP core, one kernel
// function per test: xfrm4_tunnel_encap_add (outer TOS/ECN/DF),
// xfrm4/6_remove_tunnel_encap (decap ECN and DSCP), esp_output's TFC
// padding, IPv6 inner packets over an IPv4 SA (Next Header 41), dummy
// packets (Next Header 59) and xfrm4_transport_input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { be16, be32 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { espOutput, espPayloadMtu } from '../../src/xfrm/esp-out.js';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XDrop, XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { ip6 } from '../util/packets.js';
import { espPacket, fixIp4, oneWay, recv, send } from './esp-util.js';
import { icmp4Echo } from './helpers.js';

const ping = (tos: number, df = false, dataLen = 56): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, dataLen, df ? 0x4000 : 0, tos);
const ping6 = (tclass: number, payloadLen = 64): Uint8Array => ip6({ src: '2001:db8::1', dst: '2001:db8::2', tclass, payloadLen });
const tclassOf = (p: Uint8Array): number => ((p[0]! & 0xf) << 4) | (p[1]! >>> 4);

/** The Next Header byte of an outer ESP packet (decrypted on a copy with the receiving SA). */
function nextHeaderOf(x: XfrmState, wire: Uint8Array): number {
  const b = wire.slice();
  assert.ok(x.crypto.open(b, 20, b.length - 20, 0));
  return b[b.length - x.crypto.icvLen - 1]!;
}

test('xfrm4_tunnel_encap_add: IPv6 inner over an IPv4 SA is Next Header 41 (IPPROTO_IPV6) and comes out whole at the peer', () => {
  for (const extra of [{ sel: { src: '::/0', dst: '::/0' } }, { flags: ['af-unspec'] }] as Partial<StateSpec>[]) {
    const { tx, rx, rxSa } = oneWay(extra);
    const p = ping6(0);
    const wire = send(tx, p);
    assert.equal(wire[9], 50, 'outer protocol ESP');
    assert.deepEqual([...wire.subarray(12, 20)], [198, 51, 100, 1, 198, 51, 100, 2], 'outer addresses from the SA');
    assert.equal(nextHeaderOf(rxSa, wire), 41);
    const got = recv(rx, wire);
    assert.equal(got.v, XVerdict.Deliver, `mib ${got.r.mib}`);
    assert.deepEqual([...got.inner], [...p]);
  }
  // IPv4 inner is Next Header 4 (IPPROTO_IPIP).
  const { tx, rxSa } = oneWay();
  assert.equal(nextHeaderOf(rxSa, send(tx, ping(0))), 4);
});

test('xfrm_input: Next Header 41 on an SA whose selector is IPv4 (x->inner_mode) is XfrmInStateModeError; AF_UNSPEC selectors take both', () => {
  const { rx, rxSa } = oneWay();
  const got = recv(rx, espPacket(rxSa, 1, ping6(0), 41));
  assert.equal(got.v, XVerdict.Drop);
  assert.equal(got.r.mib, XfrmStat.InStateModeError);
  assert.equal(rx.mib.snapshot().XfrmInStateModeError, 1);
  const v6 = oneWay({ sel: { src: '::/0', dst: '::/0' } });
  assert.equal(recv(v6.rx, espPacket(v6.rxSa, 1, ping(0), 4)).r.mib, XfrmStat.InStateModeError, 'and IPIP on an IPv6-selector SA');
  const any = oneWay({ flags: ['af-unspec'] });
  assert.equal(recv(any.rx, espPacket(any.rxSa, 1, ping(0), 4)).v, XVerdict.Deliver);
  assert.equal(recv(any.rx, espPacket(any.rxSa, 2, ping6(0), 41)).v, XVerdict.Deliver);
  // A Next Header that is neither: xfrm_inner_mode_encap_remove fails.
  assert.equal(recv(any.rx, espPacket(any.rxSa, 3, ping(0), 17)).r.mib, XfrmStat.InStateModeError);
});

interface DecapRow { outer: number; inner: number; flags?: StateSpec['flags']; want: number }

/** xfrm4_remove_tunnel_encap: ipv4_copy_dscp only with decap-dscp; ipip_ecn_decapsulate (IP_ECN_set_ce on ECT only) unless noecn. */
const DECAP: DecapRow[] = [
  { outer: 0x03, inner: 0x00, want: 0x00 }, // CE over Not-ECT: kept, never dropped (unlike RFC 6040)
  { outer: 0x03, inner: 0x02, want: 0x03 },
  { outer: 0x03, inner: 0x01, want: 0x03 },
  { outer: 0x01, inner: 0x02, want: 0x02 }, // ECT(1) is not copied
  { outer: 0x03, inner: 0x02, flags: ['noecn'], want: 0x02 },
  { outer: 0xb8, inner: 0x28 | 2, want: 0x28 | 2 }, // DSCP not copied by default
  { outer: 0xb8, inner: 0x28 | 2, flags: ['decap-dscp'], want: 0xb8 | 2 },
  { outer: 0xb8 | 3, inner: 0x28 | 1, flags: ['decap-dscp'], want: 0xb8 | 3 },
  { outer: 0xb8 | 3, inner: 0x28 | 1, flags: ['decap-dscp', 'noecn'], want: 0xb8 | 1 },
];

test('decap ECN and DSCP, IPv4 inner (xfrm4_remove_tunnel_encap): CE only onto ECT, nothing under noecn, DSCP only with decap-dscp; checksum fixed', () => {
  for (const [i, row] of DECAP.entries()) {
    const { rx, rxSa } = oneWay(row.flags !== undefined ? { flags: row.flags } : {});
    const got = recv(rx, espPacket(rxSa, 1, ping(row.inner), 4, { tos: row.outer }));
    assert.equal(got.v, XVerdict.Deliver, `row ${i}`);
    assert.equal(got.inner[1], row.want, `row ${i}: inner TOS`);
    assert.equal(checksum16(got.inner, 0, 20), 0, `row ${i}: header checksum`);
  }
});

test('decap ECN and DSCP, IPv6 inner (xfrm6_remove_tunnel_encap: IP6_ECN_set_ce, ipv6_copy_dscp); the flow label survives', () => {
  for (const [i, row] of DECAP.entries()) {
    const { rx, rxSa } = oneWay({ flags: [...(row.flags ?? []), 'af-unspec'] });
    const p = ping6(row.inner);
    p[1] = p[1]! | 0x0a; p[2] = 0xbc; p[3] = 0xde; // flow label 0xabcde
    const got = recv(rx, espPacket(rxSa, 1, p, 41, { tos: row.outer }));
    assert.equal(got.v, XVerdict.Deliver, `row ${i}`);
    assert.equal(tclassOf(got.inner), row.want, `row ${i}: traffic class`);
    assert.equal(got.inner[0]! >>> 4, 6);
    assert.equal(((got.inner[1]! & 0xf) << 16) | be16(got.inner, 2), 0xabcde, `row ${i}: flow label`);
  }
});

interface EncapRow { tos: number; extra?: Partial<StateSpec>; want: number; why: string }

test('xfrm4_tunnel_encap_add TOS: inner DS (0 with dont-encap-dscp) + INET_ECN_encapsulate; IP_ECN_clear under noecn', () => {
  const rows: EncapRow[] = [
    { tos: 0xb8 | 1, want: 0xb8 | 1, why: 'DSCP and ECT(1) copied' },
    { tos: 0xb8 | 3, want: 0xb8 | 2, why: 'CE → ECT(0)' },
    { tos: 0xb8 | 1, extra: { extraFlags: ['dont-encap-dscp'] }, want: 0x01, why: 'DSCP 0, ECN still encapsulated' },
    { tos: 0xb8 | 3, extra: { extraFlags: ['dont-encap-dscp'] }, want: 0x02, why: 'DSCP 0, CE → ECT(0)' },
    { tos: 0xb8 | 2, extra: { flags: ['noecn'] }, want: 0xb8, why: 'noecn clears ECN' },
    { tos: 0xb8 | 3, extra: { flags: ['noecn'], extraFlags: ['dont-encap-dscp'] }, want: 0, why: 'both' },
  ];
  for (const row of rows) {
    const { tx } = oneWay(row.extra ?? {});
    const wire = send(tx, ping(row.tos));
    assert.equal(wire[1], row.want, row.why);
    assert.equal(wire[8], 64, 'TTL = the route hop limit, not the inner TTL');
    assert.equal(checksum16(wire, 0, 20), 0);
  }
  const { tx } = oneWay({ flags: ['af-unspec'] });
  assert.equal(send(tx, ping6(0x28 | 1))[1], 0x28 | 1, 'IPv6 traffic class → outer TOS');
});

test('xfrm4_tunnel_encap_add DF: copied from IPv4, cleared by nopmtudisc; IPv6 inner sets DF only above IPV6_MIN_MTU (small_ipv6)', () => {
  const df = (w: Uint8Array): number => be16(w, 6) & 0x4000;
  const plain = oneWay({ flags: ['af-unspec'] });
  assert.equal(df(send(plain.tx, ping(0, true))), 0x4000);
  assert.equal(df(send(plain.tx, ping(0, false))), 0);
  assert.equal(df(send(plain.tx, ping6(0, 1280 - 40))), 0, 'IPv6 inner of 1280 bytes: no DF');
  assert.equal(df(send(plain.tx, ping6(0, 1281 - 40))), 0x4000, 'IPv6 inner of 1281 bytes: DF');
  const nopmtu = oneWay({ flags: ['af-unspec', 'nopmtudisc'] });
  assert.equal(df(send(nopmtu.tx, ping(0, true))), 0);
  assert.equal(df(send(nopmtu.tx, ping6(0, 1400))), 0);
});

test('xfrm6_tunnel_check_size: an IPv6 inner above max(esp4_get_mtu, 1280) gets ICMPv6 Packet Too Big (XfrmOutStateModeError)', () => {
  const { tx, txSa } = oneWay({ flags: ['af-unspec'] });
  txSa.routeMtu = 1500;
  const mtu = espPayloadMtu(txSa, 1500);
  assert.equal(mtu, 1446);
  send(tx, ping6(0, mtu - 40));
  const buf = new Uint8Array(4096);
  const big = ping6(0, mtu - 40 + 1);
  buf.set(big, 512);
  const r = new XfrmResult();
  assert.equal(tx.output(buf, 512, big.length, 0, false, 0, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutStateModeError);
  assert.equal(r.icmp[6], 58, 'ICMPv6');
  assert.equal(r.icmp[40], 2, 'Packet Too Big');
  assert.equal(be32(r.icmp, 44), mtu);
  // On a small route the floor is 1280: a 1280-byte packet still goes.
  txSa.routeMtu = 1000;
  send(tx, ping6(0, 1240));
});

test('esp_output TFC padding: the ESP payload is padded to min(tfcpad, esp4_get_mtu); the peer trims to the inner length', () => {
  // 84-byte inner, tfcpad 1000: plaintext 1000 + 2 → 1004 (block 4); outer 20 + 8 + 8 + 1004 + 16.
  const small = oneWay({ tfcpad: 1000 });
  const p = ping(0, false, 56);
  const wire = send(small.tx, p);
  assert.equal(wire.length, 20 + 16 + 1004 + 16);
  const got = recv(small.rx, wire);
  assert.equal(got.v, XVerdict.Deliver);
  assert.deepEqual([...got.inner], [...p], 'TFC padding removed: inner length from the inner header');
  assert.equal(small.rxSa.curBytes, 1000, 'curlft counts the padded payload (skb->len before the mode input trims)');
  // tfcpad larger than the MTU: padded to esp4_get_mtu (1446), so the outer packet is exactly the route MTU.
  const huge = oneWay({ tfcpad: 5000 });
  const w2 = send(huge.tx, p);
  assert.equal(w2.length, 1500);
  assert.deepEqual([...recv(huge.rx, w2).inner], [...p]);
  // An inner packet at or above tfcpad gets no TFC bytes.
  const big = ping(0, false, 1000);
  assert.equal(send(small.tx, big).length, 20 + 16 + ((big.length + 2 + 3) & ~3) + 16);
  // IPv6 inner: trimmed to 40 + payload length.
  const v6 = oneWay({ tfcpad: 600, flags: ['af-unspec'] });
  const q = ping6(0, 64);
  const w3 = send(v6.tx, q);
  assert.equal(w3.length, 20 + 16 + 604 + 16);
  assert.deepEqual([...recv(v6.rx, w3).inner], [...q]);
  // A receiver copes with TFC padding it did not configure (RFC 4303 §2.7).
  const plainRx = oneWay();
  const got2 = recv(plainRx.rx, espPacket(plainRx.rxSa, 1, p, 4, { tfc: 333 }));
  assert.deepEqual([...got2.inner], [...p]);
});

test('RFC 4303 §2.6 dummy packet (Next Header 59, IPPROTO_NONE): Consumed, no xfrm_stat counter, replay window advanced', () => {
  const { rx, rxSa } = oneWay();
  const got = recv(rx, espPacket(rxSa, 5, new Uint8Array(40), 59));
  assert.equal(got.v, XVerdict.Consumed);
  assert.equal(got.r.mib, -1);
  assert.ok(Object.values(rx.mib.snapshot()).every((n) => n === 0), 'no counter moved');
  assert.equal(rxSa.replay.record().seq, 5);
  assert.equal(recv(rx, espPacket(rxSa, 5, new Uint8Array(40), 59)).r.mib, XfrmStat.InStateSeqError, 'a replayed dummy is still a replay');
});

test('xfrm4_transport_output / xfrm4_transport_input: the IPv4 header moves; protocol, total length and checksum are restored', () => {
  const { tx, rx } = oneWay({ mode: 'transport' });
  const udp = new Uint8Array(20 + 8 + 30);
  udp.set([0x45, 0x10, 0, udp.length, 0x12, 0x34, 0x40, 0, 33, 17], 0);
  udp.set([198, 51, 100, 1, 198, 51, 100, 2], 12);
  udp.set([0x30, 0x39, 0x00, 0x35, 0, 38, 0, 0], 20);
  fixIp4(udp);
  const wire = send(tx, udp, undefined, undefined, true);
  assert.equal(wire[9], 50);
  assert.equal(be16(wire, 2), wire.length);
  assert.equal(wire[8], 33, 'transport mode keeps the TTL');
  assert.equal(wire[1], 0x10, 'and the TOS');
  assert.equal(checksum16(wire, 0, 20), 0);
  assert.equal(be32(wire, 20), 0x1001, 'ESP right after the IPv4 header');
  const got = recv(rx, wire);
  assert.equal(got.v, XVerdict.Deliver);
  assert.equal(got.r.isTransport, true);
  assert.equal(got.inner[9], 17);
  assert.equal(be16(got.inner, 2), got.inner.length);
  assert.equal(checksum16(got.inner, 0, 20), 0);
  assert.deepEqual([...got.inner.subarray(20)], [...udp.subarray(20)]);
  assert.deepEqual([...got.inner.subarray(12, 20)], [...udp.subarray(12, 20)]);
});

test('malformed plaintext and unfit packets: bad inner header → XfrmInStateModeError (BadInner); output mode and room checks', () => {
  const { rx, txSa, rxSa } = oneWay({ flags: ['af-unspec'] });
  const shortV4 = recv(rx, espPacket(rxSa, 1, ping(0).subarray(0, 12), 4));
  assert.deepEqual([shortV4.r.mib, shortV4.r.drop], [XfrmStat.InStateModeError, XDrop.BadInner], 'IPIP shorter than an IPv4 header');
  const lying = ping(0);
  lying[3] = 0xff; // total length past the plaintext
  assert.equal(recv(rx, espPacket(rxSa, 2, lying, 4)).r.drop, XDrop.BadInner);
  assert.equal(recv(rx, espPacket(rxSa, 3, ping(0), 41)).r.drop, XDrop.BadInner, 'Next Header 41 over an IPv4 packet');
  const v6 = ping6(0);
  v6[5] = 200; // payload length past the plaintext
  assert.equal(recv(rx, espPacket(rxSa, 4, v6, 41)).r.drop, XDrop.BadInner);
  assert.equal(rx.mib.snapshot().XfrmInStateModeError, 4, 'every BadInner above is counted once');
  // An allow policy without templates: the packet bypasses IPsec (xfrm_lookup returns the plain route).
  const open = oneWay();
  open.tx.spd.flush();
  open.tx.spd.insert(open.tx.spd.make({ sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out' }, () => null, 0, 0), false);
  const r = new XfrmResult();
  const p = ping(0);
  const buf = new Uint8Array(2048);
  buf.set(p, 512);
  assert.equal(open.tx.output(buf, 512, p.length, 0, false, 0, r), XVerdict.Bypass);
  // espOutput itself: transport mode needs an IPv4 packet of the SA's family; the buffer needs headroom.
  const tr = oneWay({ mode: 'transport' });
  const six = ip6({ src: '2001:db8::1', dst: '2001:db8::2' });
  buf.set(six, 512);
  assert.equal(espOutput(tr.txSa, buf, 512, six.length, 1500, 1, 0, r), false);
  assert.equal(r.mib, XfrmStat.OutStateModeError);
  r.clear();
  const tight = p.slice();
  assert.equal(espOutput(txSa, tight, 0, tight.length, 1500, 1, 0, r), false, 'no headroom');
  assert.equal(r.drop, XDrop.NoRoom);
  assert.equal(txSa.replay.oseq, 0, 'refused before a sequence number was used');
});
