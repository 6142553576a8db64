// The ESP trailer of an authenticated packet (esp_remove_trailer, called
// from esp_input_done2; RFC 4303 §2.4-2.6): a Pad Length that leaves no
// payload (padLen + 2 ≥ the plaintext) is refused with
// XfrmInStateProtoError even though the ICV is right, the replay window
// does not move, and nothing of the previous packet (its length, its Next
// Header) can come out with it: the trailer view keeps its last good
// values, so a missing check would deliver the refused packet with them.
// The pad bytes themselves are not checked, as the kernel does not (RFC
// 4303 §2.4 makes the check optional): a packet with other pad bytes is
// delivered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XVerdict } from '../../src/xfrm/result.js';
import { icmp4Echo } from './helpers.js';
import { espPacket, espSealed, oneWay, recv } from './esp-util.js';

const ping = (dataLen: number): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, dataLen, 0, 0);

/** Plaintext = payload, pad bytes, Pad Length byte, Next Header byte (total a multiple of 4, as GCM needs). */
function plaintext(payload: Uint8Array, pad: readonly number[], padLenByte: number, nh: number): Uint8Array {
  const p = new Uint8Array(payload.length + pad.length + 2);
  p.set(payload);
  p.set(pad, payload.length);
  p[p.length - 2] = padLenByte;
  p[p.length - 1] = nh;
  return p;
}

test('esp_remove_trailer: a Pad Length reaching into the payload is XfrmInStateProtoError; the replay window does not move', () => {
  const { rx, rxSa } = oneWay();
  const good = ping(56); // 84 bytes: + 2 pad + 2 trailer = 88
  const rows: readonly [string, Uint8Array][] = [
    ['padLen + 2 = plaintext (no payload left)', plaintext(good, [1, 2], good.length + 2, 4)],
    ['padLen 255 in an 88-byte plaintext', plaintext(good, [1, 2], 255, 4)],
    ['padLen + 2 = plaintext + 1', plaintext(good, [1, 2], good.length + 3, 4)],
    ['a 4-byte plaintext that is all trailer', plaintext(new Uint8Array(0), [1, 2], 2, 4)],
  ];
  let seq = 1;
  for (const [what, plain] of rows) {
    const before = rx.mib.snapshot().XfrmInStateProtoError;
    const got = recv(rx, espSealed(rxSa, seq, plain));
    assert.equal(got.v, XVerdict.Drop, `${what}: dropped`);
    assert.equal(got.r.mib, XfrmStat.InStateProtoError, `${what}: XfrmInStateProtoError`);
    assert.equal(rx.mib.snapshot().XfrmInStateProtoError, before + 1, `${what}: counted once`);
    assert.equal(rxSa.statIntegrityFailed, 0, `${what}: the ICV was right (not integrity_failed)`);
    assert.equal(rxSa.curPackets, 0, `${what}: the SA counts no packet`);
    seq++;
  }
  // The sequence numbers of the refused packets were never marked: each can still be received.
  for (let s = 1; s < seq; s++) assert.equal(recv(rx, espPacket(rxSa, s, good, 4)).v, XVerdict.Deliver, `seq ${s} is still fresh`);
});

test('the trailer of a refused packet is never delivered with the previous packet\'s length or Next Header', () => {
  const { rx, rxSa } = oneWay();
  const big = ping(1000);
  const first = recv(rx, espPacket(rxSa, 1, big, 4));
  assert.equal(first.v, XVerdict.Deliver);
  assert.equal(first.r.len, big.length, 'the first packet comes out whole');
  // Same SA, next sequence number, a short packet whose Pad Length leaves nothing: refused, nothing delivered.
  const small = ping(8);
  const bad = recv(rx, espSealed(rxSa, 2, plaintext(small, [1, 2, 3, 4, 5, 6], small.length + 6, 4)));
  assert.equal(bad.v, XVerdict.Drop);
  assert.equal(bad.r.mib, XfrmStat.InStateProtoError);
  assert.equal(bad.r.len, 0, 'no length carried over from the 1028-byte packet');
  assert.equal(bad.inner.length, 0);
  // A good packet after it is delivered with its own length.
  const next = recv(rx, espPacket(rxSa, 3, small, 4));
  assert.equal(next.v, XVerdict.Deliver);
  assert.deepEqual([...next.inner], [...small]);
  // A dummy packet (Next Header 59) followed by a refused trailer whose Next Header is 4: still refused, not Consumed.
  assert.equal(recv(rx, espPacket(rxSa, 4, new Uint8Array(20), 59)).v, XVerdict.Consumed);
  const afterDummy = recv(rx, espSealed(rxSa, 5, plaintext(new Uint8Array(0), [1, 2], 2, 59)));
  assert.equal(afterDummy.v, XVerdict.Drop, 'an all-trailer dummy is refused too (padLen + 2 ≥ plaintext)');
  assert.equal(afterDummy.r.mib, XfrmStat.InStateProtoError);
  assert.equal(rxSa.curPackets, 3, 'only the three good packets were counted on the SA');
});

test('the smallest valid trailer passes it: one payload byte (the inner header check then refuses it)', () => {
  const { rx, rxSa } = oneWay();
  const got = recv(rx, espSealed(rxSa, 1, plaintext(Uint8Array.of(0x45), [1], 1, 4)));
  assert.equal(got.v, XVerdict.Drop);
  assert.equal(got.r.mib, XfrmStat.InStateModeError, 'past the trailer: xfrm4_remove_tunnel_encap refuses a 1-byte IPv4 packet');
});

test('pad bytes are not checked (esp_remove_trailer reads only Pad Length and Next Header): other pad bytes are delivered', () => {
  const { rx, rxSa } = oneWay();
  const p = ping(56);
  const got = recv(rx, espSealed(rxSa, 1, plaintext(p, [0xee, 0x00], 2, 4)));
  assert.equal(got.v, XVerdict.Deliver, 'the kernel delivers it, and so does tunkit');
  assert.deepEqual([...got.inner], [...p]);
});
