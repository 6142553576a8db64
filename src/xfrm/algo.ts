// The ESP algorithm table, as `ip xfrm state ... aead|enc|auth|auth-trunc
// NAME KEY [BITS]` names algorithms: net/xfrm/xfrm_algo.c (aead_list,
// ealg_list, aalg_list) with the checks the kernel applies when an SA is
// added (net/xfrm/xfrm_user.c attach_aead / attach_crypt / attach_auth /
// attach_auth_trunc, then net/ipv4/esp4.c esp_init_aead / esp_init_authenc
// calling the crypto API's setkey/setauthsize). Only the algorithms tunkit
// implements are listed; any other kernel name is "not found" (the kernel
// answers ENOSYS, "Requested ... algorithm not found").
//
// Lookup (xfrm_find_algo + xfrm_alg_name_match): a name matches an entry's
// kernel name or its compat alias, exactly (strcmp: case-sensitive). AEAD
// entries have no compat alias, and the kernel keeps one aead_list entry per
// ICV size (xfrm_aead_get_byname matches name AND icv_truncbits); here one
// entry lists all its ICV sizes in icvBits.
//
// Key lengths are what the crypto API's setkey accepts, in bytes:
//   rfc4106(gcm(aes))  crypto_rfc4106_setkey: AES key (16/24/32) + 4-byte salt (RFC 4106 §8.1)
//   rfc7539esp(...)    chachapoly_setkey: keylen must be 32 + saltlen 4 (RFC 7634 §2)
//   cbc(aes)           aes_expandkey: 16/24/32
//   ecb(cipher_null)   min = max keysize 0 (crypto_null.c; crypto_skcipher_setkey checks it)
//   hmac(*)            hmac_setkey takes any length (longer than a block is hashed first);
//                      RFC 4868 §2.1.1 recommends the digest length, the kernel does not insist.

/** ip xfrm's three algorithm attribute kinds (XFRMA_ALG_AEAD, XFRMA_ALG_CRYPT, XFRMA_ALG_AUTH[_TRUNC]). */
export type AlgoKind = 'aead' | 'enc' | 'auth';

/** IKEv2 transform types (RFC 7296 §3.3.2). */
export const IKEV2_TRANSFORM_ENCR = 1;
export const IKEV2_TRANSFORM_INTEG = 3;

/** One IKEv2 transform ID: for aead, `bits` is the ICV size; for auth, the truncation; for enc, 0. */
export interface Ikev2Transform {
  readonly type: number;
  readonly id: number;
  readonly bits: number;
}

export interface AlgoInfo {
  /** Kernel name (xfrm_algo_desc.name), what the SA records and `ip xfrm state` prints. */
  readonly name: string;
  /** Compat alias (xfrm_algo_desc.compat), e.g. "aes" for cbc(aes); null if none. */
  readonly compat: string | null;
  readonly kind: AlgoKind;
  /** Accepted key lengths in bytes (AEAD: including the 4-byte salt); null = any length (HMAC). */
  readonly keyBytes: readonly number[] | null;
  /** Bytes of IV on the wire (crypto_aead_ivsize): 8 for GCM/ChaCha (RFC 4106 §3.1, RFC 7634 §2), 16 for CBC. */
  readonly ivLen: number;
  /** Cipher block size in bytes (crypto_aead_blocksize): 1 for stream-like AEADs, 16 for AES-CBC; 0 for auth. */
  readonly blockSize: number;
  /** aead: the ICV sizes in bits the kernel has an aead_list entry for; empty for enc/auth. */
  readonly icvBits: readonly number[];
  /** aead: the ICV bits used when none is given; auth: icv_truncbits (plain `auth`); enc: 0. */
  readonly defaultBits: number;
  /** auth: icv_fullbits, the digest size and the largest truncation auth-trunc accepts; else 0. */
  readonly fullBits: number;
  /** IKEv2 transform IDs (RFC 7296 §3.3.2, RFC 4106 §8, RFC 4868 §2.4, RFC 7634 §4); may be empty. */
  readonly ikev2: readonly Ikev2Transform[];
}

const ENCR = IKEV2_TRANSFORM_ENCR;
const INTEG = IKEV2_TRANSFORM_INTEG;

/** The subset of aead_list tunkit implements. */
const AEAD_LIST: readonly AlgoInfo[] = [
  {
    name: 'rfc4106(gcm(aes))', compat: null, kind: 'aead', keyBytes: [20, 28, 36],
    ivLen: 8, blockSize: 1, icvBits: [64, 96, 128], defaultBits: 128, fullBits: 0,
    // ENCR_AES_GCM_8 / _12 / _16
    ikev2: [{ type: ENCR, id: 18, bits: 64 }, { type: ENCR, id: 19, bits: 96 }, { type: ENCR, id: 20, bits: 128 }],
  },
  {
    name: 'rfc7539esp(chacha20,poly1305)', compat: null, kind: 'aead', keyBytes: [36],
    ivLen: 8, blockSize: 1, icvBits: [128], defaultBits: 128, fullBits: 0,
    ikev2: [{ type: ENCR, id: 28, bits: 128 }], // ENCR_CHACHA20_POLY1305
  },
];

/** The subset of ealg_list tunkit implements. */
const EALG_LIST: readonly AlgoInfo[] = [
  {
    name: 'ecb(cipher_null)', compat: 'cipher_null', kind: 'enc', keyBytes: [0],
    ivLen: 0, blockSize: 1, icvBits: [], defaultBits: 0, fullBits: 0,
    ikev2: [{ type: ENCR, id: 11, bits: 0 }], // ENCR_NULL (RFC 2410)
  },
  {
    name: 'cbc(aes)', compat: 'aes', kind: 'enc', keyBytes: [16, 24, 32],
    ivLen: 16, blockSize: 16, icvBits: [], defaultBits: 0, fullBits: 0,
    ikev2: [{ type: ENCR, id: 12, bits: 0 }], // ENCR_AES_CBC (RFC 3602), key length attribute 128/192/256
  },
];

/** The subset of aalg_list tunkit implements (icv_truncbits / icv_fullbits as the kernel has them). */
const AALG_LIST: readonly AlgoInfo[] = [
  auth('hmac(md5)', 'md5', 96, 128, [{ type: INTEG, id: 1, bits: 96 }]), // AUTH_HMAC_MD5_96
  auth('hmac(sha1)', 'sha1', 96, 160, [{ type: INTEG, id: 2, bits: 96 }]), // AUTH_HMAC_SHA1_96
  // Still 96 by default (a pre-RFC 4868 draft); interop needs auth-trunc 128.
  auth('hmac(sha256)', 'sha256', 96, 256, [{ type: INTEG, id: 12, bits: 128 }]), // AUTH_HMAC_SHA2_256_128
  auth('hmac(sha384)', null, 192, 384, [{ type: INTEG, id: 13, bits: 192 }]), // AUTH_HMAC_SHA2_384_192
  auth('hmac(sha512)', null, 256, 512, [{ type: INTEG, id: 14, bits: 256 }]), // AUTH_HMAC_SHA2_512_256
];

function auth(name: string, compat: string | null, truncBits: number, fullBits: number,
  ikev2: readonly Ikev2Transform[]): AlgoInfo {
  return {
    name, compat, kind: 'auth', keyBytes: null, ivLen: 0, blockSize: 0, icvBits: [],
    defaultBits: truncBits, fullBits, ikev2,
  };
}

const LISTS: Readonly<Record<AlgoKind, readonly AlgoInfo[]>> = { aead: AEAD_LIST, enc: EALG_LIST, auth: AALG_LIST };

/**
 * xfrm_aead_get_byname / xfrm_ealg_get_byname / xfrm_aalg_get_byname: the
 * entry whose kernel name or compat alias is exactly `name`, or null.
 */
export function findAlgo(kind: AlgoKind, name: string): AlgoInfo | null {
  for (const a of LISTS[kind]) if (a.name === name || (a.compat !== null && a.compat === name)) return a;
  return null;
}

/** Every entry of one kind (for `ip xfrm` help text and tests). */
export const listAlgos = (kind: AlgoKind): readonly AlgoInfo[] => LISTS[kind];

/** True when `len` bytes is a key length the algorithm's setkey accepts. */
export const keyLenOk = (a: AlgoInfo, len: number): boolean => a.keyBytes === null || a.keyBytes.includes(len);

/**
 * Bytes of ICV an auth algorithm produces for a requested truncation, or -1
 * if the kernel refuses it. bits undefined/0 = icv_truncbits (attach_auth, or
 * attach_auth_trunc with alg_trunc_len 0); more than icv_fullbits is EINVAL
 * ("Invalid length requested for truncated ICV"). The kernel then calls
 * crypto_aead_setauthsize(trunc_len / 8), so a length that is not a multiple
 * of 8 is silently rounded down (100 → 12 bytes), as here. Under 8 bits
 * would round to a 0-byte ICV (an SA with no integrity check, which the
 * kernel's authenc would take): refused here (-1), a deliberate divergence;
 * the native HMAC refuses a 0-byte ICV anyway, and the control-handler fuzz
 * found that reaching it gave an internal error instead of a field error.
 */
export function authIcvLen(a: AlgoInfo, bits: number | undefined): number {
  const b = bits === undefined || bits === 0 ? a.defaultBits : bits;
  if (!Number.isInteger(b) || b < 8 || b > a.fullBits) return -1;
  return b >>> 3;
}

/** The IKEv2 transform ID for an algorithm at an ICV/truncation size (0 for enc), or null. */
export function ikev2Transform(a: AlgoInfo, bits: number): Ikev2Transform | null {
  for (const t of a.ikev2) if (t.bits === bits) return t;
  return null;
}
