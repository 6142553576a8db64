// RFC 7296 §3.2-§3.14: IKEv2 payloads as plain objects, decoded and encoded
// by one table (type → body parser/emitter), strongSwan's encoding-rules
// idea. A chain is a run of payloads linked by their Next Payload fields:
//
// Generic payload header (§3.2):
// | Next Payload  |C|  RESERVED   |         Payload Length        |
//
// Bodies:  KE    | DH Group Num(16) | RESERVED(16) | Key Exchange Data |
//          ID    | ID Type | RESERVED(24) | Identification Data |     (IDi, IDr)
//          AUTH  | Auth Method | RESERVED(24) | Authentication Data |
//          NONCE | Nonce Data (16..256 bytes) |
//          N     | Protocol ID | SPI Size | Notify Message Type(16) | SPI | Notification Data |
//          D     | Protocol ID | SPI Size | Num of SPIs(16) | SPIs |
//          V     | Vendor ID |
//          CERT  | Cert Encoding | Certificate Data |                  (§3.6)
//          CERTREQ | Cert Encoding | Certification Authority |       (§3.7; X.509: SHA-1 hashes of CA SPKIs)
//          SA    sa.ts;  TSi/TSr  ts.ts
//          SK    | IV | Encrypted payloads | Padding | Pad Length | ICV |  (§3.14, kept raw here;
//                its Next Payload names the first payload inside; it is always last)
//          SKF   | Fragment Number | Total Fragments | IV | … | ICV |   (RFC 7383 §2.5, kept raw
//                like SK, header fields included: skf.ts; also always last)
//
// Payload types this table does not know are kept as `other` with their
// critical bit, so the exchange can answer UNSUPPORTED_CRITICAL_PAYLOAD.

import { be16, put16 } from '../bytes.js';
import { GENERIC_HDR_LEN, PL } from './consts.js';
import { IkeDecodeError } from './header.js';
import { emitSaBody, parseSaBody, saBodyLen } from './sa.js';
import type { Proposal } from './sa.js';
import { emitTsBody, parseTsBody, tsBodyLen } from './ts.js';
import type { TrafficSelector } from './ts.js';

export type Payload =
  | { readonly type: typeof PL.SA; readonly proposals: readonly Proposal[] }
  | { readonly type: typeof PL.KE; readonly group: number; readonly data: Uint8Array }
  | { readonly type: typeof PL.IDi | typeof PL.IDr; readonly idType: number; readonly data: Uint8Array }
  | { readonly type: typeof PL.AUTH; readonly method: number; readonly data: Uint8Array }
  | { readonly type: typeof PL.NONCE; readonly data: Uint8Array }
  | { readonly type: typeof PL.N; readonly protocolId: number; readonly spi: Uint8Array; readonly notifyType: number; readonly data: Uint8Array }
  | { readonly type: typeof PL.D; readonly protocolId: number; readonly spiSize: number; readonly spis: readonly Uint8Array[] }
  | { readonly type: typeof PL.V; readonly data: Uint8Array }
  | { readonly type: typeof PL.CERT | typeof PL.CERTREQ; readonly encoding: number; readonly data: Uint8Array }
  | { readonly type: typeof PL.TSi | typeof PL.TSr; readonly selectors: readonly TrafficSelector[] }
  | { readonly type: typeof PL.SK | typeof PL.SKF; readonly firstInner: number; readonly body: Uint8Array }
  | { readonly type: 'other'; readonly payloadType: number; readonly isCritical: boolean; readonly data: Uint8Array };

type Known = Exclude<Payload, { type: 'other' }>;

/** A copy of b[s, e): decoded payloads outlive the datagram they came in. */
// eslint-disable-next-line no-restricted-syntax -- control plane copy
const copy = (b: Uint8Array, s: number, e: number): Uint8Array => b.slice(s, e);

interface Rule {
  readonly minLen: number;
  parse(b: Uint8Array, off: number, len: number, type: number): Known | IkeDecodeError;
  len(p: Known): number;
  emit(p: Known, b: Uint8Array, off: number): void;
}

/** ID/AUTH share one shape: a type byte, 3 reserved bytes, data. */
const fourHdr = (get: (p: Known) => [number, Uint8Array]): Pick<Rule, 'len' | 'emit'> => ({
  len: (p) => 4 + get(p)[1].length,
  emit: (p, b, off) => {
    const [t, d] = get(p);
    b[off] = t; b[off + 1] = 0; b[off + 2] = 0; b[off + 3] = 0;
    b.set(d, off + 4);
  },
});

const idRule: Rule = {
  minLen: 4,
  parse: (b, off, len, type) => ({ type: type as typeof PL.IDi, idType: b[off]!, data: copy(b, off + 4, off + len) }),
  ...fourHdr((p) => (p.type === PL.IDi || p.type === PL.IDr ? [p.idType, p.data] : [0, new Uint8Array(0)])),
};

/** CERT and CERTREQ: one encoding byte, then data (§3.6, §3.7). */
const certRule: Rule = {
  minLen: 1,
  parse: (b, off, len, type) => ({ type: type as typeof PL.CERT, encoding: b[off]!, data: copy(b, off + 1, off + len) }),
  len: (p) => (p.type === PL.CERT || p.type === PL.CERTREQ ? 1 + p.data.length : 0),
  emit: (p, b, off) => {
    if (p.type !== PL.CERT && p.type !== PL.CERTREQ) return;
    b[off] = p.encoding;
    b.set(p.data, off + 1);
  },
};

const tsRule: Rule = {
  minLen: 4,
  parse: (b, off, len, type) => {
    const s = parseTsBody(b, off, len);
    return s instanceof IkeDecodeError ? s : { type: type as typeof PL.TSi, selectors: s };
  },
  len: (p) => (p.type === PL.TSi || p.type === PL.TSr ? tsBodyLen(p.selectors) : 0),
  emit: (p, b, off) => { if (p.type === PL.TSi || p.type === PL.TSr) emitTsBody(p.selectors, b, off); },
};

const dataRule = (type: typeof PL.NONCE | typeof PL.V, minLen: number): Rule => ({
  minLen,
  parse: (b, off, len) => ({ type, data: copy(b, off, off + len) }),
  len: (p) => (p.type === type ? p.data.length : 0),
  emit: (p, b, off) => { if (p.type === type) b.set(p.data, off); },
});

/** SK and SKF: kept raw (parseChain ends the chain at them); sk.ts and ike/frag.ts open them. */
const skRule: Rule = {
  minLen: 0,
  parse: () => new IkeDecodeError('unreachable: SK and SKF are handled by parseChain'),
  len: (p) => (p.type === PL.SK || p.type === PL.SKF ? p.body.length : 0),
  emit: (p, b, off) => { if (p.type === PL.SK || p.type === PL.SKF) b.set(p.body, off); },
};

const isEncrypted = (p: Payload): p is Extract<Payload, { firstInner: number }> => p.type === PL.SK || p.type === PL.SKF;

const RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [PL.SA, {
    minLen: 8,
    parse: (b, off, len) => {
      const ps = parseSaBody(b, off, len);
      return ps instanceof IkeDecodeError ? ps : { type: PL.SA, proposals: ps };
    },
    len: (p) => (p.type === PL.SA ? saBodyLen(p.proposals) : 0),
    emit: (p, b, off) => { if (p.type === PL.SA) emitSaBody(p.proposals, b, off); },
  }],
  [PL.KE, {
    minLen: 4,
    parse: (b, off, len) => ({ type: PL.KE, group: be16(b, off), data: copy(b, off + 4, off + len) }),
    len: (p) => (p.type === PL.KE ? 4 + p.data.length : 0),
    emit: (p, b, off) => {
      if (p.type !== PL.KE) return;
      put16(b, off, p.group); put16(b, off + 2, 0);
      b.set(p.data, off + 4);
    },
  }],
  [PL.IDi, idRule],
  [PL.IDr, idRule],
  [PL.CERT, certRule],
  [PL.CERTREQ, certRule],
  [PL.AUTH, {
    minLen: 4,
    parse: (b, off, len) => ({ type: PL.AUTH, method: b[off]!, data: copy(b, off + 4, off + len) }),
    ...fourHdr((p) => (p.type === PL.AUTH ? [p.method, p.data] : [0, new Uint8Array(0)])),
  }],
  // §3.9: nonces are 16..256 bytes.
  [PL.NONCE, { ...dataRule(PL.NONCE, 16), parse: (b, off, len) => (len > 256 ? new IkeDecodeError(`nonce of ${len} bytes is longer than 256`) : { type: PL.NONCE, data: copy(b, off, off + len) }) }],
  [PL.N, {
    minLen: 4,
    parse: (b, off, len) => {
      const spiSize = b[off + 1]!;
      if (4 + spiSize > len) return new IkeDecodeError('notify SPI overruns the payload');
      return { type: PL.N, protocolId: b[off]!, notifyType: be16(b, off + 2), spi: copy(b, off + 4, off + 4 + spiSize), data: copy(b, off + 4 + spiSize, off + len) };
    },
    len: (p) => (p.type === PL.N ? 4 + p.spi.length + p.data.length : 0),
    emit: (p, b, off) => {
      if (p.type !== PL.N) return;
      b[off] = p.protocolId; b[off + 1] = p.spi.length; put16(b, off + 2, p.notifyType);
      b.set(p.spi, off + 4);
      b.set(p.data, off + 4 + p.spi.length);
    },
  }],
  [PL.D, {
    minLen: 4,
    parse: (b, off, len) => {
      const spiSize = b[off + 1]!;
      const n = be16(b, off + 2);
      if (4 + spiSize * n !== len) return new IkeDecodeError(`delete payload: ${n} SPIs of ${spiSize} bytes do not fill ${len - 4} bytes`);
      const spis: Uint8Array[] = [];
      for (let i = 0; i < n; i++) spis.push(copy(b, off + 4 + i * spiSize, off + 4 + (i + 1) * spiSize));
      return { type: PL.D, protocolId: b[off]!, spiSize, spis };
    },
    len: (p) => (p.type === PL.D ? 4 + p.spiSize * p.spis.length : 0),
    emit: (p, b, off) => {
      if (p.type !== PL.D) return;
      b[off] = p.protocolId; b[off + 1] = p.spiSize; put16(b, off + 2, p.spis.length);
      p.spis.forEach((s, i) => b.set(s, off + 4 + i * p.spiSize));
    },
  }],
  [PL.V, dataRule(PL.V, 0)],
  [PL.TSi, tsRule],
  [PL.TSr, tsRule],
  [PL.SK, skRule],
  [PL.SKF, skRule],
]);

const typeOf = (p: Payload): number => (p.type === 'other' ? p.payloadType : p.type);

/** Bytes of one payload, generic header included. */
export function payloadLen(p: Payload): number {
  if (p.type === 'other') return GENERIC_HDR_LEN + p.data.length;
  return GENERIC_HDR_LEN + RULES.get(p.type)!.len(p);
}

/** Bytes emitChain writes. */
export const chainLen = (ps: readonly Payload[]): number => ps.reduce((n, p) => n + payloadLen(p), 0);

/** Type of the first payload of a chain, for the header's (or SK's) Next Payload; PL.NONE when empty. */
export const firstType = (ps: readonly Payload[]): number => (ps.length === 0 ? PL.NONE : typeOf(ps[0]!));

/**
 * Writes ps at b[off] linked by Next Payload (an SK or SKF payload's Next
 * Payload is its firstInner: it must be last). Returns chainLen(ps).
 */
export function emitChain(ps: readonly Payload[], b: Uint8Array, off: number): number {
  const total = chainLen(ps);
  if (off + total > b.length) throw new RangeError('emitChain: buffer too short');
  let o = off;
  ps.forEach((p, i) => {
    const n = payloadLen(p);
    const next = isEncrypted(p) ? p.firstInner : i + 1 < ps.length ? typeOf(ps[i + 1]!) : PL.NONE;
    if (isEncrypted(p) && i !== ps.length - 1) throw new RangeError('emitChain: SK and SKF must be the last payload');
    b[o] = next;
    b[o + 1] = p.type === 'other' && p.isCritical ? 0x80 : 0;
    put16(b, o + 2, n);
    if (p.type === 'other') b.set(p.data, o + GENERIC_HDR_LEN);
    else RULES.get(p.type)!.emit(p, b, o + GENERIC_HDR_LEN);
    o += n;
  });
  return total;
}

/**
 * Decodes the chain b[off, off+len) starting with payload type `first`.
 * An SK or SKF payload ends the chain (it must be the last: §3.14, RFC 7383
 * §2.5). Never throws.
 */
export function parseChain(b: Uint8Array, off: number, len: number, first: number): Payload[] | IkeDecodeError {
  const out: Payload[] = [];
  let p = off;
  const end = off + len;
  let type = first;
  while (type !== PL.NONE) {
    if (p + GENERIC_HDR_LEN > end) return new IkeDecodeError(`payload ${type} truncated`);
    const next = b[p]!;
    const isCritical = (b[p + 1]! & 0x80) !== 0;
    const plen = be16(b, p + 2);
    if (plen < GENERIC_HDR_LEN || p + plen > end) return new IkeDecodeError(`payload ${type}: length ${plen} is wrong`);
    const bOff = p + GENERIC_HDR_LEN;
    const bLen = plen - GENERIC_HDR_LEN;
    if (type === PL.SK || type === PL.SKF) {
      if (p + plen !== end) return new IkeDecodeError(`the ${type === PL.SK ? 'SK' : 'SKF'} payload is not the last payload`);
      out.push({ type, firstInner: next, body: copy(b, bOff, bOff + bLen) });
      return out;
    }
    const rule = RULES.get(type);
    if (rule === undefined) {
      out.push({ type: 'other', payloadType: type, isCritical, data: copy(b, bOff, bOff + bLen) });
    } else {
      if (bLen < rule.minLen) return new IkeDecodeError(`payload ${type}: body of ${bLen} bytes is shorter than ${rule.minLen}`);
      const v = rule.parse(b, bOff, bLen, type);
      if (v instanceof IkeDecodeError) return v;
      out.push(v);
    }
    p += plen;
    type = next;
  }
  if (p !== end) return new IkeDecodeError(`${end - p} bytes after the last payload`);
  return out;
}
