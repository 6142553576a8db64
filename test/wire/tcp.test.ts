import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TCP_ACK, TCP_CWR, TCP_PSH, TcpHeader } from '../../src/wire/tcp.js';
import { hex } from '../util/hex.js';

// A SYN-ACK-shaped header built by hand: ports 5001 → 40000, seq 0x01020304,
// ack 0x0a0b0c0d, data offset 8 (12 option bytes), flags ACK|PSH|CWR, window
// 502, checksum 0xbeef, urgent 0, then NOP NOP TS and 3 payload bytes.
const SEG = '1389 9c40 01020304 0a0b0c0d 8098 01f6 beef 0000 0101080a0001020300040506 616263';

test('deconstruct: every field of a hand-built segment', () => {
  const b = hex(SEG);
  const t = new TcpHeader();
  assert.ok(t.check(b, 0, b.length));
  assert.equal(t.srcPort, 5001);
  assert.equal(t.dstPort, 40000);
  assert.equal(t.seq, 0x01020304);
  assert.equal(t.ack, 0x0a0b0c0d);
  assert.equal(t.headerLen, 32);
  assert.equal(t.flags, TCP_ACK | TCP_PSH | TCP_CWR);
  assert.equal(t.window, 502);
  assert.equal(t.checksum, 0xbeef);
  assert.equal(t.urgentPointer, 0);
  assert.equal(t.payloadOffset, 32);
  assert.equal(t.payloadLen, 3);
  assert.equal(t.length, 35);
});

test('setters write only their field; seq is u32', () => {
  const b = hex(SEG);
  const t = new TcpHeader();
  assert.ok(t.check(b, 0, b.length));
  t.seq = 0xfffffffe;
  t.flags = TCP_ACK;
  t.checksum = 0x1234;
  assert.equal(t.seq, 0xfffffffe);
  assert.equal(hex(SEG).length, b.length);
  const want = hex(SEG);
  want.set([0xff, 0xff, 0xff, 0xfe], 4);
  want[13] = 0x10;
  want.set([0x12, 0x34], 16);
  assert.deepEqual(b, want);
});

test('check boundary: header length is the gate (len-1 fails, len passes), data offset < 5 fails', () => {
  const b = hex(SEG);
  const t = new TcpHeader();
  assert.equal(t.check(b, 0, 31), false);
  assert.equal(t.check(b, 0, 32), true);
  assert.equal(t.check(b, 1, 35), false);
  b[12] = 0x40;
  assert.equal(t.check(b, 0, b.length), false);
});

test('fast-check: check() never throws and binds only ranges that hold the header', () => {
  const t = new TcpHeader();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -2, max: 90 }), fc.integer({ min: -2, max: 90 }), (b, off, len) => {
    if (t.check(b, off, len)) {
      assert.ok(off >= 0 && off + len <= b.length && t.headerLen >= 20 && t.headerLen <= len);
      assert.ok(t.payloadLen >= 0);
    }
  }));
});
