// The addon's csum16 (native/tk_csum.h) against wire/checksum.ts's own loops:
// sum16 gives the same folded sum with the native sum installed (what the
// daemon runs once io/native.ts loads the addon) and without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadNative } from '../../src/io/native.js';
import { fold16, sum16, useNativeSum } from '../../src/wire/checksum.js';

const n = loadNative();

/** sum16 folded, with the JS loops only. */
function jsSum(b: Uint8Array, off: number, len: number, initial: number): number {
  useNativeSum(null);
  try {
    return fold16(sum16(b, off, len, initial));
  } finally {
    useNativeSum(n.csum16);
  }
}

test('csum16: the RFC 1071 §3 example words sum to 0xddf2', () => {
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(n.csum16(b.buffer, 0, 8), 0xddf2);
  assert.equal(n.csum16(b.buffer, 0, 0), 0);
  assert.equal(n.csum16(b.buffer, 7, 1), 0xf700, 'an odd last byte is the high byte of its word');
});

test('sum16 with the native sum equals the JS loops: any view offset, range and initial sum', () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.nat(31), fc.nat(), fc.nat(), fc.nat(0x3ffff),
    (data, viewOff, a, b, initial) => {
      const ab = new ArrayBuffer(data.length + viewOff);
      const v = new Uint8Array(ab, viewOff, data.length);
      v.set(data);
      const off = a % data.length;
      const len = b % (data.length - off + 1);
      assert.equal(fold16(sum16(v, off, len, initial)), jsSum(v, off, len, initial));
    },
  ), { numRuns: 2000 });
});

test('sum16 with the native sum on a full-size packet, every start alignment', () => {
  const ab = new ArrayBuffer(70_000);
  const all = new Uint8Array(ab);
  for (let i = 0; i < all.length; i++) all[i] = (i * 197 + 11) & 0xff;
  for (let off = 0; off < 8; off++) {
    for (const len of [255, 256, 257, 1448, 1449, 65_535]) {
      assert.equal(fold16(sum16(all, off, len)), jsSum(all, off, len, 0), `off ${off} len ${len}`);
    }
  }
});

test('csum16 refuses a range outside its buffer and a buffer that is not an ArrayBuffer', () => {
  const ab = new ArrayBuffer(64);
  assert.throws(() => n.csum16(ab, 60, 5), RangeError);
  assert.throws(() => n.csum16(ab, -1, 4), RangeError);
  assert.throws(() => n.csum16(ab, 0, -1), RangeError);
  assert.throws(() => n.csum16(new Uint8Array(8) as unknown as ArrayBuffer, 0, 4), TypeError);
});
