// Identities (RFC 7296 §3.5) as strongSwan writes them in swanctl.conf
// (identification_create_from_string): an IPv4/IPv6 literal is
// ID_IPV4_ADDR/ID_IPV6_ADDR, "C=CH, O=x, CN=y" is ID_DER_ASN1_DN (dn.ts),
// "@name" or a bare name is ID_FQDN, "user@host" is ID_RFC822_ADDR. An
// empty configured id means "our IKE address" (with a certificate: its
// subject, certs.ts localIdentity).

import { ID_DER_ASN1_DN, ID_FQDN, ID_IPV4_ADDR, ID_IPV6_ADDR, ID_RFC822_ADDR } from '../wire/ike/consts.js';
import { dnEqual, dnText, encodeDn, isDnText, parseDn, parseDnText } from './dn.js';
import { addrBytes, addrText } from './ts.js';

export interface Identity { readonly idType: number; readonly data: Uint8Array }

const enc = new TextEncoder();

/** The wire identity of a configured id text ('' = the address `addr`). */
export function identity(text: string, addr: string): Identity {
  const t = text === '' ? addr : text;
  const a = addrBytes(t);
  if (a !== null) return { idType: a.length === 4 ? ID_IPV4_ADDR : ID_IPV6_ADDR, data: a };
  if (isDnText(t)) {
    const rdns = parseDnText(t);
    if (rdns !== null) return { idType: ID_DER_ASN1_DN, data: encodeDn(rdns) };
  }
  if (t.startsWith('@')) return { idType: ID_FQDN, data: enc.encode(t.substring(1)) };
  if (t.includes('@')) return { idType: ID_RFC822_ADDR, data: enc.encode(t) };
  return { idType: ID_FQDN, data: enc.encode(t) };
}

/** Text of a received identity, as strongSwan prints it; other types as "TYPE:hex". */
export function identityText(id: Identity): string {
  if ((id.idType === ID_IPV4_ADDR && id.data.length === 4) || (id.idType === ID_IPV6_ADDR && id.data.length === 16)) return addrText(id.data);
  if (id.idType === ID_FQDN || id.idType === ID_RFC822_ADDR) return new TextDecoder('utf-8', { fatal: false }).decode(id.data);
  if (id.idType === ID_DER_ASN1_DN) {
    const rdns = parseDn(id.data);
    if (rdns !== null) return dnText(rdns);
  }
  return `${id.idType}:${Buffer.from(id.data).toString('hex')}`;
}

/** True when two identities are the same (DNs compared as strongSwan does, dn.ts dnEqual). */
export function sameIdentity(a: Identity, b: Identity): boolean {
  if (a.idType !== b.idType) return false;
  if (a.idType === ID_DER_ASN1_DN) {
    const [x, y] = [parseDn(a.data), parseDn(b.data)];
    return x !== null && y !== null && dnEqual(x, y);
  }
  return a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i]);
}

/** True when a received identity is the configured one ('%any' matches all; '' = the peer's address). */
export function identityMatches(configured: string, got: Identity, peerAddr: string): boolean {
  if (configured === '%any') return true;
  return sameIdentity(identity(configured, peerAddr), got);
}
