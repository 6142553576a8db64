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
// ChaCha20-Poly1305 (RFC 7634 §2-§3) is built like GCM: key 32 bytes + 4-byte
// salt, 8-byte IV, nonce = salt | IV, the same AAD, a 16-byte tag.
// RFC 7383 §2.5: an SKF fragment is sealed the same way, its 8-byte header
// (Fragment Number, Total Fragments) in place of SK's 4 (ike/frag.ts splits).

import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { put32 } from '../wire/bytes.js';
import { ENCR_CHACHA20_POLY1305, GENERIC_HDR_LEN, IKE_HDR_LEN, PL } from '../wire/ike/consts.js';
import { emitIkeHeader, IkeDecodeError } from '../wire/ike/header.js';
import type { IkeHeader } from '../wire/ike/header.js';
import type { HeaderFields } from '../wire/ike/message.js';
import { chainLen, emitChain, firstType, parseChain } from '../wire/ike/payloads.js';
import { emitSkfHeader, SKF_HDR_LEN } from '../wire/ike/skf.js';
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

const cbcName = (keyLen: number): string => `aes-${keyLen * 8}-cbc`;
/**
 * The node:crypto AEAD of an SK payload. Typed as one GCM name so the AEAD
 * overload of createCipheriv applies: ChaCha20-Poly1305 has the same
 * setAAD/setAuthTag/getAuthTag interface.
 */
const aeadName = (e: EncrAlg, keyLen: number): 'aes-128-gcm' =>
  (e.id === ENCR_CHACHA20_POLY1305 ? 'chacha20-poly1305' : `aes-${keyLen * 8}-gcm`) as 'aes-128-gcm';

/** RFC 7383 §2.5: the fragment fields an SKF payload adds after its generic header. */
export interface FragFields { readonly fragNum: number; readonly totalFrags: number }

/**
 * Builds an SK-protected message: header + SK{inner}. `iv` must be encr.ivLen
 * bytes, never reused under one key (GCM). Returns the whole datagram.
 */
export function sealMessage(h: HeaderFields, inner: readonly Payload[], k: SkKeys, iv: Uint8Array): Uint8Array {
  const content = new Uint8Array(chainLen(inner));
  emitChain(inner, content, 0);
  const b = sealContent(h, firstType(inner), null, content, k, iv);
  content.fill(0);
  return b;
}

/** Bytes of the message sealContent builds for `contentLen` bytes of content (SK, or SKF when `isFrag`). */
export function sealedLen(contentLen: number, k: SkKeys, isFrag: boolean): number {
  const e = k.encr;
  const plainLen = contentLen + 1;
  const padLen = (e.blockLen - (plainLen % e.blockLen)) % e.blockLen;
  return IKE_HDR_LEN + (isFrag ? SKF_HDR_LEN : GENERIC_HDR_LEN) + e.ivLen + plainLen + padLen + (e.isAead ? e.icvLen : k.integ!.icvLen);
}

/**
 * Encrypts `content` (an inner payload chain, or a piece of one for an SKF
 * fragment: RFC 7383 §2.5) into header + SK or SKF payload. `next` is the
 * encrypted payload's Next Payload (the first inner type; 0 in fragments
 * after the first). Integrity covers the whole datagram up to the ICV, so
 * the fragment fields are protected (for GCM they are in the AAD).
 */
export function sealContent(h: HeaderFields, next: number, frag: FragFields | null, content: Uint8Array, k: SkKeys, iv: Uint8Array): Uint8Array {
  const e = k.encr;
  if (iv.length !== e.ivLen) throw new RangeError('sealContent: IV length');
  const icvLen = e.isAead ? e.icvLen : k.integ!.icvLen;
  const plainLen = content.length + 1;
  const padLen = (e.blockLen - (plainLen % e.blockLen)) % e.blockLen;
  const plain = new Uint8Array(plainLen + padLen);
  plain.set(content, 0);
  plain[plain.length - 1] = padLen;
  const hdrLen = frag === null ? GENERIC_HDR_LEN : SKF_HDR_LEN;
  const skLen = hdrLen + e.ivLen + plain.length + icvLen;
  const total = IKE_HDR_LEN + skLen;
  const b = new Uint8Array(total);
  emitIkeHeader({ ...h, nextPayload: frag === null ? PL.SK : PL.SKF, length: total }, b, 0);
  const sk = IKE_HDR_LEN;
  if (frag === null) {
    b[sk] = next;
    b[sk + 1] = 0;
    b[sk + 2] = skLen >>> 8; b[sk + 3] = skLen & 0xff;
  } else {
    emitSkfHeader({ nextPayload: next, fragNum: frag.fragNum, totalFrags: frag.totalFrags, length: skLen }, b, sk);
  }
  b.set(iv, sk + hdrLen);
  const ctOff = sk + hdrLen + e.ivLen;
  if (e.isAead) {
    const c = createCipheriv(aeadName(e, k.keyLen), k.ek.subarray(0, k.keyLen), nonce(k, iv), { authTagLength: e.icvLen });
    c.setAAD(b.subarray(0, ctOff - e.ivLen));
    b.set(c.update(plain), ctOff);
    c.final();
    b.set(c.getAuthTag(), ctOff + plain.length);
  } else {
    const c = createCipheriv(cbcName(k.keyLen), k.ek, iv).setAutoPadding(false);
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
  const plain = openContent(msg, h, skOff, GENERIC_HDR_LEN, k);
  if (plain instanceof IkeDecodeError) return plain;
  const out = parseChain(plain, 0, plain.length, msg[skOff]!);
  plain.fill(0);
  return out;
}

/**
 * Verifies and decrypts the SK (hdrLen 4) or SKF (hdrLen SKF_HDR_LEN)
 * payload at msg[skOff] running to the end of the message: the content
 * without padding, in a fresh buffer the caller wipes, or an
 * IkeDecodeError (short, integrity failure, bad padding). Never throws on
 * network input.
 */
export function openContent(msg: Uint8Array, h: IkeHeader, skOff: number, hdrLen: number, k: SkKeys): Uint8Array | IkeDecodeError {
  const e = k.encr;
  const icvLen = e.isAead ? e.icvLen : k.integ!.icvLen;
  const end = h.length;
  const ivOff = skOff + hdrLen;
  const ctOff = ivOff + e.ivLen;
  const ctLen = end - icvLen - ctOff;
  if (end > msg.length || ctLen < 1 || ctLen % e.blockLen !== 0) return new IkeDecodeError(`encrypted payload of ${ctLen} bytes does not fit the cipher`);
  const iv = msg.subarray(ivOff, ctOff);
  const ct = msg.subarray(ctOff, ctOff + ctLen);
  const icv = msg.subarray(ctOff + ctLen, end);
  let plain: Uint8Array;
  try {
    if (e.isAead) {
      const d = createDecipheriv(aeadName(e, k.keyLen), k.ek.subarray(0, k.keyLen), nonce(k, iv), { authTagLength: e.icvLen });
      d.setAAD(msg.subarray(0, ivOff));
      d.setAuthTag(icv);
      plain = new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    } else {
      const mac = createHmac(k.integ!.hash, k.ak).update(msg.subarray(0, ctOff + ctLen)).digest().subarray(0, icvLen);
      if (!timingSafeEqual(mac, icv)) return new IkeDecodeError('integrity check failed');
      const d = createDecipheriv(cbcName(k.keyLen), k.ek, iv).setAutoPadding(false);
      plain = new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    }
  } catch {
    return new IkeDecodeError('integrity check failed'); // GCM final() throws on a bad tag
  }
  const padLen = plain[plain.length - 1]!;
  if (padLen + 1 > plain.length) { plain.fill(0); return new IkeDecodeError(`pad length ${padLen} overruns the plaintext`); }
  return plain.subarray(0, plain.length - 1 - padLen);
}

/** An 8-byte big-endian counter IV for GCM (RFC 5282 §3.1: unique per key; a counter is what strongSwan's iv_gen_seq does). */
export function counterIv(n: number, len: number, rnd: Uint8Array): Uint8Array {
  if (len !== 8) return rnd; // CBC: unpredictable IV (RFC 7296 §3.14)
  const iv = new Uint8Array(8);
  put32(iv, 0, Math.floor(n / 0x100000000));
  put32(iv, 4, n >>> 0);
  return iv;
}
