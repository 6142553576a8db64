import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GRE_ACK, GRE_CSUM, GRE_FLAGS, GRE_KEY, GRE_REC, GRE_ROUTING, GRE_SEQ, GRE_STRICT, GRE_VERSION,
  GrePacket, emitGre, greHeaderLen, greHeaderLenFromFlags, parseGre,
} from '../../src/wire/gre.js';
import type { GreRepr } from '../../src/wire/gre.js';
import { Drop } from '../../src/wire/drop.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface GreVector {
  name: string; pcap?: string; frame?: number; offset?: number; packet: string;
  flags: number; headerLen: number; protocolType: number; checksum: number | null; key: number | null; seq: number | null;
}
interface GreVectors { vectors: GreVector[]; pptp: { packet: string }; routing: { packet: string } }
const V = loadJson<GreVectors>('gre.json');

/** Frame n (1-based) of a classic little-endian pcap. */
function pcapFrame(file: string, n: number): Uint8Array {
  const d = loadBytes(file);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 24;
  for (let i = 1; ; i++) {
    const incl = dv.getUint32(o + 8, true);
    if (i === n) return d.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
  }
}

/** Independent RFC 1071 reference: byte pairs summed with a plain loop, folded at the end. */
function refChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) + (i + 1 < b.length ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s >>> 16) + (s & 0xffff);
  return ~s & 0xffff;
}

/** Arbitrary bytes (0..200) with any off/len inside them. */
const bytesOffLen = fc
  .uint8Array({ minLength: 0, maxLength: 200, size: 'max' })
  .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: b.length })))
  .chain(([b, off]) => fc.tuple(fc.constant(b), fc.constant(off), fc.integer({ min: 0, max: b.length - off })));

const reprOf = (v: GreVector): GreRepr => ({ protocolType: v.protocolType, checksum: v.checksum !== null, key: v.key, seq: v.seq });

test('vectors are the pcap bytes (provenance)', () => {
  for (const v of V.vectors) {
    if (v.pcap === undefined) continue;
    assert.equal(toHex(pcapFrame(v.pcap, v.frame!).subarray(v.offset!)), v.packet, v.name);
  }
});

test('deconstruct: every field of each vector', () => {
  const p = new GrePacket();
  for (const v of V.vectors) {
    const b = hex(v.packet);
    assert.equal(p.check(b), Drop.None, v.name);
    assert.equal(p.flags, v.flags, v.name);
    assert.equal(p.version, 0);
    assert.equal(p.hasRouting, false);
    assert.equal(p.protocolType, v.protocolType);
    assert.equal(p.hasChecksum, v.checksum !== null);
    assert.equal(p.hasKey, v.key !== null);
    assert.equal(p.hasSeq, v.seq !== null);
    assert.equal(p.checksum, v.checksum ?? 0);
    assert.equal(p.key, v.key ?? 0);
    assert.equal(p.seq, v.seq ?? 0);
    assert.equal(p.headerLen, v.headerLen);
    assert.equal(p.payloadOffset, v.headerLen);
    assert.equal(p.payloadLen, b.length - v.headerLen);
    assert.equal(p.length, b.length);
    assert.equal(p.offset, 0);
    assert.equal(p.buffer, b);
    assert.ok(p.verifyChecksum(), v.name);
    assert.deepEqual(parseGre(p), reprOf(v));
    if (v.checksum !== null) assert.equal(refChecksum(b), 0, `${v.name}: reference agrees`);
  }
});

test('kernel C+K+S frame: key/seq offsets follow the checksum word', () => {
  const p = new GrePacket();
  const b = hex(V.vectors[1]!.packet);
  assert.ok(p.wrap(b));
  assert.equal(toHex(b, 4, 12), '47fa0000' + '00000005' + '00000000');
  p.seq = 0xdeadbeef;
  assert.equal(toHex(b, 12, 4), 'deadbeef');
  assert.equal(p.seq, 0xdeadbeef); // unsigned
  p.key = 0x01020304;
  assert.equal(toHex(b, 8, 4), '01020304');
  p.checksum = 0xabcd;
  assert.equal(toHex(b, 4, 2), 'abcd');
  // K only: key right after the base header.
  const k = hex(V.vectors[0]!.packet);
  assert.ok(p.wrap(k));
  assert.equal(p.key, 5);
  assert.equal(p.checksum, 0);
  assert.equal(p.seq, 0);
  // C+S without K: seq right after the checksum word.
  const cs = hex(V.vectors[3]!.packet);
  assert.ok(p.wrap(cs));
  assert.equal(p.seq, 7);
  assert.equal(p.key, 0);
});

test('construct: emitGre + fillChecksum re-create every vector byte for byte (0xa5 pre-fill)', () => {
  const p = new GrePacket();
  for (const v of V.vectors) {
    const want = hex(v.packet);
    const b = filled(want.length);
    const r = reprOf(v);
    assert.equal(greHeaderLen(r), v.headerLen);
    assert.ok(p.bind(b, 0, want.length));
    emitGre(r, p);
    b.set(want.subarray(v.headerLen), v.headerLen); // the payload, placed by the caller
    if (r.checksum) {
      assert.equal(toHex(b, 4, 4), '00000000', 'checksum + reserved1 zeroed by emit');
      p.fillChecksum();
    }
    assert.equal(toHex(b), v.packet, v.name);
  }
});

test('fillChecksum zeroes Reserved1 and stores the sum of the bound range', () => {
  const p = new GrePacket();
  const b = hex(V.vectors[1]!.packet);
  b[4] = 0x12; b[5] = 0x34; b[6] = 0xff; b[7] = 0xee; // garbage checksum + reserved1
  assert.ok(p.wrap(b));
  assert.equal(p.verifyChecksum(), false);
  p.fillChecksum();
  assert.equal(toHex(b, 4, 4), '47fa0000');
  assert.ok(p.verifyChecksum());
});

test('bad checksum: one payload bit flipped -> verifyChecksum false', () => {
  const p = new GrePacket();
  for (const v of V.vectors) {
    if (v.checksum === null) continue;
    const b = hex(v.packet);
    b[b.length - 1]! ^= 0x01;
    assert.equal(p.check(b), Drop.None); // check() does not validate the checksum
    assert.equal(p.verifyChecksum(), false, v.name);
  }
  // With C clear there is nothing to verify.
  assert.ok(p.wrap(hex(V.vectors[0]!.packet)));
  assert.ok(p.verifyChecksum());
});

test('wrap boundary: header length - 1 fails, header length passes', () => {
  const p = new GrePacket();
  for (const v of V.vectors) {
    const b = hex(v.packet);
    assert.equal(p.check(b, 0, v.headerLen - 1), Drop.Truncated, v.name);
    assert.equal(p.wrap(b, 0, v.headerLen - 1), false);
    assert.equal(p.check(b, 0, v.headerLen), Drop.None, v.name);
    assert.equal(p.payloadLen, 0);
  }
  assert.equal(p.check(new Uint8Array(3)), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(4)), Drop.None);
});

test('Drop reasons: version 1 (PPTP, RFC 2637) -> GreVersion; R bit -> GreRouting; version before routing', () => {
  const p = new GrePacket();
  const pptp = hex(V.pptp.packet);
  assert.equal(p.check(pptp), Drop.GreVersion);
  assert.equal(p.check(hex(V.routing.packet)), Drop.GreRouting);
  assert.equal(p.check(hex('40010800')), Drop.GreVersion, 'both R and version: version reported');
  for (let ver = 1; ver <= 7; ver++) assert.equal(p.check(hex(`000${ver}0800`)), Drop.GreVersion);
  assert.equal(p.check(new Uint8Array(2)), Drop.Truncated);
  assert.equal(p.check(hex('b0000800 00000000 00000005')), Drop.Truncated, 'C+K+S needs 16 bytes');
  assert.equal(p.check(new Uint8Array(8), 6, 4), Drop.Truncated, 'range outside the buffer');
  assert.equal(p.check(new Uint8Array(8), -1, 4), Drop.Truncated);
  // A failed check leaves the previous binding alone.
  const good = hex(V.vectors[0]!.packet);
  assert.ok(p.wrap(good));
  assert.equal(p.check(pptp), Drop.GreVersion);
  assert.equal(p.buffer, good);
});

test('reserved bits other than R/Ver are ignored, as gre_parse_header does', () => {
  const p = new GrePacket();
  const b = hex('2000 0800 00000005 45');
  b[0]! |= (GRE_STRICT | GRE_REC) >>> 8;
  b[1]! |= GRE_ACK | GRE_FLAGS;
  assert.equal(p.check(b), Drop.None);
  assert.equal(p.key, 5);
  assert.deepEqual(parseGre(p), { protocolType: 0x0800, checksum: false, key: 5, seq: null });
});

test('flag constants and gre_calc_hlen', () => {
  assert.deepEqual(
    [GRE_CSUM, GRE_ROUTING, GRE_KEY, GRE_SEQ, GRE_STRICT, GRE_REC, GRE_ACK, GRE_FLAGS, GRE_VERSION],
    [0x8000, 0x4000, 0x2000, 0x1000, 0x0800, 0x0700, 0x0080, 0x0078, 0x0007],
  );
  for (let f = 0; f < 0x10000; f += 0x80) {
    const want = 4 + (f & GRE_CSUM ? 4 : 0) + (f & GRE_KEY ? 4 : 0) + (f & GRE_SEQ ? 4 : 0);
    assert.equal(greHeaderLenFromFlags(f), want, f.toString(16));
  }
});

test('setters: flags/version/protocolType; absent optional fields throw', () => {
  const p = new GrePacket();
  const b = filled(8);
  assert.ok(p.bind(b, 0, 8));
  p.flags = 0;
  p.version = 1;
  assert.equal(p.flags, 1);
  p.version = 0;
  p.protocolType = 0x86dd;
  assert.equal(toHex(b, 0, 4), '000086dd');
  assert.throws(() => { p.key = 1; }, RangeError);
  assert.throws(() => { p.seq = 1; }, RangeError);
  assert.throws(() => { p.checksum = 1; }, RangeError);
  assert.throws(() => p.fillChecksum(), RangeError);
  assert.equal(p.bind(b, 0, 3), false);
  assert.equal(p.bind(b, 6, 4), false);
});

test('parse -> emit -> parse round trip', () => {
  const p = new GrePacket();
  const q = new GrePacket();
  for (const v of V.vectors) {
    assert.ok(p.wrap(hex(v.packet)));
    const r = parseGre(p)!;
    const out = filled(v.headerLen);
    assert.ok(q.bind(out, 0, out.length));
    emitGre(r, q);
    assert.equal(q.check(out), Drop.None);
    assert.deepEqual(parseGre(q), r);
  }
});

test('emit at a non-zero offset (7) into a larger buffer', () => {
  const v = V.vectors[1]!;
  const want = hex(v.packet);
  const b = filled(7 + want.length + 5);
  const p = new GrePacket();
  assert.ok(p.bind(b, 7, want.length));
  emitGre(reprOf(v), p);
  b.set(want.subarray(16), 7 + 16);
  p.fillChecksum();
  assert.equal(toHex(b, 7, want.length), v.packet);
  assert.equal(b[6], 0xa5);
  assert.equal(b[7 + want.length], 0xa5);
  assert.equal(p.payloadOffset, 7 + 16);
  assert.ok(p.wrap(b, 7, want.length));
  assert.ok(p.verifyChecksum());
});

test('emitGre throws RangeError when the view is shorter than the header', () => {
  const p = new GrePacket();
  assert.ok(p.bind(new Uint8Array(8), 0, 8));
  assert.throws(() => emitGre({ protocolType: 0x800, checksum: true, key: 1, seq: null }, p), RangeError);
  emitGre({ protocolType: 0x800, checksum: false, key: 1, seq: null }, p);
});

test('parseGre returns null for a bound but invalid header', () => {
  const p = new GrePacket();
  assert.equal(parseGre(p), null, 'unbound view');
  assert.ok(p.bind(hex('00010800'), 0, 4));
  assert.equal(parseGre(p), null);
  assert.ok(p.bind(hex('40000800'), 0, 4));
  assert.equal(parseGre(p), null);
  assert.ok(p.bind(hex('80000800'), 0, 4));
  assert.equal(parseGre(p), null);
});

test('fast-check: check/parse never throw; what parses re-emits the same header (reserved bits cleared)', () => {
  const p = new GrePacket();
  const q = new GrePacket();
  let parsed = 0;
  fc.assert(
    fc.property(bytesOffLen, fc.boolean(), ([b, off, len], fix) => {
      if (fix && len >= 2) {
        b[off]! &= ~(GRE_ROUTING >>> 8); // half the cases: a version-0 header without R
        b[off + 1]! &= ~GRE_VERSION;
      }
      const d = p.check(b, off, len);
      if (d !== Drop.None) {
        assert.ok(d === Drop.Truncated || d === Drop.GreVersion || d === Drop.GreRouting);
        return;
      }
      p.verifyChecksum();
      const r = parseGre(p);
      assert.ok(r !== null);
      const hlen = greHeaderLen(r);
      assert.equal(hlen, p.headerLen);
      const out = filled(len);
      assert.ok(q.bind(out, 0, len));
      emitGre(r, q);
      const want = b.slice(off, off + hlen);
      want[0]! &= (GRE_CSUM | GRE_KEY | GRE_SEQ) >>> 8; // reserved bits are not carried
      want[1] = 0;
      if (r.checksum) want.fill(0, 4, 8); // filled later by fillChecksum
      assert.equal(toHex(out, 0, hlen), toHex(want));
      parsed++;
      if (r.checksum) {
        out.set(b.subarray(off + hlen, off + len), hlen);
        q.fillChecksum();
        assert.ok(q.verifyChecksum());
        assert.equal(refChecksum(out), 0);
      }
    }),
    { numRuns: 500 },
  );
  assert.ok(parsed > 50, `only ${parsed} of 500 runs parsed`);
});

test('differential: fillChecksum equals the reference over random packets (odd and even lengths)', () => {
  const p = new GrePacket();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), fc.boolean(), fc.nat(), (payload, k, s, val) => {
      const r: GreRepr = { protocolType: 0x0800, checksum: true, key: k ? val >>> 0 : null, seq: s ? (val * 7) >>> 0 : null };
      const hlen = greHeaderLen(r);
      const b = filled(hlen + payload.length);
      b.set(payload, hlen);
      assert.ok(p.bind(b, 0, b.length));
      emitGre(r, p);
      const zeroed = b.slice();
      p.fillChecksum();
      assert.equal(p.checksum, refChecksum(zeroed));
      assert.ok(p.verifyChecksum());
    }),
  );
});
