// StateSpec → SaConfig: the checks of net/xfrm/xfrm_user.c (verify_newsa_info,
// verify_replay, copy_from_user_state, xfrm_state_construct) and of
// __xfrm_init_state / xfrm_init_replay (net/xfrm/xfrm_state.c,
// xfrm_replay.c), each refusal a ConfigError naming the field. The crypto
// algorithms and keys are checked by makeEspCrypto (esp-crypto.ts).
// Runs on the control plane only.

import { fromHex } from '../wire/bytes.js';
import { ConfigError } from '../wire/errors.js';
import type { EspCryptoConfig } from './esp-crypto.js';
import { REPLAY_LEGACY_MAX, ReplayMode, XFRMA_REPLAY_ESN_MAX } from './replay.js';
import { anySelector, makeSelector, parseXAddr } from './selector.js';
import type { Family, Selector, XAddr } from './selector.js';
import { STATE_FLAGS, STATE_XFLAGS } from './spec.js';
import type { AlgoSpec, LimitsSpec, MarkSpec, StateSpec } from './spec.js';

export const XFRM_MODE_TRANSPORT = 0;
export const XFRM_MODE_TUNNEL = 1;

export const XFRM_STATE_NOECN = 1;
export const XFRM_STATE_DECAP_DSCP = 2;
export const XFRM_STATE_NOPMTUDISC = 4;
export const XFRM_STATE_WILDRECV = 8;
export const XFRM_STATE_ICMP = 16;
export const XFRM_STATE_AF_UNSPEC = 32;
export const XFRM_STATE_ALIGN4 = 64;
export const XFRM_STATE_ESN = 128;
export const XFRM_SA_XFLAG_DONT_ENCAP_DSCP = 1;
export const XFRM_SA_XFLAG_OSEQ_MAY_WRAP = 2;

/** UDP_ENCAP_ESPINUDP_NON_IKE = 1 (draft-00, 8-byte marker), UDP_ENCAP_ESPINUDP = 2 (RFC 3948). */
export const UDP_ENCAP_ESPINUDP_NON_IKE = 1;
export const UDP_ENCAP_ESPINUDP = 2;


/** xfrm_lifetime_cfg; Infinity = XFRM_INF. Seconds, bytes, packets. */
export interface Limits {
  readonly timeSoft: number; readonly timeHard: number;
  readonly timeUseSoft: number; readonly timeUseHard: number;
  readonly byteSoft: number; readonly byteHard: number;
  readonly packetSoft: number; readonly packetHard: number;
}

export interface Encap { readonly type: 1 | 2; readonly sport: number; readonly dport: number; readonly oa: XAddr }
export interface Mark { readonly value: number; readonly mask: number }

/** A validated SA: everything the data path needs, parsed once. */
export interface SaConfig {
  readonly family: Family;
  readonly src: XAddr;
  readonly dst: XAddr;
  readonly spi: number;
  readonly mode: number;
  readonly reqid: number;
  readonly replayMode: ReplayMode;
  /** Effective window (legacy clamped to 32, as copy_from_user_state does). */
  readonly replayWindow: number;
  readonly flags: number;
  readonly xflags: number;
  readonly crypto: EspCryptoConfig;
  readonly encap: Encap | null;
  readonly sel: Selector;
  readonly limits: Limits;
  readonly ifId: number;
  readonly mark: Mark;
  readonly outputMark: Mark;
  readonly tfcpad: number;
}

const u32 = (field: string, v: unknown, dflt = 0): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(field, 'must be an unsigned 32-bit integer');
  return v;
};

function limit(field: string, v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ConfigError(field, 'must be a non-negative integer');
  return v;
}

/** `limit ...`: absent fields are infinite. */
export function makeLimits(l: LimitsSpec | undefined): Limits {
  const s = (l ?? {}) as Record<string, unknown>;
  if (typeof s !== 'object' || s === null) throw new ConfigError('limits', 'must be an object');
  return {
    timeSoft: limit('limit time-soft', s['timeSoft']), timeHard: limit('limit time-hard', s['timeHard']),
    timeUseSoft: limit('limit time-use-soft', s['timeUseSoft']), timeUseHard: limit('limit time-use-hard', s['timeUseHard']),
    byteSoft: limit('limit byte-soft', s['byteSoft']), byteHard: limit('limit byte-hard', s['byteHard']),
    packetSoft: limit('limit packet-soft', s['packetSoft']), packetHard: limit('limit packet-hard', s['packetHard']),
  };
}

function flagBits<T extends Record<string, number>>(field: string, names: unknown, table: T): number {
  if (names === undefined) return 0;
  if (!Array.isArray(names)) throw new ConfigError(field, 'must be a list of flag names');
  let bits = 0;
  for (const n of names) {
    const v = typeof n === 'string' ? table[n] : undefined;
    if (v === undefined) throw new ConfigError(field, `unknown flag ${JSON.stringify(n)} (${Object.keys(table).join(', ')})`);
    bits |= v;
  }
  return bits;
}

function algo(field: string, a: AlgoSpec | undefined): { name: string; key: Uint8Array; bits?: number } | undefined {
  if (a === undefined) return undefined;
  if (typeof a !== 'object' || a === null || typeof a.name !== 'string' || typeof a.keyHex !== 'string') {
    throw new ConfigError(field, 'needs a name and a hex key');
  }
  const key = fromHex(a.keyHex.replace(/^0x/i, ''));
  if (key === null) throw new ConfigError(field, 'the key is not hex');
  if (a.bits !== undefined && (typeof a.bits !== 'number' || !Number.isInteger(a.bits) || a.bits < 0)) throw new ConfigError(field, 'bits must be a non-negative integer');
  return a.bits !== undefined ? { name: a.name, key, bits: a.bits } : { name: a.name, key };
}

function mark(field: string, m: MarkSpec | undefined): Mark {
  if (m === undefined) return { value: 0, mask: 0 };
  if (typeof m !== 'object' || m === null) throw new ConfigError(field, 'must be {value, mask}');
  return { value: u32(`${field} value`, m.value), mask: u32(`${field} mask`, m.mask, 0xffffffff) };
}

/** verify_replay + xfrm_init_replay: the replay mode and effective window. */
function replay(flags: number, window: unknown): { mode: ReplayMode; window: number } {
  const w = u32('replay-window', window);
  if ((flags & XFRM_STATE_ESN) !== 0) {
    if (w === 0) throw new ConfigError('replay-window', 'an ESN state needs a replay window > 0 (xfrm_init_replay)');
    if (w > XFRMA_REPLAY_ESN_MAX) throw new ConfigError('replay-window', `ESN bitmap length must be <= ${XFRMA_REPLAY_ESN_MAX / 32}`);
    return { mode: ReplayMode.Esn, window: w };
  }
  if (w > REPLAY_LEGACY_MAX) {
    if (w > XFRMA_REPLAY_ESN_MAX) throw new ConfigError('replay-window', `ESN bitmap length must be <= ${XFRMA_REPLAY_ESN_MAX / 32}`);
    return { mode: ReplayMode.Bmp, window: w };
  }
  return { mode: ReplayMode.Legacy, window: w };
}

function encap(spec: StateSpec, family: Family): Encap | null {
  const e = spec.encap;
  if (e === undefined) return null;
  if (typeof e !== 'object' || e === null) throw new ConfigError('encap', 'must be an object');
  if (family !== 4) throw new ConfigError('encap', 'UDP encapsulation is for IPv4 states only (esp4)');
  const type = e.type === 'espinudp' ? UDP_ENCAP_ESPINUDP : e.type === 'espinudp-nonike' ? UDP_ENCAP_ESPINUDP_NON_IKE : 0;
  if (type === 0) throw new ConfigError('encap', `type ${JSON.stringify(e.type)} is not espinudp or espinudp-nonike`);
  const port = (f: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffff) throw new ConfigError(f, 'must be 1..65535');
    return v;
  };
  return { type, sport: port('encap sport', e.sport), dport: port('encap dport', e.dport), oa: parseXAddr('encap oa', e.oa ?? '0.0.0.0') };
}

/** The whole StateSpec check. `ifindexOf` resolves selector devices. */
export function makeSaConfig(spec: StateSpec, ifindexOf: (dev: string) => number | null): SaConfig {
  if (typeof spec !== 'object' || spec === null) throw new ConfigError('state', 'must be an object');
  const src = parseXAddr('src', spec.src);
  const dst = parseXAddr('dst', spec.dst);
  if (src.family !== dst.family) throw new ConfigError('dst', 'src and dst must be of one family');
  if (spec.proto !== 'esp') throw new ConfigError('proto', `${JSON.stringify(spec.proto)}: tunkit implements proto esp`);
  const spi = u32('spi', spec.spi);
  // verify_newsa_info puts no bound on the SPI (RFC 4303 §2.1 reserves 1..255 for IANA; the kernel accepts them).
  const mode = spec.mode === 'tunnel' ? XFRM_MODE_TUNNEL : spec.mode === 'transport' ? XFRM_MODE_TRANSPORT : -1;
  if (mode < 0) throw new ConfigError('mode', `${JSON.stringify(spec.mode)}: tunkit implements mode transport and tunnel`);
  const flags = flagBits('flag', spec.flags, STATE_FLAGS);
  const xflags = flagBits('extra-flag', spec.extraFlags, STATE_XFLAGS);
  const rp = replay(flags, spec.replayWindow);
  if (spec.aead !== undefined && (spec.enc !== undefined || spec.auth !== undefined)) {
    throw new ConfigError('aead', 'an aead algorithm cannot be combined with enc or auth (verify_newsa_info)');
  }
  if (spec.aead === undefined && spec.enc === undefined) {
    throw new ConfigError(spec.auth !== undefined ? 'enc' : 'aead', 'ESP needs an aead or an enc algorithm (esp_init_authenc)');
  }
  const tfcpad = u32('tfcpad', spec.tfcpad);
  if (tfcpad !== 0 && mode !== XFRM_MODE_TUNNEL) throw new ConfigError('tfcpad', 'TFC padding needs mode tunnel (verify_newsa_info)');
  const sel = spec.sel !== undefined ? makeSelector('sel', spec.sel, ifindexOf) : anySelector((flags & XFRM_STATE_AF_UNSPEC) !== 0 ? 0 : src.family);
  if (mode === XFRM_MODE_TRANSPORT && sel.family !== 0 && sel.family !== src.family) {
    throw new ConfigError('sel', 'a transport-mode state selects its own family only (__xfrm_init_state: EAFNOSUPPORT)');
  }
  const aead = algo('aead', spec.aead);
  const enc = algo('enc', spec.enc);
  const auth = algo('auth', spec.auth);
  const crypto: EspCryptoConfig = { esn: rp.mode === ReplayMode.Esn, ...(aead ? { aead } : {}), ...(enc ? { enc } : {}), ...(auth ? { auth } : {}) };
  return {
    family: src.family, src, dst, spi, mode, reqid: u32('reqid', spec.reqid), replayMode: rp.mode, replayWindow: rp.window,
    flags, xflags, crypto, encap: encap(spec, src.family), sel, limits: makeLimits(spec.limits),
    ifId: u32('if_id', spec.ifId), mark: mark('mark', spec.mark), outputMark: mark('output-mark', spec.outputMark), tfcpad,
  };
}
