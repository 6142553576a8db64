// Differential test of sum16's chunked accumulation against a plain loop,
// across chunk boundaries (16384 words) and up to a 64 KiB packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fold16, sum16 } from '../../src/wire/checksum.js';

function refFolded(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  for (let i = 0; i < len; i += 2) s += b[off + i]! * 256 + (i + 1 < len ? b[off + i + 1]! : 0);
  while (s > 0xffff) s = (s % 65536) + Math.floor(s / 65536);
  return s;
}

test('sum16 folds to the plain-loop sum for any length, offset and initial value', () => {
  const big = new Uint8Array(70000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 9)) & 255;
  fc.assert(fc.property(fc.nat({ max: 69999 }), fc.nat({ max: 70000 }), fc.nat({ max: 0x3ffffff }), (off, n, initial) => {
    const len = Math.min(n, big.length - off);
    assert.equal(fold16(sum16(big, off, len, initial)), refFolded(big, off, len, initial));
  }), { numRuns: 200 });
  const ff = new Uint8Array(65536).fill(0xff);
  assert.equal(fold16(sum16(ff, 0, ff.length)), 0xffff, 'all-ones stays 0xffff, never 0');
  assert.equal(fold16(sum16(ff, 0, 32768 + 2)), 0xffff, 'just past one chunk');
  assert.equal(sum16(new Uint8Array(0), 0, 0), 0);
});

test('sum16 over views at every byteOffset parity, more views than its memo keeps by identity', () => {
  const ab = new ArrayBuffer(4096);
  const all = new Uint8Array(ab);
  for (let i = 0; i < all.length; i++) all[i] = (i * 131 + 17) & 0xff;
  const views = Array.from({ length: 16 }, (_, i) => new Uint8Array(ab, i * 3, 3000));
  for (let round = 0; round < 2; round++) {
    for (const v of views) {
      for (const [off, len] of [[0, 1448], [1, 1447], [2, 64], [5, 200], [7, 63]] as const) {
        assert.equal(fold16(sum16(v, off, len, 0x1234)), refFolded(v, off, len, 0x1234), `view at ${v.byteOffset}, off ${off}, len ${len}`);
      }
    }
  }
});
