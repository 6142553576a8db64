// The native addon's ESP crypto (native/crypto.c over Node's own OpenSSL):
// one keyed OpenSSL context per SA and direction, sealed and opened in place.
//
// Why this module is a leaf of its own (src/crypto/, importing only wire/):
// crypto is computation, not I/O, so the sans-I/O cores (xfrm/, later ike/)
// may use it as they use node:crypto, but they must not import src/io/ (the
// shells' fds and sockets). The addon binary is shared with src/io/native.ts
// (require caches it by path); this loader reads only the crypto exports.
//
// Buffers are Uint8Arrays (Buffers are too) used in place, never copied.
// Errors: a wrong argument type is a TypeError, a range outside the buffer or
// a size the algorithm refuses a RangeError, sealing after destroy an Error
// with code ERR_CRYPTO_DESTROYED (all programmer errors); open returns false
// for a bad ICV or an impossible length and never throws for either.

import { loadAddon } from './addon.js';
import { wordTable } from '../wire/table.js';

/** An opaque per-SA context (a type-tagged napi external). */
export interface CryptoCtx { readonly __brand?: 'CryptoCtx' }

/** cryptoAeadNew kinds. */
export const AEAD_GCM = 1;
export const AEAD_CHACHA20_POLY1305 = 2;

/** cryptoAuthencNew hash ids, by node:crypto digest name. */
export const HASH_ID: Readonly<Record<string, number>> = wordTable({ md5: 1, sha1: 2, sha256: 3, sha384: 4, sha512: 5 });
export const HASH_NONE = 0;

export interface CryptoAddon {
  /**
   * An AEAD context: kind AEAD_GCM (key 16/24/32 bytes, tagLen 8/12/16) or
   * AEAD_CHACHA20_POLY1305 (key 32, tagLen 16); salt = the 4 bytes that
   * precede the 8-byte IV in the nonce (RFC 4106 §4, RFC 7634 §2); isEsn =
   * the ESP AAD carries seqHi. RangeError on a bad size.
   */
  cryptoAeadNew(kind: number, key: Uint8Array, salt: Uint8Array, tagLen: number, isEsn: boolean): CryptoCtx;
  /**
   * An encrypt-then-MAC context: encKey of 16/24/32 bytes = cbc(aes), empty =
   * ecb(cipher_null); hash HASH_ID[...] or HASH_NONE; authKey any length;
   * icvLen 1..digest bytes (0 with HASH_NONE). RangeError on a bad size.
   */
  cryptoAuthencNew(encKey: Uint8Array, hash: number, authKey: Uint8Array, icvLen: number, isEsn: boolean): CryptoCtx;
  /** EspCrypto.seal / sealWithIv (hasIv) on b[espOff, ...): see src/xfrm/esp-crypto.ts. */
  cryptoEspSeal(ctx: CryptoCtx, b: Uint8Array, espOff: number, ptLen: number, seqHi: number, hasIv: boolean): void;
  /** EspCrypto.open: false on a bad ICV or any impossible range (a released context too). */
  cryptoEspOpen(ctx: CryptoCtx, b: Uint8Array, espOff: number, espLen: number, seqHi: number): boolean;
  /**
   * cryptoEspSeal for count packets of one SA in one call: packet i at
   * slab[offs[i]] with plaintext ptLens[i] and ESN high half seqHi[i]. Every
   * range is checked before any packet is sealed (RangeError).
   */
  cryptoEspSealBatch(ctx: CryptoCtx, slab: Uint8Array, offs: Int32Array, ptLens: Int32Array, seqHi: Uint32Array,
    count: number, hasIv: boolean): void;
  /** cryptoEspOpen for count packets: ok[i] = 1 if packet i (slab[offs[i], +espLens[i])) opened, else 0. Returns how many opened. */
  cryptoEspOpenBatch(ctx: CryptoCtx, slab: Uint8Array, offs: Int32Array, espLens: Int32Array, seqHi: Uint32Array,
    ok: Uint8Array, count: number): number;
  /** AEAD seal of b[off, off+len) in place, tag written at b[off+len]. RangeError: nonce not 12 bytes, range. */
  cryptoAeadSeal(ctx: CryptoCtx, nonce: Uint8Array, aad: Uint8Array, b: Uint8Array, off: number, len: number): void;
  /** AEAD open in place, tag read at b[off+len]; false (buffer unchanged) on a bad tag or a nonce not of 12 bytes. */
  cryptoAeadOpen(ctx: CryptoCtx, nonce: Uint8Array, aad: Uint8Array, b: Uint8Array, off: number, len: number): boolean;
  /** The context's HMAC of b[off, off+len), truncated to icvLen, at out[outOff]. */
  cryptoMac(ctx: CryptoCtx, b: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void;
  /** Frees the OpenSSL contexts and wipes the key material now (OPENSSL_cleanse); idempotent. */
  cryptoDestroy(ctx: CryptoCtx): void;
}

const EXPORTS: readonly (keyof CryptoAddon)[] = [
  'cryptoAeadNew', 'cryptoAuthencNew', 'cryptoEspSeal', 'cryptoEspOpen', 'cryptoEspSealBatch', 'cryptoEspOpenBatch',
  'cryptoAeadSeal', 'cryptoAeadOpen', 'cryptoMac', 'cryptoDestroy',
];

let cached: CryptoAddon | null = null;

/** The addon's crypto functions, loaded once. Throws VpnError ERR_NATIVE_NOT_BUILT when missing or stale. */
export function loadCrypto(): CryptoAddon {
  if (cached !== null) return cached;
  cached = loadAddon<CryptoAddon>(EXPORTS);
  return cached;
}
