// ECN handling at tunnel ingress/egress, mirroring include/net/inet_ecn.h.
//
// Encapsulation: INET_ECN_encapsulate(outer, inner) copies the inner ECN
// field to the outer header, except that CE becomes ECT(0) (RFC 6040 §4.1
// "normal mode" as the kernel implements it).
//
// Decapsulation: __INET_ECN_decapsulate(outer, inner) — the code, not the
// RFC 6040 Figure 4 comment above it, is what the kernel runs:
//   inner Not-ECT: outer Not-ECT → 0 ok; ECT(0)/ECT(1) → 1 log; CE → 2 drop.
//   otherwise: 0 ok, and the inner becomes CE if the outer is CE;
//   else (INET_ECN_decapsulate) the inner ECT(0) becomes ECT(1) when the
//   outer is ECT(1) (INET_ECN_set_ect1 / IP_ECN_set_ect1).
// No other combination logs (the comment's "CE over ECT(1) (!!!)" is not coded).

import { INET_ECN_CE, INET_ECN_ECT_0, INET_ECN_ECT_1, INET_ECN_MASK, INET_ECN_NOT_ECT } from '../wire/ipproto.js';

/** Decapsulation verdicts (return values of __INET_ECN_decapsulate). */
export const ECN_OK = 0;
export const ECN_LOG = 1;
export const ECN_DROP = 2;

/** INET_ECN_encapsulate: outer DS field with the ECN bits derived from the inner. */
export function ecnEncapsulate(outer: number, inner: number): number {
  const innerEcn = inner & INET_ECN_MASK;
  return (outer & ~INET_ECN_MASK & 0xff) | (innerEcn === INET_ECN_CE ? INET_ECN_ECT_0 : innerEcn);
}

/** __INET_ECN_decapsulate's return value: ECN_OK, ECN_LOG or ECN_DROP. */
export function ecnDecapsulateVerdict(outer: number, inner: number): number {
  if ((inner & INET_ECN_MASK) !== INET_ECN_NOT_ECT) return ECN_OK;
  switch (outer & INET_ECN_MASK) {
    case INET_ECN_NOT_ECT:
      return ECN_OK;
    case INET_ECN_CE:
      return ECN_DROP;
    default:
      return ECN_LOG;
  }
}

/**
 * The inner DS field after a successful (verdict != DROP) decapsulation:
 * CE if the outer is CE and the inner is ECT (INET_ECN_set_ce), ECT(1) if the
 * outer is ECT(1) and the inner ECT(0) (IP_ECN_set_ect1), else unchanged.
 */
export function ecnDecapsulatedInner(outer: number, inner: number): number {
  const innerEcn = inner & INET_ECN_MASK;
  if (innerEcn === INET_ECN_NOT_ECT) return inner;
  const outerEcn = outer & INET_ECN_MASK;
  if (outerEcn === INET_ECN_CE) return inner | INET_ECN_CE;
  if (outerEcn === INET_ECN_ECT_1 && innerEcn === INET_ECN_ECT_0) return (inner & ~INET_ECN_MASK) | INET_ECN_ECT_1;
  return inner;
}
