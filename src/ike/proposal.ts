// Proposals: strongSwan's proposal strings (swanctl.conf `proposals`,
// `esp_proposals`: "aes128gcm16-prfsha256-x25519", "aes256-sha256-modp2048")
// to IKEv2 transforms, and the choice between two proposal lists
// (RFC 7296 §2.7, §3.3.6): the responder takes the first of the initiator's
// proposals it can satisfy (one transform of each type both sides offer);
// the initiator checks the answer is one of its own.
//
// An encryption transform's keyLength is its Key Length attribute (RFC 7296
// §3.3.5: mandatory for AES); 0 means the transform has none, as
// ENCR_CHACHA20_POLY1305 must not (RFC 7634 §2), so a peer's ChaCha20 with
// one never matches ours, and ours goes out without one.

import type { Proposal, Transform } from '../wire/ike/sa.js';
import {
  AUTH_HMAC_SHA2_256_128, AUTH_HMAC_SHA2_384_192, AUTH_HMAC_SHA2_512_256, DH_ECP256, DH_ECP384, DH_MODP2048,
  DH_MODP3072, DH_X25519, ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305, ESN_NO, ESN_YES, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384,
  PRF_HMAC_SHA2_512, PROTO_ESP, PROTO_IKE, TRANS_DH, TRANS_ENCR, TRANS_ESN, TRANS_INTEG, TRANS_PRF,
} from '../wire/ike/consts.js';
import { ENCRS } from './algs.js';
import { wordTable } from '../wire/table.js';

/** One configured proposal: the transforms offered per type, in preference order. */
export interface ProposalSpec {
  readonly protocolId: number;
  readonly encr: readonly { readonly id: number; readonly keyLength: number }[];
  readonly integ: readonly number[];
  readonly prf: readonly number[];
  readonly dh: readonly number[];
  readonly esn: readonly number[];
}

/** What a negotiation settled on: exactly one transform per type (integ/prf/dh absent when not used). */
export interface Chosen {
  readonly num: number;
  readonly protocolId: number;
  /** The peer's SPI from its proposal (ESP: its inbound SPI; IKE_SA_INIT: empty). */
  readonly spi: Uint8Array;
  readonly encr: { readonly id: number; readonly keyLength: number };
  readonly integ: number | null;
  readonly prf: number | null;
  readonly dh: number | null;
  readonly esn: number;
}

const ENCR_WORDS: Readonly<Record<string, { id: number; keyLength: number }>> = wordTable({
  aes128: { id: ENCR_AES_CBC, keyLength: 128 }, aes192: { id: ENCR_AES_CBC, keyLength: 192 }, aes256: { id: ENCR_AES_CBC, keyLength: 256 },
  aes128gcm16: { id: ENCR_AES_GCM_16, keyLength: 128 }, aes192gcm16: { id: ENCR_AES_GCM_16, keyLength: 192 }, aes256gcm16: { id: ENCR_AES_GCM_16, keyLength: 256 },
  aes128gcm128: { id: ENCR_AES_GCM_16, keyLength: 128 }, aes256gcm128: { id: ENCR_AES_GCM_16, keyLength: 256 },
  // strongSwan's keyword: no Key Length attribute (its "chacha20poly1305compat", which sends 256, is not taken: RFC 7634 §2 forbids it).
  chacha20poly1305: { id: ENCR_CHACHA20_POLY1305, keyLength: 0 },
});
const INTEG_WORDS: Readonly<Record<string, number>> = wordTable({ sha256: AUTH_HMAC_SHA2_256_128, sha384: AUTH_HMAC_SHA2_384_192, sha512: AUTH_HMAC_SHA2_512_256 });
const PRF_WORDS: Readonly<Record<string, number>> = wordTable({ prfsha256: PRF_HMAC_SHA2_256, prfsha384: PRF_HMAC_SHA2_384, prfsha512: PRF_HMAC_SHA2_512 });
/** strongSwan: without an explicit prf, an IKE proposal uses the PRF of each integrity algorithm. */
const PRF_OF_INTEG: Readonly<Record<number, number>> = {
  [AUTH_HMAC_SHA2_256_128]: PRF_HMAC_SHA2_256, [AUTH_HMAC_SHA2_384_192]: PRF_HMAC_SHA2_384, [AUTH_HMAC_SHA2_512_256]: PRF_HMAC_SHA2_512,
};
const DH_WORDS: Readonly<Record<string, number>> = wordTable({
  modp2048: DH_MODP2048, modp3072: DH_MODP3072, ecp256: DH_ECP256, ecp384: DH_ECP384, x25519: DH_X25519, curve25519: DH_X25519,
});

/**
 * strongSwan's defaults narrowed to what tunkit implements (reference.md §5:
 * the set both strongSwan and Libreswan accept). ChaCha20-Poly1305 is in
 * both IKE defaults' AEAD proposals, after AES-GCM; strongSwan's ESP default
 * has no ChaCha20-Poly1305, so neither has tunkit's.
 */
export const DEFAULT_IKE = [
  'aes128-aes256-sha256-sha384-sha512-x25519-ecp256-ecp384-modp3072-modp2048',
  'aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-modp3072-modp2048',
];
export const DEFAULT_ESP = ['aes128gcm16-aes256gcm16', 'aes128-aes256-sha256-sha384-sha512'];

/**
 * Parses one proposal string for IKE or ESP. Returns the spec, or a message
 * naming the word that is not understood (the caller adds file and line).
 */
export function parseProposal(text: string, protocolId: number): ProposalSpec | string {
  const encr: { id: number; keyLength: number }[] = [];
  const integ: number[] = [];
  const prf: number[] = [];
  const dh: number[] = [];
  const esn: number[] = [];
  for (const w of text.trim().toLowerCase().split('-')) {
    if (ENCR_WORDS[w] !== undefined) encr.push(ENCR_WORDS[w]);
    else if (INTEG_WORDS[w] !== undefined) integ.push(INTEG_WORDS[w]);
    else if (PRF_WORDS[w] !== undefined && protocolId === PROTO_IKE) prf.push(PRF_WORDS[w]);
    else if (DH_WORDS[w] !== undefined) dh.push(DH_WORDS[w]);
    else if ((w === 'esn' || w === 'noesn') && protocolId === PROTO_ESP) esn.push(w === 'esn' ? ESN_YES : ESN_NO);
    else return `"${w}" is not an algorithm tunkit negotiates (in "${text}")`;
  }
  if (encr.length === 0) return `no encryption algorithm in "${text}"`;
  const aead = encr.filter((e) => ENCRS.get(e.id)!.isAead).length;
  if (aead !== 0 && aead !== encr.length) return `"${text}" mixes AEAD and non-AEAD encryption (strongSwan refuses it too)`;
  if (aead === 0 && integ.length === 0) return `no integrity algorithm in "${text}"`;
  if (aead !== 0 && integ.length !== 0) return `"${text}": an AEAD cipher (AES-GCM, ChaCha20-Poly1305) takes no integrity algorithm`;
  if (protocolId === PROTO_IKE && prf.length === 0) {
    if (aead !== 0) return `"${text}": an AEAD IKE proposal needs a prf (e.g. prfsha256)`;
    for (const i of integ) if (!prf.includes(PRF_OF_INTEG[i]!)) prf.push(PRF_OF_INTEG[i]!);
  }
  if (protocolId === PROTO_IKE && dh.length === 0) return `"${text}": an IKE proposal needs a key exchange group (e.g. x25519)`;
  if (protocolId === PROTO_ESP && esn.length === 0) esn.push(ESN_NO);
  return { protocolId, encr, integ, prf, dh, esn };
}

/** An encryption transform on the wire: with a Key Length attribute unless keyLength is 0 (ChaCha20-Poly1305, RFC 7634 §2). */
const encrTransform = (e: { readonly id: number; readonly keyLength: number }): Transform =>
  ({ type: TRANS_ENCR, id: e.id, ...(e.keyLength !== 0 ? { keyLength: e.keyLength } : {}) });

/** The transforms one spec offers, as a wire proposal numbered num with the given SPI. */
export function toWire(s: ProposalSpec, num: number, spi: Uint8Array): Proposal {
  const t: Transform[] = [];
  for (const e of s.encr) t.push(encrTransform(e));
  for (const p of s.prf) t.push({ type: TRANS_PRF, id: p });
  for (const i of s.integ) t.push({ type: TRANS_INTEG, id: i });
  for (const d of s.dh) t.push({ type: TRANS_DH, id: d });
  for (const e of s.esn) t.push({ type: TRANS_ESN, id: e });
  return { num, protocolId: s.protocolId, spi, transforms: t };
}

/** The wire form of a choice: the one proposal a responder returns (§3.3.6). */
export function chosenToWire(c: Chosen, spi: Uint8Array): Proposal {
  const t: Transform[] = [encrTransform(c.encr)];
  if (c.prf !== null) t.push({ type: TRANS_PRF, id: c.prf });
  if (c.integ !== null) t.push({ type: TRANS_INTEG, id: c.integ });
  if (c.dh !== null) t.push({ type: TRANS_DH, id: c.dh });
  if (c.protocolId === PROTO_ESP) t.push({ type: TRANS_ESN, id: c.esn });
  return { num: c.num, protocolId: c.protocolId, spi, transforms: t };
}

const ofType = (p: Proposal, type: number): Transform[] => p.transforms.filter((t) => t.type === type && t.hasUnknownAttr !== true);

/** A peer's encryption transform as our specs hold it: no Key Length attribute is 0, one of value 0 is still an attribute (-1, matching nothing). */
const peerEncr = (t: Transform): { id: number; keyLength: number } => ({ id: t.id, keyLength: t.keyLength === undefined ? 0 : t.keyLength === 0 ? -1 : t.keyLength });

/** First of `offered` (peer order) that `mine` also lists; undefined when none; null when the peer offered none. */
function pick<T>(offered: readonly T[], mine: readonly T[], eq: (a: T, b: T) => boolean): T | undefined | null {
  if (offered.length === 0) return null;
  return offered.find((o) => mine.some((m) => eq(o, m)));
}

/** Matches one peer proposal against one of ours; null when some transform type has no overlap. */
export function matchOne(p: Proposal, s: ProposalSpec, dhRequired: boolean): Chosen | null {
  if (p.protocolId !== s.protocolId) return null;
  // No attribute matches only a ChaCha20-Poly1305 of ours; a ChaCha20 with one matches nothing (RFC 7634 §2).
  const encr = pick(ofType(p, TRANS_ENCR).map(peerEncr), s.encr, (a, b) => a.id === b.id && a.keyLength === b.keyLength);
  if (encr === undefined || encr === null) return null;
  const isAead = ENCRS.get(encr.id)!.isAead;
  const integ = pick(ofType(p, TRANS_INTEG).map((t) => t.id), s.integ, (a, b) => a === b);
  if (isAead ? integ !== null : integ === undefined || integ === null) return null;
  const prf = pick(ofType(p, TRANS_PRF).map((t) => t.id), s.prf, (a, b) => a === b);
  if (s.protocolId === PROTO_IKE && (prf === undefined || prf === null)) return null;
  // Without dhRequired and with no group configured (a Child SA in IKE_AUTH: §1.2), a peer's KE transforms are ignored.
  const dh = !dhRequired && s.dh.length === 0 ? null : pick(ofType(p, TRANS_DH).map((t) => t.id), s.dh, (a, b) => a === b);
  if (dh === undefined || (dhRequired && dh === null)) return null;
  const esn = pick(ofType(p, TRANS_ESN).map((t) => t.id), s.esn, (a, b) => a === b);
  if (s.protocolId === PROTO_ESP && (esn === undefined || esn === null)) return null;
  return {
    num: p.num, protocolId: p.protocolId, spi: p.spi, encr, integ: integ ?? null, prf: prf ?? null, dh: dh ?? null, esn: esn ?? ESN_NO,
  };
}

/** Responder's choice (§2.7): the first peer proposal any of ours satisfies; null = NO_PROPOSAL_CHOSEN. */
export function selectProposal(offered: readonly Proposal[], mine: readonly ProposalSpec[], dhRequired: boolean): Chosen | null {
  for (const p of offered) {
    for (const s of mine) {
      const c = matchOne(p, s, dhRequired);
      if (c !== null) return c;
    }
  }
  return null;
}

/**
 * Initiator's check of the responder's answer: exactly one proposal, one
 * transform per type, and something we offered. Returns the choice or why not.
 */
export function checkAnswer(answer: readonly Proposal[], mine: readonly ProposalSpec[], dhRequired: boolean): Chosen | string {
  if (answer.length !== 1) return `the responder returned ${answer.length} proposals, not 1`;
  const p = answer[0]!;
  for (const type of [TRANS_ENCR, TRANS_PRF, TRANS_INTEG, TRANS_DH, TRANS_ESN]) {
    if (ofType(p, type).length > 1) return `the responder returned ${ofType(p, type).length} transforms of type ${type}`;
  }
  const spec = mine[p.num - 1];
  const c = spec !== undefined ? matchOne(p, spec, dhRequired) : null;
  return c ?? `the responder chose proposal ${p.num}, which is not one we offered`;
}

/** "AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519" style text for logs and list-sas. */
export function describeChosen(c: Chosen, names: { encr: (id: number, bits: number) => string; other: (type: number, id: number) => string }): string {
  const parts = [names.encr(c.encr.id, c.encr.keyLength)];
  if (c.integ !== null) parts.push(names.other(TRANS_INTEG, c.integ));
  if (c.prf !== null) parts.push(names.other(TRANS_PRF, c.prf));
  if (c.dh !== null) parts.push(names.other(TRANS_DH, c.dh));
  return parts.join('/');
}
