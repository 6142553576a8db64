// RFC 7296 §3.3: the body of the Security Association payload: proposals,
// their transforms and transform attributes.
//
// Proposal (§3.3.1)                    Transform (§3.3.2)
// | Last(0|2) | RESV | Length(16) |    | Last(0|3) | RESV | Length(16) |
// | Num | Protocol ID | SPI Size | #T | | Type | RESV | Transform ID(16) |
// | SPI (SPI Size bytes)  ...      |    | Attributes ...                 |
// | Transforms ...                 |
//
// Attribute (§3.3.5): | A | Type(15) | Length or Value(16) | [Value] |
// Only Key Length (14, TV) is defined for IKEv2; any other attribute is kept
// as "unknown" so the policy can refuse the transform (§3.3.6).

import { be16, put16 } from '../bytes.js';
import { ATTR_KEY_LENGTH } from './consts.js';
import { IkeDecodeError } from './header.js';

export interface Transform {
  readonly type: number;
  readonly id: number;
  /** Key Length attribute in bits (AES-CBC/GCM), absent when not sent. */
  readonly keyLength?: number;
  /** True when an attribute other than Key Length was present (§3.3.6: the transform cannot be chosen). */
  readonly hasUnknownAttr?: boolean;
}

export interface Proposal {
  /** 1-based; the responder echoes the number of the proposal it chose. */
  readonly num: number;
  /** PROTO_IKE, PROTO_AH or PROTO_ESP. */
  readonly protocolId: number;
  /** IKE: empty in IKE_SA_INIT (or 8 bytes on rekey); ESP: 4 bytes (the sender's inbound SPI). */
  readonly spi: Uint8Array;
  readonly transforms: readonly Transform[];
}

const PROP_HDR = 8;
const TRANS_HDR = 8;

function parseTransform(b: Uint8Array, off: number, len: number): Transform | IkeDecodeError {
  const type = b[off + 4]!;
  const id = be16(b, off + 6);
  let keyLength: number | undefined;
  let hasUnknownAttr = false;
  let a = off + TRANS_HDR;
  const end = off + len;
  while (a < end) {
    if (a + 4 > end) return new IkeDecodeError('transform attribute truncated');
    const t = be16(b, a);
    const isTv = (t & 0x8000) !== 0;
    const attrType = t & 0x7fff;
    if (isTv) {
      if (attrType === ATTR_KEY_LENGTH) keyLength = be16(b, a + 2);
      else hasUnknownAttr = true;
      a += 4;
    } else {
      const alen = be16(b, a + 2);
      if (a + 4 + alen > end) return new IkeDecodeError('transform attribute length overruns the transform');
      hasUnknownAttr = true;
      a += 4 + alen;
    }
  }
  const t: Transform = { type, id };
  return { ...t, ...(keyLength !== undefined ? { keyLength } : {}), ...(hasUnknownAttr ? { hasUnknownAttr } : {}) };
}

function parseProposal(b: Uint8Array, off: number, len: number): Proposal | IkeDecodeError {
  const num = b[off + 4]!;
  const protocolId = b[off + 5]!;
  const spiSize = b[off + 6]!;
  const nT = b[off + 7]!;
  if (PROP_HDR + spiSize > len) return new IkeDecodeError('proposal SPI overruns the proposal');
  const spi = b.slice(off + PROP_HDR, off + PROP_HDR + spiSize); // eslint-disable-line no-restricted-syntax -- control plane copy
  const transforms: Transform[] = [];
  let t = off + PROP_HDR + spiSize;
  const end = off + len;
  for (let i = 0; i < nT; i++) {
    if (t + TRANS_HDR > end) return new IkeDecodeError(`proposal ${num}: transform ${i + 1} of ${nT} truncated`);
    const last = b[t]!;
    const tlen = be16(b, t + 2);
    if (tlen < TRANS_HDR || t + tlen > end) return new IkeDecodeError(`proposal ${num}: transform length ${tlen} is wrong`);
    if ((last === 0) !== (i === nT - 1) || (last !== 0 && last !== 3)) return new IkeDecodeError(`proposal ${num}: transform count does not match the Last Substruc flags`);
    const tr = parseTransform(b, t, tlen);
    if (tr instanceof IkeDecodeError) return tr;
    transforms.push(tr);
    t += tlen;
  }
  if (t !== end) return new IkeDecodeError(`proposal ${num}: ${end - t} bytes after the last transform`);
  return { num, protocolId, spi, transforms };
}

/** Decodes an SA payload body (after the generic header). */
export function parseSaBody(b: Uint8Array, off: number, len: number): Proposal[] | IkeDecodeError {
  const out: Proposal[] = [];
  let p = off;
  const end = off + len;
  while (p < end) {
    if (p + PROP_HDR > end) return new IkeDecodeError('proposal header truncated');
    const last = b[p]!;
    const plen = be16(b, p + 2);
    if (plen < PROP_HDR || p + plen > end) return new IkeDecodeError(`proposal length ${plen} is wrong`);
    const pr = parseProposal(b, p, plen);
    if (pr instanceof IkeDecodeError) return pr;
    out.push(pr);
    p += plen;
    if (last === 0) break;
    if (last !== 2) return new IkeDecodeError(`proposal Last Substruc ${last} is neither 0 nor 2`);
  }
  if (p !== end) return new IkeDecodeError('bytes after the last proposal');
  if (out.length === 0) return new IkeDecodeError('SA payload without proposals');
  return out;
}

const transformLen = (t: Transform): number => TRANS_HDR + (t.keyLength !== undefined ? 4 : 0);
const proposalLen = (p: Proposal): number => PROP_HDR + p.spi.length + p.transforms.reduce((n, t) => n + transformLen(t), 0);

/** Bytes saBodyEmit writes. */
export const saBodyLen = (ps: readonly Proposal[]): number => ps.reduce((n, p) => n + proposalLen(p), 0);

/** Writes the SA body at b[off]; returns the bytes written (saBodyLen). */
export function emitSaBody(ps: readonly Proposal[], b: Uint8Array, off: number): number {
  let o = off;
  ps.forEach((p, i) => {
    const plen = proposalLen(p);
    b[o] = i === ps.length - 1 ? 0 : 2;
    b[o + 1] = 0;
    put16(b, o + 2, plen);
    b[o + 4] = p.num;
    b[o + 5] = p.protocolId;
    b[o + 6] = p.spi.length;
    b[o + 7] = p.transforms.length;
    b.set(p.spi, o + PROP_HDR);
    let t = o + PROP_HDR + p.spi.length;
    p.transforms.forEach((tr, j) => {
      const tlen = transformLen(tr);
      b[t] = j === p.transforms.length - 1 ? 0 : 3;
      b[t + 1] = 0;
      put16(b, t + 2, tlen);
      b[t + 4] = tr.type;
      b[t + 5] = 0;
      put16(b, t + 6, tr.id);
      if (tr.keyLength !== undefined) {
        put16(b, t + 8, 0x8000 | ATTR_KEY_LENGTH);
        put16(b, t + 10, tr.keyLength);
      }
      t += tlen;
    });
    o += plen;
  });
  return o - off;
}
