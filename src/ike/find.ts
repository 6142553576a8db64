// Building and finding payloads in a decoded chain (RFC 7296 §3.10
// notifies above all): what every exchange handler needs. core.ts
// re-exports these for the handlers that import them from there.

import { PL } from '../wire/ike/consts.js';
import type { Payload } from '../wire/ike/payloads.js';

/** A notify payload with no SPI. */
export const notify = (notifyType: number, data: Uint8Array = new Uint8Array(0), protocolId = 0): Payload =>
  ({ type: PL.N, protocolId, spi: new Uint8Array(0), notifyType, data });

/** The first notify of a type in a payload list. */
export const findNotify = (ps: readonly Payload[], t: number): Extract<Payload, { type: typeof PL.N }> | undefined =>
  ps.find((p): p is Extract<Payload, { type: typeof PL.N }> => p.type === PL.N && p.notifyType === t);

/** The first error notify (type < 16384), if any. */
export const findError = (ps: readonly Payload[]): Extract<Payload, { type: typeof PL.N }> | undefined =>
  ps.find((p): p is Extract<Payload, { type: typeof PL.N }> => p.type === PL.N && p.notifyType < 16384);

/** The Payload variant(s) whose `type` can be T (IDi and IDr share one variant, as do TSi and TSr). */
export type PayloadOf<T> = Payload extends infer P ? (P extends { readonly type: infer U } ? (T extends U ? P : never) : never) : never;

/** The first payload of a type. */
export function first<T extends Payload['type']>(ps: readonly Payload[], t: T): PayloadOf<T> | undefined {
  return ps.find((p) => p.type === t) as PayloadOf<T> | undefined;
}
