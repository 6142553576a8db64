// AEAD ESP (rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305)) against full
// ESP packet vectors: draft-mcgrew-gcm-test-01 §4 and RFC 7634 Appendix A
// (test/vectors/esp-crypto.json names each source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCrypto } from '../../src/xfrm/esp-crypto.js';
import { AeadKey } from '../../src/xfrm/aead.js';
import { be32, put32 } from '../../src/wire/bytes.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface AeadCase {
  name: string; aead: string; keyHex: string; icvBits: number; esn: boolean;
  spi: number; seqLo: number; seqHi: number; plaintextHex: string; packetHex: string;
}
interface Group { source: string; cases: AeadCase[] }
const V = loadJson<{ gcm: Group; chacha: Group }>('esp-crypto.json');

const OFF = 5; // a non-zero, unaligned ESP offset in every buffer

function sa(c: AeadCase, bits = c.icvBits): EspCrypto {
  return makeEspCrypto({ aead: { name: c.aead, key: hex(c.keyHex), bits }, esn: c.esn });
}

/** A 0xa5-filled buffer holding header + wire IV + plaintext at OFF, ready for sealWithIv. */
function staged(c: AeadCase, esp: EspCrypto): { b: Uint8Array; len: number } {
  const pkt = hex(c.packetHex);
  const pt = hex(c.plaintextHex);
  const len = 8 + esp.ivLen + pt.length + esp.icvLen;
  const b = filled(OFF + len + 7);
  put32(b, OFF, c.spi);
  put32(b, OFF + 4, c.seqLo);
  b.set(pkt.subarray(8, 8 + esp.ivLen), OFF + 8);
  b.set(pt, OFF + 8 + esp.ivLen);
  return { b, len };
}

function checkVector(c: AeadCase): void {
  const esp = sa(c);
  assert.equal(esp.ivLen, 8);
  assert.equal(esp.icvLen, c.icvBits / 8);
  assert.equal(esp.blockAlign, 4);
  const pt = hex(c.plaintextHex);
  const { b, len } = staged(c, esp);
  esp.sealWithIv(b, OFF, pt.length, c.seqHi);
  assert.equal(toHex(b, OFF, len), c.packetHex, `${c.name}: sealed packet`);
  assert.ok(b.subarray(0, OFF).every((x) => x === 0xa5) && b.subarray(OFF + len).every((x) => x === 0xa5), 'writes stay in range');

  const rx = filled(OFF + len + 3);
  rx.set(hex(c.packetHex), OFF);
  assert.equal(esp.open(rx, OFF, len, c.seqHi), true, `${c.name}: opens`);
  assert.equal(toHex(rx, OFF + 16, pt.length), c.plaintextHex, `${c.name}: plaintext`);
}

/** Every single-bit flip at these packet offsets (SPI, seq, IV, first/last ciphertext byte, ICV) must fail. */
function checkTamper(c: AeadCase): void {
  const esp = sa(c);
  const pkt = hex(c.packetHex);
  const ctEnd = pkt.length - esp.icvLen;
  const where: [string, number][] = [
    ['SPI', 0], ['seq', 7], ['IV', 8], ['ciphertext', 16], ['ciphertext end', ctEnd - 1], ['ICV', ctEnd], ['ICV end', pkt.length - 1],
  ];
  for (const [what, at] of where) {
    const rx = Uint8Array.from(pkt);
    rx[at]! ^= 0x01;
    const before = toHex(rx);
    assert.equal(esp.open(rx, 0, rx.length, c.seqHi), false, `${c.name}: flipped ${what}`);
    assert.equal(toHex(rx), before, `${c.name}: a failed open leaves the buffer as it was`);
  }
  if (c.esn) {
    const rx = Uint8Array.from(pkt);
    assert.equal(esp.open(rx, 0, rx.length, (c.seqHi ^ 1) >>> 0), false, `${c.name}: wrong ESN high half`);
  }
}

for (const [label, g] of [['draft-mcgrew-gcm-test-01', V.gcm], ['RFC 7634 A', V.chacha]] as const) {
  test(`${label}: sealWithIv reproduces each ESP packet and open recovers the plaintext`, () => {
    assert.ok(g.cases.length > 0);
    for (const c of g.cases) checkVector(c);
  });
  test(`${label}: a flipped bit in SPI, seq, IV, ciphertext or ICV fails open`, () => {
    for (const c of g.cases) checkTamper(c);
  });
}

test('draft-mcgrew-gcm-test-01 covers ESN (12-byte AAD) and all three AES key sizes', () => {
  const cases = V.gcm.cases;
  assert.equal(cases.length, 14);
  assert.ok(cases.filter((c) => c.esn).length >= 4);
  const keyBytes = new Set(cases.map((c) => c.keyHex.length / 2));
  assert.deepEqual([...keyBytes].sort(), [20, 28, 36]);
});

test('GCM 64- and 96-bit ICVs are the truncated 128-bit tag (RFC 4106 §6)', () => {
  const c = V.gcm.cases[0]!;
  const full = hex(c.packetHex);
  for (const bits of [64, 96]) {
    const esp = sa(c, bits);
    assert.equal(esp.icvLen, bits / 8);
    const { b, len } = staged(c, esp);
    esp.sealWithIv(b, OFF, hex(c.plaintextHex).length, c.seqHi);
    assert.equal(toHex(b, OFF, len), toHex(full, 0, len), `${bits}-bit ICV`);
    assert.equal(esp.open(b, OFF, len, c.seqHi), true);
    b[OFF + len - 1]! ^= 0x80;
    assert.equal(esp.open(b, OFF, len, c.seqHi), false);
  }
});

test('ESN: the high half is in the AAD — it changes the ICV, and open needs the right one', () => {
  for (const name of ['rfc4106(gcm(aes))', 'rfc7539esp(chacha20,poly1305)']) {
    const key = hex(name.startsWith('rfc4106') ? '00'.repeat(20) : '11'.repeat(36));
    const esp = makeEspCrypto({ aead: { name, key }, esn: true });
    const icv = (seqHi: number): string => {
      const b = new Uint8Array(8 + 8 + 16 + 16);
      put32(b, 0, 0x1234); put32(b, 4, 7);
      b.fill(9, 8, 16); // fixed IV
      esp.sealWithIv(b, 0, 16, seqHi);
      assert.equal(esp.open(Uint8Array.from(b), 0, b.length, seqHi), true);
      assert.equal(esp.open(Uint8Array.from(b), 0, b.length, seqHi + 1), false, 'wrong seqHi');
      return toHex(b, 32, 16);
    };
    assert.notEqual(icv(0), icv(1), name);
    // Without ESN the AAD is 8 bytes, so the ICV also differs from ESN with seqHi 0.
    const plain = makeEspCrypto({ aead: { name, key }, esn: false });
    const b = new Uint8Array(48);
    put32(b, 0, 0x1234); put32(b, 4, 7); b.fill(9, 8, 16);
    plain.sealWithIv(b, 0, 16, 0);
    assert.notEqual(toHex(b, 32, 16), icv(0), `${name}: 8- vs 12-byte AAD`);
  }
});

test('seal: IV = (seqHi‖seqLo) XOR a per-SA random value (seqiv), and it round-trips', () => {
  const esp = makeEspCrypto({ aead: { name: 'rfc4106(gcm(aes))', key: hex('42'.repeat(36)) }, esn: true });
  const ivOf = (seqHi: number, seqLo: number): Uint8Array => {
    const b = filled(8 + 8 + 32 + 16);
    put32(b, 0, 0xc0ffee); put32(b, 4, seqLo);
    b.fill(0x33, 16, 48);
    esp.seal(b, 0, 32, seqHi);
    assert.equal(esp.open(b, 0, b.length, seqHi), true);
    assert.ok(b.subarray(16, 48).every((x) => x === 0x33));
    return b.subarray(8, 16);
  };
  const a = ivOf(0, 1);
  const c = ivOf(2, 0x80000001);
  assert.equal(be32(a, 0) ^ be32(c, 0), 2);
  assert.equal((be32(a, 4) ^ be32(c, 4)) >>> 0, 0x80000000);
  const other = makeEspCrypto({ aead: { name: 'rfc4106(gcm(aes))', key: hex('42'.repeat(36)) }, esn: true });
  const b = new Uint8Array(64);
  put32(b, 4, 1);
  other.seal(b, 0, 32, 0);
  assert.notEqual(toHex(b, 8, 8), toHex(a), 'each SA draws its own random value');
  // All 8 IV bytes are masked: over 8 fresh SAs each byte of seq (0, 1) differs from the raw
  // sequence number at least once (a false failure has probability 8 * 2^-64).
  const differs = new Array<boolean>(8).fill(false);
  for (let n = 0; n < 8; n++) {
    const e = makeEspCrypto({ aead: { name: 'rfc4106(gcm(aes))', key: hex('42'.repeat(36)) }, esn: true });
    const p = new Uint8Array(64);
    put32(p, 4, 1);
    e.seal(p, 0, 32, 0);
    for (let i = 0; i < 8; i++) if (p[8 + i] !== (i === 7 ? 1 : 0)) differs[i] = true;
  }
  assert.deepEqual(differs, new Array<boolean>(8).fill(true));
});

test('programmer errors throw RangeError; impossible lengths make open return false', () => {
  const esp = makeEspCrypto({ aead: { name: 'rfc7539esp(chacha20,poly1305)', key: hex('01'.repeat(36)) }, esn: false });
  const b = new Uint8Array(8 + 8 + 16 + 16);
  assert.throws(() => esp.seal(b, 0, 15, 0), RangeError);
  assert.throws(() => esp.sealWithIv(b, 0, 18, 0), RangeError);
  assert.throws(() => esp.seal(b, 1, 16, 0), RangeError);
  assert.throws(() => esp.seal(b, 0.5, 16, 0), RangeError);
  esp.seal(b, 0, 16, 0); // exactly fits
  assert.equal(esp.open(b, 0, b.length, 0), true);
  assert.equal(esp.open(b, 0, 8 + 8 + 16 - 1, 0), false, 'shorter than header + IV + ICV');
  assert.equal(esp.open(b, 0, b.length + 1, 0), false, 'beyond the buffer');
  assert.equal(esp.open(b, -1, 8, 0), false);
  const empty = new Uint8Array(8 + 8 + 16);
  esp.seal(empty, 0, 0, 0);
  assert.equal(esp.open(empty, 0, empty.length, 0), true, 'an empty payload is a valid AEAD message');
});

test('AeadKey refuses what ESP cannot express', () => {
  assert.throws(() => new AeadKey('aes-gcm', new Uint8Array(20), 16), RangeError);
  assert.throws(() => new AeadKey('aes-gcm', new Uint8Array(16), 4), RangeError);
  assert.throws(() => new AeadKey('chacha20-poly1305', new Uint8Array(32), 12), RangeError);
  const k = new AeadKey('aes-gcm', new Uint8Array(16), 16);
  const b = new Uint8Array(32);
  assert.throws(() => k.seal(new Uint8Array(8), new Uint8Array(0), b, 0, 16), RangeError);
  assert.throws(() => k.seal(new Uint8Array(12), new Uint8Array(0), b, 0, 17), RangeError);
  assert.throws(() => k.seal(new Uint8Array(12), new Uint8Array(0), b, 1, 16), RangeError);
  k.seal(new Uint8Array(12), new Uint8Array(0), b, 0, 16);
  assert.equal(k.open(new Uint8Array(16), new Uint8Array(0), b, 0, 16), false);
  assert.equal(k.open(new Uint8Array(12), new Uint8Array(0), b, 0, 16), true);
  assert.ok(b.subarray(0, 16).every((x) => x === 0));
  k.destroy();
  assert.throws(() => k.seal(new Uint8Array(12), new Uint8Array(0), b, 0, 16), { code: 'ERR_CRYPTO_DESTROYED' });
});
