// SA lifetimes (swanctl.conf rekey_time, rand_time, life_time / over_time),
// as charon schedules them: the rekey starts at rekey_time minus a random
// 0..rand_time, so two peers with the same configuration seldom start
// together (and when they do, §2.8.1 settles it); an SA still not replaced
// at life_time goes. Times in ms on the core's clock; the random source is
// the host's.

import type { LimitsSpec } from '../control/xfrm.js';
import { be32 } from '../wire/bytes.js';
import type { ChildConfig, Lifetimes, Volume } from './config.js';
import type { Deadlines } from './sa.js';

/** How long a replaced Child SA's inbound state stays after the switch (late packets on the old SPI still get in). */
export const OLD_SA_LINGER_MS = 5_000;
/** How long a rekey responder holds back the new outbound state when the initiator's delete of the old SA does not come. */
export const OUT_SWITCH_FALLBACK_MS = 10_000;
/** How long an IKE SA the peer rekeyed waits for the peer's delete before it is dropped. */
export const REKEYED_SA_TIMEOUT_MS = 30_000;
/** After a TEMPORARY_FAILURE (a crossing exchange won), the rekey is tried again in 10..20 s. */
export const RETRY_MS = 10_000;

/** Deadlines for an SA set up at nowMs; `rnd` gives 4 random bytes for the jitter. */
export function deadlines(life: Lifetimes, nowMs: number, rnd: Uint8Array): Deadlines {
  const jitterMs = life.randSec > 0 ? Math.floor((be32(rnd, 0) / 0x1_0000_0000) * life.randSec * 1000) : 0;
  return {
    rekeyAtMs: life.rekeySec > 0 ? nowMs + life.rekeySec * 1000 - jitterMs : null,
    expireAtMs: life.lifeSec > 0 ? nowMs + life.lifeSec * 1000 : null,
  };
}

/**
 * The xfrm limits of a Child SA's states: soft at the (jittered) rekey
 * time, hard at life_time (whole seconds from nowMs), plus its volume
 * limits (volumeLimits); undefined when there are none.
 */
export function limitsOf(at: Deadlines, nowMs: number, volume: LimitsSpec = {}): LimitsSpec | undefined {
  const s = (t: number | null): number | undefined => (t === null ? undefined : Math.max(1, Math.ceil((t - nowMs) / 1000)));
  const soft = s(at.rekeyAtMs);
  const hard = s(at.expireAtMs);
  const l = { ...(soft !== undefined ? { timeSoft: soft } : {}), ...(hard !== undefined ? { timeHard: hard } : {}), ...volume };
  return Object.keys(l).length === 0 ? undefined : l;
}

/**
 * A child SA's byte and packet limits, drawn once per SA: soft at rekey
 * minus a random 0..rand (charon's child_cfg get_lifetime with jitter),
 * hard at life; a 0 in the configuration sets no limit. `rnd`: 8 random bytes.
 */
export function volumeLimits(cfg: ChildConfig, rnd: Uint8Array): LimitsSpec {
  const draw = (v: Volume, at: number): [number, number] => {
    const jitter = v.rand > 0 ? Math.floor((be32(rnd, at) / 0x1_0000_0000) * v.rand) : 0;
    return [v.rekey > 0 ? Math.max(1, v.rekey - jitter) : 0, v.life];
  };
  const [byteSoft, byteHard] = draw(cfg.bytes, 0);
  const [packetSoft, packetHard] = draw(cfg.packets, 4);
  return {
    ...(byteSoft > 0 ? { byteSoft } : {}), ...(byteHard > 0 ? { byteHard } : {}),
    ...(packetSoft > 0 ? { packetSoft } : {}), ...(packetHard > 0 ? { packetHard } : {}),
  };
}

/** The smaller of two deadlines (null = none). */
export const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/** Byte-wise comparison of nonces (§2.8.1 "lowest nonce"); a shorter prefix is lower. */
export function compareNonce(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The lower of an exchange's two nonces. */
export const minNonce = (a: Uint8Array, b: Uint8Array): Uint8Array => (compareNonce(a, b) <= 0 ? a : b);
