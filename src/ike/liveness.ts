// Liveness of established IKE SAs, as charon keeps it (sans-I/O, the
// core's clock):
//
// - DPD (RFC 7296 §2.4; swanctl dpd_delay): when nothing came from the peer
//   for dpd_delay (no authenticated IKE message, and the Child SAs' inbound
//   byte counters did not move), an empty INFORMATIONAL goes out. As in
//   strongSwan's IKEv2, its retransmission schedule (charon.retransmit_*)
//   decides death, not dpd_timeout (IKEv1's). A dead peer's SA is removed
//   and each child's dpd_action runs: none (clear), trap (trap.ts), start
//   (initiate again).
// - close_action: the same actions when the peer deletes a Child SA or the
//   IKE SA (informational.ts calls peerDeletes).
// - NAT keepalives (RFC 3948 §2.3, charon.keep_alive): from the side behind a
//   NAT, one 0xFF byte from 4500 to the peer's NAT-T port when nothing (IKE
//   or ESP) went to the peer for the interval.
// - Following the peer (RFC 7296 §2.23; charon's ike_sa update_hosts →
//   child_sa update → kernel update_sa): an authenticated IKE message, or an
//   xfrm `mapping` event (ESP from a new source, raised after the ESP ICV
//   verified), from a new address or port of a peer behind a NAT moves the
//   IKE SA there and each ESP-in-UDP Child SA with it: both states go to the
//   new outer address and encap port with xfrm.state.migrate (the same
//   states: SPIs, sequence numbers, replay windows and counters stay), and
//   when the address changed the tunnel policies' templates follow
//   (xfrm.policy.update). No rekey. A peer not behind a NAT stays put.

import type { XfrmRequest } from '../control/ike.js';
import { INFORMATIONAL } from '../wire/ike/consts.js';
import type { ChildAction } from './actions.js';
import { policyUpdateRequests } from './child.js';
import type { ChildConfig } from './config.js';
import type { Endpoint, IkeCore, IkeHost } from './core.js';
import type { ChildSa, IkeSa } from './sa.js';

interface LiveState {
  /** Core-clock ms of the last sign of life from the peer. */
  lastInMs: number;
  dpdAtMs: number | null;
  kaAtMs: number | null;
  /** The children's byte counters at the last poll (-1: not polled yet). */
  inBytes: number;
  outBytes: number;
  lastOutMs: number;
}


/** One child action to run once the SA it came from is gone. */
interface Deferred { readonly child: ChildConfig; readonly action: ChildAction; readonly why: string }

const epKey = (e: Endpoint): string => `${e.addr}|${e.port}`;

export class Liveness {
  private readonly st = new Map<IkeSa, LiveState>();
  private readonly lastSend = new Map<string, number>();
  private deferred: Deferred[] = [];
  /** Counters for logs and tests. */
  dpdSent = 0;
  keepalives = 0;

  constructor(private readonly core: IkeCore, private readonly host: IkeHost) {}

  /** The core sent an IKE message to `to` (keepalives wait while there is traffic). */
  noteSend(to: Endpoint): void { this.lastSend.set(epKey(to), this.core.now); }

  private state(sa: IkeSa): LiveState {
    let s = this.st.get(sa);
    if (s === undefined) {
      s = { lastInMs: this.core.now, dpdAtMs: null, kaAtMs: null, inBytes: -1, outBytes: -1, lastOutMs: this.core.now };
      this.st.set(sa, s);
    }
    return s;
  }

  /** An authenticated IKE message from the peer arrived on sa from `from`. */
  heard(sa: IkeSa, from: Endpoint): void {
    this.state(sa).lastInMs = this.core.now;
    if (sa.state !== 'ESTABLISHED' || (from.addr === sa.remote.addr && from.port === sa.remote.port)) return;
    if (!sa.isNatRemote) {
      this.host.log('debug', `${sa.conn.name}[${sa.uniqueId}]: message from ${from.addr}[${from.port}], not ${sa.remote.addr}[${sa.remote.port}]: the peer is not behind a NAT, staying`);
      return;
    }
    this.moveTo(sa, from, 'an IKE message');
  }

  /** An xfrm mapping event: ESP for our inbound SPI `spi` at `dst` came from newSrc:newSport. */
  mapping(dst: string, spi: number, to: Endpoint): void {
    for (const sa of this.core.sas.values()) {
      const ch = sa.children.find((c) => c.spiIn === spi && c.local.addr === dst);
      if (ch === undefined) continue;
      if (sa.state === 'ESTABLISHED' && sa.isNatRemote && epKey(to) !== epKey(sa.remote)) this.moveTo(sa, to, 'ESP (xfrm mapping)');
      return;
    }
  }

  private moveTo(sa: IkeSa, to: Endpoint, why: string): void {
    const old = sa.remote;
    sa.remote = { ...to };
    this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: the peer moved from ${old.addr}[${old.port}] to ${to.addr}[${to.port}] (${why}): following it`);
    const reqids = new Set<number>();
    for (const ch of sa.children) {
      if (!ch.encap || (ch.remote.addr === to.addr && ch.remote.port === to.port)) continue;
      const moved = ch.remote.addr !== to.addr;
      if (this.rehome(sa, ch, to) && moved && !reqids.has(ch.reqid)) {
        reqids.add(ch.reqid); // a rekey's SAs share their reqid's policies
        this.repoint(sa, ch);
      }
    }
  }

  /** Moves a child's ESP-in-UDP states to the peer's new address and port (xfrm.state.migrate); false when refused. */
  private rehome(sa: IkeSa, ch: ChildSa, to: Endpoint): boolean {
    const reqs: XfrmRequest[] = [];
    if (ch.isOutInstalled) {
      reqs.push({ op: 'xfrm.state.migrate', args: { id: { dst: ch.remote.addr, proto: 'esp', spi: ch.spiOut }, src: ch.local.addr, dst: to.addr, encap: { sport: ch.local.port, dport: to.port } } });
    }
    if (ch.isInInstalled) {
      reqs.push({ op: 'xfrm.state.migrate', args: { id: { dst: ch.local.addr, proto: 'esp', spi: ch.spiIn }, src: to.addr, dst: ch.local.addr, encap: { sport: to.port, dport: ch.local.port } } });
    }
    try {
      for (const r of reqs) this.host.control(r);
    } catch (e) {
      this.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}}: moving its states: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    ch.remote = { ...to };
    this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}} now ESP in UDP to ${to.addr}[${to.port}] (SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o kept)`);
    return true;
  }

  /** The tunnel policies of ch's reqid name the peer's new address in their templates. */
  private repoint(sa: IkeSa, ch: ChildSa): void {
    for (const r of policyUpdateRequests(ch)) {
      try {
        this.host.control(r);
      } catch (e) {
        this.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}}: ${r.op}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** The peer deletes `ch` (or, null, the whole IKE SA): its children's close_action runs once they are gone. */
  peerDeletes(sa: IkeSa, ch: ChildSa | null): void {
    for (const c of ch !== null ? [ch] : sa.children) this.defer(c.cfg, c.cfg.actions?.close ?? 'none', 'closed by the peer');
  }

  private defer(child: ChildConfig, action: ChildAction, why: string): void {
    if (action !== 'none') this.deferred.push({ child, action, why });
  }

  /** Earliest core-clock ms a timer of ours is due, or null. */
  nextDeadline(): number | null {
    if (this.deferred.length > 0) return this.core.now;
    let t: number | null = null;
    for (const s of this.st.values()) {
      for (const d of [s.dpdAtMs, s.kaAtMs]) if (d !== null && (t === null || d < t)) t = d;
    }
    return t;
  }

  /** Runs due DPD checks and keepalives, and the actions of SAs that went. */
  tick(): void {
    const now = this.core.now;
    for (const [sa, s] of this.st) {
      if (this.core.sas.get(sa.ourSpi) !== sa) { this.st.delete(sa); continue; }
      if (sa.state !== 'ESTABLISHED') continue;
      this.poll(sa, s);
      this.dpd(sa, s, now);
      this.keepalive(sa, s, now);
    }
    for (const [k, t] of this.lastSend) if (now - t > 600_000) this.lastSend.delete(k);
    const due = this.deferred;
    this.deferred = [];
    for (const d of due) this.run(d);
  }

  /** sa is up: its DPD and keepalive timers start. */
  established(sa: IkeSa): void {
    const s = this.state(sa);
    this.arm(sa, s, this.core.now);
    this.poll(sa, s); // the counters' starting point
  }

  private arm(sa: IkeSa, s: LiveState, now: number): void {
    const delay = (sa.conn.dpd?.delaySec ?? 0) * 1000;
    s.dpdAtMs = delay > 0 ? now + delay : null;
    s.kaAtMs = this.core.charon.keepAliveMs > 0 && sa.isNatLocal ? now + this.core.charon.keepAliveMs : null;
  }

  /** Moves lastIn/lastOut when the children's byte counters moved since the last poll. */
  private poll(sa: IkeSa, s: LiveState): void {
    const get = this.host.getState?.bind(this.host);
    if (get === undefined) return;
    let inB = 0;
    let outB = 0;
    for (const ch of sa.children) {
      inB += get({ dst: ch.local.addr, proto: 'esp', spi: ch.spiIn }, false)?.curlft.bytes ?? 0;
      outB += get({ dst: ch.remote.addr, proto: 'esp', spi: ch.spiOut }, false)?.curlft.bytes ?? 0;
    }
    if (s.inBytes >= 0 && inB !== s.inBytes) s.lastInMs = this.core.now;
    if (s.outBytes >= 0 && outB !== s.outBytes) s.lastOutMs = this.core.now;
    s.inBytes = inB;
    s.outBytes = outB;
  }

  private dpd(sa: IkeSa, s: LiveState, now: number): void {
    const delay = (sa.conn.dpd?.delaySec ?? 0) * 1000;
    if (delay <= 0 || s.dpdAtMs === null || s.dpdAtMs > now) return;
    s.dpdAtMs = now + delay;
    if (now - s.lastInMs < delay) { s.dpdAtMs = s.lastInMs + delay; return; }
    if (sa.pending !== null) return; // a request is out: its retransmissions test liveness already
    this.dpdSent++;
    this.host.log('debug', `${sa.conn.name}[${sa.uniqueId}]: nothing from the peer for ${Math.round((now - s.lastInMs) / 1000)} s: liveness check`);
    this.core.request(sa, INFORMATIONAL, [], () => { s.lastInMs = this.core.now; }, () => this.dead(sa));
  }

  private keepalive(sa: IkeSa, s: LiveState, now: number): void {
    const every = this.core.charon.keepAliveMs;
    if (every <= 0 || s.kaAtMs === null || s.kaAtMs > now || !sa.isNatLocal || sa.remote.port === 500) return;
    const lastOut = Math.max(s.lastOutMs, this.lastSend.get(epKey(sa.remote)) ?? -Infinity);
    if (now - lastOut < every) { s.kaAtMs = lastOut + every; return; }
    s.kaAtMs = now + every;
    this.keepalives++;
    this.host.keepalive?.(sa.remote);
  }

  /** Retransmission gave up on the peer: remove the SA, then each child's dpd_action. */
  private dead(sa: IkeSa): void {
    this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: the peer did not answer a liveness check: it is dead`);
    for (const c of sa.children) this.defer(c.cfg, c.cfg.actions?.dpd ?? 'none', 'dead peer');
    this.core.remove(sa, 'dead peer (DPD)');
  }

  private run(d: Deferred): void {
    this.host.log('info', `${d.child.name}: ${d.why}: ${d.action === 'trap' ? 'installing its trap policies' : 'initiating it again'}`);
    if (d.action === 'trap') {
      const conn = this.core.cfg.connections.find((c) => c.children.includes(d.child));
      const why = conn === undefined ? 'no longer configured' : this.core.traps.install(conn, d.child);
      if (why !== null) this.host.log('warn', `${d.child.name}: trap: ${why}`);
      return;
    }
    if (!this.core.cfg.connections.some((c) => c.children.includes(d.child))) return; // replaced by a load meanwhile
    try {
      this.core.initiate(d.child.name, this.core.now, (err) => this.host.log(err === null ? 'info' : 'warn', `${d.child.name}: restart: ${err ?? 'up again'}`));
    } catch (e) {
      this.host.log('warn', `${d.child.name}: restart: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
