// Per-SA ESP cryptography: the contract the SAD/ESP framing code is written
// against, and the factory that validates an SA's algorithms the way the
// kernel does when `ip xfrm state add` reaches it (net/xfrm/xfrm_user.c
// verify_newsa_info → xfrm_state_construct: attach_aead, attach_auth_trunc,
// attach_auth, attach_crypt; then net/ipv4/esp4.c esp_init_state →
// esp_init_aead | esp_init_authenc, whose setkey/setauthsize calls refuse bad
// key and ICV lengths).
//
// Two constructions, as esp_init_state picks them:
//   aead  rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305)  → aead.ts
//   enc [+ auth]  authenc(hmac(H), cbc(aes)) / authencesn(...) with ESN,
//         enc-only = authenc(digest_null, ...) (no ICV),
//         null encryption = ecb(cipher_null) + auth (RFC 2410)  → cbc-hmac.ts
// Both run on the native addon's per-SA OpenSSL context (esp-native.ts).
//
// Buffer layout of one ESP packet at b[espOff] (RFC 4303 §2):
//   | SPI (4) | Seq low (4) | IV (ivLen) | Payload..Next Header (ptLen) | ICV (icvLen) |
//   '------- AAD / authenticated ------------------------------------------'
// The ESN high half (seqHi) is authenticated but never sent (RFC 4303 §2.2.1):
// AEAD AAD = SPI ‖ seqHi ‖ seqLo (RFC 4106 §5, RFC 7634 §2.1; esp_output_set_extra),
// HMAC input = SPI ‖ seqLo ‖ IV ‖ ciphertext ‖ seqHi (authencesn; RFC 4303 §3.3.2.1).

import { ConfigError } from '../wire/errors.js';
import { authIcvLen, findAlgo, keyLenOk } from './algo.js';
import type { AlgoInfo } from './algo.js';
import { aeadEsp } from './aead.js';
import { cbcHmacEsp } from './cbc-hmac.js';

/** One algorithm of an SA: kernel name or compat alias, raw key bytes. */
export interface AlgoKey {
  readonly name: string;
  readonly key: Uint8Array;
  /** aead: ICV bits (64/96/128); auth: truncation bits (auth-trunc); absent = default. */
  readonly bits?: number;
}

export interface EspCryptoConfig {
  readonly aead?: AlgoKey;
  readonly enc?: AlgoKey;
  readonly auth?: AlgoKey;
  /** XFRM_STATE_ESN: seqHi is authenticated. */
  readonly esn: boolean;
}

export interface EspCrypto {
  /** Bytes of IV on the wire. */
  readonly ivLen: number;
  /** Bytes of ICV on the wire. */
  readonly icvLen: number;
  /** ALIGN(cipher block size, 4): 4 for AEAD and cipher_null, 16 for CBC (esp_output's blksize). */
  readonly blockAlign: number;
  /**
   * Encrypts in place. At b[espOff]: the 8-byte ESP header (SPI and low seq
   * already written by the caller), then ivLen bytes for the IV (seal writes
   * it), then ptLen bytes of plaintext (Payload..Next Header, already padded
   * to blockAlign by the caller), then icvLen bytes that seal writes. seqHi =
   * ESN high half (u32; authenticated, never sent), 0 when !esn.
   * IV: AEAD = (seqHi‖seqLo) XOR a random per-SA 8-byte value (crypto/seqiv.c);
   * CBC = unpredictable CSPRNG bytes.
   * Throws RangeError only on programmer error (buffer too short, ptLen not aligned).
   */
  seal(b: Uint8Array, espOff: number, ptLen: number, seqHi: number): void;
  /** Same, but the IV is already in the buffer (test vectors with a fixed IV). */
  sealWithIv(b: Uint8Array, espOff: number, ptLen: number, seqHi: number): void;
  /**
   * Verifies the ICV, then decrypts in place. espLen = bytes from the ESP
   * header to the end of the ICV. Returns false (never throws, buffer
   * untouched) on ICV failure or an impossible length (shorter than
   * 8+ivLen+icvLen, CBC ciphertext not a multiple of 16, beyond b), and
   * after destroy(). On true the plaintext is
   * b[espOff+8+ivLen, +espLen-8-ivLen-icvLen).
   */
  open(b: Uint8Array, espOff: number, espLen: number, seqHi: number): boolean;
  /**
   * seal() for count packets of this SA in one call: packet i at
   * slab[offs[i]] with ptLens[i] and seqHi[i]. Every range is checked before
   * any packet is sealed; RangeError as seal's. A seal that fails (OpenSSL)
   * stops the batch at that packet: those before it are sealed, and the
   * error's `sealed` property is its index. One N-API crossing instead of
   * count saves ~150-190 ns per packet (~20% of an AES-GCM seal at 1400
   * bytes; bench/crypto.bench.ts).
   */
  sealBatch(slab: Uint8Array, offs: Int32Array, ptLens: Int32Array, seqHi: Uint32Array, count: number): void;
  /**
   * open() for count packets of this SA: packet i is slab[offs[i], +espLens[i]);
   * ok[i] = 1 if it opened, else 0 (as open's false). Returns how many opened.
   * RangeError only if count exceeds a side array.
   */
  openBatch(slab: Uint8Array, offs: Int32Array, espLens: Int32Array, seqHi: Uint32Array, ok: Uint8Array, count: number): number;
  /**
   * Frees the per-SA context and wipes its key material now (the SA was
   * deleted, flushed or expired); idempotent. Afterwards seal throws and open
   * returns false.
   */
  destroy(): void;
}

/** Zeroes the key bytes of a config (the SA that owned them is gone, or the request's keys were ignored). */
export function wipeKeys(c: EspCryptoConfig): void {
  c.aead?.key.fill(0);
  c.enc?.key.fill(0);
  c.auth?.key.fill(0);
}

/**
 * Validates like xfrm_user.c and esp_init_state and builds the per-SA
 * context (keys scheduled once here). Throws ConfigError naming the field
 * ('aead' | 'enc' | 'auth') for an unknown algorithm (the kernel: ENOSYS), a
 * wrong key length, a bad ICV/truncation, or a bad combination.
 */
export function makeEspCrypto(cfg: EspCryptoConfig): EspCrypto {
  if (cfg.aead !== undefined) {
    if (cfg.enc !== undefined || cfg.auth !== undefined) {
      throw new ConfigError('aead', "AEAD can't be used with AUTH, AUTH_TRUNC, CRYPT (verify_newsa_info)");
    }
    return makeAead(cfg.aead, cfg.esn);
  }
  // attach_auth[_trunc] runs before attach_crypt in xfrm_state_construct.
  const authInfo = cfg.auth === undefined ? null : lookup('auth', cfg.auth);
  const authIcv = authInfo === null || cfg.auth === undefined ? 0 : checkTrunc(authInfo, cfg.auth);
  if (cfg.enc === undefined) {
    if (cfg.auth === undefined) {
      throw new ConfigError('enc', 'ESP needs at least one of AEAD, CRYPT, AUTH (verify_newsa_info)');
    }
    throw new ConfigError('enc', 'ESP: AEAD or CRYPT must be provided (esp_init_state); use enc cipher_null for integrity only');
  }
  const encInfo = lookup('enc', cfg.enc);
  checkKey('enc', encInfo, cfg.enc.key);
  if (authInfo !== null && cfg.auth !== undefined) checkKey('auth', authInfo, cfg.auth.key);
  return cbcHmacEsp(encInfo, cfg.enc.key, authInfo, cfg.auth?.key ?? null, authIcv, cfg.esn);
}

function makeAead(a: AlgoKey, esn: boolean): EspCrypto {
  const info = lookup('aead', a);
  const bits = a.bits ?? info.defaultBits;
  // xfrm_aead_get_byname matches the name and icv_truncbits together.
  if (!info.icvBits.includes(bits)) {
    throw new ConfigError('aead', `${info.name} has no ${String(bits)}-bit ICV (accepted: ${info.icvBits.join(', ')})`);
  }
  checkKey('aead', info, a.key);
  return aeadEsp(info, a.key, bits >>> 3, esn);
}

function lookup(kind: 'aead' | 'enc' | 'auth', a: AlgoKey): AlgoInfo {
  const info = typeof a.name === 'string' ? findAlgo(kind, a.name) : null;
  if (info === null) throw new ConfigError(kind, `algorithm ${String(a.name)} not found`);
  return info;
}

function checkKey(field: 'aead' | 'enc' | 'auth', info: AlgoInfo, key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new ConfigError(field, 'key must be bytes');
  if (!keyLenOk(info, key.length)) {
    const ok = info.keyBytes === null ? 'any' : info.keyBytes.map((n) => String(n * 8)).join('/');
    throw new ConfigError(field, `${info.name} key of ${String(key.length * 8)} bits refused (accepted: ${ok} bits)`);
  }
}

function checkTrunc(info: AlgoInfo, a: AlgoKey): number {
  const n = authIcvLen(info, a.bits);
  if (n < 0) {
    throw new ConfigError('auth', `${info.name} truncation ${String(a.bits)} bits refused (8 <= bits <= ${String(info.fullBits)})`);
  }
  return n;
}
