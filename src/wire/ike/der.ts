// A minimal DER (X.690 §8, §10) walker and builder: just enough for what
// node:crypto's X509Certificate does not expose — the subject Name's DER
// (the ID_DER_ASN1_DN identity, RFC 7296 §3.5), the attributes of a Name
// (RFC 5280 §4.1.2.4), RSASSA-PSS parameters (RFC 4055 §3.1) — and to build
// a Name from its text. Definite lengths only (DER has no other kind).
//
//   | tag (1 byte; no multi-byte tags here) | length (short: 0..127, long: 0x8N + N bytes) | content |
//
// Readers never throw: malformed input gives null.

/** Universal tags used here. */
export const DER = {
  INTEGER: 0x02, NULL: 0x05, OID: 0x06, UTF8String: 0x0c, PrintableString: 0x13, T61String: 0x14,
  IA5String: 0x16, UniversalString: 0x1c, BMPString: 0x1e, SEQUENCE: 0x30, SET: 0x31,
} as const;

/** One TLV inside its buffer: content is b[start, end). */
export interface Tlv { readonly tag: number; readonly off: number; readonly start: number; readonly end: number }

/** The TLV at b[off], which must end by `limit`; null when malformed. */
export function readTlv(b: Uint8Array, off: number, limit = b.length): Tlv | null {
  if (off + 2 > limit) return null;
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) return null; // multi-byte tag numbers: not used by anything read here
  let len = b[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  if (start + len > limit) return null;
  return { tag, off, start, end: start + len };
}

/** The TLVs that fill t's content exactly; null when they do not. */
export function children(b: Uint8Array, t: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  for (let o = t.start; o < t.end;) {
    const c = readTlv(b, o, t.end);
    if (c === null) return null;
    out.push(c);
    o = c.end;
  }
  return out;
}

/** The whole encoding of t (header and content), a view into b. */
export const tlvBytes = (b: Uint8Array, t: Tlv): Uint8Array => b.subarray(t.off, t.end);

/** Dotted text of an OID's content bytes ("2.5.4.3"); null when malformed. */
export function oidText(c: Uint8Array): string | null {
  if (c.length === 0 || (c[c.length - 1]! & 0x80) !== 0) return null;
  const arcs: number[] = [];
  let v = 0;
  for (const x of c) {
    v = v * 128 + (x & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) return null;
    if ((x & 0x80) === 0) { arcs.push(v); v = 0; }
  }
  const f = arcs[0]!;
  const head = f < 40 ? [0, f] : f < 80 ? [1, f - 40] : [2, f - 80];
  return [...head, ...arcs.filter((_, i) => i > 0)].join('.');
}

/** One TLV with the given content (lengths up to 2^32-1). */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const lenBytes: number[] = [];
  if (n < 0x80) lenBytes.push(n);
  else {
    for (let v = n; v > 0; v = Math.floor(v / 256)) lenBytes.unshift(v & 0xff);
    lenBytes.unshift(0x80 | lenBytes.length);
  }
  const out = new Uint8Array(1 + lenBytes.length + n);
  out[0] = tag;
  out.set(lenBytes, 1);
  out.set(content, 1 + lenBytes.length);
  return out;
}

/** Concatenation of encodings (the content of a SEQUENCE or SET). */
export function cat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** An OID TLV from dotted text; throws on text that is not an OID (programmer error: the texts are ours). */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`not an OID: ${dotted}`);
  const vals = [arcs[0]! * 40 + arcs[1]!, ...arcs.filter((_, i) => i > 1)];
  const bytes: number[] = [];
  for (const v of vals) {
    const groups: number[] = [];
    for (let x = v; ; x = Math.floor(x / 128)) { groups.unshift(x & 0x7f); if (x < 128) break; }
    groups.forEach((g, i) => bytes.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return tlv(DER.OID, Uint8Array.from(bytes));
}

/**
 * The subject Name of a DER X.509 certificate (RFC 5280 §4.1):
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, … }
 * A view into `cert`; null when the structure is not that.
 */
export function certSubject(cert: Uint8Array): Uint8Array | null {
  const c = readTlv(cert, 0);
  if (c === null || c.tag !== DER.SEQUENCE) return null;
  const tbs = readTlv(cert, c.start, c.end);
  if (tbs === null || tbs.tag !== DER.SEQUENCE) return null;
  const f = children(cert, tbs);
  if (f === null) return null;
  const skip = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  const subject = f[skip + 4];
  return subject !== undefined && subject.tag === DER.SEQUENCE ? tlvBytes(cert, subject) : null;
}
