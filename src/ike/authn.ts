// IKE_AUTH authentication for both ends (RFC 7296 §2.15, RFC 7427): what
// initiator.ts and responder.ts call to build our AUTH (with CERT
// payloads) and to check the peer's, whichever the configured auth class:
//
//   psk:    AUTH = prf(prf(PSK, "Key Pad for IKEv2"), SignedOctets)           (auth.ts)
//   pubkey: CERT (leaf), CERT (intermediates)…, AUTH = signature of SignedOctets (sigauth.ts)
//           the peer's: its leaf holds the identity it claims (RFC 4945 §3), chains to a
//           trusted CA (certs.ts), and its key made the signature
//
//   SignedOctets = RealMessage | NonceOfThePeer | prf(SK_p, ID payload body)
//     ours as initiator: msg1 | Nr | prf(SK_pi, IDi')    ours as responder: msg2 | Ni | prf(SK_pr, IDr')
//
// Every refusal comes back as a sentence naming the identity or
// certificate and why, for the AUTHENTICATION_FAILED log line.

import { X509Certificate } from 'node:crypto';
import { AUTH_SHARED_KEY, CERT_X509_SIGNATURE, N, PL } from '../wire/ike/consts.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { PrfAlg } from './algs.js';
import { authEqual, pskAuth } from './auth.js';
import { caHashes, certHasIdentity, certName, chainFor, verifyChain } from './certs.js';
import { findPsk } from './config.js';
import type { IkeConfig, PeerAuth } from './config.js';
import type { Identity } from './ids.js';
import { concat, prf } from './prf.js';
import { HASH_IDS, schemeName, signAuth, verifyAuth } from './sigauth.js';
import { be16 } from '../wire/bytes.js';

/** The parts of one side's SignedOctets: its own IKE_SA_INIT message, the other's nonce, SK_pi/SK_pr, its ID body. */
export interface SignedParts {
  readonly message: Uint8Array;
  readonly peerNonce: Uint8Array;
  readonly skP: Uint8Array;
  readonly idBody: Uint8Array;
}

const signedOctets = (alg: PrfAlg, p: SignedParts): Uint8Array => concat(p.message, p.peerNonce, prf(alg, p.skP, p.idBody));

/** Who is talking: the ids as texts (PSK lookup), the clock (Unix ms), the peer's SIGNATURE_HASH_ALGORITHMS. */
export interface AuthSide {
  readonly cfg: IkeConfig;
  readonly prfAlg: PrfAlg;
  readonly localId: string;
  readonly remoteId: string;
  readonly nowMs: number;
  readonly peerSigHashes: readonly number[] | null;
}

/** Our CERT payloads and AUTH payload, or why we cannot authenticate. */
export function ourAuth(side: AuthSide, me: PeerAuth, parts: SignedParts): { certs: Payload[]; auth: Payload } | string {
  if (me.auth === 'psk') {
    const psk = findPsk(side.cfg, side.localId, side.remoteId);
    if (psk === null) return `no PSK for '${side.localId}' - '${side.remoteId}'`;
    return { certs: [], auth: { type: PL.AUTH, method: AUTH_SHARED_KEY, data: pskAuth(side.prfAlg, psk, parts.message, parts.peerNonce, parts.skP, parts.idBody) } };
  }
  if (me.cert == null || me.key == null) return 'auth = pubkey, but no certificate and private key are loaded';
  const r = signAuth(me.key, me.sig, side.peerSigHashes, signedOctets(side.prfAlg, parts));
  if (typeof r === 'string') return `signing with certificate '${certName(me.cert)}': ${r}`;
  const chain = [me.cert, ...chainFor(me.cert, side.cfg.certPool ?? [])];
  return {
    certs: chain.map((c): Payload => ({ type: PL.CERT, encoding: CERT_X509_SIGNATURE, data: new Uint8Array(c.raw) })),
    auth: { type: PL.AUTH, method: r.method, data: r.data },
  };
}

/** The X.509 certificates of the CERT payloads, in order; a string when one is not a certificate. */
function peerCerts(ps: readonly Payload[]): X509Certificate[] | string {
  const out: X509Certificate[] = [];
  for (const p of ps) {
    if (p.type !== PL.CERT) continue;
    if (p.encoding !== CERT_X509_SIGNATURE) return `a CERT payload of encoding ${p.encoding} (only X.509, 4)`;
    try {
      out.push(new X509Certificate(p.data));
    } catch (e) {
      return `a CERT payload that is not an X.509 certificate (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  return out;
}

/** The peer's AUTH checked: how it authenticated (for the log), or why it is refused. */
export type AuthResult = { readonly isOk: true; readonly how: string } | { readonly isOk: false; readonly why: string };

/** Whether the peer's AUTH (and certificates) prove `id` as `peer` asks. */
export function checkPeerAuth(side: AuthSide, peer: PeerAuth, id: Identity, ps: readonly Payload[], parts: SignedParts): AuthResult {
  const why = check(side, peer, id, ps, parts);
  return typeof why === 'string' ? { isOk: false, why } : { isOk: true, how: why.how };
}

function check(side: AuthSide, peer: PeerAuth, id: Identity, ps: readonly Payload[], parts: SignedParts): string | { how: string } {
  const auth = ps.find((p): p is Extract<Payload, { type: typeof PL.AUTH }> => p.type === PL.AUTH);
  const who = `'${side.remoteId}'`;
  if (auth === undefined) return `${who} sent no AUTH`;
  if (peer.auth === 'psk') {
    if (auth.method !== AUTH_SHARED_KEY) return `${who} authenticates with auth method ${auth.method}, but remote auth = psk`;
    const psk = findPsk(side.cfg, side.localId, side.remoteId);
    const want = psk !== null ? pskAuth(side.prfAlg, psk, parts.message, parts.peerNonce, parts.skP, parts.idBody) : null;
    if (want === null || !authEqual(want, auth.data)) return `the AUTH of ${who} does not verify (${psk === null ? 'no PSK' : 'a different PSK?'})`;
    return { how: 'a pre-shared key' };
  }
  if (auth.method === AUTH_SHARED_KEY) return `${who} authenticates with a PSK, but remote auth = pubkey`;
  const certs = peerCerts(ps);
  if (typeof certs === 'string') return `${who} sent ${certs}`;
  const leaf = certs[0];
  if (leaf === undefined) return `${who} sent no certificate (CERT payload)`;
  const name = `certificate '${certName(leaf)}'`;
  if (!certHasIdentity(leaf, id)) return `${name} does not contain the identity ${who}`;
  const chain = verifyChain(leaf, [...certs.filter((_, i) => i > 0), ...(side.cfg.certPool ?? [])], peer.anchors ?? [], side.nowMs);
  if (chain !== null) return `${who}: ${chain}`;
  const sig = verifyAuth(auth.method, auth.data, leaf.publicKey, peer.sig, signedOctets(side.prfAlg, parts));
  if (typeof sig === 'string') return `${who}, ${name}: ${sig}`;
  return { how: `${name} (${schemeName(sig)}, auth method ${auth.method})` };
}

/** N(SIGNATURE_HASH_ALGORITHMS) with SHA-256/384/512 (RFC 7427 §4), for IKE_SA_INIT. */
export function sigHashNotify(): Payload {
  const data = new Uint8Array(2 * HASH_IDS.size);
  [...HASH_IDS.values()].forEach((v, i) => { data[2 * i] = v >>> 8; data[2 * i + 1] = v & 0xff; });
  return { type: PL.N, protocolId: 0, spi: new Uint8Array(0), notifyType: N.SIGNATURE_HASH_ALGORITHMS, data };
}

/** The hash numbers of the peer's SIGNATURE_HASH_ALGORITHMS, or null when it sent none. */
export function peerSigHashes(ps: readonly Payload[]): number[] | null {
  const n = ps.find((p) => p.type === PL.N && p.notifyType === N.SIGNATURE_HASH_ALGORITHMS);
  if (n === undefined || n.type !== PL.N) return null;
  const out: number[] = [];
  for (let i = 0; i + 1 < n.data.length; i += 2) out.push(be16(n.data, i));
  return out;
}

/** CERTREQ naming these trusted CAs (§3.7); none when no CA is configured. */
export const certReq = (cas: readonly X509Certificate[]): Payload[] =>
  cas.length === 0 ? [] : [{ type: PL.CERTREQ, encoding: CERT_X509_SIGNATURE, data: caHashes(cas) }];
