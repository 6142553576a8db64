// IKE key material against published vectors: the PRFs (HMAC-SHA2, RFC 4231
// test case 2 via RFC 4868's PRF_HMAC_SHA2_*), X25519 (RFC 7748 §6.1), ECP-256
// (RFC 5903 §8.1); SKEYSEED, prf+, the SK_* stream, Child KEYMAT with and
// without PFS, and the rekey SKEYSEED against NIST's SP 800-135 IKEv2 KDF
// vectors (test/vectors/ike-crypto.json names the source); prf+ and the SK_*
// split also against a literal reading of RFC 7296 §2.13/§2.14 (and §2.18 for
// a rekeyed IKE SA, §2.17 with PFS); MODP shared secrets agree; the SK payload
// seals and opens, and refuses a flipped bit; ChaCha20-Poly1305 seals RFC 7634
// Appendix B's message byte for byte (test/vectors/ike-crypto.json).

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CHACHA20_POLY1305, ENCRS, INTEGS, PRFS } from '../../src/ike/algs.js';
import type { PrfAlg } from '../../src/ike/algs.js';
import { newKeyExchange } from '../../src/ike/dh.js';
import { deriveChildKeys, deriveIkeKeys, deriveRekeyedIkeKeys, prf, prfPlus } from '../../src/ike/prf.js';
import { openMessage, sealMessage } from '../../src/ike/sk.js';
import type { SkKeys } from '../../src/ike/sk.js';
import { DH_ECP256, DH_MODP2048, DH_X25519, ENCR_AES_CBC, ENCR_AES_GCM_16, IKE_AUTH, N, PL, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512, AUTH_HMAC_SHA2_256_128 } from '../../src/wire/ike/consts.js';
import { IkeDecodeError, parseIkeHeader } from '../../src/wire/ike/header.js';
import { chainLen, emitChain } from '../../src/wire/ike/payloads.js';
import type { Payload } from '../../src/wire/ike/payloads.js';
import { loadJson } from '../util/paths.js';

const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('IKE PRF and key derivation', () => {
  it('PRF_HMAC_SHA2_256/384/512 = RFC 4231 test case 2', () => {
    const key = h('4a656665');
    const data = new TextEncoder().encode('what do ya want for nothing?');
    assert.equal(hex(prf(PRFS.get(PRF_HMAC_SHA2_256)!, key, data)), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    assert.equal(hex(prf(PRFS.get(PRF_HMAC_SHA2_384)!, key, data)), 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649');
    assert.equal(hex(prf(PRFS.get(PRF_HMAC_SHA2_512)!, key, data)), '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737');
  });

  /** RFC 7296 §2.13 read literally: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
  const reference = (hash: string, k: Uint8Array, s: Uint8Array, len: number): Buffer => {
    let out = Buffer.alloc(0);
    let t = Buffer.alloc(0);
    for (let n = 1; out.length < len; n++) {
      t = createHmac(hash, k).update(Buffer.concat([t, s, Buffer.from([n])])).digest();
      out = Buffer.concat([out, t]);
    }
    return out.subarray(0, len);
  };

  for (const len of [1, 31, 32, 33, 64, 200, 255 * 32]) {
    it(`prf+ of ${len} bytes matches §2.13`, () => {
      const alg = PRFS.get(PRF_HMAC_SHA2_256)!;
      const k = randomBytes(32);
      const s = randomBytes(40);
      assert.equal(hex(prfPlus(alg, k, s, len)), reference('sha256', k, s, len).toString('hex'));
    });
  }

  it('prf+ refuses more than 255 blocks', () => {
    assert.throws(() => prfPlus(PRFS.get(PRF_HMAC_SHA2_256)!, randomBytes(32), randomBytes(8), 255 * 32 + 1), RangeError);
  });

  it('SKEYSEED and SK_d|SK_ai|SK_ar|SK_ei|SK_er|SK_pi|SK_pr split in §2.14 order', () => {
    const alg = PRFS.get(PRF_HMAC_SHA2_256)!;
    const [ni, nr, gir, spiI, spiR] = [randomBytes(32), randomBytes(32), randomBytes(32), randomBytes(8), randomBytes(8)];
    const k = deriveIkeKeys(alg, { integ: 32, encr: 16 }, ni, nr, gir, spiI, spiR);
    const skeyseed = createHmac('sha256', Buffer.concat([ni, nr])).update(gir).digest();
    const stream = reference('sha256', skeyseed, Buffer.concat([ni, nr, spiI, spiR]), 32 * 3 + 2 * 32 + 2 * 16);
    const got = Buffer.concat([k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr]);
    assert.equal(got.toString('hex'), stream.toString('hex'));
    assert.deepEqual([k.skD.length, k.skAi.length, k.skEi.length, k.skPr.length], [32, 32, 16, 32]);
  });

  it('Child KEYMAT = prf+(SK_d, Ni | Nr): encr i→r, integ i→r, encr r→i, integ r→i (§2.17)', () => {
    const alg = PRFS.get(PRF_HMAC_SHA2_256)!;
    const [skD, ni, nr] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const c = deriveChildKeys(alg, skD, { encr: 20, integ: 0 }, ni, nr);
    const stream = reference('sha256', skD, Buffer.concat([ni, nr]), 40);
    assert.equal(hex(c.encrI) + hex(c.encrR), stream.toString('hex'));
    assert.equal(c.integI.length, 0);
  });

  it('IKE SA rekey (§2.18): SKEYSEED = prf_old(SK_d old, g^ir new | Ni | Nr), keys by the new PRF over the new nonces and SPIs', () => {
    const [old, alg] = [PRFS.get(PRF_HMAC_SHA2_512)!, PRFS.get(PRF_HMAC_SHA2_256)!];
    const [skD, ni, nr, gir, spiI, spiR] = [randomBytes(64), randomBytes(32), randomBytes(32), randomBytes(32), randomBytes(8), randomBytes(8)];
    const k = deriveRekeyedIkeKeys(old, skD, alg, { integ: 0, encr: 20 }, ni, nr, gir, spiI, spiR);
    const skeyseed = createHmac('sha512', skD).update(Buffer.concat([gir, ni, nr])).digest();
    const stream = reference('sha256', skeyseed, Buffer.concat([ni, nr, spiI, spiR]), 32 * 3 + 2 * 20);
    assert.equal(Buffer.concat([k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr]).toString('hex'), stream.toString('hex'));
    assert.deepEqual([k.skD.length, k.skAi.length, k.skEi.length], [32, 0, 20]);
  });

  it('Child KEYMAT with PFS = prf+(SK_d, g^ir (new) | Ni | Nr) (§2.17)', () => {
    const alg = PRFS.get(PRF_HMAC_SHA2_256)!;
    const [skD, ni, nr, gir] = [randomBytes(32), randomBytes(32), randomBytes(32), randomBytes(32)];
    const c = deriveChildKeys(alg, skD, { encr: 16, integ: 32 }, ni, nr, gir);
    const stream = reference('sha256', skD, Buffer.concat([gir, ni, nr]), 96);
    assert.equal(hex(c.encrI) + hex(c.integI) + hex(c.encrR) + hex(c.integR), stream.toString('hex'));
  });
});

describe('IKE key exchange', () => {
  it('X25519: RFC 7748 §6.1', () => {
    const a = newKeyExchange(DH_X25519, h('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))!;
    assert.equal(hex(a.publicValue), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    const s = a.shared(h('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'));
    assert.equal(hex(s!), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
    assert.equal(a.shared(new Uint8Array(32)), null, 'the all-zero point gives an all-zero secret: refused');
    assert.equal(a.shared(new Uint8Array(31)), null);
  });

  it('ECP-256: RFC 5903 §8.1 (KE data is x | y, the secret is x)', () => {
    const i = newKeyExchange(DH_ECP256, h('C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433'))!;
    assert.equal(hex(i.publicValue).toUpperCase(), 'DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180' + '5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3');
    const gr = h('D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63' + '56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB');
    assert.equal(hex(i.shared(gr)!).toUpperCase(), 'D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE');
    assert.equal(i.shared(new Uint8Array(64)), null, 'not a point on the curve');
  });

  it('MODP-2048: both ends compute the same 256-byte secret; 1 and p-1 are refused', () => {
    const a = newKeyExchange(DH_MODP2048, randomBytes(32))!;
    const b = newKeyExchange(DH_MODP2048, randomBytes(32))!;
    assert.equal(a.publicValue.length, 256);
    assert.equal(hex(a.shared(b.publicValue)!), hex(b.shared(a.publicValue)!));
    const one = new Uint8Array(256); one[255] = 1;
    assert.equal(a.shared(one), null);
    assert.equal(a.shared(new Uint8Array(256).fill(0xff)), null, '≥ p');
  });
});

describe('SK payload', () => {
  const keys = (gcm: boolean): SkKeys => (gcm
    ? { encr: ENCRS.get(ENCR_AES_GCM_16)!, keyLen: 16, ek: randomBytes(20), integ: null, ak: new Uint8Array(0) }
    : { encr: ENCRS.get(ENCR_AES_CBC)!, keyLen: 32, ek: randomBytes(32), integ: INTEGS.get(AUTH_HMAC_SHA2_256_128)!, ak: randomBytes(32) });
  for (const gcm of [true, false]) {
    it(`${gcm ? 'AES-GCM-16' : 'AES-CBC + HMAC-SHA2-256-128'}: seal, open, and a flipped bit fails`, () => {
      const k = keys(gcm);
      const inner = [{ type: PL.NONCE, data: randomBytes(17) } as const, { type: PL.V, data: new Uint8Array(3) } as const];
      const hdr = { spiI: randomBytes(8), spiR: randomBytes(8), version: 0x20, exchange: IKE_AUTH, flags: 8, messageId: 1 };
      const msg = sealMessage(hdr, inner, k, randomBytes(k.encr.ivLen));
      const ph = parseIkeHeader(msg);
      assert.ok(!(ph instanceof IkeDecodeError));
      assert.equal(ph.length, msg.length);
      assert.equal(msg[28], PL.NONCE, 'SK Next Payload names the first inner payload');
      const skLen = (msg[30]! << 8) | msg[31]!;
      const got = openMessage(msg, ph, msg.length - skLen, k);
      assert.ok(!(got instanceof IkeDecodeError), String((got as IkeDecodeError).why));
      assert.deepEqual(got, inner.map((p) => ({ ...p, data: new Uint8Array(p.data) })));
      for (const at of [20, 40, msg.length - 1]) {
        const bad = new Uint8Array(msg);
        bad[at]! ^= 1;
        const r = openMessage(bad, ph, msg.length - skLen, k);
        assert.ok(r instanceof IkeDecodeError && /integrity/.test(r.why), `bit flipped at ${at}`);
      }
    });
  }
});

interface KdfCase {
  readonly name: string; readonly prf: string; readonly dkmBits: number;
  readonly ni: string; readonly nr: string; readonly gir: string; readonly girNew: string; readonly spiI: string; readonly spiR: string;
  readonly skeyseed: string; readonly dkm: string; readonly dkmChild: string; readonly dkmChildDh: string; readonly skeyseedRekey: string;
}
interface ChachaSk {
  readonly keymatHex: string; readonly ivHex: string; readonly spiIHex: string; readonly spiRHex: string;
  readonly exchange: number; readonly flags: number; readonly messageId: number; readonly plaintextHex: string; readonly messageHex: string;
}
const V = loadJson<{ kdf: { source: string; cases: KdfCase[] }; chachaSk: ChachaSk }>('ike-crypto.json');

describe('IKEv2 KDF: NIST SP 800-135 vectors (test/vectors/ike-crypto.json)', () => {
  const cat = (...p: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(p));
  for (const v of V.kdf.cases) {
    const found = [...PRFS.values()].find((a) => a.hash === v.prf);
    if (found === undefined) throw new Error(`${v.name}: no PRF for ${v.prf}`);
    const alg: PrfAlg = found;
    const [ni, nr, gir, girNew, spiI, spiR] = [h(v.ni), h(v.nr), h(v.gir), h(v.girNew), h(v.spiI), h(v.spiR)];
    const dkmLen = v.dkmBits / 8;
    const skD = h(v.dkm).subarray(0, alg.outLen);

    it(`${v.name}: SKEYSEED = prf(Ni | Nr, g^ir)`, () => {
      assert.equal(hex(prf(alg, cat(ni, nr), gir)), v.skeyseed);
    });

    it(`${v.name}: DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), as deriveIkeKeys' seven keys in order`, () => {
      assert.equal(hex(prfPlus(alg, h(v.skeyseed), cat(ni, nr, spiI, spiR), dkmLen)), v.dkm);
      // SK_d, SK_pi, SK_pr take 3 PRF lengths; SK_a* and SK_e* split the rest (any split: the stream is the same).
      const integ = alg.outLen;
      const encr = (dkmLen - 3 * alg.outLen) / 2 - integ;
      assert.ok(Number.isInteger(encr) && encr > 0);
      const k = deriveIkeKeys(alg, { integ, encr }, ni, nr, gir, spiI, spiR);
      assert.equal(hex(cat(k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr)), v.dkm);
      assert.equal(hex(k.skD), hex(skD));
    });

    it(`${v.name}: DKM(Child SA) = prf+(SK_d, Ni | Nr) and DKM(Child SA D-H) = prf+(SK_d, g^ir (new) | Ni | Nr), as deriveChildKeys' KEYMAT`, () => {
      const lens = { integ: alg.outLen, encr: dkmLen / 2 - alg.outLen };
      const c = deriveChildKeys(alg, skD, lens, ni, nr);
      assert.equal(hex(cat(c.encrI, c.integI, c.encrR, c.integR)), v.dkmChild);
      const d = deriveChildKeys(alg, skD, lens, ni, nr, girNew);
      assert.equal(hex(cat(d.encrI, d.integI, d.encrR, d.integR)), v.dkmChildDh);
    });

    it(`${v.name}: SKEYSEED(Rekey) = prf(SK_d, g^ir (new) | Ni | Nr), the seed deriveRekeyedIkeKeys expands`, () => {
      assert.equal(hex(prf(alg, skD, cat(girNew, ni, nr))), v.skeyseedRekey);
      const lens = { integ: alg.outLen, encr: 16 };
      const k = deriveRekeyedIkeKeys(alg, skD, alg, lens, ni, nr, girNew, spiI, spiR);
      const total = 3 * alg.outLen + 2 * lens.integ + 2 * lens.encr;
      assert.equal(hex(cat(k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr)), hex(prfPlus(alg, h(v.skeyseedRekey), cat(ni, nr, spiI, spiR), total)));
    });
  }
});

describe('SK payload with ENCR_CHACHA20_POLY1305: RFC 7634 Appendix B', () => {
  const v = V.chachaSk;
  const k: SkKeys = { encr: CHACHA20_POLY1305, keyLen: 32, ek: h(v.keymatHex), integ: null, ak: new Uint8Array(0) };
  const hdr = { spiI: h(v.spiIHex), spiR: h(v.spiRHex), version: 0x20, exchange: v.exchange, flags: v.flags, messageId: v.messageId };
  const inner: Payload[] = [{ type: PL.N, protocolId: 0, spi: new Uint8Array(0), notifyType: N.SET_WINDOW_SIZE, data: h('0000000a') }];

  it('the Notify SET_WINDOW_SIZE encodes as the RFC plaintext (before its Pad Length 0)', () => {
    const b = new Uint8Array(chainLen(inner));
    emitChain(inner, b, 0);
    assert.equal(hex(b) + '00', v.plaintextHex);
  });

  it('seal with the RFC key, salt and IV gives the RFC message byte for byte', () => {
    assert.equal(hex(sealMessage(hdr, inner, k, h(v.ivHex))), v.messageHex);
  });

  it('open gives back the Notify; a flipped tag, ciphertext or AAD bit is refused', () => {
    const msg = h(v.messageHex);
    const ph = parseIkeHeader(msg);
    assert.ok(!(ph instanceof IkeDecodeError));
    const got = openMessage(msg, ph, 28, k);
    assert.ok(!(got instanceof IkeDecodeError), String((got as IkeDecodeError).why));
    assert.deepEqual(got, inner);
    for (const [what, at] of [['tag', msg.length - 1], ['ciphertext', 40], ['IKE header (AAD)', 19], ['SK header (AAD)', 29]] as const) {
      const bad = new Uint8Array(msg);
      bad[at]! ^= 1;
      const r = openMessage(bad, ph, 28, k);
      assert.ok(r instanceof IkeDecodeError && /integrity/.test(r.why), `${what} bit flipped at ${at}`);
    }
  });
});
