// The algorithms tunkit's IKE negotiates, by IKEv2 transform ID: key sizes,
// IV/ICV sizes, the node:crypto names used for IKE's own SK payloads, and
// the kernel (xfrm) names a Child SA is installed with (the same names
// `ip xfrm state` takes; reference: net/xfrm/xfrm_algo.c, RFC 8221/8247).

import {
  AUTH_HMAC_SHA2_256_128, AUTH_HMAC_SHA2_384_192, AUTH_HMAC_SHA2_512_256, DH_ECP256, DH_ECP384, DH_MODP2048,
  DH_MODP3072, DH_X25519, ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512,
} from '../wire/ike/consts.js';

export type HashName = 'sha256' | 'sha384' | 'sha512';

/** PRF: HMAC with this hash; key and output length = the hash length (RFC 4868 §2.2). */
export interface PrfAlg { readonly id: number; readonly name: string; readonly hash: HashName; readonly outLen: number }

/** Integrity: HMAC truncated to icvLen (RFC 4868 §2.3); keyLen = the hash length. */
export interface IntegAlg {
  readonly id: number; readonly name: string; readonly hash: HashName; readonly keyLen: number; readonly icvLen: number;
  /** Kernel name for `auth-trunc` (truncation = icvLen * 8). */
  readonly xfrmName: string;
}

/**
 * Encryption: AES-CBC (with an integrity transform), AES-GCM-16 (AEAD,
 * 4-byte salt after the key: RFC 5282 §7.1, RFC 4106 §8.1) or
 * ChaCha20-Poly1305 (AEAD, 256-bit key + 4-byte salt, no Key Length
 * attribute: RFC 7634 §2-§3).
 */
export interface EncrAlg {
  readonly id: number;
  readonly isAead: boolean;
  /** IV bytes on the wire: 16 for CBC, 8 for GCM. */
  readonly ivLen: number;
  /** AEAD tag bytes (16 for GCM-16); 0 for CBC. */
  readonly icvLen: number;
  /** Salt bytes appended to the key in the keying material (4 for GCM). */
  readonly saltLen: number;
  /** Block size for padding (16 for CBC; 1 for GCM). */
  readonly blockLen: number;
  /** Kernel algorithm name: `cbc(aes)`, `rfc4106(gcm(aes))` or `rfc7539esp(chacha20,poly1305)`. */
  readonly xfrmName: string;
  /**
   * The key size (bits) of a transform that has one and takes no Key Length
   * attribute (ChaCha20-Poly1305: 256, RFC 7634 §2); absent for AES, whose
   * size is the attribute's (RFC 7296 §3.3.5).
   */
  readonly fixedKeyBits?: number;
}

export const PRFS: ReadonlyMap<number, PrfAlg> = new Map([
  [PRF_HMAC_SHA2_256, { id: PRF_HMAC_SHA2_256, name: 'PRF_HMAC_SHA2_256', hash: 'sha256', outLen: 32 }],
  [PRF_HMAC_SHA2_384, { id: PRF_HMAC_SHA2_384, name: 'PRF_HMAC_SHA2_384', hash: 'sha384', outLen: 48 }],
  [PRF_HMAC_SHA2_512, { id: PRF_HMAC_SHA2_512, name: 'PRF_HMAC_SHA2_512', hash: 'sha512', outLen: 64 }],
] as const);

export const INTEGS: ReadonlyMap<number, IntegAlg> = new Map([
  [AUTH_HMAC_SHA2_256_128, { id: AUTH_HMAC_SHA2_256_128, name: 'HMAC_SHA2_256_128', hash: 'sha256', keyLen: 32, icvLen: 16, xfrmName: 'hmac(sha256)' }],
  [AUTH_HMAC_SHA2_384_192, { id: AUTH_HMAC_SHA2_384_192, name: 'HMAC_SHA2_384_192', hash: 'sha384', keyLen: 48, icvLen: 24, xfrmName: 'hmac(sha384)' }],
  [AUTH_HMAC_SHA2_512_256, { id: AUTH_HMAC_SHA2_512_256, name: 'HMAC_SHA2_512_256', hash: 'sha512', keyLen: 64, icvLen: 32, xfrmName: 'hmac(sha512)' }],
] as const);

/**
 * ENCR_CHACHA20_POLY1305 (RFC 7634 §2-§3): 32-byte key + 4-byte salt, 8-byte
 * IV, 16-byte tag, no padding needed, and no Key Length attribute (§2: a
 * transform carrying one is not this one). The kernel's ESP name is
 * rfc7539esp(chacha20,poly1305), keyed with key | salt (36 bytes).
 */
export const CHACHA20_POLY1305: EncrAlg = {
  id: ENCR_CHACHA20_POLY1305, isAead: true, ivLen: 8, icvLen: 16, saltLen: 4, blockLen: 1, xfrmName: 'rfc7539esp(chacha20,poly1305)', fixedKeyBits: 256,
};

export const ENCRS: ReadonlyMap<number, EncrAlg> = new Map([
  [ENCR_AES_CBC, { id: ENCR_AES_CBC, isAead: false, ivLen: 16, icvLen: 0, saltLen: 0, blockLen: 16, xfrmName: 'cbc(aes)' }],
  [ENCR_AES_GCM_16, { id: ENCR_AES_GCM_16, isAead: true, ivLen: 8, icvLen: 16, saltLen: 4, blockLen: 1, xfrmName: 'rfc4106(gcm(aes))' }],
  [ENCR_CHACHA20_POLY1305, CHACHA20_POLY1305],
] as const);

/**
 * Bytes of the cipher key of a negotiated encryption transform, without the
 * salt: the Key Length attribute's bits / 8, or the fixed size of a cipher
 * that takes none (ChaCha20-Poly1305, RFC 7634 §2).
 */
export function encrKeyLen(e: { readonly id: number; readonly keyLength: number }): number {
  return (ENCRS.get(e.id)?.fixedKeyBits ?? e.keyLength) / 8;
}

/** Key sizes (bits) the AES transforms accept (the Key Length attribute is mandatory for them: RFC 7296 §3.3.5). */
export const AES_KEY_BITS: readonly number[] = [128, 192, 256];

/** Key exchange groups: RFC 3526 MODP, RFC 5903 ECP, RFC 8031 Curve25519. */
export const DH_NAMES: ReadonlyMap<number, string> = new Map([
  [DH_MODP2048, 'MODP_2048'], [DH_MODP3072, 'MODP_3072'], [DH_ECP256, 'ECP_256'], [DH_ECP384, 'ECP_384'], [DH_X25519, 'CURVE_25519'],
]);

/**
 * strongSwan's name for an encryption transform as swanctl --list-sas prints
 * it ("AES_GCM_16-128", "AES_CBC-256"): the key size follows only when the
 * transform had a Key Length attribute, so ChaCha20-Poly1305 (none: RFC
 * 7634 §2) is plain "CHACHA20_POLY1305".
 */
export function encrName(id: number, keyBits: number): string {
  if (id === ENCR_CHACHA20_POLY1305) return 'CHACHA20_POLY1305';
  return `${id === ENCR_AES_GCM_16 ? 'AES_GCM_16' : id === ENCR_AES_CBC ? 'AES_CBC' : `ENCR(${id})`}-${keyBits}`;
}
