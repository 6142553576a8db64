// IKEv2 messages for codec tests and fuzz seeds: one payload of every type
// the codecs know (src/wire/ike/payloads.ts), under an IKE_SA_INIT header.
import { IKE_SA_INIT, N, PL, PROTO_ESP, PROTO_IKE, TS_IPV4_ADDR_RANGE } from '../../src/wire/ike/consts.js';
import type { Payload } from '../../src/wire/ike/payloads.js';

export const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
export const IKE_HDR = { spiI: u8(1, 2, 3, 4, 5, 6, 7, 8), spiR: new Uint8Array(8), version: 0x20, exchange: IKE_SA_INIT, flags: 0x08, messageId: 0 };

export const ALL_PAYLOADS: Payload[] = [
  { type: PL.SA, proposals: [
    { num: 1, protocolId: PROTO_IKE, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20, keyLength: 128 }, { type: 2, id: 5 }, { type: 4, id: 31 }] },
    { num: 2, protocolId: PROTO_ESP, spi: u8(0xc0, 0, 0, 1), transforms: [{ type: 1, id: 12, keyLength: 256 }, { type: 3, id: 12 }, { type: 5, id: 0 }] },
  ] },
  { type: PL.KE, group: 31, data: new Uint8Array(32).fill(7) },
  { type: PL.NONCE, data: new Uint8Array(32).fill(9) },
  { type: PL.N, protocolId: 0, spi: new Uint8Array(0), notifyType: N.NAT_DETECTION_SOURCE_IP, data: new Uint8Array(20).fill(3) },
  { type: PL.IDi, idType: 2, data: new TextEncoder().encode('t.example') },
  { type: PL.IDr, idType: 1, data: u8(198, 51, 100, 2) },
  { type: PL.AUTH, method: 2, data: new Uint8Array(32).fill(1) },
  { type: PL.CERT, encoding: 4, data: new Uint8Array(300).fill(0x30) },
  { type: PL.CERTREQ, encoding: 4, data: new Uint8Array(40).fill(0x5c) },
  { type: PL.TSi, selectors: [{ tsType: TS_IPV4_ADDR_RANGE, ipProto: 0, startPort: 0, endPort: 65535, start: u8(203, 0, 113, 0), end: u8(203, 0, 113, 255) }] },
  { type: PL.TSr, selectors: [] },
  { type: PL.D, protocolId: PROTO_ESP, spiSize: 4, spis: [u8(1, 2, 3, 4), u8(5, 6, 7, 8)] },
  { type: PL.V, data: u8(0xde, 0xad) },
  { type: 'other', payloadType: 99, isCritical: true, data: u8(1) },
];
