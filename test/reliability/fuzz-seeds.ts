// Seed corpora for the fuzz targets: the golden vectors (test/vectors/*.json
// hex fields, the Linux 6.1 captures in test/vectors/pcap) and a few
// hand-built messages, so that mutation starts from packets that pass the
// first checks and reaches the deep paths.

import { readdirSync } from 'node:fs';
import { emitMessage } from '../../src/wire/ike/message.js';
import { ALL_PAYLOADS, IKE_HDR } from '../util/ike-payloads.js';
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

/** Two IKEv2 messages holding every payload type the codecs know (test/util/ike-payloads.ts). */
export function ikeMessages(): Uint8Array[] {
  const hdr = IKE_HDR;
  const all = ALL_PAYLOADS;
  return [emitMessage(hdr, all), emitMessage({ ...hdr, flags: 0x20, messageId: 1 }, all.slice(0, 4))];
}
