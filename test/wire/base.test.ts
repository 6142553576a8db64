import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { be16, be32, put16, put32, fromHex, toHex, bytesEqual, ViewBases } from '../../src/wire/bytes.js';
import { checksum16, csumReplace16, fold16, sum16, verify16 } from '../../src/wire/checksum.js';
import { formatIp4, formatIp6, parseIp4, parseIp6, isIp4Multicast } from '../../src/wire/addr.js';
import { Drop, dropName, DROP_CODES, DROP_TABLE_SIZE } from '../../src/wire/drop.js';
import { ConfigError, VpnError } from '../../src/wire/errors.js';
import { hex } from '../util/hex.js';

test('be16/be32/put16/put32 round trip and unsigned u32', () => {
  const b = new Uint8Array(8);
  put32(b, 1, 0xdeadbeef);
  assert.equal(be32(b, 1), 0xdeadbeef);
  put16(b, 5, 0xabcd);
  assert.equal(be16(b, 5), 0xabcd);
  assert.equal(toHex(b), '00deadbeefabcd00');
  assert.deepEqual(fromHex('00 de ad'), new Uint8Array([0, 0xde, 0xad]));
  assert.equal(fromHex('abc'), null);
  assert.equal(fromHex('zz'), null);
  assert.ok(bytesEqual(b, 1, hex('deadbeef'), 0, 4));
  assert.ok(!bytesEqual(b, 1, hex('deadbeee'), 0, 4));
});

test('RFC 1071 checksum: known IPv4 header (linux-peer ipip capture, outer header)', () => {
  // 45 00 00 68 07 0a 40 00 40 04 [df 1d] c6 33 64 02 c6 33 64 01 (proof/sample-output.txt)
  const h = hex('45000068070a40004004df1dc6336402c6336401');
  assert.ok(verify16(h, 0, 20));
  const z = new Uint8Array(h);
  z[10] = 0; z[11] = 0;
  assert.equal(checksum16(z, 0, 20), 0xdf1d);
});

test('checksum: odd length pads a zero byte; fold carries', () => {
  assert.equal(sum16(hex('0102 03'), 0, 3), 0x0102 + 0x0300);
  assert.equal(fold16(0x1ffff), 1); // 0xffff + 1 = 0x10000 -> 0x0000 + 1
  assert.equal(fold16(0x2fffe), 1); // 0xfffe + 2 = 0x10000 -> 1
  assert.equal(fold16(0x12345), 0x2346);
});

test('RFC 1624 incremental update equals full recomputation', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffff }), (h, word, nv) => {
      const b = new Uint8Array(h);
      b[10] = 0; b[11] = 0;
      put16(b, 10, checksum16(b, 0, 20));
      if (word === 5) return; // the checksum word itself
      const old = be16(b, word * 2);
      put16(b, word * 2, nv);
      const inc = csumReplace16(be16(b, 10), old, nv);
      const c = new Uint8Array(b);
      c[10] = 0; c[11] = 0;
      const full = checksum16(c, 0, 20);
      // 0x0000 and 0xffff are the same value in one's complement arithmetic.
      assert.ok(inc === full || (inc ^ full) === 0xffff, `inc ${inc} full ${full}`);
      assert.ok(verify16(b.map((x, i) => (i === 10 ? inc >>> 8 : i === 11 ? inc & 0xff : x)), 0, 20));
    }),
  );
});

test('IPv4 address text', () => {
  assert.equal(parseIp4('192.0.2.1'), 0xc0000201);
  assert.equal(formatIp4(0xcb007101), '203.0.113.1');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', 'a.b.c.d', '', '1..2.3']) assert.equal(parseIp4(bad), null, bad);
  assert.ok(isIp4Multicast(parseIp4('224.0.0.1')!));
  assert.ok(!isIp4Multicast(parseIp4('198.51.100.1')!));
});

test('IPv6 address text (RFC 4291 forms, RFC 5952 output)', () => {
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:100::2', '2001:db8:100::2'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ];
  for (const [inp, out] of cases) {
    const b = parseIp6(inp);
    assert.ok(b, inp);
    assert.equal(formatIp6(b), out, inp);
  }
  for (const bad of ['1:2:3:4:5:6:7', '1::2::3', '12345::', 'g::', ':', '1:2:3:4:5:6:7:8:9', '::1.2.3']) assert.equal(parseIp6(bad), null, bad);
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
    assert.deepEqual(parseIp6(formatIp6(b)), b);
  }));
});

test('drop codes are unique, named and fit the table', () => {
  const seen = new Set<number>();
  for (const c of DROP_CODES) {
    assert.ok(!seen.has(c));
    seen.add(c);
    assert.ok(c < DROP_TABLE_SIZE);
    assert.notEqual(dropName(c), `Drop#${c}`);
  }
  assert.equal(dropName(Drop.SeqOutOfOrder), 'SeqOutOfOrder');
  assert.equal(dropName(63), 'Drop#63');
});

test('ConfigError names the field and carries EINVAL', () => {
  const e = new ConfigError('ignore-df', 'requires nopmtudisc');
  assert.ok(e instanceof VpnError);
  assert.equal(e.code, 'EINVAL');
  assert.equal(e.field, 'ignore-df');
  assert.match(e.message, /^ignore-df: /);
  assert.equal(e.name, 'ConfigError');
});

/** RFC 1071 by the book: big-endian 16-bit words, odd byte padded, folded at the end. */
function refSum(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  return fold16(s);
}

test('sum16 equals the byte-by-byte RFC 1071 sum at every alignment, length and buffer (32-bit path included)', () => {
  const bufs = [new ArrayBuffer(70_001), new ArrayBuffer(4096), new ArrayBuffer(131_072)];
  for (const ab of bufs) {
    const all = new Uint8Array(ab);
    for (let i = 0; i < all.length; i++) all[i] = (i * 7919 + 13 + all.length) & 0xff;
  }
  fc.assert(fc.property(
    fc.nat({ max: 2 }), fc.nat({ max: 7 }), fc.nat({ max: 70 }), fc.nat({ max: 66_000 }), fc.nat({ max: 0xfffff }),
    (bi, viewOff, off, lenRaw, initial) => {
      const ab = bufs[bi]!;
      const view = new Uint8Array(ab, viewOff, ab.byteLength - viewOff);
      const len = Math.min(lenRaw, view.length - off);
      assert.equal(fold16(sum16(view, off, len, initial)), refSum(view, off, len, initial));
    },
  ), { numRuns: 3000 });
  // All-0xff words: the largest partial sums, across the 32-bit chunk boundary.
  const ones = new Uint8Array(70_000).fill(0xff);
  for (const len of [64, 65, 66, 4097, 32_768, 65_535, 69_998]) assert.equal(fold16(sum16(ones, 2, len)), refSum(ones, 2, len, 0), `len ${len}`);
});

test('ViewBases: the whole-buffer view and byteOffset of each view, past the four it keeps by identity', () => {
  const bufs = [new ArrayBuffer(64), new ArrayBuffer(128)];
  const vb = new ViewBases((buf) => new Uint8Array(buf));
  const views = Array.from({ length: 12 }, (_, i) => new Uint8Array(bufs[i & 1]!, i * 4, 8));
  for (let round = 0; round < 3; round++) {
    for (const v of views) {
      const w = vb.of(v);
      assert.equal(w.buffer, v.buffer);
      assert.equal(w.byteOffset, 0);
      assert.equal(w.length, v.buffer.byteLength);
      assert.equal(vb.base, v.byteOffset);
    }
  }
  assert.equal(vb.of(views[0]!), vb.of(views[2]!), 'one whole view per buffer');
});
