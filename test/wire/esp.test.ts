import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ESP_HDR_LEN, ESP_NEXT_HEADER_NONE, ESP_TRAILER_LEN, EspPacket, EspTrailer, emitEsp, emitEspTrailer, espBlockAlign,
  espHeaderLen, espPlen, parseEsp,
} from '../../src/wire/esp.js';
import { Drop } from '../../src/wire/drop.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface HeaderVector { name: string; pcap: string; frame: number; offset: number; header: string; spi: number; seq: number; packetLen: number }
interface TrailerVector {
  name: string; pcap: string; frame: number; cipherBlockSize: number; ivLen: number; icvLen: number;
  plaintext: string; contentLen: number; padLen: number; nextHeader: number;
}
const V = loadJson<{ headers: HeaderVector[]; trailers: TrailerVector[] }>('esp.json');

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

const bytesOffLen = fc
  .uint8Array({ minLength: 0, maxLength: 200, size: 'max' })
  .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: b.length })))
  .chain(([b, off]) => fc.tuple(fc.constant(b), fc.constant(off), fc.integer({ min: 0, max: b.length - off })));

const IPPROTO_IPIP = 4;

test('header vectors are the pcap bytes (provenance)', () => {
  for (const v of V.headers) {
    const pkt = pcapFrame(v.pcap, v.frame).subarray(v.offset);
    assert.equal(pkt.length, v.packetLen, v.name);
    assert.equal(toHex(pkt, 0, ESP_HDR_LEN), v.header, v.name);
  }
});

test('deconstruct: SPI and sequence number of the kernel and host frames', () => {
  const p = new EspPacket();
  for (const v of V.headers) {
    const pkt = pcapFrame(v.pcap, v.frame).subarray(v.offset);
    assert.equal(p.check(pkt), Drop.None);
    assert.equal(p.spi, v.spi, v.name);
    assert.equal(p.seq, v.seq, v.name);
    assert.equal(p.bodyOffset, ESP_HDR_LEN);
    assert.equal(p.payloadOffset, ESP_HDR_LEN);
    assert.equal(p.payloadLen, v.packetLen - ESP_HDR_LEN);
    assert.equal(p.length, v.packetLen);
    assert.equal(p.offset, 0);
    assert.equal(p.buffer, pkt);
    assert.deepEqual(parseEsp(p), { spi: v.spi, seq: v.seq });
  }
  // Kernel SA 0x2002 starts at seq 1 (esp-gcm frame 1).
  assert.deepEqual([V.headers[0]!.spi, V.headers[0]!.seq], [0x2002, 1]);
});

test('construct: emitEsp into 0xa5 gives the vector header bytes', () => {
  const p = new EspPacket();
  for (const v of V.headers) {
    const b = filled(ESP_HDR_LEN);
    assert.ok(p.bind(b, 0, b.length));
    assert.equal(espHeaderLen(v), ESP_HDR_LEN);
    emitEsp({ spi: v.spi, seq: v.seq }, p);
    assert.equal(toHex(b), v.header, v.name);
  }
});

test('u32 fields are unsigned', () => {
  const p = new EspPacket();
  const b = filled(8);
  assert.ok(p.bind(b, 0, 8));
  emitEsp({ spi: 0xfffffffe, seq: 0x80000001 }, p);
  assert.equal(toHex(b), 'fffffffe80000001');
  assert.equal(p.spi, 0xfffffffe);
  assert.equal(p.seq, 0x80000001);
});

test('wrap boundary: 7 bytes Truncated, 8 pass', () => {
  const p = new EspPacket();
  const b = hex(V.headers[0]!.header);
  assert.equal(p.check(b, 0, 7), Drop.Truncated);
  assert.equal(p.wrap(b, 0, 7), false);
  assert.equal(p.check(b, 0, 8), Drop.None);
  assert.equal(p.payloadLen, 0);
});

test('Drop reasons: Truncated (< 8 or range outside the buffer)', () => {
  const p = new EspPacket();
  assert.equal(p.check(new Uint8Array(0)), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(16), 9, 8), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(16), -1, 8), Drop.Truncated);
  const good = hex(V.headers[0]!.header);
  assert.ok(p.wrap(good));
  assert.equal(p.check(new Uint8Array(4)), Drop.Truncated);
  assert.equal(p.buffer, good, 'failed check leaves the binding');
  assert.equal(p.bind(new Uint8Array(8), 0, 7), false);
  assert.equal(p.bind(new Uint8Array(8), 1, 8), false);
  assert.throws(() => emitEsp({ spi: 1, seq: 1 }, new EspPacket()), RangeError, 'unbound view');
});

test('parse -> emit -> parse round trip', () => {
  const p = new EspPacket();
  const q = new EspPacket();
  for (const v of V.headers) {
    assert.ok(p.wrap(hex(v.header)));
    const r = parseEsp(p);
    const out = filled(ESP_HDR_LEN);
    assert.ok(q.bind(out, 0, out.length));
    emitEsp(r, q);
    assert.ok(q.wrap(out));
    assert.deepEqual(parseEsp(q), r);
  }
});

test('emit at a non-zero offset (7) into a larger buffer', () => {
  const v = V.headers[1]!;
  const b = filled(7 + 8 + 5);
  const p = new EspPacket();
  assert.ok(p.bind(b, 7, 13));
  emitEsp(v, p);
  assert.equal(toHex(b, 7, 8), v.header);
  assert.equal(b[6], 0xa5);
  assert.equal(b[15], 0xa5);
  assert.equal(p.bodyOffset, 15);
  assert.equal(p.payloadLen, 5);
});

test('block alignment and plen follow esp_output (ALIGN(blocksize, 4), clen = ALIGN(len + 2 + tfc, blksize))', () => {
  assert.equal(espBlockAlign(1), 4, 'GCM / ChaCha20-Poly1305');
  assert.equal(espBlockAlign(16), 16, 'AES-CBC');
  assert.equal(espBlockAlign(8), 8, '3DES-CBC');
  // 84-byte inner IPv4 ICMP echo (ping -s 56): GCM -> pad 2, CBC -> pad 10 (86 -> 88 / 96).
  assert.equal(espPlen(84, 0, 4) - 2, 2);
  assert.equal(espPlen(84, 0, 16) - 2, 10);
  // 47-byte inner packet (the proof's echo with 19 bytes of data): 49 -> 52 / 64.
  assert.equal(espPlen(47, 0, 4) - 2, 3);
  assert.equal(espPlen(47, 0, 16) - 2, 15);
  // Already aligned: no padding, plen = 2.
  assert.equal(espPlen(14, 0, 16), 2);
  // TFC padding is counted before alignment: 84 + 2 + 10 = 96 for CBC -> no pad.
  assert.equal(espPlen(84, 10, 16), 2);
  fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 1500 }), fc.constantFrom(4, 8, 16), (len, tfc, a) => {
    const plen = espPlen(len, tfc, a);
    assert.equal((len + tfc + plen) % a, 0);
    assert.ok(plen >= 2 && plen < a + 2);
  }));
});

test('kernel trailers: read() of decrypted GCM and CBC plaintexts', () => {
  const t = new EspTrailer();
  for (const v of V.trailers) {
    const pt = hex(v.plaintext);
    // The ciphertext length is consistent: ESP header + IV + plaintext + ICV = outer payload.
    const pkt = pcapFrame(v.pcap, v.frame).subarray(34);
    assert.equal(ESP_HDR_LEN + v.ivLen + pt.length + v.icvLen, pkt.length, v.name);
    assert.equal(t.read(pt, 0, pt.length), Drop.None, v.name);
    assert.equal(t.padLen, v.padLen, v.name);
    assert.equal(t.nextHeader, v.nextHeader);
    assert.equal(t.nextHeader, IPPROTO_IPIP, 'tunnel mode, inner IPv4');
    assert.equal(t.contentLen, v.contentLen);
    assert.equal((pt[2]! << 8) | pt[3]!, t.contentLen, 'inner IPv4 total length = content');
    assert.equal(t.padLen, espPlen(t.contentLen, 0, espBlockAlign(v.cipherBlockSize)) - 2, 'kernel padding rule');
  }
  assert.deepEqual(V.trailers.map((v) => v.padLen), [2, 3, 10, 15]);
});

test('construct: emitEspTrailer after the inner packet reproduces the kernel plaintext (0xa5 pre-fill)', () => {
  for (const v of V.trailers) {
    const want = hex(v.plaintext);
    const b = filled(want.length);
    b.set(want.subarray(0, v.contentLen));
    const padLen = espPlen(v.contentLen, 0, espBlockAlign(v.cipherBlockSize)) - 2;
    const n = emitEspTrailer(b, v.contentLen, 0, padLen, IPPROTO_IPIP);
    assert.equal(n, padLen + ESP_TRAILER_LEN);
    assert.equal(toHex(b), v.plaintext, v.name);
  }
});

test('emitEspTrailer: TFC zeros, then 1..padLen, Pad Length, Next Header; at an offset', () => {
  const b = filled(3 + 4 + 5 + 2 + 2);
  const n = emitEspTrailer(b, 3, 4, 5, ESP_NEXT_HEADER_NONE);
  assert.equal(n, 11);
  assert.equal(toHex(b), 'a5a5a5' + '00000000' + '0102030405' + '05' + '3b' + 'a5a5');
  const t = new EspTrailer();
  assert.equal(t.read(b, 0, 3 + n), Drop.None);
  assert.equal(t.nextHeader, ESP_NEXT_HEADER_NONE);
  assert.equal(t.contentLen, 3 + 4, 'TFC padding is part of the content');
  assert.equal(emitEspTrailer(b, 0, 0, 0, 41), 2);
  assert.equal(toHex(b, 0, 2), '0029');
  assert.throws(() => emitEspTrailer(b, 10, 4, 5, 4), RangeError);
  assert.throws(() => emitEspTrailer(new Uint8Array(300), 0, 0, 256, 4), RangeError);
  assert.throws(() => emitEspTrailer(b, 0, -1, 0, 4), RangeError);
  assert.throws(() => emitEspTrailer(b, 0, 0, -1, 4), RangeError);
});

test('EspTrailer.read: the kernel bound padLen + 2 + alen >= elen, i.e. padLen + 2 >= plainLen -> drop', () => {
  const t = new EspTrailer();
  // padLen 3: plainLen 5 (no content) is dropped like esp_remove_trailer; 6 passes with 1 byte of content.
  assert.equal(t.read(hex('aa 010203 03 04'), 1, 5), Drop.Truncated);
  assert.equal(t.read(hex('aa 010203 03 04'), 0, 6), Drop.None);
  assert.equal(t.contentLen, 1);
  assert.equal(t.read(hex('0004'), 0, 2), Drop.Truncated, 'padLen 0, no content');
  assert.equal(t.read(hex('450004'), 0, 3), Drop.None);
  assert.deepEqual([t.padLen, t.nextHeader, t.contentLen], [0, 4, 1]);
  assert.equal(t.read(hex('04'), 0, 1), Drop.Truncated);
  assert.equal(t.read(new Uint8Array(0), 0, 0), Drop.Truncated);
  assert.equal(t.read(new Uint8Array(4), 2, 4), Drop.Truncated, 'range outside the buffer');
  assert.equal(t.read(new Uint8Array(4), -1, 3), Drop.Truncated);
  assert.deepEqual([t.padLen, t.nextHeader, t.contentLen], [0, 4, 1], 'a failed read leaves the fields alone');
  // Pad contents are not verified (the kernel does not either).
  assert.equal(t.read(hex('45 ffffff 03 04'), 0, 6), Drop.None);
  assert.equal(t.padLen, 3);
});

test('fast-check: check/read never throw; what parses re-emits identical header bytes; trailer round trip', () => {
  const p = new EspPacket();
  const q = new EspPacket();
  const t = new EspTrailer();
  let parsed = 0;
  fc.assert(
    fc.property(bytesOffLen, ([b, off, len]) => {
      const rd = t.read(b, off, len);
      assert.ok(rd === Drop.None || rd === Drop.Truncated);
      if (rd === Drop.None) assert.equal(t.contentLen + t.padLen + 2, len);
      const d = p.check(b, off, len);
      if (d !== Drop.None) {
        assert.equal(d, Drop.Truncated);
        return;
      }
      parsed++;
      const out = filled(ESP_HDR_LEN);
      assert.ok(q.bind(out, 0, ESP_HDR_LEN));
      emitEsp(parseEsp(p), q);
      assert.equal(toHex(out), toHex(b, off, ESP_HDR_LEN));
    }),
    { numRuns: 500 },
  );
  assert.ok(parsed > 50, `only ${parsed} of 500 runs parsed`);
  fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom(1, 8, 16), fc.nat(255), (len, tfc, bs, nh) => {
    const padLen = espPlen(len, tfc, espBlockAlign(bs)) - 2;
    const b = filled(len + tfc + padLen + 2);
    emitEspTrailer(b, len, tfc, padLen, nh);
    assert.equal(t.read(b, 0, b.length), Drop.None);
    assert.deepEqual([t.padLen, t.nextHeader, t.contentLen], [padLen, nh, len + tfc]);
  }));
});
