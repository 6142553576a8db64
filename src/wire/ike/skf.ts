// RFC 7383 §2.5: the Encrypted Fragment payload (SKF, type 53), one piece
// of a message that would have carried an SK payload:
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Fragment Number        |        Total Fragments        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// |                  Encrypted content, Padding, Pad Length       |
// |                   Integrity Checksum Data                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload is the first inner payload's type in fragment 1 and 0 in
// the others. Fragment Number counts from 1; 1 ≤ Fragment Number ≤ Total
// Fragments, else the fragment is dropped (§2.6). The IV onwards is sk.ts's.
// Parsing never throws on network input; emitting into a short buffer throws.

import { be16, put16 } from '../bytes.js';
import { GENERIC_HDR_LEN } from './consts.js';
import { IkeDecodeError } from './header.js';

/** Generic header (4) + Fragment Number (2) + Total Fragments (2). */
export const SKF_HDR_LEN = 8;

export interface SkfHeader {
  /** The first inner payload's type (fragment 1), else 0. */
  readonly nextPayload: number;
  /** 1-based. */
  readonly fragNum: number;
  readonly totalFrags: number;
  /** Payload Length: this header, IV, ciphertext and ICV. */
  readonly length: number;
}

/** Decodes the SKF header at b[off]; `len` bytes from off are the payload (its Length must fill them). */
export function parseSkfHeader(b: Uint8Array, off: number, len: number): SkfHeader | IkeDecodeError {
  if (off < 0 || len < SKF_HDR_LEN || off + len > b.length) return new IkeDecodeError(`encrypted fragment of ${len} bytes is shorter than its header`);
  const length = be16(b, off + 2);
  if (length !== len) return new IkeDecodeError(`encrypted fragment length ${length} does not fill the ${len} bytes left`);
  const fragNum = be16(b, off + GENERIC_HDR_LEN);
  const totalFrags = be16(b, off + GENERIC_HDR_LEN + 2);
  if (fragNum === 0 || totalFrags === 0 || fragNum > totalFrags) return new IkeDecodeError(`fragment ${fragNum} of ${totalFrags} is not a valid fragment number`);
  return { nextPayload: b[off]!, fragNum, totalFrags, length };
}

/** Writes the 8-byte SKF header at b[off] (the critical bit and RESERVED zero). */
export function emitSkfHeader(h: SkfHeader, b: Uint8Array, off: number): void {
  if (off + SKF_HDR_LEN > b.length) throw new RangeError('emitSkfHeader: buffer too short');
  if (h.fragNum < 1 || h.fragNum > h.totalFrags || h.totalFrags > 0xffff) throw new RangeError('emitSkfHeader: fragment number out of range');
  b[off] = h.nextPayload;
  b[off + 1] = 0;
  put16(b, off + 2, h.length);
  put16(b, off + GENERIC_HDR_LEN, h.fragNum);
  put16(b, off + GENERIC_HDR_LEN + 2, h.totalFrags);
}
