// RFC 7296 §3: a whole IKE message, header plus payload chain. For
// SK-protected messages the chain ends in the raw SK payload; ike/sk.ts
// decrypts it and calls parseChain on the plaintext.

import { IKE_HDR_LEN } from './consts.js';
import { emitIkeHeader, IkeDecodeError, parseIkeHeader } from './header.js';
import type { IkeHeader } from './header.js';
import { chainLen, emitChain, firstType, parseChain } from './payloads.js';
import type { Payload } from './payloads.js';

export interface IkeMessage {
  readonly header: IkeHeader;
  readonly payloads: readonly Payload[];
}

/** Decodes one IKE message (no non-ESP marker) from b[off, off+len). Never throws. */
export function parseMessage(b: Uint8Array, off = 0, len = b.length - off): IkeMessage | IkeDecodeError {
  const header = parseIkeHeader(b, off, len);
  if (header instanceof IkeDecodeError) return header;
  const payloads = parseChain(b, off + IKE_HDR_LEN, header.length - IKE_HDR_LEN, header.nextPayload);
  if (payloads instanceof IkeDecodeError) return payloads;
  return { header, payloads };
}

/** The header fields a sender chooses (Next Payload and Length follow from the payloads). */
export type HeaderFields = Omit<IkeHeader, 'nextPayload' | 'length'>;

/** Encodes header + payloads into a new buffer of exactly the message's length. */
export function emitMessage(h: HeaderFields, payloads: readonly Payload[]): Uint8Array {
  const length = IKE_HDR_LEN + chainLen(payloads);
  const b = new Uint8Array(length);
  emitIkeHeader({ ...h, nextPayload: firstType(payloads), length }, b, 0);
  emitChain(payloads, b, IKE_HDR_LEN);
  return b;
}
