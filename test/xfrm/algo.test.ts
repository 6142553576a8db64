// The algorithm table (net/xfrm/xfrm_algo.c) and makeEspCrypto's refusals
// (xfrm_user.c / esp_init_state), each naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authIcvLen, findAlgo, ikev2Transform, keyLenOk, listAlgos } from '../../src/xfrm/algo.js';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCryptoConfig } from '../../src/xfrm/esp-crypto.js';
import { ConfigError } from '../../src/wire/errors.js';
import { espBlockAlign } from '../../src/wire/esp.js';

const GCM = 'rfc4106(gcm(aes))';
const CHACHA = 'rfc7539esp(chacha20,poly1305)';
const k = (n: number): Uint8Array => new Uint8Array(n).fill(7);

test('kernel names and compat aliases resolve (xfrm_alg_name_match)', () => {
  const cases: [Parameters<typeof findAlgo>[0], string, string][] = [
    ['aead', GCM, GCM], ['aead', CHACHA, CHACHA],
    ['enc', 'cbc(aes)', 'cbc(aes)'], ['enc', 'aes', 'cbc(aes)'],
    ['enc', 'ecb(cipher_null)', 'ecb(cipher_null)'], ['enc', 'cipher_null', 'ecb(cipher_null)'],
    ['auth', 'hmac(md5)', 'hmac(md5)'], ['auth', 'md5', 'hmac(md5)'],
    ['auth', 'hmac(sha1)', 'hmac(sha1)'], ['auth', 'sha1', 'hmac(sha1)'],
    ['auth', 'hmac(sha256)', 'hmac(sha256)'], ['auth', 'sha256', 'hmac(sha256)'],
    ['auth', 'hmac(sha384)', 'hmac(sha384)'], ['auth', 'hmac(sha512)', 'hmac(sha512)'],
  ];
  for (const [kind, name, want] of cases) assert.equal(findAlgo(kind, name)?.name, want, `${kind} ${name}`);
});

test('what the kernel does not match is not found', () => {
  // aalg_list has no compat alias for hmac(sha384) / hmac(sha512) (only md5, sha1, sha256, sm3 have one).
  assert.equal(findAlgo('auth', 'sha384'), null);
  assert.equal(findAlgo('auth', 'sha512'), null);
  assert.equal(findAlgo('enc', 'AES'), null, 'strcmp is case-sensitive');
  assert.equal(findAlgo('auth', 'aes'), null, 'aliases are per list');
  assert.equal(findAlgo('aead', 'gcm(aes)'), null);
  assert.equal(findAlgo('enc', 'cbc(des3_ede)'), null, 'not implemented here');
  assert.equal(findAlgo('auth', 'xcbc(aes)'), null, 'not implemented here');
});

test('table values: key lengths, IV, block size, ICV, truncation (xfrm_algo.c, crypto setkey)', () => {
  const gcm = findAlgo('aead', GCM)!;
  assert.deepEqual([gcm.keyBytes, gcm.ivLen, gcm.blockSize, gcm.icvBits, gcm.defaultBits], [[20, 28, 36], 8, 1, [64, 96, 128], 128]);
  const cc = findAlgo('aead', CHACHA)!;
  assert.deepEqual([cc.keyBytes, cc.ivLen, cc.blockSize, cc.icvBits], [[36], 8, 1, [128]]);
  const cbc = findAlgo('enc', 'aes')!;
  assert.deepEqual([cbc.keyBytes, cbc.ivLen, cbc.blockSize], [[16, 24, 32], 16, 16]);
  const nul = findAlgo('enc', 'cipher_null')!;
  assert.deepEqual([nul.keyBytes, nul.ivLen, nul.blockSize], [[0], 0, 1]);
  const trunc: [string, number, number][] = [
    ['hmac(md5)', 96, 128], ['hmac(sha1)', 96, 160], ['hmac(sha256)', 96, 256], ['hmac(sha384)', 192, 384], ['hmac(sha512)', 256, 512],
  ];
  for (const [name, def, full] of trunc) {
    const a = findAlgo('auth', name)!;
    assert.deepEqual([a.defaultBits, a.fullBits, a.keyBytes], [def, full, null], name);
    assert.equal(keyLenOk(a, 3), true, `${name}: hmac_setkey takes any key length`);
  }
  assert.equal(espBlockAlign(gcm.blockSize), 4);
  assert.equal(espBlockAlign(cbc.blockSize), 16);
  for (const kind of ['aead', 'enc', 'auth'] as const) for (const a of listAlgos(kind)) assert.equal(a.kind, kind);
});

test('auth-trunc lengths: 0/absent = icv_truncbits, up to icv_fullbits, rounded down to bytes', () => {
  const s = findAlgo('auth', 'sha256')!;
  assert.equal(authIcvLen(s, undefined), 12);
  assert.equal(authIcvLen(s, 0), 12);
  assert.equal(authIcvLen(s, 128), 16);
  assert.equal(authIcvLen(s, 256), 32);
  assert.equal(authIcvLen(s, 100), 12);
  assert.equal(authIcvLen(s, 257), -1);
  assert.equal(authIcvLen(s, -8), -1);
  assert.equal(authIcvLen(s, 8), 1);
  for (const b of [1, 7]) assert.equal(authIcvLen(s, b), -1, `${b} bits would be a 0-byte ICV`);
  assert.equal(authIcvLen(s, 12.5), -1);
});

test('IKEv2 transform IDs (RFC 4106 §8, RFC 7634 §4, RFC 3602, RFC 4868 §2.4)', () => {
  const id = (kind: Parameters<typeof findAlgo>[0], name: string, bits: number): number | undefined =>
    ikev2Transform(findAlgo(kind, name)!, bits)?.id;
  assert.deepEqual([id('aead', GCM, 64), id('aead', GCM, 96), id('aead', GCM, 128)], [18, 19, 20]);
  assert.equal(id('aead', CHACHA, 128), 28);
  assert.equal(id('enc', 'cbc(aes)', 0), 12);
  assert.equal(id('enc', 'cipher_null', 0), 11);
  assert.deepEqual([id('auth', 'md5', 96), id('auth', 'sha1', 96)], [1, 2]);
  assert.deepEqual([id('auth', 'sha256', 128), id('auth', 'hmac(sha384)', 192), id('auth', 'hmac(sha512)', 256)], [12, 13, 14]);
  assert.equal(id('auth', 'sha256', 96), undefined, 'the kernel default sha256-96 has no IKEv2 ID');
});

function refused(cfg: EspCryptoConfig, field: string, what: RegExp): void {
  assert.throws(() => makeEspCrypto(cfg), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field);
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, what);
    return true;
  });
}

test('makeEspCrypto refuses bad configurations naming the field', () => {
  refused({ aead: { name: 'gcm(aes)', key: k(20) }, esn: false }, 'aead', /not found/);
  refused({ aead: { name: GCM, key: k(16) }, esn: false }, 'aead', /key of 128 bits/);
  refused({ aead: { name: GCM, key: k(32) }, esn: false }, 'aead', /key of 256 bits/);
  refused({ aead: { name: GCM, key: k(20), bits: 32 }, esn: false }, 'aead', /32-bit ICV/);
  refused({ aead: { name: GCM, key: k(20), bits: 120 }, esn: false }, 'aead', /ICV/);
  refused({ aead: { name: CHACHA, key: k(36), bits: 96 }, esn: false }, 'aead', /ICV/);
  refused({ aead: { name: CHACHA, key: k(32) }, esn: false }, 'aead', /key/);
  refused({ aead: { name: GCM, key: k(20) }, enc: { name: 'aes', key: k(16) }, esn: false }, 'aead', /can't be used/);
  refused({ aead: { name: GCM, key: k(20) }, auth: { name: 'sha1', key: k(20) }, esn: false }, 'aead', /can't be used/);
  refused({ enc: { name: 'des', key: k(8) }, esn: false }, 'enc', /not found/);
  refused({ enc: { name: 'aes', key: k(20) }, esn: false }, 'enc', /key of 160 bits/);
  refused({ enc: { name: 'cipher_null', key: k(1) }, esn: false }, 'enc', /key/);
  refused({ enc: { name: 'aes', key: k(16) }, auth: { name: 'sha384', key: k(48) }, esn: false }, 'auth', /not found/);
  refused({ enc: { name: 'aes', key: k(16) }, auth: { name: 'sha256', key: k(32), bits: 264 }, esn: false }, 'auth', /truncation/);
  refused({ enc: { name: 'aes', key: k(16) }, auth: { name: 'md5', key: k(16), bits: -8 }, esn: false }, 'auth', /truncation/);
  refused({ auth: { name: 'sha256', key: k(32) }, esn: false }, 'enc', /AEAD or CRYPT/);
  refused({ esn: false }, 'enc', /at least one/);
});

test('makeEspCrypto accepts what the kernel accepts', () => {
  for (const n of [20, 28, 36]) assert.equal(makeEspCrypto({ aead: { name: GCM, key: k(n), bits: 96 }, esn: true }).icvLen, 12);
  assert.equal(makeEspCrypto({ aead: { name: CHACHA, key: k(36), bits: 128 }, esn: false }).icvLen, 16);
  for (const n of [16, 24, 32]) assert.equal(makeEspCrypto({ enc: { name: 'cbc(aes)', key: k(n) }, esn: false }).icvLen, 0);
  const odd = makeEspCrypto({ enc: { name: 'aes', key: k(16) }, auth: { name: 'hmac(sha384)', key: k(5) }, esn: false });
  assert.equal(odd.icvLen, 24, 'any HMAC key length; default truncation 192');
  assert.equal(makeEspCrypto({ enc: { name: 'aes', key: k(16) }, auth: { name: 'hmac(sha512)', key: k(64), bits: 0 }, esn: false }).icvLen, 32,
    'auth-trunc 0 = icv_truncbits 256');
  assert.equal(makeEspCrypto({ enc: { name: 'cipher_null', key: k(0) }, esn: false }).icvLen, 0, 'null and no auth: allowed');
});
