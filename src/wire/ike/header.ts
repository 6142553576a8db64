// RFC 7296 §3.1: the IKE header (28 bytes), and the decode-error type shared
// by the IKE codecs.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Responder's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Message ID                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            Length                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Network input never throws: parse functions return an IkeDecodeError
// naming what was wrong. Emitting into a too-short buffer is a programmer
// error and throws.

import { be32, put32 } from '../bytes.js';
import { FLAG_I, FLAG_R, IKE_HDR_LEN } from './consts.js';

/** Why a message or payload did not decode (for the log; the message is dropped). */
export class IkeDecodeError {
  constructor(readonly why: string) {}
}

export interface IkeHeader {
  /** 8 bytes each; spiR is all zero in the first IKE_SA_INIT request. */
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly nextPayload: number;
  /** MjVer << 4 | MnVer: 0x20 for IKEv2. */
  readonly version: number;
  readonly exchange: number;
  readonly flags: number;
  /** u32. */
  readonly messageId: number;
  /** Whole message in bytes, header included. */
  readonly length: number;
}

export const isResponse = (h: IkeHeader): boolean => (h.flags & FLAG_R) !== 0;
export const isFromInitiator = (h: IkeHeader): boolean => (h.flags & FLAG_I) !== 0;

/** Decodes b[off, off+28); the Length field must fit in len bytes (trailing bytes are ignored, as charon does). */
export function parseIkeHeader(b: Uint8Array, off = 0, len = b.length - off): IkeHeader | IkeDecodeError {
  if (len < IKE_HDR_LEN || off + len > b.length) return new IkeDecodeError(`message of ${len} bytes is shorter than the IKE header`);
  const length = be32(b, off + 24);
  if (length < IKE_HDR_LEN || length > len) return new IkeDecodeError(`header length ${length} does not match the ${len}-byte datagram`);
  return {
    spiI: b.slice(off, off + 8), // eslint-disable-line no-restricted-syntax -- control plane: the header outlives the datagram
    spiR: b.slice(off + 8, off + 16), // eslint-disable-line no-restricted-syntax -- as above
    nextPayload: b[off + 16]!,
    version: b[off + 17]!,
    exchange: b[off + 18]!,
    flags: b[off + 19]!,
    messageId: be32(b, off + 20),
    length,
  };
}

/** Writes the 28-byte header at b[off]. */
export function emitIkeHeader(h: IkeHeader, b: Uint8Array, off = 0): void {
  if (off + IKE_HDR_LEN > b.length) throw new RangeError('emitIkeHeader: buffer too short');
  if (h.spiI.length !== 8 || h.spiR.length !== 8) throw new RangeError('emitIkeHeader: SPIs are 8 bytes');
  b.set(h.spiI, off);
  b.set(h.spiR, off + 8);
  b[off + 16] = h.nextPayload;
  b[off + 17] = h.version;
  b[off + 18] = h.exchange;
  b[off + 19] = h.flags;
  put32(b, off + 20, h.messageId);
  put32(b, off + 24, h.length);
}
