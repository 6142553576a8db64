// XfrmState / XfrmPolicy → the JSON records of spec.ts (what `tunkit xfrm
// state|policy list` prints, and what monitor events carry). Keys are
// replaced by "" unless `withKeys` (style: keys never leave the daemon
// unless asked for). Times: the stack's clock is wall-clock milliseconds;
// records carry Unix seconds, as xfrm_lifetime_cur does.

import type { CoreEvent } from './xfrm.js';
import { formatXAddr } from './selector.js';
import type { XfrmPolicy } from './spd.js';
import type { PolicyRecord, StateRecord, StateSpec, XfrmEvent } from './spec.js';
import { KmState } from './state.js';
import type { XfrmState } from './state.js';
import { formatIp4 } from '../wire/addr.js';

const sec = (ms: number): number => Math.floor(ms / 1000);

const masked = (s: StateSpec): StateSpec => ({
  ...s,
  ...(s.aead !== undefined ? { aead: { ...s.aead, keyHex: '' } } : {}),
  ...(s.enc !== undefined ? { enc: { ...s.enc, keyHex: '' } } : {}),
  ...(s.auth !== undefined ? { auth: { ...s.auth, keyHex: '' } } : {}),
});

export function stateRecord(x: XfrmState, withKeys: boolean): StateRecord {
  const r = x.replay.record();
  return {
    ...(withKeys ? x.spec : masked(x.spec)),
    stats: { replayWindow: x.statReplayWindow, replay: x.statReplay, integrityFailed: x.statIntegrityFailed },
    curlft: { bytes: x.curBytes, packets: x.curPackets, addTime: sec(x.addTimeMs), useTime: x.useTimeMs === 0 ? 0 : sec(x.useTimeMs) },
    replay: r,
    state: x.km === KmState.Expired ? 'expired' : x.km === KmState.Dying ? 'dying' : 'valid',
  };
}

export function policyRecord(p: XfrmPolicy): PolicyRecord {
  return {
    ...p.spec,
    index: p.index,
    priority: p.priority,
    action: p.isBlock ? 'block' : 'allow',
    curlft: { bytes: 0, packets: 0, addTime: sec(p.addTimeMs), useTime: p.useTimeMs === 0 ? 0 : sec(p.useTimeMs) },
  };
}

/** A core event as the monitor stream carries it (no keys). */
export function eventRecord(e: CoreEvent): XfrmEvent {
  switch (e.kind) {
    case 'expire': {
      const st = stateRecord(e.state, false);
      // km_state_expired reports curlft as it was when the limit fired (before that packet counted).
      const curlft = e.at !== null ? { ...st.curlft, bytes: e.at.bytes, packets: e.at.packets } : st.curlft;
      return { type: 'xfrm.expire', hard: e.hard, state: { ...st, curlft } };
    }
    case 'acquire': {
      const bytes = (b: Uint8Array): string => formatXAddr({ family: e.family, bytes: e.family === 4 ? padded(b) : b });
      return { type: 'xfrm.acquire', policy: policyRecord(e.policy), src: bytes(e.src), dst: bytes(e.dst), proto: e.proto };
    }
    case 'mapping':
      return {
        type: 'xfrm.mapping', dst: formatXAddr(e.state.cfg.dst), spi: e.state.cfg.spi,
        oldSrc: formatIp4(e.oldAddr), oldSport: e.oldPort, newSrc: formatIp4(e.newAddr), newSport: e.newPort,
      };
  }
}

function padded(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(b.subarray(0, 4));
  return out;
}
