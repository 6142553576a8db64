// Encrypt-then-MAC ESP: RFC 3602 §4 AES-CBC ESP packets (enc only), RFC 4868
// §2.7.2 HMAC-SHA-2 authentication vectors (through HmacKey and through an
// ESP packet with ecb(cipher_null)), authencesn's ESN handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCryptoConfig } from '../../src/xfrm/esp-crypto.js';
import { HmacKey } from '../../src/xfrm/cbc-hmac.js';
import { put32 } from '../../src/wire/bytes.js';
import { emitEspTrailer, espPlen } from '../../src/wire/esp.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface CbcCase {
  name: string; enc: string; keyHex: string; spi: number; seqLo: number;
  payloadHex: string; nextHeader: number; plaintextHex: string; packetHex: string;
}
interface HmacCase { name: string; hash: string; keyHex: string; dataHex: string; icvHex: string }
const V = loadJson<{ cbc: { cases: CbcCase[] }; hmac: { cases: HmacCase[] } }>('esp-crypto.json');

const OFF = 3;

test('RFC 3602 cases #5-#8: the plaintext is the payload with RFC 4303 padding (wire/esp.ts agrees)', () => {
  assert.equal(V.cbc.cases.length, 4);
  for (const c of V.cbc.cases) {
    const payload = hex(c.payloadHex);
    const plen = espPlen(payload.length, 0, 16);
    const pt = new Uint8Array(payload.length + plen);
    pt.set(payload);
    emitEspTrailer(pt, payload.length, 0, plen - 2, c.nextHeader);
    assert.equal(toHex(pt), c.plaintextHex, c.name);
  }
});

test('RFC 3602 cases #5-#8: enc cbc(aes) alone reproduces each ESP packet and opens it', () => {
  for (const c of V.cbc.cases) {
    const esp = makeEspCrypto({ enc: { name: c.enc, key: hex(c.keyHex) }, esn: false });
    assert.deepEqual([esp.ivLen, esp.icvLen, esp.blockAlign], [16, 0, 16]);
    const pkt = hex(c.packetHex);
    const pt = hex(c.plaintextHex);
    const b = filled(OFF + pkt.length + 5);
    put32(b, OFF, c.spi);
    put32(b, OFF + 4, c.seqLo);
    b.set(pkt.subarray(8, 24), OFF + 8);
    b.set(pt, OFF + 24);
    esp.sealWithIv(b, OFF, pt.length, 0);
    assert.equal(toHex(b, OFF, pkt.length), c.packetHex, `${c.name}: sealed`);
    assert.ok(b.subarray(OFF + pkt.length).every((x) => x === 0xa5), `${c.name}: no ICV written`);
    assert.equal(esp.open(b, OFF, pkt.length, 0), true);
    assert.equal(toHex(b, OFF + 24, pt.length), c.plaintextHex, `${c.name}: opened`);
  }
});

test('RFC 3602 without auth has no integrity: a flipped bit opens (as in the kernel) but garbles the block', () => {
  const c = V.cbc.cases[0]!;
  const esp = makeEspCrypto({ enc: { name: 'aes', key: hex(c.keyHex) }, esn: false });
  const rx = hex(c.packetHex);
  rx[24]! ^= 1;
  assert.equal(esp.open(rx, 0, rx.length, 0), true);
  assert.notEqual(toHex(rx, 24, 16), c.plaintextHex.slice(0, 32));
});

/** RFC 3602 packet + auth: the ciphertext is unchanged and the ICV is HMAC over header ‖ IV ‖ ciphertext. */
test('RFC 3602 packets with auth-trunc hmac(sha256) 128: encrypt-then-MAC, and every flipped bit fails', () => {
  const authKey = hex('0b'.repeat(32));
  for (const c of V.cbc.cases) {
    const esp = makeEspCrypto({ enc: { name: c.enc, key: hex(c.keyHex) }, auth: { name: 'hmac(sha256)', key: authKey, bits: 128 }, esn: false });
    assert.equal(esp.icvLen, 16);
    const pkt = hex(c.packetHex);
    const b = new Uint8Array(pkt.length + 16);
    b.set(pkt.subarray(0, 24));
    b.set(hex(c.plaintextHex), 24);
    esp.sealWithIv(b, 0, pkt.length - 24, 0);
    assert.equal(toHex(b, 0, pkt.length), c.packetHex, `${c.name}: ciphertext`);
    const mac = createHmac('sha256', authKey).update(pkt).digest();
    assert.equal(toHex(b, pkt.length, 16), toHex(mac, 0, 16), `${c.name}: ICV`);
    for (const at of [0, 7, 8, 24, pkt.length - 1, pkt.length, b.length - 1]) {
      const rx = Uint8Array.from(b);
      rx[at]! ^= 0x10;
      const before = toHex(rx);
      assert.equal(esp.open(rx, 0, rx.length, 0), false, `${c.name}: flip at ${at}`);
      assert.equal(toHex(rx), before, 'the ICV is checked before anything is decrypted');
    }
    assert.equal(esp.open(b, 0, b.length, 0), true);
    assert.equal(toHex(b, 24, pkt.length - 24), c.plaintextHex);
  }
});

test('RFC 4868 §2.7.2 through HmacKey (truncated ICV)', () => {
  assert.equal(V.hmac.cases.length, 9);
  for (const c of V.hmac.cases) {
    const data = hex(c.dataHex);
    const k = new HmacKey(c.hash, hex(c.keyHex), c.icvHex.length / 2);
    const out = filled(k.icvLen + 2);
    k.compute(data, 0, data.length, out, 1);
    assert.equal(toHex(out, 1, k.icvLen), c.icvHex, c.name);
    assert.equal(out[0], 0xa5);
    assert.equal(out[k.icvLen + 1], 0xa5);
    assert.equal(k.verify(data, 0, data.length, out, 1), true);
    out[k.icvLen]! ^= 1;
    assert.equal(k.verify(data, 0, data.length, out, 1), false);
  }
});

const AUTH = { sha256: 'hmac(sha256)', sha384: 'hmac(sha384)', sha512: 'hmac(sha512)' } as const;

/** ESP with null encryption: the HMAC input is exactly SPI ‖ seq ‖ payload (no IV). */
function nullEsp(c: HmacCase, bits: number | undefined, esn = false): ReturnType<typeof makeEspCrypto> {
  const cfg: EspCryptoConfig = {
    enc: { name: 'cipher_null', key: new Uint8Array(0) },
    auth: { name: AUTH[c.hash as keyof typeof AUTH], key: hex(c.keyHex), ...(bits === undefined ? {} : { bits }) },
    esn,
  };
  return makeEspCrypto(cfg);
}

test('RFC 4868 §2.7.2 through an ESP packet: enc cipher_null + auth-trunc at the RFC truncation', () => {
  let n = 0;
  for (const c of V.hmac.cases) {
    const data = hex(c.dataHex);
    if ((data.length - 8) % 4 !== 0) continue; // needs SPI ‖ seq ‖ a 4-aligned payload
    n++;
    const esp = nullEsp(c, c.icvHex.length * 4);
    assert.deepEqual([esp.ivLen, esp.blockAlign], [0, 4]);
    const b = filled(OFF + data.length + esp.icvLen + 1);
    b.set(data, OFF);
    esp.seal(b, OFF, data.length - 8, 0);
    assert.equal(toHex(b, OFF, data.length), c.dataHex, `${c.name}: null cipher leaves the payload`);
    assert.equal(toHex(b, OFF + data.length, esp.icvLen), c.icvHex, `${c.name}: ICV`);
    assert.equal(esp.open(b, OFF, data.length + esp.icvLen, 0), true);
    b[OFF + 8]! ^= 1;
    assert.equal(esp.open(b, OFF, data.length + esp.icvLen, 0), false);
  }
  assert.equal(n, 5, 'AUTH256-1/2, AUTH384-1/2, AUTH512-1: data of 8 + 4k bytes');
});

test('plain auth hmac(sha256) uses the kernel default: a 96-bit ICV, the prefix of the RFC 4868 128-bit one', () => {
  const c = V.hmac.cases.find((x) => x.name === 'AUTH256-1')!;
  const esp = nullEsp(c, undefined);
  assert.equal(esp.icvLen, 12);
  const b = new Uint8Array(8 + 12);
  b.set(hex(c.dataHex));
  esp.seal(b, 0, 0, 0);
  assert.equal(toHex(b, 8, 12), c.icvHex.slice(0, 24));
  const cbc = makeEspCrypto({ enc: { name: 'cbc(aes)', key: new Uint8Array(16) }, auth: { name: 'sha256', key: hex(c.keyHex) }, esn: false });
  assert.equal(cbc.icvLen, 12);
});

test('ESN with HMAC (authencesn): seqHi is appended after the payload, changes the ICV, and is required to open', () => {
  const c = V.hmac.cases.find((x) => x.name === 'AUTH256-1')!;
  const data = hex(c.dataHex);
  const esp = nullEsp(c, 128, true);
  const icv = (seqHi: number): string => {
    const b = new Uint8Array(8 + 16);
    b.set(data);
    esp.seal(b, 0, 0, seqHi);
    assert.equal(esp.open(Uint8Array.from(b), 0, b.length, seqHi), true);
    assert.equal(esp.open(Uint8Array.from(b), 0, b.length, (seqHi + 1) >>> 0), false);
    return toHex(b, 8, 16);
  };
  const seqHi = 0x01020304;
  const expect = createHmac('sha256', hex(c.keyHex)).update(data).update(hex('01020304')).digest();
  assert.equal(icv(seqHi), toHex(expect, 0, 16));
  assert.notEqual(icv(0), c.icvHex, 'even seqHi 0 is authenticated');
  assert.notEqual(icv(0xffffffff), icv(0));
});

test('ESN through cbc(aes) + hmac(sha1): round trip, wrong seqHi fails', () => {
  const esp = makeEspCrypto({ enc: { name: 'cbc(aes)', key: hex('77'.repeat(32)) }, auth: { name: 'sha1', key: hex('55'.repeat(20)) }, esn: true });
  assert.equal(esp.icvLen, 12);
  const b = new Uint8Array(8 + 16 + 48 + 12);
  put32(b, 0, 0xabcdef01); put32(b, 4, 9);
  b.fill(0x42, 24, 72);
  esp.seal(b, 0, 48, 3);
  assert.equal(esp.open(Uint8Array.from(b), 0, b.length, 2), false);
  assert.equal(esp.open(b, 0, b.length, 3), true);
  assert.ok(b.subarray(24, 72).every((x) => x === 0x42));
});

test('seal draws fresh random CBC IVs from the per-SA pool across a refill', () => {
  const esp = makeEspCrypto({ enc: { name: 'cbc(aes)', key: new Uint8Array(24) }, auth: { name: 'md5', key: new Uint8Array(16) }, esn: false });
  const seen = new Set<string>();
  for (let i = 0; i < 600; i++) { // > 4096 / 16 packets: the pool refills at least twice
    const b = new Uint8Array(8 + 16 + 16 + 12);
    b.fill(i & 0xff, 24, 40);
    esp.seal(b, 0, 16, 0);
    seen.add(toHex(b, 8, 16));
    assert.equal(esp.open(b, 0, b.length, 0), true);
    assert.ok(b.subarray(24, 40).every((x) => x === (i & 0xff)));
  }
  assert.equal(seen.size, 600);
});

test('impossible lengths: open false; misaligned ptLen or a short buffer: RangeError', () => {
  const esp = makeEspCrypto({ enc: { name: 'cbc(aes)', key: new Uint8Array(16) }, auth: { name: 'hmac(sha512)', key: new Uint8Array(64) }, esn: false });
  assert.equal(esp.icvLen, 32);
  const b = new Uint8Array(8 + 16 + 32 + 32);
  assert.throws(() => esp.seal(b, 0, 20, 0), RangeError);
  assert.throws(() => esp.seal(b, 1, 32, 0), RangeError);
  esp.seal(b, 0, 32, 0);
  assert.equal(esp.open(b, 0, b.length, 0), true);
  const longer = new Uint8Array(b.length + 4);
  longer.set(b);
  assert.equal(esp.open(longer, 0, longer.length, 0), false, 'ciphertext of 36 bytes is not a multiple of 16');
  assert.equal(esp.open(b, 0, 8 + 16 + 31, 0), false, 'shorter than header + IV + ICV');
  assert.equal(esp.open(b, 0, b.length + 1, 0), false);
  const encOnly = makeEspCrypto({ enc: { name: 'cbc(aes)', key: new Uint8Array(16) }, esn: false });
  assert.equal(encOnly.open(new Uint8Array(24), 0, 24, 0), false, 'esp_input: elen <= 0');
});

test('auth-trunc is rounded down to whole bytes as crypto_aead_setauthsize(trunc / 8) does', () => {
  const esp = makeEspCrypto({ enc: { name: 'cbc(aes)', key: new Uint8Array(16) }, auth: { name: 'sha256', key: new Uint8Array(32), bits: 100 }, esn: false });
  assert.equal(esp.icvLen, 12);
  assert.throws(() => new HmacKey('sha256', new Uint8Array(32), 33), RangeError);
  assert.throws(() => new HmacKey('whirlpool', new Uint8Array(32), 12), RangeError);
});
