// RFC 7296 §2.15: the AUTH payload for a pre-shared key, and §2.23 NAT
// detection hashes.
//
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
//   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
//   ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
//   RestOf…IDPayload = ID Type | RESERVED(3) | Identification Data (the ID body)
//
//   NAT_DETECTION_*_IP = SHA-1(SPIi | SPIr | IP address | port)   (SPIr zero in the first request)

import { createHash, timingSafeEqual } from 'node:crypto';
import type { PrfAlg } from './algs.js';
import { concat, prf } from './prf.js';

const KEY_PAD = new TextEncoder().encode('Key Pad for IKEv2');

/** The ID payload body: ID Type, three reserved zero bytes, data. */
export function idBody(idType: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + data.length);
  b[0] = idType;
  b.set(data, 4);
  return b;
}

/**
 * AUTH data for PSK. `message` is the sender's own IKE_SA_INIT message as
 * sent (RealMessage1 for the initiator, RealMessage2 for the responder),
 * `peerNonce` the other side's nonce, `skP` SK_pi or SK_pr, `id` the
 * sender's ID payload body.
 */
export function pskAuth(alg: PrfAlg, psk: Uint8Array, message: Uint8Array, peerNonce: Uint8Array, skP: Uint8Array, id: Uint8Array): Uint8Array {
  const macedId = prf(alg, skP, id);
  const signed = concat(message, peerNonce, macedId);
  const padKey = prf(alg, psk, KEY_PAD);
  const out = prf(alg, padKey, signed);
  padKey.fill(0);
  return out;
}

/** Constant-time comparison of a received AUTH with the expected one. */
export const authEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

/** §2.23: SHA-1(SPIi | SPIr | IP | port) for an IPv4 (4 bytes) or IPv6 (16 bytes) address. */
export function natHash(spiI: Uint8Array, spiR: Uint8Array, addr: Uint8Array, port: number): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spiI).update(spiR).update(addr).update(Uint8Array.of(port >>> 8, port & 0xff)).digest());
}
