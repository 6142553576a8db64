// The IKEv2 core (RFC 7296), sans-I/O: datagrams and commands in, datagrams
// and xfrm control requests out through the host, the clock passed in (ms)
// with every call. No sockets, no timers: the shell calls tick(now) by
// nextDeadline().
//
//   receive(data, from, local, now)     receive.ts
//     ├─ IKE_SA_INIT request (SPIr = 0) ─────────► responder.ts handleInitRequest
//     └─ by our SPI → IkeSa
//          ├─ IKE_SA_INIT response (clear) ─────► the pending request's handler (initiator.ts)
//          └─ SK payload → decrypt (sk.ts); SKF fragments → reassemble (frag.ts), then as SK
//               ├─ response, Message ID = ours ► the pending request's handler
//               ├─ request, retransmitted ─────► the cached response again (§2.1)
//               └─ request, next Message ID ──► IKE_AUTH (responder.ts), INFORMATIONAL
//                                                (informational.ts), CREATE_CHILD_SA (create-child.ts,
//                                                rekey-ike.ts)
//   initiate(child) / terminate(conn) / rekey(…)   commands from the control socket
//   expire(dst, spi, hard)              an xfrm expire event (the shell subscribes to them)
//   tick(now)                           retransmissions, give-ups, and the SA timers (timers.ts)
//   live (liveness.ts)                  DPD, NAT keepalives, following the peer, dpd/close actions
//   traps (trap.ts), cookies (cookie.ts)  start_action = trap and acquires; responder COOKIEs
//
// One request of ours is out per IKE SA (window size 1, §2.3); more wait in
// sa.queue and go out as responses come back.

import type { IkeEvent, IkeRekeyArgs, IkeSaRecord, XfrmRequest } from '../control/ike.js';
import type { LimitsSpec, StateId, StateRecord } from '../control/xfrm.js';
import { VpnError } from '../wire/errors.js';
import { exchangeName, FLAG_I, FLAG_R, IKE_SA_INIT, IKE_VERSION } from '../wire/ike/consts.js';
import { emitMessage } from '../wire/ike/message.js';
import type { Payload } from '../wire/ike/payloads.js';
import { CHARON_DEFAULTS } from './charon.js';
import type { CharonSettings } from './charon.js';
import type { IkeConfig } from './config.js';
import { Cookies } from './cookie.js';
import { Liveness } from './liveness.js';
import { Traps } from './trap.js';
import { applyAll, uninstallRequests } from './child.js';
import { startNewChild } from './create-child.js';
import { startInitiator } from './initiator.js';
import { receiveDatagram } from './receive.js';
import { isGiveUp, retransmitDelayMs, STRONGSWAN_RETRANSMIT } from './retransmit.js';
import type { RetransmitPolicy } from './retransmit.js';
import { deadlines, limitsOf, volumeLimits } from './lifetime.js';
import { wipeKeys } from './prf.js';
import type { IkeSa } from './sa.js';
import type { ChildSa, Endpoint, Pending, QueuedRequest } from './sa.js';
import { deleteIkeSa, expireEvent, nextTimer, rekeyByName, runTimers } from './timers.js';
import { counterIv } from './sk.js';
import { childUpDown, failure, ikeUpDown } from './events.js';
import { datagramBudget, FragCounters, sealMaybeFragmented, sendsFrag } from './frag.js';
import { UDP_PORT_NAT_T } from '../wire/udp.js';
import { be32 } from '../wire/bytes.js';

export type { Endpoint } from './sa.js';

/** What the core asks of its shell. All synchronous. */
export interface IkeHost {
  /**
   * Sends one IKE message from our port `fromPort` (charon.port or
   * charon.port_nat_t: the shell's socket of that port), with the non-ESP
   * marker before it when hasNonEspMarker(fromPort, to.port).
   */
  send(to: Endpoint, fromPort: number, data: Uint8Array): void;
  /** Applies one xfrm control request; throws (a VpnError) when the daemon refuses it. */
  control(r: XfrmRequest): void;
  /** A log line (never secrets). */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  /** n cryptographically random bytes (SPIs, nonces, DH private values, IVs). */
  random(n: number): Uint8Array;
  /** Sends one NAT keepalive (RFC 3948 §2.3: the single byte 0xFF) from our NAT-T port (charon.port_nat_t); absent: none are sent. */
  keepalive?(to: Endpoint): void;
  /** An xfrm state as `xfrm.state.get` answers (keys only when asked), null when absent; absent: counters unknown. */
  getState?(id: StateId, keys: boolean): StateRecord | null;
  /** A monitor event (events.ts: SAs up/down, rekeys, failures; never keys); absent: none are published. */
  event?(e: IkeEvent): void;
  /**
   * The local address the kernel would send from toward `remote` (an
   * RTM_GETROUTE's RTA_PREFSRC: charon's kernel-netlink get_source_addr),
   * null when it has no route there. Initiating with local_addrs = %any
   * takes it; absent: local_addrs must name an address to initiate from.
   */
  sourceFor?(remote: string): string | null;
}

/** IKE's well-known port (RFC 7296 §2) and the NAT-T port a peer on it floats to (§2.23); ours are charon.port and charon.port_nat_t. */
export const IKE_PORT = 500;
export const NAT_T_PORT = UDP_PORT_NAT_T;

/**
 * Whether an IKE message between these UDP ports carries the four-byte
 * non-ESP marker (RFC 3948 §2.2): when neither is 500, the rule strongSwan's
 * sender and receiver apply, so custom ports (charon.port, remote_port)
 * share their socket with ESP-in-UDP as 4500 does.
 */
export const hasNonEspMarker = (localPort: number, remotePort: number): boolean => localPort !== IKE_PORT && remotePort !== IKE_PORT;

export class IkeCore {
  /** IKE SAs by our SPI (16 hex digits). */
  readonly sas = new Map<string, IkeSa>();
  /** Half-open responder SAs by the initiator's SPI and address (retransmitted IKE_SA_INIT requests). */
  readonly halfOpen = new Map<string, IkeSa>();
  now = 0;
  private uniqueIds = 0;
  private childIds = 0;
  private reqids = 0;

  /** The shell's host, seen through liveness (sends) and traps (policy requests). */
  readonly host: IkeHost;
  readonly live: Liveness;
  readonly traps: Traps;
  readonly cookies: Cookies;
  /** RFC 7383 fragments in and out, and why the peer's were dropped (frag.ts). */
  readonly frags = new FragCounters();
  /** charon.* settings (keep_alive, cookie thresholds); the retransmission policy is `policy`. */
  charon: CharonSettings = CHARON_DEFAULTS;

  constructor(public cfg: IkeConfig, host: IkeHost, readonly policy: RetransmitPolicy = STRONGSWAN_RETRANSMIT) {
    this.live = new Liveness(this, host);
    this.traps = new Traps(this, host);
    this.cookies = new Cookies(this);
    this.host = {
      send: (to, fromPort, data) => { this.live.noteSend(to); host.send(to, fromPort, data); },
      control: (r) => host.control(this.traps.rewrite(r)),
      log: (level, msg) => host.log(level, msg),
      random: (n) => host.random(n),
      keepalive: (to) => host.keepalive?.(to),
      ...(host.getState !== undefined ? { getState: (id: StateId, keys: boolean) => host.getState!(id, keys) } : {}),
      event: (e) => host.event?.(e),
      ...(host.sourceFor !== undefined ? { sourceFor: (remote: string) => host.sourceFor!(remote) } : {}),
    };
  }

  nextUniqueId(): number { return ++this.uniqueIds; }
  nextChildId(): number { return ++this.childIds; }
  nextReqid(): number { return ++this.reqids; }

  /** A fresh inbound ESP SPI: charon's kernel range (0xc0000000 and up), never 0..255 (RFC 4303 §2.1). */
  newEspSpi(): number {
    const r = this.host.random(4);
    return ((be32(r, 0) & 0x3fffffff) | 0xc0000000) >>> 0;
  }

  register(sa: IkeSa): void { this.sas.set(sa.ourSpi, sa); }

  /** A monitor event to the host (events.ts builds them). */
  emit(e: IkeEvent): void { this.host.event?.(e); }

  /** An authentication or negotiation failure of sa, published once (remove() then adds no failure of its own). */
  failed(sa: IkeSa, kind: 'auth' | 'negotiation', why: string): void {
    sa.isFailReported = true;
    this.emit(failure(kind, sa.conn.name, sa.uniqueId, sa.remote, why));
  }

  /** Starts the IKE SA (and its first Child SA) for child `name`; `done` hears when it is up or failed. */
  initiate(name: string, now: number, done: (err: string | null, sa: IkeSaRecord | null) => void): void {
    this.now = now;
    const conn = this.cfg.connections.find((c) => c.children.some((ch) => ch.name === name));
    if (conn === undefined) throw new VpnError('ENOENT', `no child "${name}" in the loaded configuration`, 'child');
    const child = conn.children.find((ch) => ch.name === name)!;
    const up = [...this.sas.values()].find((s) => s.conn === conn && (s.state === 'ESTABLISHED' || s.state === 'REKEYING'));
    if (up !== undefined) { // charon reuses the connection's IKE SA: CREATE_CHILD_SA (§1.3.1)
      if (up.children.some((c) => c.cfg === child && c.state !== 'DELETING')) throw new VpnError('EEXIST', `child "${name}" is already installed (rekey it with tunkit ike rekey --child)`, 'child');
      startNewChild(this, up, child, (err) => done(err, err === null ? up.record() : null));
      return;
    }
    const sa = startInitiator(this, conn, child);
    sa.waiter = (err) => done(err, err === null ? sa.record() : null);
  }

  /** Deletes every IKE SA of connection `name` (INFORMATIONAL with D(IKE), §1.4.1). Returns how many. */
  terminate(name: string, now: number): number {
    this.now = now;
    let n = 0;
    for (const sa of [...this.sas.values()]) {
      if (sa.conn.name !== name) continue;
      n++;
      // Established (or being rekeyed): D(IKE) once the exchange that is out is answered; a rekeyed
      // SA waiting for the peer's delete has no children left; a half-made or going one just goes.
      if (sa.state === 'ESTABLISHED' || sa.state === 'REKEYING') deleteIkeSa(this, sa, 'deleted');
      else if (sa.state !== 'DELETING') this.remove(sa, 'terminated');
    }
    return n;
  }

  list(): IkeSaRecord[] { return [...this.sas.values()].map((sa) => sa.record()); }

  /** Starts a rekey of every Child SA named `child` or every IKE SA of connection `ike` (swanctl --rekey); how many. */
  rekey(which: IkeRekeyArgs, now: number): number {
    this.now = now;
    return rekeyByName(this, which);
  }

  /** An xfrm expire event for state (dst, spi): soft starts a rekey, hard deletes the Child SA (charon's expire handling). */
  expire(dst: string, spi: number, hard: boolean, now: number): void {
    this.now = now;
    expireEvent(this, dst, spi, hard);
  }

  /** Sends `start` now if the window is free, else when the responses before it are in. */
  enqueue(sa: IkeSa, start: QueuedRequest): void {
    sa.queue.push(start);
    this.flush(sa);
  }

  /** Starts queued requests while the window is free and the SA takes requests. */
  flush(sa: IkeSa): void {
    while (sa.pending === null && sa.state === 'ESTABLISHED' && this.sas.get(sa.ourSpi) === sa) {
      const next = sa.queue.shift();
      if (next === undefined) return;
      next(sa);
    }
  }

  /** One datagram for us (the non-ESP marker already removed). Never throws on network input (receive.ts). */
  receive(data: Uint8Array, from: Endpoint, local: Endpoint, now: number): void {
    this.now = now;
    receiveDatagram(this, data, from, local);
  }

  /** Header fields of a message of ours on sa. */
  private hdr(sa: IkeSa, exchange: number, mid: number, isResp: boolean): { spiI: Uint8Array; spiR: Uint8Array; version: number; exchange: number; flags: number; messageId: number } {
    return { spiI: sa.spiI, spiR: sa.spiR, version: IKE_VERSION, exchange, flags: (sa.isInitiator ? FLAG_I : 0) | (isResp ? FLAG_R : 0), messageId: mid };
  }

  /** An encrypted message of ours: one datagram, or its RFC 7383 fragments when both sides do them and it is too big (frag.ts). */
  seal(sa: IkeSa, exchange: number, mid: number, isResp: boolean, inner: readonly Payload[]): Uint8Array[] {
    const k = sa.skOut!;
    const nextIv = (): Uint8Array => counterIv(sa.ivSeq++, k.encr.ivLen, this.host.random(k.encr.ivLen));
    const max = sa.isFragOk && sendsFrag(sa.conn.fragmentation) ? datagramBudget(this.charon.fragmentSize, sa.remote.addr, hasNonEspMarker(sa.local.port, sa.remote.port)) : null;
    const out = sealMaybeFragmented(this.hdr(sa, exchange, mid, isResp), inner, k, nextIv, max);
    if (out.length > 1) this.frags.sent(this.host, `${sa.conn.name}[${sa.uniqueId}]: ${exchangeName(exchange)}`, out);
    return out;
  }

  /** Sends a message's datagrams (one, or every fragment) in order. */
  sendAll(to: Endpoint, fromPort: number, data: readonly Uint8Array[]): void {
    for (const d of data) this.host.send(to, fromPort, d);
  }

  /** A clear message (IKE_SA_INIT). */
  plain(sa: IkeSa, exchange: number, mid: number, isResp: boolean, payloads: readonly Payload[]): Uint8Array {
    return emitMessage(this.hdr(sa, exchange, mid, isResp), payloads);
  }

  /** Sends an encrypted response to the peer's request `mid` and keeps it for retransmissions. */
  respond(sa: IkeSa, exchange: number, mid: number, inner: readonly Payload[]): void {
    const data = this.seal(sa, exchange, mid, true, inner);
    sa.lastResponse = { mid, data, port: sa.local.port };
    this.sendAll(sa.remote, sa.local.port, data);
  }

  /** Sends a request of ours (encrypted unless it is IKE_SA_INIT) and retransmits it until answered. */
  request(sa: IkeSa, exchange: number, inner: readonly Payload[], onResponse: Pending['onResponse'], onTimeout: () => void, kind: Pending['kind'] = 'other'): void {
    if (sa.pending !== null) throw new Error(`${sa.conn.name}[${sa.uniqueId}]: a second request while request ${sa.pending.mid} is out (use enqueue)`);
    const mid = sa.nextMid;
    sa.nextMid = (mid + 1) >>> 0;
    const data = exchange === IKE_SA_INIT ? [this.plain(sa, exchange, mid, false, inner)] : this.seal(sa, exchange, mid, false, inner);
    this.sendRequest(sa, mid, data, onResponse, onTimeout, kind);
  }

  /** Sends (or re-sends, for IKE_SA_INIT retries) a built request as the one outstanding. */
  sendRequest(sa: IkeSa, mid: number, data: readonly Uint8Array[], onResponse: Pending['onResponse'], onTimeout: () => void, kind: Pending['kind'] = 'other'): void {
    sa.pending = { mid, data, sends: 0, deadline: this.now + retransmitDelayMs(this.policy, 0), onResponse, onTimeout, kind };
    this.sendAll(sa.remote, sa.local.port, data);
  }

  /** Earliest time tick() has work, or null. */
  nextDeadline(): number | null {
    let t: number | null = null;
    for (const sa of this.sas.values()) if (sa.pending !== null && (t === null || sa.pending.deadline < t)) t = sa.pending.deadline;
    for (const sa of this.halfOpen.values()) if (t === null || sa.createdMs + HALF_OPEN_MS < t) t = sa.createdMs + HALF_OPEN_MS;
    const l = this.live.nextDeadline();
    const u = nextTimer(this);
    for (const x of [l, u]) if (x !== null && (t === null || x < t)) t = x;
    return t;
  }

  /** Retransmits what is due (4 s × 1.8^n), gives up after the last try, expires half-open SAs. */
  tick(now: number): void {
    this.now = now;
    for (const sa of [...this.sas.values()]) {
      const p = sa.pending;
      if (p === null || p.deadline > now) continue;
      if (isGiveUp(this.policy, p.sends)) {
        sa.pending = null;
        this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: giving up after ${p.sends + 1} transmissions`);
        p.onTimeout();
        continue;
      }
      p.sends++;
      p.deadline = now + retransmitDelayMs(this.policy, p.sends);
      this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: retransmit ${p.sends} of request ${p.mid}`);
      this.sendAll(sa.remote, sa.local.port, p.data);
    }
    for (const [k, sa] of this.halfOpen) {
      if (sa.createdMs + HALF_OPEN_MS > now) continue;
      this.halfOpen.delete(k);
      if (sa.state === 'CONNECTING') this.remove(sa, 'half-open timeout');
    }
    this.live.tick();
    runTimers(this);
  }

  /** Sets a Child SA's rekey and expiry deadlines and its volume limits (jittered); returns the xfrm limits its states carry. */
  scheduleChild(ch: ChildSa): LimitsSpec | undefined {
    Object.assign(ch.at, deadlines(ch.cfg.life, this.now, this.host.random(4)));
    ch.volume = volumeLimits(ch.cfg, this.host.random(8));
    return limitsOf(ch.at, this.now, ch.volume);
  }

  /** Marks an SA up and tells whoever waits. */
  established(sa: IkeSa): void {
    sa.state = 'ESTABLISHED';
    sa.establishTime = Math.floor(this.now / 1000);
    Object.assign(sa.at, deadlines(sa.conn.life, this.now, this.host.random(4)));
    sa.msg1 = null;
    sa.msg2 = null;
    sa.ke?.dispose();
    sa.ke = null;
    for (const [k, v] of this.halfOpen) if (v === sa) this.halfOpen.delete(k);
    this.live.established(sa);
    const w = sa.waiter;
    sa.waiter = null;
    w?.(null);
  }

  /** Installs a Child SA's requests; on a refusal removes what went in and returns why (child.ts applyAll). */
  applyAll(reqs: readonly { readonly op: XfrmRequest['op']; readonly args: XfrmRequest['args'] }[]): string | null {
    return applyAll(this.host, reqs as readonly XfrmRequest[]);
  }

  /** Removes a Child SA's states, and its policies unless another SA of its reqid (a rekey's) still uses them. */
  removeChild(sa: IkeSa, ch: ChildSa): void {
    const i = sa.children.indexOf(ch);
    if (i >= 0) sa.children.splice(i, 1);
    if (ch.pendingOut !== null) wipeKeys(ch.pendingOut);
    ch.pendingOut = null;
    const reqs = uninstallRequests(ch, !sa.children.some((c) => c.reqid === ch.reqid));
    ch.isInInstalled = false;
    ch.isOutInstalled = false;
    for (const r of reqs) {
      try {
        this.host.control(r);
      } catch (e) {
        this.host.log('warn', `${sa.conn.name}: ${ch.cfg.name}: ${r.op}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: CHILD_SA ${ch.cfg.name}{${ch.uniqueId}} deleted (SPIs ${ch.spiIn.toString(16)}_i ${ch.spiOut.toString(16)}_o)`);
    if (ch.state !== 'REKEYED') this.emit(childUpDown(sa, ch, false)); // a replaced SA went with its child-rekey event
  }

  /** Drops an IKE SA with its children, wiping its secrets. */
  remove(sa: IkeSa, why: string): void {
    for (const ch of [...sa.children]) this.removeChild(sa, ch);
    this.sas.delete(sa.ourSpi);
    for (const [k, v] of this.halfOpen) if (v === sa) this.halfOpen.delete(k);
    sa.pending = null;
    sa.wipe();
    this.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: IKE_SA deleted (${why})`);
    if (sa.establishTime === 0) {
      if (!sa.isFailReported) this.failed(sa, /AUTHENTICATION_FAILED/.test(why) ? 'auth' : 'negotiation', why);
    } else if (!sa.isReplaced) {
      this.emit(ikeUpDown(sa, false, why));
    }
    const w = sa.waiter;
    sa.waiter = null;
    w?.(why);
  }
}

/** How long a responder keeps a half-open SA (charon's half_open_timeout = 30 s). */
export const HALF_OPEN_MS = 30_000;

export { findError, findNotify, first, notify } from './find.js';
export type { PayloadOf } from './find.js';
