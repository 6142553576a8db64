// Differential: the native per-SA ESP crypto (src/xfrm/aead.ts, cbc-hmac.ts on
// native/crypto_sa.c) against the node:crypto reference (test/xfrm/ref/), for
// every algorithm, key size, ICV length and ESN on/off, with random keys,
// offsets, SPI/seq/seqHi, IVs and plaintext lengths 0..9000 (fast-check):
//   - sealWithIv: identical bytes, and nothing written outside the packet;
//   - each opens the other's seal() (own IV) and recovers the plaintext;
//   - a flipped bit anywhere in an authenticated packet, or (ESN) a wrong
//     seqHi, fails in both, and both leave the buffer as it was.
// The primitives too: AeadKey against RefAeadKey (random AAD), HmacKey
// against node's createHmac (keys 0..200 bytes, longer than a block hashed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { AeadKey } from '../../src/xfrm/aead.js';
import type { AeadCipherName } from '../../src/xfrm/aead.js';
import { HmacKey } from '../../src/xfrm/cbc-hmac.js';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCrypto, EspCryptoConfig } from '../../src/xfrm/esp-crypto.js';
import { put32 } from '../../src/wire/bytes.js';
import { RefAeadKey } from './ref/aead.js';
import { makeRefEspCrypto } from './ref/esp-crypto.js';
import { toHex } from '../util/hex.js';

const MAX_PT = 9000;
const RUNS = 8; // per shape and ESN mode

/** One SA shape: how to build its config from random key bytes. */
interface Shape {
  readonly label: string;
  readonly keyLens: readonly number[]; // [aead] or [enc, auth]
  readonly make: (keys: readonly Uint8Array[], esn: boolean) => EspCryptoConfig;
}

function shapes(): Shape[] {
  const out: Shape[] = [];
  for (const keyLen of [16, 24, 32]) {
    for (const bits of [64, 96, 128]) {
      out.push({
        label: `rfc4106(gcm(aes)) ${keyLen * 8}-bit key, ${bits}-bit ICV`,
        keyLens: [keyLen + 4],
        make: ([k], esn) => ({ aead: { name: 'rfc4106(gcm(aes))', key: k!, bits }, esn }),
      });
    }
  }
  out.push({
    label: 'rfc7539esp(chacha20,poly1305)',
    keyLens: [36],
    make: ([k], esn) => ({ aead: { name: 'rfc7539esp(chacha20,poly1305)', key: k! }, esn }),
  });
  const auths: readonly (readonly [string, number | undefined, number])[] = [
    // name, auth-trunc bits (undefined = the kernel default), auth key bytes
    ['hmac(md5)', undefined, 16], ['hmac(sha1)', undefined, 20], ['hmac(sha1)', 160, 20],
    ['hmac(sha256)', 128, 32], ['hmac(sha256)', undefined, 32], ['hmac(sha256)', 100, 17],
    ['hmac(sha384)', 192, 48], ['hmac(sha384)', 384, 131], ['hmac(sha512)', 256, 64], ['hmac(sha512)', 512, 200],
  ];
  for (const encLen of [0, 16, 24, 32]) {
    const enc = encLen === 0 ? 'ecb(cipher_null)' : 'cbc(aes)';
    if (encLen !== 0) {
      out.push({ label: `${enc} ${encLen * 8}, no auth`, keyLens: [encLen], make: ([e], esn) => ({ enc: { name: enc, key: e! }, esn }) });
    }
    for (const [name, bits, authLen] of auths) {
      out.push({
        label: `${enc}${encLen === 0 ? '' : ` ${encLen * 8}`} + ${name}${bits === undefined ? '' : ` trunc ${bits}`}, ${authLen}-byte auth key`,
        keyLens: [encLen, authLen],
        make: ([e, a], esn) => ({ enc: { name: enc, key: e! }, auth: { name, key: a!, ...(bits === undefined ? {} : { bits }) }, esn }),
      });
    }
  }
  return out;
}

interface Run {
  keys: Uint8Array[]; esn: boolean; off: number; ptLen: number; spi: number; seqLo: number; seqHi: number;
  fill: number; iv: Uint8Array; flipAt: number; flipBit: number;
}

const runArb = (s: Shape): fc.Arbitrary<Run> => fc.record({
  keys: fc.tuple(...s.keyLens.map((n) => fc.uint8Array({ minLength: n, maxLength: n }))),
  esn: fc.boolean(),
  off: fc.integer({ min: 0, max: 64 }),
  ptLen: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: MAX_PT })),
  spi: fc.nat(), seqLo: fc.nat(), seqHi: fc.nat(),
  fill: fc.integer({ min: 0, max: 255 }),
  iv: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  flipAt: fc.nat(), flipBit: fc.integer({ min: 0, max: 7 }),
}).map((r) => ({ ...r, keys: [...r.keys], spi: r.spi >>> 0, seqLo: r.seqLo >>> 0, seqHi: r.seqHi >>> 0 }));

/** A buffer with header, IV and a patterned plaintext at r.off, 0xa5 around it. */
function staged(esp: EspCrypto, r: Run, ptLen: number): Uint8Array {
  const b = new Uint8Array(r.off + 8 + esp.ivLen + ptLen + esp.icvLen + 9).fill(0xa5);
  put32(b, r.off, r.spi);
  put32(b, r.off + 4, r.seqLo);
  b.set(r.iv.subarray(0, esp.ivLen), r.off + 8);
  for (let i = 0; i < ptLen; i++) b[r.off + 8 + esp.ivLen + i] = (r.fill + i * 7) & 0xff;
  return b;
}

function checkRun(s: Shape, r: Run): void {
  const cfg = s.make(r.keys, r.esn);
  const nat = makeEspCrypto(cfg);
  const ref = makeRefEspCrypto(cfg);
  assert.deepEqual([nat.ivLen, nat.icvLen, nat.blockAlign], [ref.ivLen, ref.icvLen, ref.blockAlign]);
  const ptLen = r.ptLen - (r.ptLen % nat.blockAlign);
  const espLen = 8 + nat.ivLen + ptLen + nat.icvLen;
  const plain = toHex(staged(nat, r, ptLen));

  // sealWithIv: byte for byte, writes confined to the packet
  const a = staged(nat, r, ptLen);
  const b = staged(ref, r, ptLen);
  nat.sealWithIv(a, r.off, ptLen, r.seqHi);
  ref.sealWithIv(b, r.off, ptLen, r.seqHi);
  assert.equal(toHex(a), toHex(b), `${s.label}: sealWithIv differs`);

  // each opens the other's seal() with its own IV (esp_input refuses elen 0: enc-only, empty)
  const opens = ptLen + nat.icvLen > 0;
  const fromNat = staged(nat, r, ptLen);
  nat.seal(fromNat, r.off, ptLen, r.seqHi);
  const fromRef = staged(ref, r, ptLen);
  ref.seal(fromRef, r.off, ptLen, r.seqHi);
  for (const [opener, pkt, what] of [[ref, fromNat, 'ref opens native'], [nat, fromRef, 'native opens ref'], [nat, Uint8Array.from(a), 'native opens own']] as const) {
    assert.equal(opener.open(pkt, r.off, espLen, r.seqHi), opens, `${s.label}: ${what}`);
    if (!opens) continue;
    const body = r.off + 8 + nat.ivLen;
    assert.equal(toHex(pkt, body, ptLen), plain.slice(body * 2, (body + ptLen) * 2), `${s.label}: ${what}: plaintext`);
  }
  if (nat.icvLen > 0) checkTamper(s, r, nat, ref, a, espLen);
  nat.destroy();
}

/** A flipped bit, or a wrong ESN high half, fails both and leaves the packet as it was. */
function checkTamper(s: Shape, r: Run, nat: EspCrypto, ref: EspCrypto, sealed: Uint8Array, espLen: number): void {
  const at = r.off + (r.flipAt % espLen);
  const bad = Uint8Array.from(sealed);
  bad[at]! ^= 1 << r.flipBit;
  const before = toHex(bad);
  for (const [who, c] of [['native', nat], ['ref', ref]] as const) {
    const x = Uint8Array.from(bad);
    assert.equal(c.open(x, r.off, espLen, r.seqHi), false, `${s.label}: ${who} accepted a flip at ${at - r.off}`);
    assert.equal(toHex(x), before, `${s.label}: ${who} changed a rejected packet`);
  }
  if (r.esn) {
    for (const [who, c] of [['native', nat], ['ref', ref]] as const) {
      const x = Uint8Array.from(sealed);
      assert.equal(c.open(x, r.off, espLen, (r.seqHi ^ 1) >>> 0), false, `${s.label}: ${who} accepted a wrong seqHi`);
      assert.equal(toHex(x), toHex(sealed), `${s.label}: ${who} changed a rejected packet`);
    }
  }
}

for (const s of shapes()) {
  test(`native = node:crypto reference: ${s.label}, ESN off and on`, () => {
    for (const esn of [false, true]) {
      fc.assert(fc.property(runArb(s).map((r) => ({ ...r, esn })), (r) => checkRun(s, r)), { numRuns: RUNS });
    }
  });
}

test('AeadKey = RefAeadKey: random AAD (0..64 bytes) and lengths, in place, each opens the other', () => {
  const cipherArb = fc.constantFrom<[AeadCipherName, number, number]>(
    ['aes-gcm', 16, 16], ['aes-gcm', 24, 12], ['aes-gcm', 32, 8], ['chacha20-poly1305', 32, 16]);
  fc.assert(fc.property(cipherArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
    fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: MAX_PT }), ([cipher, keyLen, tagLen], key, nonce, aad, pt) => {
      const k = key.subarray(0, keyLen);
      const nat = new AeadKey(cipher, k, tagLen);
      const ref = new RefAeadKey(cipher, k, tagLen);
      const a = new Uint8Array(pt.length + tagLen);
      a.set(pt);
      nat.seal(nonce, aad, a, 0, pt.length);
      const b = new Uint8Array(pt.length + tagLen);
      ref.seal(nonce, aad, pt, b);
      assert.equal(toHex(a), toHex(b));
      const out = new Uint8Array(pt.length);
      assert.equal(ref.open(nonce, aad, a.subarray(0, pt.length), a.subarray(pt.length), out), true);
      assert.equal(nat.open(nonce, aad, a, 0, pt.length), true);
      assert.equal(toHex(a, 0, pt.length), toHex(pt));
      nat.destroy();
    }), { numRuns: 60 });
});

test('HmacKey = createHmac for every hash, keys of 0..200 bytes and data of 0..9000, truncated', () => {
  const hashArb = fc.constantFrom<[string, number]>(['md5', 16], ['sha1', 20], ['sha256', 32], ['sha384', 48], ['sha512', 64]);
  fc.assert(fc.property(hashArb, fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: MAX_PT }), fc.integer({ min: 1, max: 64 }),
    ([hash, full], key, data, icv) => {
      const n = Math.min(icv, full);
      const k = new HmacKey(hash, key, n);
      const out = new Uint8Array(n);
      k.compute(data, 0, data.length, out, 0);
      assert.equal(toHex(out), toHex(createHmac(hash, key).update(data).digest(), 0, n), `${hash}, ${key.length}-byte key`);
      k.destroy();
    }), { numRuns: 100 });
});

test('sealBatch/openBatch = seal/open per packet, native and reference, a tampered packet fails alone', () => {
  for (const s of shapes()) {
    fc.assert(fc.property(fc.array(runArb(s), { minLength: 1, maxLength: 8 }), fc.nat(), (runs, pick) => {
      const cfg = s.make(runs[0]!.keys, runs[0]!.esn);
      const nat = makeEspCrypto(cfg);
      const ref = makeRefEspCrypto(cfg);
      const n = runs.length;
      const offs = new Int32Array(n);
      const ptLens = new Int32Array(n);
      const espLens = new Int32Array(n);
      const seqHi = new Uint32Array(n);
      let at = 3;
      for (let i = 0; i < n; i++) {
        const r = runs[i]!;
        ptLens[i] = Math.max(16, r.ptLen % 2000) & ~15; // non-empty: enc-only packets must open
        espLens[i] = 8 + nat.ivLen + ptLens[i]! + nat.icvLen;
        offs[i] = at;
        seqHi[i] = r.seqHi;
        at += espLens[i]! + (r.off & 7);
      }
      const slab = new Uint8Array(at + 5);
      for (let i = 0; i < slab.length; i++) slab[i] = (i * 13) & 0xff;
      const plain = Uint8Array.from(slab);
      nat.sealBatch(slab, offs, ptLens, seqHi, n);
      const ok = new Uint8Array(n);
      assert.equal(ref.openBatch(Uint8Array.from(slab), offs, espLens, seqHi, ok, n), n, `${s.label}: ref opens native's batch`);
      const theirs = Uint8Array.from(plain);
      ref.sealBatch(theirs, offs, ptLens, seqHi, n);
      if (nat.icvLen > 0) theirs[offs[pick % n]! + 1]! ^= 0x40; // the SPI is authenticated
      const opened = nat.openBatch(theirs, offs, espLens, seqHi, ok, n);
      assert.equal(opened, nat.icvLen > 0 ? n - 1 : n, `${s.label}: native opens ref's batch`);
      for (let i = 0; i < n; i++) {
        if (ok[i] === 0) { assert.equal(i, pick % n); continue; }
        const body = offs[i]! + 8 + nat.ivLen;
        assert.equal(toHex(theirs, body, ptLens[i]!), toHex(plain, body, ptLens[i]!), `${s.label}: packet ${i}`);
      }
      nat.destroy();
    }), { numRuns: 2 });
  }
});

test('batch programmer errors: a misfit packet or a count beyond a side array throws before anything is sealed', () => {
  const nat = makeEspCrypto({ aead: { name: 'rfc4106(gcm(aes))', key: new Uint8Array(20) }, esn: false });
  const slab = new Uint8Array(200);
  const offs = Int32Array.of(0, 100);
  const lens = Int32Array.of(16, 80);
  const hi = new Uint32Array(2);
  assert.throws(() => nat.sealBatch(slab, offs, lens, hi, 2), RangeError, '100 + 8 + 8 + 80 + 16 > 200');
  assert.ok(slab.every((x) => x === 0), 'the fitting packet 0 was not sealed either');
  assert.throws(() => nat.sealBatch(slab, offs, Int32Array.of(16, 16), hi, 3), RangeError);
  assert.throws(() => nat.sealBatch(slab, offs, Int32Array.of(18, 16), hi, 2), RangeError, 'not 4-aligned');
  assert.throws(() => nat.sealBatch(slab, new Uint32Array(2) as unknown as Int32Array, lens, hi, 2), TypeError);
  nat.sealBatch(slab, offs, Int32Array.of(16, 16), hi, 2);
  const ok = new Uint8Array(2);
  assert.equal(nat.openBatch(slab, offs, Int32Array.of(48, 500), hi, ok, 2), 1, 'a range beyond the slab is a failed open');
  assert.deepEqual([...ok], [1, 0]);
  nat.destroy();
  assert.equal(nat.openBatch(slab, offs, Int32Array.of(48, 48), hi, ok, 2), 0, 'a destroyed context opens nothing');
  assert.throws(() => nat.sealBatch(slab, offs, lens, hi, 1), { code: 'ERR_CRYPTO_DESTROYED' });
});
