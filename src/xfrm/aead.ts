// AEAD ESP: rfc4106(gcm(aes)) (RFC 4106) and rfc7539esp(chacha20,poly1305)
// (RFC 7634) on the native per-SA context (native/crypto_sa.c). The kernel's
// construction (net/ipv4/esp4.c esp_output_tail / esp_input with
// crypto/seqiv.c, crypto/gcm.c rfc4106, crypto/chacha20poly1305.c rfc7539esp):
//   key   = cipher key ‖ 4-byte salt (RFC 4106 §8.1, RFC 7634 §2)
//   nonce = salt ‖ 8-byte IV carried on the wire (RFC 4106 §4, RFC 7634 §2)
//   AAD   = SPI ‖ seqLo, or SPI ‖ seqHi ‖ seqLo with ESN (RFC 4106 §5)
//   IV    = (seqHi ‖ seqLo) XOR a random per-SA 8-byte value (seqiv_aead_encrypt:
//           crypto_xor(info, ctx->salt)), unique per SA while seq never repeats.
// A forged packet leaves the buffer as it was (C re-applies the keystream).
// Cost per packet (bench/crypto.bench.ts, shared 2 vCPU EPYC VM, least of
// 40 trials), seal ≈ open: AES-GCM (any key size, ESN or not) 0.45 µs at
// 64 B, 0.8 µs at 1400, 2.6 µs at 8192 (node:crypto 4.5, 5.3, 8.2 µs);
// ChaCha20-Poly1305 0.6, 1.4, 4.5 µs (4.3, 6.0, 10 µs).
// The node:crypto implementation this replaced is the reference in
// test/xfrm/ref/aead.ts; bench/crypto.bench.ts compares the two.

import { AEAD_CHACHA20_POLY1305, AEAD_GCM, loadCrypto } from '../crypto/native.js';
import type { CryptoAddon, CryptoCtx } from '../crypto/native.js';
import type { AlgoInfo } from './algo.js';
import type { EspCrypto } from './esp-crypto.js';
import { NativeEsp } from './esp-native.js';

/** Nonce bytes of both AEADs (96 bits). */
export const AEAD_NONCE_LEN = 12;
/** Salt bytes at the end of an ESP AEAD key. */
export const AEAD_SALT_LEN = 4;
const IV_LEN = 8;

export type AeadCipherName = 'aes-gcm' | 'chacha20-poly1305';

const kindOf = (c: AeadCipherName): number => (c === 'aes-gcm' ? AEAD_GCM : AEAD_CHACHA20_POLY1305);

/**
 * One AEAD key with a fixed tag length, in place: the primitive ESP is built
 * on (what the Wycheproof tests drive, and IKEv2's SK payload will use). Only
 * what ESP can express: 12-byte nonces; tags of 8/12/16 bytes (GCM, RFC 4106
 * §6) or 16 (ChaCha20-Poly1305, RFC 7634 §2); the constructor throws
 * RangeError otherwise.
 */
export class AeadKey {
  readonly tagLen: number;
  private readonly addon: CryptoAddon;
  private readonly ctx: CryptoCtx;

  constructor(cipher: AeadCipherName, key: Uint8Array, tagLen: number) {
    this.addon = loadCrypto();
    this.ctx = this.addon.cryptoAeadNew(kindOf(cipher), key, new Uint8Array(AEAD_SALT_LEN), tagLen, false);
    this.tagLen = tagLen;
  }

  /** Encrypts b[off, off+len) in place and writes the tag at b[off+len]. RangeError: nonce not 12 bytes, range outside b. */
  seal(nonce: Uint8Array, aad: Uint8Array, b: Uint8Array, off: number, len: number): void {
    this.addon.cryptoAeadSeal(this.ctx, nonce, aad, b, off, len);
  }

  /**
   * Checks the tag at b[off+len] over (nonce, aad, b[off, off+len)) and
   * decrypts in place. False, with b unchanged, on a wrong tag or a nonce
   * not of 12 bytes. RangeError: range outside b.
   */
  open(nonce: Uint8Array, aad: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
    return this.addon.cryptoAeadOpen(this.ctx, nonce, aad, b, off, len);
  }

  /** Frees the context and wipes the key now. */
  destroy(): void {
    this.addon.cryptoDestroy(this.ctx);
  }
}

/** EspCrypto for one AEAD SA. keyWithSalt: cipher key ‖ 4-byte salt, icvLen in bytes (checked by makeEspCrypto). */
export function aeadEsp(info: AlgoInfo, keyWithSalt: Uint8Array, icvLen: number, isEsn: boolean): EspCrypto {
  const addon = loadCrypto();
  const keyLen = keyWithSalt.length - AEAD_SALT_LEN;
  const kind = info.name === 'rfc4106(gcm(aes))' ? AEAD_GCM : AEAD_CHACHA20_POLY1305;
  const ctx = addon.cryptoAeadNew(kind, keyWithSalt.subarray(0, keyLen), keyWithSalt.subarray(keyLen), icvLen, isEsn);
  return new NativeEsp(addon, ctx, IV_LEN, icvLen, 4);
}
