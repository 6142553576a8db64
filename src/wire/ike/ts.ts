// RFC 7296 §3.13: the body of a Traffic Selector payload (TSi/TSr).
//
// | Number of TSs |             RESERVED (24)                     |
// then per selector (§3.13.1):
// |   TS Type     |IP Protocol ID |       Selector Length         |
// |           Start Port          |           End Port            |
// |                 Starting Address (4 or 16 bytes)              |
// |                 Ending Address   (4 or 16 bytes)              |
//
// Unknown TS types are kept (type and raw length) so the policy can skip
// them; addresses stay as bytes here (ike/ts.ts does the arithmetic).

import { be16, put16 } from '../bytes.js';
import { TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE } from './consts.js';
import { IkeDecodeError } from './header.js';

export interface TrafficSelector {
  /** TS_IPV4_ADDR_RANGE (7) or TS_IPV6_ADDR_RANGE (8). */
  readonly tsType: number;
  /** 0 = any. */
  readonly ipProto: number;
  /** Inclusive port range, host order; 0..65535 = any. */
  readonly startPort: number;
  readonly endPort: number;
  /** Inclusive address range, 4 or 16 bytes each. */
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

const addrLen = (tsType: number): number => (tsType === TS_IPV4_ADDR_RANGE ? 4 : tsType === TS_IPV6_ADDR_RANGE ? 16 : -1);

/** Decodes a TS payload body (after the generic header). Unknown TS types are an error (we offer only 7 and 8). */
export function parseTsBody(b: Uint8Array, off: number, len: number): TrafficSelector[] | IkeDecodeError {
  if (len < 4) return new IkeDecodeError('traffic selector payload truncated');
  const n = b[off]!;
  const out: TrafficSelector[] = [];
  let p = off + 4;
  const end = off + len;
  for (let i = 0; i < n; i++) {
    if (p + 8 > end) return new IkeDecodeError(`traffic selector ${i + 1} of ${n} truncated`);
    const tsType = b[p]!;
    const slen = be16(b, p + 2);
    const al = addrLen(tsType);
    if (al < 0) return new IkeDecodeError(`traffic selector type ${tsType} is not supported`);
    if (slen !== 8 + 2 * al || p + slen > end) return new IkeDecodeError(`traffic selector length ${slen} is wrong for type ${tsType}`);
    out.push({
      tsType, ipProto: b[p + 1]!, startPort: be16(b, p + 4), endPort: be16(b, p + 6),
      start: b.slice(p + 8, p + 8 + al), // eslint-disable-line no-restricted-syntax -- control plane copy
      end: b.slice(p + 8 + al, p + 8 + 2 * al), // eslint-disable-line no-restricted-syntax -- control plane copy
    });
    p += slen;
  }
  if (p !== end) return new IkeDecodeError('bytes after the last traffic selector');
  return out;
}

export const tsBodyLen = (ts: readonly TrafficSelector[]): number => 4 + ts.reduce((n, t) => n + 8 + 2 * t.start.length, 0);

/** Writes a TS body at b[off]; returns tsBodyLen(ts). */
export function emitTsBody(ts: readonly TrafficSelector[], b: Uint8Array, off: number): number {
  if (ts.length > 255) throw new RangeError('emitTsBody: at most 255 selectors');
  b[off] = ts.length;
  b[off + 1] = 0; b[off + 2] = 0; b[off + 3] = 0;
  let p = off + 4;
  for (const t of ts) {
    const al = t.start.length;
    if (al !== addrLen(t.tsType) || t.end.length !== al) throw new RangeError('emitTsBody: address length does not match the TS type');
    b[p] = t.tsType;
    b[p + 1] = t.ipProto;
    put16(b, p + 2, 8 + 2 * al);
    put16(b, p + 4, t.startPort);
    put16(b, p + 6, t.endPort);
    b.set(t.start, p + 8);
    b.set(t.end, p + 8 + al);
    p += 8 + 2 * al;
  }
  return p - off;
}
