// Encrypt-then-MAC ESP on the native per-SA context (native/crypto_sa.c,
// crypto_hmac.c): cbc(aes) (RFC 3602) or ecb(cipher_null) (RFC 2410),
// optionally with hmac(md5|sha1|sha256|sha384|sha512) truncated to the SA's
// ICV (RFC 2403, RFC 2404, RFC 4868). The kernel builds this as
// authenc(hmac(H),cbc(aes)) — authencesn(...) with ESN, authenc(digest_null,
// ...) without auth — in net/ipv4/esp4.c esp_init_authenc:
//   ICV   = HMAC(SPI ‖ seqLo ‖ IV ‖ ciphertext [‖ seqHi with ESN])[0, icvLen)
//           (crypto/authencesn.c moves seqHi behind the payload; RFC 4303 §3.3.2.1)
//   input: the ICV is checked first (constant time), then the payload is
//          decrypted (esp_input);
//   CBC IV: unpredictable per packet (RFC 3602 §2): a per-SA 4 KiB RAND_bytes
//           pool, every byte used once (one RAND_bytes call costs ~1.9 µs).
// Cost per 1392-byte packet (bench/crypto.bench.ts, shared 2 vCPU EPYC VM,
// least of 40 trials), seal / open: cbc(aes) 128 + hmac(sha1|sha256)
// 2.6 / 1.6 µs (node:crypto 9.4 / 8.2); cbc(aes) 256 + hmac(sha384|sha512)
// 4.4 / 3.1 µs (12 / 10). CBC encryption is serial, decryption is not.
// The node:crypto implementation this replaced is the reference in
// test/xfrm/ref/cbc-hmac.ts.

import { HASH_ID, HASH_NONE, loadCrypto } from '../crypto/native.js';
import type { CryptoAddon, CryptoCtx } from '../crypto/native.js';
import type { AlgoInfo } from './algo.js';
import type { EspCrypto } from './esp-crypto.js';
import { NativeEsp } from './esp-native.js';
import { wordTable } from '../wire/table.js';

/** node:crypto digest name per kernel auth name. */
const HASHES: Readonly<Record<string, string>> = wordTable({
  'hmac(md5)': 'md5', 'hmac(sha1)': 'sha1', 'hmac(sha256)': 'sha256', 'hmac(sha384)': 'sha384', 'hmac(sha512)': 'sha512',
});

const EMPTY = new Uint8Array(0);

function hashId(hash: string): number {
  const id = HASH_ID[hash];
  if (id === undefined) throw new RangeError(`unknown HMAC hash ${hash}`);
  return id;
}

/**
 * An HMAC key truncated to icvLen bytes (1..digest length): the integrity
 * half of ESP on its own (the RFC 4868 vectors; IKEv2's PRF/integrity later).
 * The constructor throws RangeError for an unknown hash or a bad icvLen.
 */
export class HmacKey {
  readonly icvLen: number;
  private readonly addon: CryptoAddon;
  private readonly ctx: CryptoCtx;
  private readonly scratch: Uint8Array;

  /** hash: node digest name ('sha256', ...); key: any length (RFC 2104 §2). */
  constructor(hash: string, key: Uint8Array, icvLen: number) {
    this.addon = loadCrypto();
    this.ctx = this.addon.cryptoAuthencNew(EMPTY, hashId(hash), key, icvLen, false);
    this.icvLen = icvLen;
    this.scratch = new Uint8Array(icvLen);
  }

  /** Writes the first icvLen bytes of HMAC(data[off, off+len)) at out[outOff]. RangeError outside either buffer. */
  compute(data: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
    this.addon.cryptoMac(this.ctx, data, off, len, out, outOff);
  }

  /** Constant-time comparison of the computed ICV with icv[icvOff, +icvLen). */
  verify(data: Uint8Array, off: number, len: number, icv: Uint8Array, icvOff: number): boolean {
    const s = this.scratch;
    this.compute(data, off, len, s, 0);
    let diff = 0;
    for (let i = 0; i < this.icvLen; i++) diff |= s[i]! ^ icv[icvOff + i]!;
    return diff === 0;
  }

  /** Frees the context and wipes the key now. */
  destroy(): void {
    this.addon.cryptoDestroy(this.ctx);
  }
}

/** EspCrypto for one enc[+auth] SA. Lengths validated by makeEspCrypto; icvLen in bytes (0 without auth). */
export function cbcHmacEsp(enc: AlgoInfo, encKey: Uint8Array, auth: AlgoInfo | null, authKey: Uint8Array | null,
  icvLen: number, isEsn: boolean): EspCrypto {
  const hash = auth === null ? undefined : HASHES[auth.name];
  if (auth !== null && hash === undefined) throw new RangeError(`no HMAC for ${auth.name}`);
  const hasMac = hash !== undefined && authKey !== null;
  const addon = loadCrypto();
  const ctx = addon.cryptoAuthencNew(enc.ivLen === 0 ? EMPTY : encKey, hasMac ? hashId(hash) : HASH_NONE,
    hasMac ? authKey : EMPTY, hasMac ? icvLen : 0, isEsn);
  return new NativeEsp(addon, ctx, enc.ivLen, hasMac ? icvLen : 0, (enc.blockSize + 3) & ~3);
}
