// RFC 7383 §2.5 Encrypted Fragment (SKF) header codec: a hand-built header
// decoded field by field, an emit into a 0xa5-filled buffer at a non-zero
// offset, the length boundary (len - 1 fails, len passes), the §2.6
// fragment-number rules, the chain decoder keeping SKF raw and last, and
// fast-check: decoding arbitrary bytes never throws, and what decodes
// re-encodes identically.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PL } from '../../src/wire/ike/consts.js';
import { IkeDecodeError } from '../../src/wire/ike/header.js';
import { chainLen, emitChain, parseChain } from '../../src/wire/ike/payloads.js';
import { emitSkfHeader, parseSkfHeader, SKF_HDR_LEN } from '../../src/wire/ike/skf.js';
import type { SkfHeader } from '../../src/wire/ike/skf.js';

const ok = (r: SkfHeader | IkeDecodeError): SkfHeader => {
  assert.ok(!(r instanceof IkeDecodeError), r instanceof IkeDecodeError ? r.why : '');
  return r;
};

describe('IKE SKF header (RFC 7383 §2.5)', () => {
  it('decodes a hand-built header: Next Payload, Length, Fragment Number, Total Fragments', () => {
    const b = Uint8Array.of(PL.IDi, 0, 0, 12, 0, 3, 0, 31, 0xde, 0xad, 0xbe, 0xef);
    assert.deepEqual(ok(parseSkfHeader(b, 0, 12)), { nextPayload: PL.IDi, fragNum: 3, totalFrags: 31, length: 12 });
  });

  it('emits into a 0xa5-filled buffer at offset 5, every header byte written, and decodes back', () => {
    const b = new Uint8Array(5 + 40).fill(0xa5);
    const h: SkfHeader = { nextPayload: 0, fragNum: 258, totalFrags: 300, length: 40 };
    emitSkfHeader(h, b, 5);
    assert.deepEqual([...b.subarray(0, 5 + SKF_HDR_LEN)], [0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0, 0, 0, 40, 1, 2, 1, 44]);
    assert.equal(b[5 + SKF_HDR_LEN], 0xa5, 'nothing past the header');
    assert.deepEqual(ok(parseSkfHeader(b, 5, 40)), h);
  });

  it('length boundary: 7 bytes fail, 8 pass; the Length must fill what is left', () => {
    const b = new Uint8Array(SKF_HDR_LEN);
    emitSkfHeader({ nextPayload: PL.AUTH, fragNum: 1, totalFrags: 1, length: SKF_HDR_LEN }, b, 0);
    assert.ok(parseSkfHeader(b, 0, SKF_HDR_LEN - 1) instanceof IkeDecodeError);
    ok(parseSkfHeader(b, 0, SKF_HDR_LEN));
    assert.ok(parseSkfHeader(b, 1, SKF_HDR_LEN) instanceof IkeDecodeError, 'past the end of the buffer');
    const long = new Uint8Array(20);
    long.set(b);
    assert.match((parseSkfHeader(long, 0, 20) as IkeDecodeError).why, /length 8 does not fill the 20 bytes/);
  });

  it('§2.6: Fragment Number 0, Total Fragments 0 and Fragment Number > Total Fragments are refused', () => {
    for (const [n, t] of [[0, 1], [1, 0], [3, 2]] as const) {
      const b = Uint8Array.of(0, 0, 0, 8, n >> 8, n & 0xff, t >> 8, t & 0xff);
      assert.match((parseSkfHeader(b, 0, 8) as IkeDecodeError).why, /not a valid fragment number/, `${n} of ${t}`);
    }
    assert.throws(() => emitSkfHeader({ nextPayload: 0, fragNum: 2, totalFrags: 1, length: 8 }, new Uint8Array(8), 0), RangeError);
    assert.throws(() => emitSkfHeader({ nextPayload: 0, fragNum: 1, totalFrags: 1, length: 8 }, new Uint8Array(7), 0), RangeError);
  });

  it('parseChain keeps SKF raw with its first inner type, refuses it when not last, and re-emits it', () => {
    const body = Uint8Array.of(0, 1, 0, 2, 9, 9, 9, 9);
    const ps = [{ type: PL.N, protocolId: 0, spi: new Uint8Array(0), notifyType: 16430, data: new Uint8Array(0) }, { type: PL.SKF, firstInner: PL.IDi, body }] as const;
    const out = new Uint8Array(chainLen(ps));
    emitChain(ps, out, 0);
    assert.deepEqual(parseChain(out, 0, out.length, PL.N), ps);
    const notLast = new Uint8Array([...out, 0, 0, 0, 4]);
    assert.match((parseChain(notLast, 0, notLast.length, PL.N) as IkeDecodeError).why, /SKF payload is not the last/);
    assert.throws(() => emitChain([ps[1], ps[0]], new Uint8Array(64), 0), RangeError);
  });

  it('fast-check: arbitrary bytes never throw; what decodes re-encodes identically', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -2, max: 42 }), fc.integer({ min: -2, max: 42 }), (b, off, len) => {
      const r = parseSkfHeader(b, off, len);
      if (r instanceof IkeDecodeError) return;
      const out = new Uint8Array(b.length).fill(0xa5);
      out.set(b.subarray(off + SKF_HDR_LEN, off + len), off + SKF_HDR_LEN);
      emitSkfHeader(r, out, off);
      const again = parseSkfHeader(out, off, len);
      assert.deepEqual(again, r);
      assert.deepEqual([...out.subarray(off + 2, off + len)], [...b.subarray(off + 2, off + len)], 'bytes after the flags byte round-trip');
    }), { numRuns: 5000 });
  });
});
