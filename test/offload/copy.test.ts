// copyBytes (src/offload/copy.ts): memmove semantics over views with offsets,
// small (byte loop) and large (copyWithin / set) ranges, one buffer or two.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes } from '../../src/offload/copy.js';

/** A reference memmove on plain arrays. */
function memmove(dst: number[], d: number, src: number[], s: number, n: number): void {
  const tmp = src.slice(s, s + n);
  for (let i = 0; i < n; i++) dst[d + i] = tmp[i]!;
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

for (const n of [0, 1, 40, 63, 64, 300]) {
  test(`copyBytes: overlapping ranges of ${n} bytes in one buffer behave as memmove, both directions`, () => {
    for (const shift of [-5, -1, 1, 5]) {
      const ab = pattern(1024).buffer;
      const a = new Uint8Array(ab, 16, 900); // two views of one buffer at different offsets
      const b = new Uint8Array(ab, 100, 800);
      const want = Array.from(new Uint8Array(ab));
      // dst = a[200 + shift ...], src = b[116 ...] → absolute 216 + shift and 216
      memmove(want, 16 + 200 + shift, want, 100 + 116, n);
      copyBytes(a, 200 + shift, b, 116, n);
      assert.deepEqual(Array.from(new Uint8Array(ab)), want, `shift ${shift}`);
    }
  });
}

test('copyBytes: between two buffers, small and large, at view offsets', () => {
  for (const n of [3, 63, 64, 1448]) {
    const src = new Uint8Array(pattern(4096).buffer, 33, 3000);
    const dstAb = new ArrayBuffer(4096);
    const dst = new Uint8Array(dstAb, 10, 3000);
    copyBytes(dst, 7, src, 11, n);
    const got = new Uint8Array(dstAb);
    for (let i = 0; i < 4096; i++) {
      const want = i >= 17 && i < 17 + n ? src[11 + i - 17]! : 0;
      assert.equal(got[i], want, `n=${n} byte ${i}`);
    }
  }
});

test('copyBytes: many distinct slot views of one slab (more than the memo keeps by identity)', () => {
  const ab = new ArrayBuffer(64 * 256);
  const slots = Array.from({ length: 64 }, (_, i) => new Uint8Array(ab, i * 256, 256));
  const src = pattern(256);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 64; i++) copyBytes(slots[i]!, 0, src, i, 100);
  }
  for (let i = 0; i < 64; i++) assert.deepEqual(Array.from(slots[i]!.subarray(0, 100)), Array.from(src.subarray(i, i + 100)), `slot ${i}`);
});
