// Signature AUTH data (RFC 7296 §2.15 signed octets; RFC 7427 Digital
// Signature, auth method 14; the older methods 1 = RSA PKCS#1 v1.5 with
// SHA-1 and 9/10/11 = ECDSA P-256/384/521 with SHA-256/384/512, RFC 4754):
//
//   method 14:  | ASN.1 Length (1 byte) | AlgorithmIdentifier (DER) | Signature Value |
//               RSA: PKCS#1 v1.5 or RSASSA-PSS; ECDSA: DER Ecdsa-Sig-Value (RFC 7427 §3)
//   method 9-11: ECDSA r | s, each the curve's size (RFC 4754 §7)
//
// Which method we use follows the peer's SIGNATURE_HASH_ALGORITHMS notify
// (RFC 7427 §4): present → method 14 with the first hash of ours it lists;
// absent → the old method for our key, as strongSwan does.

import { constants, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AUTH_DIGITAL_SIGNATURE, AUTH_ECDSA_256, AUTH_ECDSA_384, AUTH_ECDSA_521, AUTH_RSA_SIG, HASH_SHA2_256, HASH_SHA2_384, HASH_SHA2_512 } from '../wire/ike/consts.js';
import { cat, children, DER, oid, oidText, readTlv, tlv } from '../wire/ike/der.js';
import type { SigHash, SigPolicy } from './config.js';

type Hash = SigHash | 'sha1';
export interface SigScheme { readonly key: 'rsa' | 'ecdsa'; readonly isPss: boolean; readonly hash: Hash }

/** The hashes we announce in SIGNATURE_HASH_ALGORITHMS, with their RFC 7427 §4 numbers. */
export const HASH_IDS: ReadonlyMap<SigHash, number> = new Map([['sha256', HASH_SHA2_256], ['sha384', HASH_SHA2_384], ['sha512', HASH_SHA2_512]]);
const HASH_LEN: Readonly<Record<Hash, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
const HASH_OID: Readonly<Record<Hash, string>> = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';

/** AlgorithmIdentifiers as RFC 7427 Appendix A publishes them (A.1.1-A.1.4 PKCS#1 v1.5, A.3.1-A.3.4 ECDSA). */
const FIXED: readonly (readonly [SigScheme, string])[] = [
  [{ key: 'rsa', isPss: false, hash: 'sha1' }, '300d06092a864886f70d0101050500'],
  [{ key: 'rsa', isPss: false, hash: 'sha256' }, '300d06092a864886f70d01010b0500'],
  [{ key: 'rsa', isPss: false, hash: 'sha384' }, '300d06092a864886f70d01010c0500'],
  [{ key: 'rsa', isPss: false, hash: 'sha512' }, '300d06092a864886f70d01010d0500'],
  [{ key: 'ecdsa', isPss: false, hash: 'sha1' }, '300906072a8648ce3d0401'],
  [{ key: 'ecdsa', isPss: false, hash: 'sha256' }, '300a06082a8648ce3d040302'],
  [{ key: 'ecdsa', isPss: false, hash: 'sha384' }, '300a06082a8648ce3d040303'],
  [{ key: 'ecdsa', isPss: false, hash: 'sha512' }, '300a06082a8648ce3d040304'],
];

/**
 * RSASSA-PSS AlgorithmIdentifier (RFC 4055 §3.1) with MGF1 of the same hash,
 * salt = hash length, trailerField 1 written out: for SHA-256 exactly RFC
 * 7427 Appendix A.4.3's bytes (test/ike/sigauth.test.ts checks it).
 */
export function pssAlgId(hash: SigHash): Uint8Array {
  const hashAlg = tlv(DER.SEQUENCE, cat([oid(HASH_OID[hash]), tlv(DER.NULL, new Uint8Array(0))]));
  const params = cat([
    tlv(0xa0, hashAlg),
    tlv(0xa1, tlv(DER.SEQUENCE, cat([oid(MGF1), hashAlg]))),
    tlv(0xa2, tlv(DER.INTEGER, Uint8Array.of(HASH_LEN[hash]))),
    tlv(0xa3, tlv(DER.INTEGER, Uint8Array.of(1))),
  ]);
  return tlv(DER.SEQUENCE, cat([oid(RSASSA_PSS), tlv(DER.SEQUENCE, params)]));
}

export const schemeName = (s: SigScheme): string =>
  `${s.key === 'ecdsa' ? 'ECDSA' : s.isPss ? 'RSASSA-PSS' : 'RSA PKCS#1 v1.5'} with ${s.hash.toUpperCase().replace('SHA', 'SHA-')}`;

const keyKind = (k: KeyObject): 'rsa' | 'ecdsa' | null =>
  k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss' ? 'rsa' : k.asymmetricKeyType === 'ec' ? 'ecdsa' : null;

/** RFC 4754 §3: the ECDSA method of a curve and its hash. */
const CURVES: ReadonlyMap<string, { readonly method: number; readonly hash: SigHash }> = new Map([
  ['prime256v1', { method: AUTH_ECDSA_256, hash: 'sha256' }], ['secp384r1', { method: AUTH_ECDSA_384, hash: 'sha384' }], ['secp521r1', { method: AUTH_ECDSA_521, hash: 'sha512' }],
]);
const curveOf = (k: KeyObject): string => k.asymmetricKeyDetails?.namedCurve ?? '';

/** Key plus signing options, as both node's sign() and verify() take them. */
type KeyOpts = KeyObject | { key: KeyObject; dsaEncoding?: 'der' | 'ieee-p1363'; padding?: number; saltLength?: number };

function nodeOpts(s: SigScheme, key: KeyObject, isP1363: boolean): KeyOpts {
  if (s.key === 'ecdsa') return { key, dsaEncoding: isP1363 ? 'ieee-p1363' : 'der' };
  return s.isPss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[s.hash] } : key;
}

/** Our hash preference: the configured list, else SHA-256/384/512 with an ECDSA curve's own hash first. */
function preference(key: KeyObject, policy: SigPolicy): SigHash[] {
  if (policy.hashes.length > 0) return [...policy.hashes];
  const own = CURVES.get(curveOf(key))?.hash ?? 'sha256';
  return [own, ...(['sha256', 'sha384', 'sha512'] as const).filter((h) => h !== own)];
}

/** The AUTH method and data signing `octets` with our key, or why we cannot. */
export function signAuth(key: KeyObject, policy: SigPolicy, peerHashes: readonly number[] | null, octets: Uint8Array): { method: number; data: Uint8Array; scheme: SigScheme } | string {
  const kind = keyKind(key);
  if (kind === null) return `a ${key.asymmetricKeyType ?? 'unknown'} key cannot sign IKE AUTH (RSA or ECDSA only)`;
  if (peerHashes === null) {
    if (policy.isPss || policy.hashes.length > 0) return 'the peer did not send SIGNATURE_HASH_ALGORITHMS (RFC 7427), which rsa/pss and -sha* constraints need';
    if (kind === 'rsa') {
      const s: SigScheme = { key: 'rsa', isPss: false, hash: 'sha1' };
      return { method: AUTH_RSA_SIG, data: new Uint8Array(sign('sha1', octets, key)), scheme: s };
    }
    const c = CURVES.get(curveOf(key));
    if (c === undefined) return `ECDSA curve ${curveOf(key)} has no IKEv2 auth method`;
    const s: SigScheme = { key: 'ecdsa', isPss: false, hash: c.hash };
    return { method: c.method, data: new Uint8Array(sign(c.hash, octets, nodeOpts(s, key, true))), scheme: s };
  }
  const hash = preference(key, policy).find((h) => peerHashes.includes(HASH_IDS.get(h)!));
  if (hash === undefined) return `no common signature hash (the peer accepts ${peerHashes.join(',')}; ours: ${preference(key, policy).join(',')})`;
  const s: SigScheme = { key: kind, isPss: kind === 'rsa' && policy.isPss, hash };
  const algId = s.isPss ? pssAlgId(hash) : Buffer.from(FIXED.find(([f]) => f.key === kind && !f.isPss && f.hash === hash)![1], 'hex');
  const sig = sign(hash, octets, nodeOpts(s, key, false));
  return { method: AUTH_DIGITAL_SIGNATURE, data: cat([Uint8Array.of(algId.length), algId, sig]), scheme: s };
}

/** RFC 4055 §3.1 RSASSA-PSS-params of a received AlgorithmIdentifier: hash and salt length (defaults SHA-1, 20). */
function parsePss(b: Uint8Array): { hash: Hash; salt: number } | null {
  const top = readTlv(b, 0);
  const f = top !== null && top.end === b.length ? children(b, top) : null;
  if (f === null || f.length < 1 || f[0]!.tag !== DER.OID || oidText(b.subarray(f[0]!.start, f[0]!.end)) !== RSASSA_PSS) return null;
  const out = { hash: 'sha1' as Hash, mgf: 'sha1' as Hash, salt: 20 };
  const params = f[1] !== undefined ? children(b, f[1]) : [];
  if (params === null) return null;
  const hashOf = (seqOff: number, end: number): Hash | null => {
    const seq = readTlv(b, seqOff, end);
    const o = seq !== null ? readTlv(b, seq.start, seq.end) : null;
    const text = o !== null && o.tag === DER.OID ? oidText(b.subarray(o.start, o.end)) : null;
    return (Object.keys(HASH_OID) as Hash[]).find((h) => HASH_OID[h] === text) ?? null;
  };
  for (const p of params) {
    if (p.tag === 0xa0) out.hash = hashOf(p.start, p.end) ?? ('?' as Hash);
    else if (p.tag === 0xa1) {
      const seq = readTlv(b, p.start, p.end);
      const parts = seq !== null ? children(b, seq) : null;
      if (parts === null || parts.length !== 2 || oidText(b.subarray(parts[0]!.start, parts[0]!.end)) !== MGF1) return null;
      out.mgf = hashOf(parts[1]!.off, parts[1]!.end) ?? ('?' as Hash);
    } else if (p.tag === 0xa2) {
      const i = readTlv(b, p.start, p.end);
      if (i === null || i.tag !== DER.INTEGER || i.end - i.start > 2) return null;
      out.salt = b.subarray(i.start, i.end).reduce((v, x) => v * 256 + x, 0);
    }
  }
  return HASH_OID[out.hash] !== undefined && out.mgf === out.hash ? { hash: out.hash, salt: out.salt } : null;
}

/** The scheme and signature of a received AUTH, or why it cannot be read. */
function readAuth(method: number, data: Uint8Array, pub: KeyObject): { s: SigScheme; sig: Uint8Array; salt: number; isP1363: boolean } | string {
  const kind = keyKind(pub);
  if (method === AUTH_RSA_SIG) return kind === 'rsa' ? { s: { key: 'rsa', isPss: false, hash: 'sha1' }, sig: data, salt: 0, isP1363: false } : 'auth method 1 (RSA) with a non-RSA certificate';
  const c = [...CURVES].find(([, v]) => v.method === method);
  if (c !== undefined) {
    if (kind !== 'ecdsa' || curveOf(pub) !== c[0]) return `auth method ${method} (ECDSA ${c[0]}) with a ${curveOf(pub) || kind} certificate key`;
    return { s: { key: 'ecdsa', isPss: false, hash: c[1].hash }, sig: data, salt: 0, isP1363: true };
  }
  if (method !== AUTH_DIGITAL_SIGNATURE) return `auth method ${method} is not a signature method tunkit knows`;
  const n = data[0];
  if (n === undefined || 1 + n > data.length) return 'a malformed RFC 7427 AUTH (ASN.1 length)';
  const algId = data.subarray(1, 1 + n);
  const hex = Buffer.from(algId).toString('hex');
  const fixed = FIXED.find(([, h]) => h === hex);
  const pss = fixed === undefined ? parsePss(algId) : null;
  const s: SigScheme | null = fixed?.[0] ?? (pss !== null ? { key: 'rsa', isPss: true, hash: pss.hash } : null);
  if (s === null) return `unsupported signature algorithm ${hex}`;
  if (s.key !== kind) return `a ${schemeName(s)} signature with a ${kind ?? 'non-RSA/ECDSA'} certificate key`;
  return { s, sig: data.subarray(1 + n), salt: pss?.salt ?? 0, isP1363: false };
}

/** The scheme when the AUTH `data` of `method` is pub's signature of octets, allowed by policy; else why not (a string). */
export function verifyAuth(method: number, data: Uint8Array, pub: KeyObject, policy: SigPolicy, octets: Uint8Array): SigScheme | string {
  const r = readAuth(method, data, pub);
  if (typeof r === 'string') return r;
  const { s } = r;
  if (method === AUTH_DIGITAL_SIGNATURE && s.hash === 'sha1') return `${schemeName(s)}: SHA-1 was not in our SIGNATURE_HASH_ALGORITHMS`;
  if (policy.keyType !== 'any' && policy.keyType !== s.key) return `${schemeName(s)}, but remote auth asks for ${policy.keyType}`;
  if (policy.isPss && !s.isPss) return `${schemeName(s)}, but remote auth asks for RSASSA-PSS`;
  if (policy.hashes.length > 0 && !(policy.hashes as readonly Hash[]).includes(s.hash)) return `${schemeName(s)}, but remote auth allows only ${policy.hashes.join(', ')}`;
  const opts: KeyOpts = s.key === 'rsa' && s.isPss ? { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: r.salt } : nodeOpts(s, pub, r.isP1363);
  let ok: boolean;
  try {
    ok = verify(s.hash, octets, opts, r.sig);
  } catch (e) {
    return `${schemeName(s)}: ${e instanceof Error ? e.message : String(e)}`;
  }
  return ok ? s : `the ${schemeName(s)} signature does not verify`;
}
