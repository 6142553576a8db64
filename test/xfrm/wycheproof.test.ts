// Wycheproof AES-GCM and ChaCha20-Poly1305 vectors (test/vectors/wycheproof/,
// vendored unchanged, see its README) through AeadKey, the native in-place
// primitive the ESP AEADs share their OpenSSL code with (native/crypto_sa.c). Every case is accounted for: "valid" ones must decrypt
// to msg and re-encrypt to ct ‖ tag; "invalid" ones must be rejected; cases
// whose key, nonce or tag size ESP cannot express (RFC 4106 §3-§6: 12-byte
// nonce = 4-byte salt ‖ 8-byte IV, ICV 8/12/16; RFC 7634: 16-byte tag) must
// be refused by the primitive's own checks. Counts go to t.diagnostic.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AeadKey } from '../../src/xfrm/aead.js';
import type { AeadCipherName } from '../../src/xfrm/aead.js';
import { hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface WTest { tcId: number; comment: string; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string; flags: string[] }
interface WGroup { type: string; keySize: number; ivSize: number; tagSize: number; tests: WTest[] }
interface WFile { algorithm: string; numberOfTests: number; testGroups: WGroup[] }

const FILES: readonly (readonly [string, AeadCipherName, readonly number[], readonly number[]])[] = [
  // file, cipher, key bits ESP accepts, tag bits ESP accepts
  ['wycheproof/aes_gcm_test.json', 'aes-gcm', [128, 192, 256], [64, 96, 128]],
  ['wycheproof/chacha20_poly1305_test.json', 'chacha20-poly1305', [256], [128]],
];

class Counts {
  readonly m = new Map<string, number>();
  add(k: string): void { this.m.set(k, (this.m.get(k) ?? 0) + 1); }
  total(): number { let n = 0; for (const v of this.m.values()) n += v; return n; }
}

/** ct ‖ tag in a fresh buffer, for an in-place open. */
function joined(ct: Uint8Array, tag: Uint8Array): Uint8Array {
  const b = new Uint8Array(ct.length + tag.length);
  b.set(ct);
  b.set(tag, ct.length);
  return b;
}

function runCase(key: AeadKey, t: WTest, counts: Counts): void {
  const nonce = hex(t.iv);
  const aad = hex(t.aad);
  const ct = hex(t.ct);
  const tag = hex(t.tag);
  const id = `tcId ${t.tcId} (${t.comment})`;
  const rx = joined(ct, tag);
  if (nonce.length !== 12) { // these cases may carry no tag: open a tagLen-byte zero tag
    const padded = joined(ct, new Uint8Array(key.tagLen));
    assert.equal(key.open(nonce, aad, padded, 0, ct.length), false, `${id}: open must refuse a ${nonce.length}-byte nonce`);
    assert.throws(() => key.seal(nonce, aad, joined(hex(t.msg), new Uint8Array(tag.length)), 0, ct.length), RangeError, id);
    counts.add(`${t.result}: refused, nonce of ${nonce.length * 8} bits`);
    return;
  }
  if (tag.length !== key.tagLen) { // no vendored case today; in place, a tag of another size cannot be expressed
    assert.equal(t.result, 'invalid', `${id}: a ${tag.length}-byte tag`);
    counts.add('invalid: rejected');
    return;
  }
  const before = toHex(rx);
  const ok = key.open(nonce, aad, rx, 0, ct.length);
  if (t.result === 'valid') {
    assert.equal(ok, true, `${id}: valid case must open`);
    assert.equal(toHex(rx, 0, ct.length), t.msg, `${id}: plaintext`);
    const sealed = joined(hex(t.msg), new Uint8Array(key.tagLen));
    key.seal(nonce, aad, sealed, 0, ct.length);
    assert.equal(toHex(sealed), t.ct + t.tag, `${id}: re-encryption`);
    counts.add('valid: decrypted and re-encrypted');
  } else if (t.result === 'invalid') {
    assert.equal(ok, false, `${id}: invalid case must be rejected`);
    assert.equal(toHex(rx), before, `${id}: a rejected open leaves the buffer as it was`);
    counts.add('invalid: rejected');
  } else {
    assert.fail(`${id}: unexpected result "${t.result}"`);
  }
}

function runFile(t: TestContext, file: string, cipher: AeadCipherName, keyBits: readonly number[], tagBits: readonly number[]): void {
  const w = loadJson<WFile>(file);
  const counts = new Counts();
  for (const g of w.testGroups) {
    assert.equal(g.type, 'AeadTest');
    const reason = !keyBits.includes(g.keySize) ? `key of ${g.keySize} bits` : !tagBits.includes(g.tagSize) ? `tag of ${g.tagSize} bits` : null;
    for (const c of g.tests) {
      if (reason !== null) {
        assert.throws(() => new AeadKey(cipher, hex(c.key), g.tagSize / 8), RangeError, `tcId ${c.tcId}`);
        counts.add(`${c.result}: refused, ${reason}`);
        continue;
      }
      runCase(new AeadKey(cipher, hex(c.key), g.tagSize / 8), c, counts);
    }
  }
  assert.equal(counts.total(), w.numberOfTests, 'every case is counted');
  t.diagnostic(`${w.algorithm}: ${counts.total()} cases`);
  for (const [k, v] of [...counts.m].sort()) t.diagnostic(`  ${k}: ${v}`);
  assert.ok((counts.m.get('valid: decrypted and re-encrypted') ?? 0) > 100);
  assert.ok((counts.m.get('invalid: rejected') ?? 0) > 20);
}

for (const [file, cipher, keyBits, tagBits] of FILES) {
  test(`Wycheproof ${file}`, (t) => runFile(t, file, cipher, keyBits, tagBits));
}
