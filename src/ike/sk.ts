// RFC 7296 §3.14 (the Encrypted payload) with AES-CBC + HMAC-SHA2
// (RFC 3602, RFC 4868) and RFC 5282 (AES-GCM-16 in IKEv2).
//
//   | IKE header | [clear payloads] | SK generic header | IV | ciphertext | ICV |
//   plaintext = inner payload chain | Padding | Pad Length (1)
//
// CBC: IV 16 random-looking bytes; ICV = HMAC(SK_a, header … end of ciphertext) truncated.
// GCM: IV 8 bytes (a per-SA counter: never repeats under one key), nonce =
//      salt (last 4 bytes of SK_e) | IV, AAD = header … end of SK generic header,
//      tag 16 bytes; no separate integrity key.
// The sender uses SK_ei/SK_ai when it is the original initiator, SK_er/SK_ar otherwise.

import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { put32 } from '../wire/bytes.js';
import { GENERIC_HDR_LEN, IKE_HDR_LEN, PL } from '../wire/ike/consts.js';
import { emitIkeHeader, IkeDecodeError } from '../wire/ike/header.js';
import type { IkeHeader } from '../wire/ike/header.js';
import type { HeaderFields } from '../wire/ike/message.js';
import { chainLen, emitChain, firstType, parseChain } from '../wire/ike/payloads.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { EncrAlg, IntegAlg } from './algs.js';

/** One direction's keys and algorithms. */
export interface SkKeys {
  readonly encr: EncrAlg;
  /** Encryption key bits / 8 (the salt, if any, follows it in `ek`). */
  readonly keyLen: number;
  readonly ek: Uint8Array;
  readonly integ: IntegAlg | null;
  readonly ak: Uint8Array;
}

const cipherName = (keyLen: number, isAead: boolean): string => `aes-${keyLen * 8}-${isAead ? 'gcm' : 'cbc'}`;

/**
 * Builds an SK-protected message: header + SK{inner}. `iv` must be encr.ivLen
 * bytes, never reused under one key (GCM). Returns the whole datagram.
 */
export function sealMessage(h: HeaderFields, inner: readonly Payload[], k: SkKeys, iv: Uint8Array): Uint8Array {
  const e = k.encr;
  if (iv.length !== e.ivLen) throw new RangeError('sealMessage: IV length');
  const icvLen = e.isAead ? e.icvLen : k.integ!.icvLen;
  const plainLen = chainLen(inner) + 1;
  const padLen = (e.blockLen - (plainLen % e.blockLen)) % e.blockLen;
  const plain = new Uint8Array(plainLen + padLen);
  emitChain(inner, plain, 0);
  plain[plain.length - 1] = padLen;
  const skLen = GENERIC_HDR_LEN + e.ivLen + plain.length + icvLen;
  const total = IKE_HDR_LEN + skLen;
  const b = new Uint8Array(total);
  emitIkeHeader({ ...h, nextPayload: PL.SK, length: total }, b, 0);
  const sk = IKE_HDR_LEN;
  b[sk] = firstType(inner);
  b[sk + 1] = 0;
  b[sk + 2] = skLen >>> 8; b[sk + 3] = skLen & 0xff;
  b.set(iv, sk + GENERIC_HDR_LEN);
  const ctOff = sk + GENERIC_HDR_LEN + e.ivLen;
  if (e.isAead) {
    const c = createCipheriv(cipherName(k.keyLen, true) as 'aes-128-gcm', k.ek.subarray(0, k.keyLen), nonce(k, iv), { authTagLength: e.icvLen });
    c.setAAD(b.subarray(0, ctOff - e.ivLen));
    b.set(c.update(plain), ctOff);
    c.final();
    b.set(c.getAuthTag(), ctOff + plain.length);
  } else {
    const c = createCipheriv(cipherName(k.keyLen, false), k.ek, iv).setAutoPadding(false);
    const ct = c.update(plain);
    b.set(ct, ctOff);
    b.set(c.final(), ctOff + ct.length);
    const mac = createHmac(k.integ!.hash, k.ak).update(b.subarray(0, ctOff + plain.length)).digest();
    b.set(mac.subarray(0, icvLen), ctOff + plain.length);
  }
  plain.fill(0);
  return b;
}

function nonce(k: SkKeys, iv: Uint8Array): Uint8Array {
  const n = new Uint8Array(12);
  n.set(k.ek.subarray(k.keyLen, k.keyLen + 4), 0);
  n.set(iv, 4);
  return n;
}

/**
 * Verifies and decrypts the SK payload of message `msg` (the whole datagram,
 * header `h` already parsed; the SK payload starts at `skOff`). Returns the
 * inner payloads, or an IkeDecodeError (integrity failure, bad padding,
 * malformed inner chain). Never throws on network input.
 */
export function openMessage(msg: Uint8Array, h: IkeHeader, skOff: number, k: SkKeys): Payload[] | IkeDecodeError {
  const e = k.encr;
  const icvLen = e.isAead ? e.icvLen : k.integ!.icvLen;
  const end = h.length;
  const ivOff = skOff + GENERIC_HDR_LEN;
  const ctOff = ivOff + e.ivLen;
  const ctLen = end - icvLen - ctOff;
  if (ctLen < 1 || ctLen % e.blockLen !== 0) return new IkeDecodeError(`encrypted payload of ${ctLen} bytes does not fit the cipher`);
  const iv = msg.subarray(ivOff, ctOff);
  const ct = msg.subarray(ctOff, ctOff + ctLen);
  const icv = msg.subarray(ctOff + ctLen, end);
  let plain: Uint8Array;
  try {
    if (e.isAead) {
      const d = createDecipheriv(cipherName(k.keyLen, true) as 'aes-128-gcm', k.ek.subarray(0, k.keyLen), nonce(k, iv), { authTagLength: e.icvLen });
      d.setAAD(msg.subarray(0, ivOff));
      d.setAuthTag(icv);
      plain = new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    } else {
      const mac = createHmac(k.integ!.hash, k.ak).update(msg.subarray(0, ctOff + ctLen)).digest().subarray(0, icvLen);
      if (!timingSafeEqual(mac, icv)) return new IkeDecodeError('integrity check failed');
      const d = createDecipheriv(cipherName(k.keyLen, false), k.ek, iv).setAutoPadding(false);
      plain = new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    }
  } catch {
    return new IkeDecodeError('integrity check failed'); // GCM final() throws on a bad tag
  }
  const padLen = plain[plain.length - 1]!;
  if (padLen + 1 > plain.length) return new IkeDecodeError(`pad length ${padLen} overruns the plaintext`);
  const first = msg[skOff]!;
  const out = parseChain(plain, 0, plain.length - 1 - padLen, first);
  plain.fill(0);
  return out;
}

/** An 8-byte big-endian counter IV for GCM (RFC 5282 §3.1: unique per key; a counter is what strongSwan's iv_gen_seq does). */
export function counterIv(n: number, len: number, rnd: Uint8Array): Uint8Array {
  if (len !== 8) return rnd; // CBC: unpredictable IV (RFC 7296 §3.14)
  const iv = new Uint8Array(8);
  put32(iv, 0, Math.floor(n / 0x100000000));
  put32(iv, 4, n >>> 0);
  return iv;
}
