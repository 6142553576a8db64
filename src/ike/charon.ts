// charon's global settings that tunkit's IKE honours, from a strongswan.conf
// subset (strongswan.conf(5), `tunkitd --strongswan-conf FILE`):
//
//   charon {
//     keep_alive = 20s            NAT keepalive interval from the NATed side (0: off)
//     retransmit_timeout = 4.0    first retransmission after this many seconds
//     retransmit_base = 1.8       each next one waits base times longer
//     retransmit_tries = 5        retransmissions before an exchange is given up
//     cookie_threshold = 30       half-open IKE SAs from which COOKIEs are asked (RFC 7296 §2.6)
//     cookie_threshold_ip = 3     the same, per peer address
//     fragment_size = 1280        largest IP datagram of an IKE fragment we send (RFC 7383; 0: 576 IPv4 / 1280 IPv6)
//     max_packet = 10000          most bytes a message reassembled from the peer's fragments may hold
//   }
//
// Any other key under charon (or any section but charon) is refused with
// FILE:LINE: key, like swanctl.conf's keys. Pure: the caller reads the file.

import { parseSeconds } from './actions.js';
import type { RetransmitPolicy } from './retransmit.js';
import { STRONGSWAN_RETRANSMIT } from './retransmit.js';
import { parseSettings, SwanctlError } from './swanctl.js';

export interface CharonSettings {
  readonly retransmit: RetransmitPolicy;
  /** NAT keepalive interval (ms); 0 = none. */
  readonly keepAliveMs: number;
  readonly cookieThreshold: number;
  readonly cookieThresholdIp: number;
  /** IP datagram bytes of an IKE fragment of ours (0: 576 IPv4, 1280 IPv6): frag.ts. */
  readonly fragmentSize: number;
  /** Bytes a reassembled message may hold. */
  readonly maxPacket: number;
}

/** strongSwan 5.9's defaults. */
export const CHARON_DEFAULTS: CharonSettings = {
  retransmit: STRONGSWAN_RETRANSMIT, keepAliveMs: 20_000, cookieThreshold: 30, cookieThresholdIp: 3,
  fragmentSize: 1280, maxPacket: 10_000,
};

/** Smallest fragment_size taken: an IPv6 fragment of it still carries content with any supported cipher. */
export const MIN_FRAGMENT_SIZE = 256;

type Item = ReturnType<typeof parseSettings>['items'][number];

/** Parses a strongswan.conf text's charon section; throws SwanctlError naming file, line and key. */
export function parseCharonConf(text: string, file: string): CharonSettings {
  const root = parseSettings(text, file);
  let s: { -readonly [K in keyof CharonSettings]: CharonSettings[K] } = { ...CHARON_DEFAULTS };
  let rt: { -readonly [K in keyof RetransmitPolicy]: RetransmitPolicy[K] } = { ...STRONGSWAN_RETRANSMIT };
  const num = (it: Extract<Item, { kind: 'value' }>, key: string, ok: (n: number) => boolean, what: string): number => {
    const n = key === 'keep_alive' ? parseSeconds(it.value) : /^\d+(\.\d+)?$/.test(it.value.trim()) ? Number(it.value) : null;
    if (n === null || !ok(n)) throw new SwanctlError(file, it.line, `charon.${key}`, `"${it.value}" is not ${what}`);
    return n;
  };
  for (const top of root.items) {
    const name = top.kind === 'value' ? top.key : top.name;
    if (top.kind !== 'section' || name !== 'charon') throw new SwanctlError(file, top.line, name, 'is not supported by tunkit (only the charon section)');
    for (const it of top.items) {
      const key = it.kind === 'value' ? it.key : it.name;
      if (it.kind !== 'value') throw new SwanctlError(file, it.line, `charon.${key}`, 'section is not supported by tunkit');
      if (key === 'keep_alive') s = { ...s, keepAliveMs: Math.round(num(it, key, () => true, 'a time') * 1000) };
      else if (key === 'retransmit_timeout') rt = { ...rt, timeoutMs: Math.round(num(it, key, (n) => n > 0, 'a positive number of seconds') * 1000) };
      else if (key === 'retransmit_base') rt = { ...rt, base: num(it, key, (n) => n >= 1, 'a number ≥ 1') };
      else if (key === 'retransmit_tries') rt = { ...rt, tries: num(it, key, (n) => Number.isInteger(n) && n <= 100, 'a whole number up to 100') };
      else if (key === 'cookie_threshold') s = { ...s, cookieThreshold: num(it, key, Number.isInteger, 'a whole number') };
      else if (key === 'cookie_threshold_ip') s = { ...s, cookieThresholdIp: num(it, key, Number.isInteger, 'a whole number') };
      else if (key === 'fragment_size') s = { ...s, fragmentSize: num(it, key, (n) => n === 0 || (Number.isInteger(n) && n >= MIN_FRAGMENT_SIZE && n <= 65535), `0 or a whole number from ${MIN_FRAGMENT_SIZE} to 65535`) };
      else if (key === 'max_packet') s = { ...s, maxPacket: num(it, key, (n) => Number.isInteger(n) && n >= 1280 && n <= 1_048_576, 'a whole number from 1280 to 1048576') };
      else throw new SwanctlError(file, it.line, `charon.${key}`, 'is not supported by tunkit (it would be silently ignored, so it is refused)');
    }
  }
  return { ...s, retransmit: rt };
}
