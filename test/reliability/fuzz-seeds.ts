// Seed corpora for the fuzz targets: the golden vectors (test/vectors/*.json
// hex fields, the Linux 6.1 captures in test/vectors/pcap) and a few
// hand-built messages, so that mutation starts from packets that pass the
// first checks and reaches the deep paths.

import { readdirSync } from 'node:fs';
import { IKE_SA_INIT, N, PL, PROTO_ESP, PROTO_IKE, TS_IPV4_ADDR_RANGE } from '../../src/wire/ike/consts.js';
import { emitMessage } from '../../src/wire/ike/message.js';
import type { Payload } from '../../src/wire/ike/payloads.js';
import { readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { hex } from '../util/hex.js';
import { loadBytes, loadJson, vectorPath } from '../util/paths.js';

/** Every string of even length ≥ 8 made of hex digits anywhere in a vector file, as bytes. */
export function hexFields(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= 8 && v.length % 2 === 0 && /^[0-9a-f]+$/i.test(v)) out.push(hex(v));
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(loadJson<unknown>(file));
  return out;
}

/** The capture files under test/vectors/pcap. */
export const PCAPS: readonly string[] = readdirSync(vectorPath('pcap')).filter((f) => f.endsWith('.pcap')).sort();

/** Whole Ethernet frames of one capture. */
export function frames(file: string): Uint8Array[] {
  return (readPcap(loadBytes(`pcap/${file}`)) as PcapFile).records.map((r) => new Uint8Array(r.data));
}

/** The outer IPv4 packets (Ethernet stripped) of every capture, or of the named ones. */
export function ip4Packets(files: readonly string[] = PCAPS): Uint8Array[] {
  return files.flatMap(frames).filter((f) => f.length > 14 && f[12] === 0x08 && f[13] === 0x00).map((f) => f.subarray(14));
}

/** The IP payloads (from byte 20 of the outer IPv4 header) of the named captures. */
export function ip4Payloads(files: readonly string[]): Uint8Array[] {
  return ip4Packets(files).map((p) => p.subarray((p[0]! & 0xf) * 4));
}

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** Two IKEv2 messages holding every payload type the codecs know (as test/wire/ike.test.ts builds them). */
export function ikeMessages(): Uint8Array[] {
  const hdr = { spiI: u8(1, 2, 3, 4, 5, 6, 7, 8), spiR: new Uint8Array(8), version: 0x20, exchange: IKE_SA_INIT, flags: 0x08, messageId: 0 };
  const all: Payload[] = [
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
    { type: PL.TSi, selectors: [{ tsType: TS_IPV4_ADDR_RANGE, ipProto: 0, startPort: 0, endPort: 65535, start: u8(203, 0, 113, 0), end: u8(203, 0, 113, 255) }] },
    { type: PL.TSr, selectors: [] },
    { type: PL.D, protocolId: PROTO_ESP, spiSize: 4, spis: [u8(1, 2, 3, 4), u8(5, 6, 7, 8)] },
    { type: PL.V, data: u8(0xde, 0xad) },
    { type: 'other', payloadType: 99, isCritical: true, data: u8(1) },
  ];
  return [emitMessage(hdr, all), emitMessage({ ...hdr, flags: 0x20, messageId: 1 }, all.slice(0, 4))];
}
