// X.509 certificates for IKE_AUTH (RFC 7296 §3.6-§3.7, RFC 4945 §3 on what
// a certificate must hold for an identity), on node:crypto's
// X509Certificate. Pure: the clock (Unix ms) is passed in.
//
//   verifyChain:  leaf → (intermediates the peer sent, or we hold) → a trust anchor,
//                 each link: issuer name/key ids match (checkIssued), signature verifies,
//                 the issuer is a CA, every certificate within its validity
//   certHasIdentity: ID_DER_ASN1_DN ↔ subject; ID_FQDN / ID_RFC822_ADDR / ID_IPV*_ADDR ↔ subjectAltName
//   CERTREQ:      SHA-1 of each trusted CA's SubjectPublicKeyInfo (§3.7)

import { createHash } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { ID_DER_ASN1_DN, ID_FQDN, ID_IPV4_ADDR, ID_IPV6_ADDR, ID_RFC822_ADDR } from '../wire/ike/consts.js';
import { certSubject } from '../wire/ike/der.js';
import type { PeerAuth } from './config.js';
import { dnEqual, dnText, parseDn } from './dn.js';
import { identity } from './ids.js';
import type { Identity } from './ids.js';
import { addrText } from './ts.js';

/** Longest chain followed (leaf, intermediates, anchor). */
const MAX_DEPTH = 8;

/** The subject as strongSwan prints it ("C=CH, O=x, CN=y"). */
export function certName(c: X509Certificate): string {
  const der = certSubject(new Uint8Array(c.raw));
  const rdns = der !== null ? parseDn(der) : null;
  return rdns !== null ? dnText(rdns) : c.subject.replace(/\n/g, ', ');
}

const issuerName = (c: X509Certificate): string => c.issuer.replace(/\n/g, ', ');

/** Why c is not valid at nowMs, or null. */
function validity(c: X509Certificate, nowMs: number): string | null {
  if (nowMs < Date.parse(c.validFrom)) return `is not valid before ${c.validFrom}`;
  if (nowMs > Date.parse(c.validTo)) return `expired on ${c.validTo}`;
  return null;
}

/** ca issued c: names/key identifiers match and ca's key verifies c's signature. */
const issued = (c: X509Certificate, ca: X509Certificate): boolean => c.checkIssued(ca) && c.verify(ca.publicKey);

/**
 * Follows leaf up to one of `anchors` through `intermediates` (the peer's
 * CERT payloads and our pool). Null when trusted, else why not.
 */
export function verifyChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[], nowMs: number): string | null {
  let cur = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const v = validity(cur, nowMs);
    if (v !== null) return `certificate '${certName(cur)}' ${v}`;
    const anchor = anchors.find((a) => issued(cur, a));
    if (anchor !== undefined) {
      const va = validity(anchor, nowMs);
      return va === null ? null : `CA certificate '${certName(anchor)}' ${va}`;
    }
    const next = intermediates.find((c) => c !== cur && c.ca && !c.checkIssued(c) && issued(cur, c));
    if (next === undefined) return `certificate '${certName(cur)}' is not issued by a trusted CA (its issuer is '${issuerName(cur)}')`;
    cur = next;
  }
  return `the chain of '${certName(leaf)}' is longer than ${MAX_DEPTH}`;
}

/** The intermediate CA certificates (from pool) between leaf and a self-signed root: what we send in extra CERT payloads. */
export function chainFor(leaf: X509Certificate, pool: readonly X509Certificate[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  let cur = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const next = pool.find((c) => c.ca && c !== cur && issued(cur, c));
    if (next === undefined || next.checkIssued(next)) break; // none, or the root: the peer has that one
    out.push(next);
    cur = next;
  }
  return out;
}

/** RFC 4945 §3.1: does the certificate hold this identity (DN: the subject; others: a subjectAltName)? */
export function certHasIdentity(c: X509Certificate, id: Identity): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(id.data);
  switch (id.idType) {
    case ID_DER_ASN1_DN: {
      const a = parseDn(id.data);
      const der = certSubject(new Uint8Array(c.raw));
      const b = der !== null ? parseDn(der) : null;
      return a !== null && b !== null && dnEqual(a, b);
    }
    case ID_FQDN: return c.checkHost(text, { subject: 'never', wildcards: false }) !== undefined;
    case ID_RFC822_ADDR: return c.checkEmail(text, { subject: 'never' }) !== undefined;
    case ID_IPV4_ADDR: case ID_IPV6_ADDR:
      return (id.data.length === 4 || id.data.length === 16) && c.checkIP(addrText(id.data)) !== undefined;
    default: return false;
  }
}

/**
 * Our identity for IKE_AUTH. With a certificate and no configured id, the
 * certificate's subject (swanctl.conf(5): local.id defaults to it); a DN id
 * equal to the subject is sent as the certificate encodes it.
 */
export function localIdentity(me: PeerAuth, addr: string): Identity {
  const cert = me.auth === 'pubkey' ? me.cert ?? null : null;
  const subject = cert !== null ? certSubject(new Uint8Array(cert.raw)) : null;
  if (subject !== null && me.id === '') return { idType: ID_DER_ASN1_DN, data: subject };
  const id = identity(me.id, addr);
  if (subject !== null && id.idType === ID_DER_ASN1_DN && certHasIdentity(cert!, id)) return { idType: ID_DER_ASN1_DN, data: subject };
  return id;
}

/** §3.7: the CERTREQ body for X.509: SHA-1 of each CA's SubjectPublicKeyInfo, concatenated. */
export function caHashes(cas: readonly X509Certificate[]): Uint8Array {
  const out = new Uint8Array(20 * cas.length);
  cas.forEach((c, i) => out.set(createHash('sha1').update(c.publicKey.export({ type: 'spki', format: 'der' })).digest(), 20 * i));
  return out;
}
