// Distinguished Names (RFC 5280 §4.1.2.4) for ID_DER_ASN1_DN identities
// (RFC 7296 §3.5), in strongSwan's text form "C=CH, O=strongSwan, CN=moon":
//
//   Name ::= SEQUENCE OF RelativeDistinguishedName
//   RelativeDistinguishedName ::= SET OF AttributeTypeAndValue   (one per SET here when built)
//   AttributeTypeAndValue ::= SEQUENCE { type OID, value DirectoryString }
//
// Two DNs are equal as strongSwan's identification compares them: the same
// attribute types in the same order with values equal ignoring ASCII case,
// whatever string type each is encoded with.

import { cat, children, DER, oid, oidText, readTlv, tlv } from '../wire/ike/der.js';

/** Attribute names as strongSwan writes them (x501rdns in identification.c), and their OIDs. */
const NAMES: readonly (readonly [string, string])[] = [
  ['C', '2.5.4.6'], ['ST', '2.5.4.8'], ['L', '2.5.4.7'], ['O', '2.5.4.10'], ['OU', '2.5.4.11'], ['CN', '2.5.4.3'],
  ['SN', '2.5.4.4'], ['serialNumber', '2.5.4.5'], ['street', '2.5.4.9'], ['T', '2.5.4.12'], ['postalCode', '2.5.4.17'],
  ['G', '2.5.4.42'], ['I', '2.5.4.43'], ['dnQualifier', '2.5.4.46'], ['pseudonym', '2.5.4.65'],
  ['E', '1.2.840.113549.1.9.1'], ['DC', '0.9.2342.19200300.100.1.25'], ['UID', '0.9.2342.19200300.100.1.1'],
];
const ALIASES: ReadonlyMap<string, string> = new Map([['email', 'E'], ['emailaddress', 'E'], ['s', 'ST'], ['title', 'T'], ['gn', 'G']]);
const BY_NAME = new Map(NAMES.map(([n, o]) => [n.toLowerCase(), o]));
const BY_OID = new Map(NAMES.map(([n, o]) => [o, n]));

export interface Rdn { readonly oid: string; readonly value: string }

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** The attributes of a DER Name in order (multi-valued RDNs flattened); null when malformed. */
export function parseDn(der: Uint8Array): Rdn[] | null {
  const name = readTlv(der, 0);
  if (name === null || name.tag !== DER.SEQUENCE || name.end !== der.length) return null;
  const sets = children(der, name);
  if (sets === null) return null;
  const out: Rdn[] = [];
  for (const set of sets) {
    const atvs = set.tag === DER.SET ? children(der, set) : null;
    if (atvs === null || atvs.length === 0) return null;
    for (const atv of atvs) {
      const f = atv.tag === DER.SEQUENCE ? children(der, atv) : null;
      if (f === null || f.length !== 2 || f[0]!.tag !== DER.OID) return null;
      const o = oidText(der.subarray(f[0]!.start, f[0]!.end));
      const v = decodeString(f[1]!.tag, der.subarray(f[1]!.start, f[1]!.end));
      if (o === null || v === null) return null;
      out.push({ oid: o, value: v });
    }
  }
  return out;
}

function decodeString(tag: number, c: Uint8Array): string | null {
  switch (tag) {
    case DER.UTF8String: return new TextDecoder('utf-8', { fatal: false }).decode(c);
    case DER.PrintableString: case DER.IA5String: case DER.T61String: return Buffer.from(c).toString('latin1');
    case DER.BMPString: return c.length % 2 === 0 ? Buffer.from(c).swap16().toString('utf16le') : null;
    default: return null;
  }
}

/** strongSwan's text of a DN: "C=CH, O=strongSwan, CN=moon"; unknown attribute types by dotted OID. */
export const dnText = (rdns: readonly Rdn[]): string => rdns.map((r) => `${BY_OID.get(r.oid) ?? r.oid}=${r.value}`).join(', ');

/** True when text looks like a DN (strongSwan tries a DN when an id has a "=" in it). */
export const isDnText = (text: string): boolean => /^[A-Za-z][A-Za-z0-9.]*\s*=/.test(text);

/** The attributes of a DN text ("C=CH, O=x, CN=y"; "," or "/" between them); null when malformed. */
export function parseDnText(text: string): Rdn[] | null {
  const parts = text.includes(',') || !text.startsWith('/') ? text.split(',') : text.substring(1).split('/');
  const out: Rdn[] = [];
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    const key = p.substring(0, eq).trim();
    const k = ALIASES.get(key.toLowerCase()) ?? key;
    const o = BY_NAME.get(k.toLowerCase()) ?? (/^\d+(\.\d+)+$/.test(k) ? k : undefined);
    const value = p.substring(eq + 1).trim();
    if (o === undefined || value === '') return null;
    out.push({ oid: o, value });
  }
  return out.length > 0 ? out : null;
}

/** A DER Name from attributes, one per RDN: PrintableString where it fits (C always), IA5String for E/DC, else UTF8String. */
export function encodeDn(rdns: readonly Rdn[]): Uint8Array {
  const ia5 = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);
  const sets = rdns.map((r) => {
    const tag = ia5.has(r.oid) ? DER.IA5String : PRINTABLE.test(r.value) ? DER.PrintableString : DER.UTF8String;
    const v = tlv(tag, new TextEncoder().encode(r.value));
    return tlv(DER.SET, tlv(DER.SEQUENCE, cat([oid(r.oid), v])));
  });
  return tlv(DER.SEQUENCE, cat(sets));
}

/** strongSwan's DN equality: same types in order, values equal ignoring ASCII case. */
export function dnEqual(a: readonly Rdn[], b: readonly Rdn[]): boolean {
  return a.length === b.length && a.every((r, i) => r.oid === b[i]!.oid && r.value.toLowerCase() === b[i]!.value.toLowerCase());
}
