// The addon's crypto contract at the N-API boundary (native/crypto.c,
// crypto_napi.c): argument types, ranges, destroyed and foreign handles,
// key sizes — each a TypeError/RangeError/Error with a stable code, never a
// crash, and open never throwing for a range; no message carries key bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AEAD_CHACHA20_POLY1305, AEAD_GCM, HASH_ID, HASH_NONE, loadCrypto } from '../../src/crypto/native.js';
import { loadNative } from '../../src/io/native.js';

const c = loadCrypto();
const gcm = (): ReturnType<typeof c.cryptoAeadNew> => c.cryptoAeadNew(AEAD_GCM, new Uint8Array(16), new Uint8Array(4), 16, false);
const isType = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
const isRange = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };

test('loadCrypto is the same addon as the I/O loader, loaded once', () => {
  assert.equal(loadCrypto(), c);
  assert.equal(loadNative() as unknown, c as unknown);
});

test('context constructors refuse sizes the algorithms cannot take, without echoing key bytes', () => {
  const key = new Uint8Array(17).fill(0xab);
  for (const make of [
    () => c.cryptoAeadNew(AEAD_GCM, key, new Uint8Array(4), 16, false),
    () => c.cryptoAeadNew(AEAD_GCM, new Uint8Array(16), new Uint8Array(4), 10, false),
    () => c.cryptoAeadNew(AEAD_GCM, new Uint8Array(16), new Uint8Array(3), 16, false),
    () => c.cryptoAeadNew(AEAD_CHACHA20_POLY1305, new Uint8Array(32), new Uint8Array(4), 12, false),
    () => c.cryptoAeadNew(9, new Uint8Array(32), new Uint8Array(4), 16, false),
    () => c.cryptoAuthencNew(key, HASH_NONE, new Uint8Array(0), 0, false),
    () => c.cryptoAuthencNew(new Uint8Array(16), HASH_ID['sha1']!, new Uint8Array(20), 21, false),
    () => c.cryptoAuthencNew(new Uint8Array(16), HASH_ID['sha256']!, new Uint8Array(20), 0, false),
    () => c.cryptoAuthencNew(new Uint8Array(16), HASH_NONE, new Uint8Array(0), 12, false),
    () => c.cryptoAuthencNew(new Uint8Array(16), 77, new Uint8Array(20), 12, false),
  ]) {
    assert.throws(make, (e: unknown) => e instanceof RangeError && !/ab|171/i.test(e.message));
  }
  assert.throws(() => c.cryptoAeadNew(AEAD_GCM, [1, 2] as unknown as Uint8Array, new Uint8Array(4), 16, false), isType);
  assert.throws(() => c.cryptoAeadNew(AEAD_GCM, new Uint8Array(16), new Uint8Array(4), 16, 1 as unknown as boolean), isType);
});

test('handles: a foreign object or a number is a TypeError; destroy is idempotent; seal after it throws, open is false', () => {
  const b = new Uint8Array(64);
  for (const h of [{}, 1, null, new Uint8Array(4), loadNative()]) {
    assert.throws(() => c.cryptoEspSeal(h as never, b, 0, 16, 0, false), isType);
    assert.throws(() => c.cryptoEspOpen(h as never, b, 0, 48, 0), isType);
  }
  const h = gcm();
  c.cryptoEspSeal(h, b, 0, 16, 0, false);
  c.cryptoDestroy(h);
  c.cryptoDestroy(h);
  assert.throws(() => c.cryptoEspSeal(h, b, 0, 16, 0, false), { code: 'ERR_CRYPTO_DESTROYED' });
  assert.equal(c.cryptoEspOpen(h, b, 0, 48, 0), false);
  assert.throws(() => c.cryptoAeadSeal(h, new Uint8Array(12), new Uint8Array(0), b, 0, 16), { code: 'ERR_CRYPTO_DESTROYED' });
});

test('seal: ranges and alignment are RangeErrors (fractions, negatives, past the end); types are TypeErrors', () => {
  const h = gcm();
  const b = new Uint8Array(8 + 8 + 16 + 16);
  for (const [off, pt] of [[0.5, 16], [-1, 16], [1, 16], [0, 15], [0, 20], [0, Number.NaN], [0, 2 ** 40]]) {
    assert.throws(() => c.cryptoEspSeal(h, b, off!, pt!, 0, false), isRange, `${off}, ${pt}`);
  }
  assert.throws(() => c.cryptoEspSeal(h, new Uint16Array(24) as unknown as Uint8Array, 0, 16, 0, false), isType);
  assert.throws(() => c.cryptoEspSeal(h, b, '0' as unknown as number, 16, 0, false), isType);
  assert.throws(() => c.cryptoEspSeal(h, b, 0, 16, '0' as unknown as number, false), isType);
  c.cryptoEspSeal(h, b, 0, 16, 0, false);
  assert.equal(c.cryptoEspOpen(h, b, 0, b.length, 0), true);
  c.cryptoDestroy(h);
});

test('open: any impossible range is false, never a throw; a Buffer view at a byteOffset works in place', () => {
  const h = gcm();
  const slab = Buffer.alloc(200);
  const view = slab.subarray(37, 37 + 48);
  c.cryptoEspSeal(h, view, 0, 16, 7, false);
  assert.ok(slab.subarray(0, 37).every((x) => x === 0) && slab.subarray(85).every((x) => x === 0), 'writes stay in the view');
  for (const [off, len] of [[0, 49], [1, 48], [-1, 48], [0.5, 48], [0, 31], [0, Infinity], [2 ** 31, 8]]) {
    assert.equal(c.cryptoEspOpen(h, view, off!, len!, 7), false, `${off}, ${len}`);
  }
  assert.equal(c.cryptoEspOpen(h, view, 0, 48, 7), true);
  c.cryptoDestroy(h);
});

test('cryptoMac needs an HMAC context; cryptoAeadSeal an AEAD one', () => {
  const aead = gcm();
  const enc = c.cryptoAuthencNew(new Uint8Array(16), HASH_NONE, new Uint8Array(0), 0, false);
  const mac = c.cryptoAuthencNew(new Uint8Array(0), HASH_ID['sha256']!, new Uint8Array(32), 16, false);
  const b = new Uint8Array(64);
  assert.throws(() => c.cryptoMac(aead, b, 0, 8, b, 0), isType);
  assert.throws(() => c.cryptoMac(enc, b, 0, 8, b, 0), isType);
  assert.throws(() => c.cryptoAeadSeal(mac, new Uint8Array(12), new Uint8Array(0), b, 0, 8), isType);
  assert.throws(() => c.cryptoMac(mac, b, 0, 65, b, 0), isRange);
  assert.throws(() => c.cryptoMac(mac, b, 0, 8, b, 49), isRange);
  c.cryptoMac(mac, b, 0, 8, b, 48);
  assert.ok(b.subarray(48).some((x) => x !== 0));
  for (const h of [aead, enc, mac]) c.cryptoDestroy(h);
});
