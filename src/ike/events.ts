// The core's monitor events (control/ike.ts IkeEvent) built from its SAs:
// names, unique ids, endpoints, SPIs and selectors — never keys, nonces or
// identities' secrets. The core hands them to IkeHost.event; the daemon
// publishes them to `tunkit ike monitor`.
//
//   IKE SA established (IKE_AUTH) ─► ike-updown up      removed ─► ike-updown down (not once rekeyed)
//   Child SA established ─────────► child-updown up    removed ─► child-updown down (not once rekeyed)
//   IKE rekey (either side) ──────► ike-rekey old → new
//   Child rekey (either side) ────► child-rekey old → new
//   authentication refused, or an SA never made ─► failure (auth | negotiation) with the logged reason

import type { ChildSaRef, IkeEvent, IkeSaRef } from '../control/ike.js';
import { toHex } from '../wire/bytes.js';
import type { ChildSa, IkeSa } from './sa.js';
import { hex32 } from './sa.js';
import { tsText } from './ts.js';

export function ikeRef(sa: IkeSa): IkeSaRef {
  return {
    name: sa.conn.name, uniqueId: sa.uniqueId, localAddr: sa.local.addr, localPort: sa.local.port,
    remoteAddr: sa.remote.addr, remotePort: sa.remote.port, spiI: toHex(sa.spiI), spiR: toHex(sa.spiR), isInitiator: sa.isInitiator,
  };
}

export function childRef(ch: ChildSa): ChildSaRef {
  return {
    name: ch.cfg.name, uniqueId: ch.uniqueId, reqid: ch.reqid, spiIn: hex32(ch.spiIn), spiOut: hex32(ch.spiOut),
    localTs: ch.localTs.map(tsText), remoteTs: ch.remoteTs.map(tsText),
  };
}

export function ikeUpDown(sa: IkeSa, up: boolean, reason?: string): IkeEvent {
  return { type: 'ike.ike-updown', up, ike: ikeRef(sa), localId: sa.localId, remoteId: sa.remoteId, ...(reason !== undefined ? { reason } : {}) };
}

export const childUpDown = (sa: IkeSa, ch: ChildSa, up: boolean): IkeEvent => ({ type: 'ike.child-updown', up, ike: ikeRef(sa), child: childRef(ch) });

export const ikeRekey = (old: IkeSa, next: IkeSa): IkeEvent => ({ type: 'ike.ike-rekey', old: ikeRef(old), new: ikeRef(next) });

export const childRekey = (sa: IkeSa, old: ChildSa, next: ChildSa): IkeEvent => ({ type: 'ike.child-rekey', ike: ikeRef(sa), old: childRef(old), new: childRef(next) });

export function failure(kind: 'auth' | 'negotiation', name: string, uniqueId: number, remote: { readonly addr: string; readonly port: number }, reason: string): IkeEvent {
  return { type: 'ike.failure', kind, name, uniqueId, remoteAddr: remote.addr, remotePort: remote.port, reason };
}

/** An IKE SA just established by IKE_AUTH: ike-updown up, then child-updown up for each Child SA it brought. */
export const upEvents = (sa: IkeSa): IkeEvent[] => [ikeUpDown(sa, true), ...sa.children.map((ch) => childUpDown(sa, ch, true))];
