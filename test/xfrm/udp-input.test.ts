// XfrmStack.inputUdp: ESP-in-UDP as the NAT-T socket delivers it (the UDP
// payload plus the socket's facts) takes the same RFC 3948 rules as a whole
// packet through input(): ESP delivered, keepalive consumed, non-ESP marker
// handed to IKE, mapping events, ECN from the TOS byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import { icmp4Echo } from './helpers.js';
import { NOW, oneWay, send } from './esp-util.js';

const ENCAP = { encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } } as const;
const HOST_U32 = 0xc6336401;
const GUEST_U32 = 0xc6336402;

/** The UDP payload of an outer ESP-in-UDP packet, behind 128 bytes of headroom. */
function payloadOf(outer: Uint8Array): { buf: Uint8Array; off: number; len: number } {
  const hl = (outer[0]! & 0xf) << 2;
  const p = outer.subarray(hl + 8);
  const buf = new Uint8Array(128 + p.length);
  buf.set(p, 128);
  return { buf, off: 128, len: p.length };
}

test('inputUdp: an ESP-in-UDP payload is delivered as input() delivers the whole packet', () => {
  const { tx, rx, rxSa } = oneWay(ENCAP);
  const inner = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 56, 0x4000, 0);
  const { buf, off, len } = payloadOf(send(tx, inner));
  const r = new XfrmResult();
  const v = rx.inputUdp(buf, off, len, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r);
  assert.equal(v, XVerdict.Deliver, `mib ${r.mib} drop ${r.drop}`);
  assert.deepEqual(buf.slice(r.off, r.off + r.len), inner);
  assert.equal(rxSa.curPackets, 1);
  assert.equal(rx.events.length, 0, 'the peer is where the SA expects it: no mapping event');
});

test('inputUdp: a new source port raises a mapping event; the outer TOS CE reaches an ECT inner', () => {
  const { tx, rx } = oneWay(ENCAP);
  const inner = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 56, 0x4000, 0x02); // ECT(0)
  const { buf, off, len } = payloadOf(send(tx, inner));
  const r = new XfrmResult();
  assert.equal(rx.inputUdp(buf, off, len, HOST_U32, 31000, GUEST_U32, 3, 0x03, NOW, r), XVerdict.Deliver);
  assert.equal(buf[r.off + 1]! & 3, 3, 'CE copied from the outer TOS');
  const ev = rx.events.find((e) => e.kind === 'mapping');
  assert.ok(ev !== undefined && ev.kind === 'mapping');
  assert.equal(ev.newPort, 31000);
  assert.equal(ev.newAddr, HOST_U32);
});

test('inputUdp: keepalive 0xFF is consumed, a non-ESP marker is IKE, short payloads are IKE', () => {
  const { rx } = oneWay(ENCAP);
  const r = new XfrmResult();
  const b = new Uint8Array(256);
  b[128] = 0xff;
  assert.equal(rx.inputUdp(b, 128, 1, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r), XVerdict.Consumed);
  b.fill(0, 128, 160);
  b[132] = 0x21; // IKE header after the 4-byte zero marker
  assert.equal(rx.inputUdp(b, 128, 32, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r), XVerdict.Ike);
  assert.equal(r.off, 132);
  assert.equal(r.len, 28);
  assert.equal(rx.inputUdp(b, 128, 6, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r), XVerdict.Ike, 'xfrm4_udp_encap_rcv: ≤ 8 bytes is never ESP');
  b[128] = 0x01;
  assert.equal(rx.inputUdp(b, 128, 8, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r), XVerdict.Ike, 'exactly 8 bytes: still not ESP');
  assert.deepEqual(rx.natT, { keepalives: 1, ike: 3 }, 'each one counted where `tunkit stats` shows it');
  assert.equal(Object.values(rx.mib.snapshot()).reduce((a, v) => a + v, 0), 0, 'and none of them as an xfrm error');
  assert.throws(() => rx.inputUdp(b, 20, 6, HOST_U32, 4500, GUEST_U32, 3, 0, NOW, r), RangeError, 'needs 28 bytes of headroom');
});
