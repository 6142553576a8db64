// The SA timers the core's tick() runs, and the events that start the same
// work early: xfrm expire events (the daemon's XfrmControl publishes them;
// soft = rekey, hard = delete, as charon handles the kernel's
// XFRM_MSG_EXPIRE) and `tunkit ike rekey` (swanctl --rekey).
//
//   IKE SA    rekeyAtMs → rekey-ike.ts startIkeRekey   expireAtMs → D(IKE)
//             REKEYED and never deleted by the peer → dropped at expireAtMs
//   Child SA  rekeyAtMs → create-child.ts startChildRekey   expireAtMs → D(ESP)
//             pendingOut past outDueMs → the held-back outbound state goes in
//             removeAtMs (a replaced SA's lingering inbound state) → removed

import type { IkeRekeyArgs } from '../control/ike.js';
import { VpnError } from '../wire/errors.js';
import { PL, PROTO_IKE, INFORMATIONAL } from '../wire/ike/consts.js';
import type { IkeCore } from './core.js';
import { activateOut, deleteChild, startChildRekey } from './create-child.js';
import { earliest } from './lifetime.js';
import { startIkeRekey } from './rekey-ike.js';
import type { ChildSa, IkeSa } from './sa.js';

/** A due rekey that cannot start yet (the outbound switch is pending) is looked at again after this. */
const RECHECK_MS = 1_000;

const tag = (sa: IkeSa): string => `${sa.conn.name}[${sa.uniqueId}]`;

/** Sends D(IKE) for an established SA and removes it once answered (or given up). */
export function deleteIkeSa(core: IkeCore, sa: IkeSa, why: string): void {
  sa.queue = [(s) => { // after the exchange that is out, instead of anything else queued
    s.state = 'DELETING';
    core.request(s, INFORMATIONAL, [{ type: PL.D, protocolId: PROTO_IKE, spiSize: 0, spis: [] }],
      () => core.remove(s, why), () => core.remove(s, `${why}; the delete was not answered`));
  }];
  core.flush(sa);
}

function childTimers(core: IkeCore, sa: IkeSa, ch: ChildSa): void {
  const now = core.now;
  if (ch.removeAtMs !== null && ch.removeAtMs <= now) { ch.removeAtMs = null; core.removeChild(sa, ch); return; }
  if (ch.pendingOut !== null && ch.outDueMs <= now) {
    core.host.log('info', `${tag(sa)}: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}}: no delete of the old SA came: switching to the new one`);
    activateOut(core, sa, ch);
  }
  if (ch.state !== 'INSTALLED') return;
  if (ch.at.expireAtMs !== null && ch.at.expireAtMs <= now) {
    ch.at.expireAtMs = null;
    core.host.log('info', `${tag(sa)}: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}} reached its life_time: deleting it`);
    deleteChild(core, sa, ch);
    return;
  }
  if (ch.at.rekeyAtMs !== null && ch.at.rekeyAtMs <= now && !startChildRekey(core, sa, ch)) ch.at.rekeyAtMs = now + RECHECK_MS;
}

/** Runs every SA timer that is due at core.now. */
export function runTimers(core: IkeCore): void {
  const now = core.now;
  for (const sa of [...core.sas.values()]) {
    if (core.sas.get(sa.ourSpi) !== sa) continue; // removed by an earlier one
    if (sa.state === 'REKEYED' && sa.at.expireAtMs !== null && sa.at.expireAtMs <= now) { core.remove(sa, 'rekeyed; the peer never deleted it'); continue; }
    if (sa.state === 'ESTABLISHED' && sa.at.expireAtMs !== null && sa.at.expireAtMs <= now) {
      sa.at.expireAtMs = null;
      core.host.log('info', `${tag(sa)}: IKE_SA not rekeyed within its lifetime: deleting it`);
      deleteIkeSa(core, sa, 'expired');
      continue;
    }
    if (sa.state === 'ESTABLISHED' && sa.at.rekeyAtMs !== null && sa.at.rekeyAtMs <= now) startIkeRekey(core, sa);
    for (const ch of [...sa.children]) childTimers(core, sa, ch);
  }
}

function childDeadline(ch: ChildSa): number | null {
  let t = earliest(ch.removeAtMs, ch.pendingOut !== null ? ch.outDueMs : null);
  if (ch.state === 'INSTALLED') t = earliest(t, earliest(ch.at.rekeyAtMs, ch.at.expireAtMs));
  return t;
}

/** The earliest SA timer, or null. */
export function nextTimer(core: IkeCore): number | null {
  let t: number | null = null;
  for (const sa of core.sas.values()) {
    if (sa.state === 'ESTABLISHED') t = earliest(t, earliest(sa.at.rekeyAtMs, sa.at.expireAtMs));
    if (sa.state === 'REKEYED') t = earliest(t, sa.at.expireAtMs);
    for (const ch of sa.children) t = earliest(t, childDeadline(ch));
  }
  return t;
}

/** An xfrm expire event for the state (dst, spi): soft → rekey its Child SA, hard → delete it. */
export function expireEvent(core: IkeCore, dst: string, spi: number, hard: boolean): void {
  for (const sa of core.sas.values()) {
    const ch = sa.children.find((c) => (c.spiIn === spi && c.local.addr === dst) || (c.spiOut === spi && c.remote.addr === dst));
    if (ch === undefined) continue;
    if (ch.state !== 'INSTALLED') return; // already being replaced or deleted
    core.host.log('info', `${tag(sa)}: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}}: ${hard ? 'hard' : 'soft'} expire of SA ${spi.toString(16)}`);
    if (hard) {
      // The data path removed that state itself (xfrm_timer_handler): only the rest goes.
      if (ch.spiIn === spi && ch.local.addr === dst) ch.isInInstalled = false;
      else ch.isOutInstalled = false;
      deleteChild(core, sa, ch);
    } else {
      startChildRekey(core, sa, ch);
    }
    return;
  }
}

/** swanctl --rekey: every installed Child SA named `child`, or every established IKE SA of connection `ike`; how many started. */
export function rekeyByName(core: IkeCore, which: IkeRekeyArgs): number {
  let n = 0;
  for (const sa of [...core.sas.values()]) {
    if ('ike' in which) {
      if (sa.conn.name === which.ike && startIkeRekey(core, sa)) n++;
      continue;
    }
    if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') continue; // during our IKE rekey it waits in the queue
    for (const ch of [...sa.children]) if (ch.cfg.name === which.child && startChildRekey(core, sa, ch)) n++;
  }
  if (n === 0) {
    const [what, name] = 'ike' in which ? ['IKE_SA of connection', which.ike] : ['installed CHILD_SA named', which.child];
    throw new VpnError('ENOENT', `no ${what} "${name}" to rekey`, 'ike' in which ? 'ike' : 'child');
  }
  return n;
}
