// RFC 7296 §2.13-§2.14, §2.17: the PRF, prf+, and the keys of an IKE SA and
// of a Child SA. Every PRF here is HMAC-SHA2 (RFC 4868), whose key may be
// any length, so prf(Ni | Nr, g^ir) takes the nonces whole (§2.14).
//
// Returned key material is caller-owned; wipeKeys() zeroes it (the SA
// owner calls it when the SA goes).

import { createHmac } from 'node:crypto';
import type { PrfAlg } from './algs.js';

/** prf(K, S) = HMAC-hash(K, S). */
export function prf(alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(alg.hash, key).update(data).digest());
}

/**
 * prf+ (§2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output
 * T1 | T2 | ... cut to `len` bytes. At most 255 blocks.
 */
export function prfPlus(alg: PrfAlg, key: Uint8Array, seed: Uint8Array, len: number): Uint8Array {
  const n = Math.ceil(len / alg.outLen);
  if (n > 255) throw new RangeError(`prf+: ${len} bytes need more than 255 blocks`);
  const out = new Uint8Array(n * alg.outLen);
  let prev = new Uint8Array(0);
  for (let i = 1; i <= n; i++) {
    const h = createHmac(alg.hash, key);
    h.update(prev);
    h.update(seed);
    h.update(Uint8Array.of(i));
    prev = new Uint8Array(h.digest());
    out.set(prev, (i - 1) * alg.outLen);
  }
  prev.fill(0);
  if (out.length === len) return out;
  const cut = out.slice(0, len); // eslint-disable-line no-restricted-syntax -- control plane: an owned copy, the rest wiped
  out.fill(0);
  return cut;
}

const concat = (...parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
export { concat };

/** The seven keys of an IKE SA (§2.14); integrity keys are empty for AEAD. */
export interface IkeKeys {
  readonly skD: Uint8Array;
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skPi: Uint8Array;
  readonly skPr: Uint8Array;
}

/** Key lengths in bytes: integrity key, encryption key (salt included for AEAD). */
export interface KeyLens { readonly integ: number; readonly encr: number }

/**
 * §2.14: SKEYSEED = prf(Ni | Nr, g^ir);
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
 * SK_d, SK_pi, SK_pr are the PRF's preferred key length (its output length for HMAC).
 */
export function deriveIkeKeys(alg: PrfAlg, lens: KeyLens, ni: Uint8Array, nr: Uint8Array, shared: Uint8Array, spiI: Uint8Array, spiR: Uint8Array): IkeKeys {
  const nonces = concat(ni, nr);
  const skeyseed = prf(alg, nonces, shared);
  const keys = expandIkeKeys(alg, lens, skeyseed, concat(nonces, spiI, spiR));
  skeyseed.fill(0);
  return keys;
}

/** {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). */
function expandIkeKeys(alg: PrfAlg, lens: KeyLens, skeyseed: Uint8Array, seed: Uint8Array): IkeKeys {
  const total = 3 * alg.outLen + 2 * lens.integ + 2 * lens.encr;
  const km = prfPlus(alg, skeyseed, seed, total);
  let o = 0;
  const take = (n: number): Uint8Array => { const k = km.slice(o, o + n); o += n; return k; }; // eslint-disable-line no-restricted-syntax -- owned keys
  const keys: IkeKeys = {
    skD: take(alg.outLen), skAi: take(lens.integ), skAr: take(lens.integ), skEi: take(lens.encr), skEr: take(lens.encr),
    skPi: take(alg.outLen), skPr: take(alg.outLen),
  };
  km.fill(0);
  return keys;
}

/** Child SA keys (§2.17): encr‖integ initiator→responder, then encr‖integ responder→initiator. */
export interface ChildKeys { readonly encrI: Uint8Array; readonly integI: Uint8Array; readonly encrR: Uint8Array; readonly integR: Uint8Array }

/** §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), split in that order. */
export function deriveChildKeys(alg: PrfAlg, skD: Uint8Array, lens: KeyLens, ni: Uint8Array, nr: Uint8Array, pfsShared: Uint8Array | null = null): ChildKeys {
  const seed = pfsShared !== null ? concat(pfsShared, ni, nr) : concat(ni, nr);
  const km = prfPlus(alg, skD, seed, 2 * (lens.encr + lens.integ));
  seed.fill(0);
  let o = 0;
  const take = (n: number): Uint8Array => { const k = km.slice(o, o + n); o += n; return k; }; // eslint-disable-line no-restricted-syntax -- owned keys
  const keys = { encrI: take(lens.encr), integI: take(lens.integ), encrR: take(lens.encr), integR: take(lens.integ) };
  km.fill(0);
  return keys;
}

/** Zeroes every key of an IKE or Child key set (when its SA goes). */
export function wipeKeys(k: IkeKeys | ChildKeys): void {
  for (const v of Object.values(k) as Uint8Array[]) v.fill(0);
}

/**
 * §2.18, rekeying an IKE SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * with the old SA's PRF (as charon does); then the seven keys as in §2.14 with
 * the new SA's PRF, nonces and SPIs.
 */
export function deriveRekeyedIkeKeys(oldAlg: PrfAlg, skDOld: Uint8Array, alg: PrfAlg, lens: KeyLens, ni: Uint8Array, nr: Uint8Array,
  shared: Uint8Array, spiI: Uint8Array, spiR: Uint8Array): IkeKeys {
  const seed = concat(shared, ni, nr);
  const skeyseed = prf(oldAlg, skDOld, seed);
  seed.fill(0);
  const keys = expandIkeKeys(alg, lens, skeyseed, concat(ni, nr, spiI, spiR));
  skeyseed.fill(0);
  return keys;
}
