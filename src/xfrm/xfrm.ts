// One network namespace's IPsec: SAD, SPD, the xfrm_stat MIB, and the three
// per-packet entry points the daemon's data path calls.
//
//   output(b, off, len, ifId, isLocalTunnel)   xfrm_lookup + xfrm_output:
//       the out policy for the packet's flow (if_id 0 = the policy TUN or a
//       tunkit tunnel's outer packet, N = xfrm interface N); block →
//       XfrmOutPolBlock; each template needs a usable SA (xfrm_state_find),
//       else XfrmOutNoStates and an acquire event (at most one per policy
//       and template every XFRM_ACQ_EXPIRES_S seconds, like the larval
//       state); then ESP (esp-out.ts). A packet no policy covers is Bypass
//       for a local tunnel's outer packet (sent in clear, as the kernel
//       sends it), and dropped (NoPolicy) when it came in through the policy
//       TUN or an xfrm interface; unless the out default is block
//       (XfrmOutNoPols does not exist in 6.1: XfrmOutPolBlock is counted).
//       With a SealQueue the seal waits for sealPending (one sealBatch per SA).
//   input(b, off, len, ifindex)                ip_rcv_core sanity, then
//       protocol 50 or UDP to the NAT-T port: keepalive (consumed),
//       non-ESP marker (IKE), ESP (esp-in.ts; in UDP: xfrm-udp.ts), then
//       the policy check.
//   inputUdp(b, off, len, src, sport, dst, …)  a UDP payload from the NAT-T
//       socket (no IP header): the same rules as input, on IPv4 and UDP
//       headers rebuilt in the headroom from the socket's facts (xfrm-udp.ts).
//   checkIn(flow, state)                       __xfrm_policy_check (policy-check.ts): the SA's
//       selector (XfrmInStateMismatch), the in policy (none: allowed unless
//       the default is block or the SA was a tunnel → XfrmInNoPols; block →
//       XfrmInPolBlock), its templates against the SA (XfrmInTmplMismatch).
//
// Events (expire, acquire, mapping) queue in `events` for the shell to
// publish; they allocate, but only when one happens.
//
// Faults: a call that throws mid-packet (an OpenSSL refusal in seal, a
// context destroyed under it, a bug) leaves `busy` set; the shell catches
// per batch, not per packet, and calls fault(), which counts the packet as
// the kernel counts a failing x->type->output / ->input (xfrm_output_one:
// XfrmOutStateProtoError; xfrm_input: XfrmInStateProtoError).

import { Drop } from '../wire/drop.js';
import { Ip4Packet } from '../wire/ip4.js';
import { IPPROTO_ESP, IPPROTO_UDP } from '../wire/ipproto.js';
import { XFRM_MODE_TRANSPORT } from './config.js';
import { TunnelSizeCheck } from './pmtu.js';
import { espInput } from './esp-in.js';
import { prepareOuter } from './open-queue.js';
import type { OpenQueue } from './open-queue.js';
import type { EspInViews } from './esp-in.js';
import { espErr, EspErrViews } from './esp-err.js';
import { EspPacket, EspTrailer } from '../wire/esp.js';
import { espOutput } from './esp-out.js';
import { XfrmMib, XfrmStat } from './mib.js';
import { XDrop, XVerdict } from './result.js';
import type { XfrmResult } from './result.js';
import { Sad } from './sad.js';
import type { SealQueue } from './seal-queue.js';
import { policyCheckIn } from './policy-check.js';
import { Flow } from './selector.js';
import { Spd, XFRM_POLICY_OUT } from './spd.js';
import type { Tmpl, XfrmPolicy } from './spd.js';
import { Expiry } from './state.js';
import type { XfrmState } from './state.js';
import { UDP_PORT_NAT_T } from '../wire/udp.js';
import { udpHeaders, UdpEncapInput } from './xfrm-udp.js';
import type { NatTCounts } from './xfrm-udp.js';

/** net.core.xfrm_acq_expires default (seconds): how long a larval state suppresses new acquires. */
export const XFRM_ACQ_EXPIRES_S = 30;

/** Which entry point is running (XfrmStack.fault). */
const Busy = { None: 0, Out: 1, In: 2 } as const;
type Busy = (typeof Busy)[keyof typeof Busy];

export type CoreEvent =
  | { readonly kind: 'expire'; readonly hard: boolean; readonly state: XfrmState; readonly at: { readonly bytes: number; readonly packets: number } | null }
  | { readonly kind: 'acquire'; readonly policy: XfrmPolicy; readonly tmpl: Tmpl; readonly src: Uint8Array; readonly dst: Uint8Array; readonly family: 4 | 6; readonly proto: number }
  | { readonly kind: 'mapping'; readonly state: XfrmState; readonly oldAddr: number; readonly oldPort: number; readonly newAddr: number; readonly newPort: number };

export class XfrmStack {
  readonly sad = new Sad();
  readonly spd = new Spd();
  readonly mib = new XfrmMib();
  readonly events: CoreEvent[] = [];
  /**
   * NAT-T port datagrams that are not ESP (RFC 3948 §2.2, §2.3): keepalives
   * eaten and messages handed to IKE. The xfrm MIB has no counter for them
   * (the kernel counts both as Udp InDatagrams of the encap socket);
   * `tunkit stats` shows them.
   */
  readonly natT: NatTCounts = { keepalives: 0, ike: 0 };
  /**
   * The NAT-T socket's UDP port (charon.port_nat_t; the daemon sets it when
   * it binds one): inputUdp's rebuilt header goes to it, and input() takes
   * UDP to it as RFC 3948 traffic — the kernel's UDP_ENCAP socket option,
   * which marks a socket rather than a port.
   */
  natTPort = UDP_PORT_NAT_T;
  /** A receive batch's phase-1 opens while the shell runs its phase 2 (open-queue.ts); null otherwise. */
  opened: OpenQueue | null = null;
  private ident = 1;
  private readonly flow = new Flow();
  private readonly ip4 = new Ip4Packet();
  private readonly acquired = new Map<string, number>();
  private readonly sizeCheck = new TunnelSizeCheck();
  private readonly espIn: EspInViews = { esp: new EspPacket(), trailer: new EspTrailer() };
  private readonly errViews = new EspErrViews();
  /** UDP to natTPort (xfrm-udp.ts): keepalive, IKE, ESP, mapping events. */
  private readonly udp = new UdpEncapInput(this.sad, this.espIn, this.natT, this.events);
  /** Set while output/input runs; still set after one threw (fault()). */
  private busy: Busy = Busy.None;

  /**
   * See the file comment. r.verdict: Xmit, Bypass or Drop. `end`: where the
   * packet's slot ends in b (ESP appends its trailer up to there). seals:
   * defer the seal to sealPending(seals) (seal-queue.ts); null seals now.
   */
  output(
    b: Uint8Array, off: number, len: number, ifId: number, isLocalTunnel: boolean, nowMs: number, r: XfrmResult,
    end = b.length, seals: SealQueue | null = null,
  ): XVerdict {
    this.busy = Busy.Out;
    const v = this.output1(b, off, len, ifId, isLocalTunnel, nowMs, r, end, seals);
    this.busy = Busy.None;
    return v;
  }

  /** Seals what output() deferred into q; a packet whose seal failed counts XfrmOutStateProtoError (xfrm_output_one) and is flagged in q.failed. Returns how many failed. */
  sealPending(q: SealQueue): number {
    const bad = q.sealAll();
    for (let i = 0; i < bad; i++) this.mib.inc(XfrmStat.OutStateProtoError);
    return bad;
  }

  /**
   * The shell caught an exception while handling one packet: if it was
   * thrown inside output() or input() (inputUdp), counts that packet's
   * drop as XfrmOutStateProtoError or XfrmInStateProtoError and returns
   * the counter's index; -1 if the xfrm core was not running. Clears the mark.
   */
  fault(): number {
    const b = this.busy;
    this.busy = Busy.None;
    if (b === Busy.None) return -1;
    return this.count(b === Busy.Out ? XfrmStat.OutStateProtoError : XfrmStat.InStateProtoError);
  }

  private output1(
    b: Uint8Array, off: number, len: number, ifId: number, isLocalTunnel: boolean, nowMs: number, r: XfrmResult, end: number,
    seals: SealQueue | null,
  ): XVerdict {
    r.clear();
    if (isLocalTunnel && this.spd.count === 0 && this.spd.defaults.out === 'accept') {
      r.verdict = XVerdict.Bypass; // nothing to look up: no flow decode on the plain tunnel path
      return XVerdict.Bypass;
    }
    const f = this.flow;
    if (!f.decode(b, off, len, 0)) return this.dropX(r, XDrop.BadInner);
    const p = this.spd.lookup(XFRM_POLICY_OUT, f, ifId);
    if (p === null) {
      if (this.spd.defaults.out === 'block') return this.dropMib(r, XfrmStat.OutPolBlock);
      if (isLocalTunnel) {
        r.verdict = XVerdict.Bypass;
        return XVerdict.Bypass;
      }
      return this.dropX(r, XDrop.NoPolicy);
    }
    p.useTimeMs = nowMs;
    if (p.isBlock) return this.dropMib(r, XfrmStat.OutPolBlock);
    if (p.tmpls.length === 0) {
      r.verdict = XVerdict.Bypass;
      return XVerdict.Bypass;
    }
    // One SA per packet: tunkit applies the first template a state satisfies (bundles of several
    // transforms, e.g. ESP inside ESP, are not built; optional templates without a state are skipped).
    let x: XfrmState | null = null;
    for (let i = 0; i < p.tmpls.length && x === null; i++) {
      const t = p.tmpls[i]!;
      x = this.sad.findOut(t, f, ifId);
      if (x === null && !t.optional) {
        this.acquire(p, t, f, nowMs);
        return this.dropMib(r, XfrmStat.OutNoStates);
      }
    }
    if (x === null) {
      r.verdict = XVerdict.Bypass;
      return XVerdict.Bypass;
    }
    // xfrm_outer_mode_output → xfrm4/6_extract_output → *_tunnel_check_size: -EMSGSIZE counts
    // XfrmOutStateModeError. An xfrm interface checks first (xfrmi_xmit2: no MIB counter, the
    // device counts tx_errors/tx_dropped).
    if (x.cfg.mode !== XFRM_MODE_TRANSPORT && this.sizeCheck.tooBig(x, b, off, len, x.routeMtu, r)) {
      r.state = x;
      r.drop = XDrop.TooBig;
      return ifId !== 0 ? this.dropX(r, XDrop.TooBig) : this.dropMib(r, XfrmStat.OutStateModeError);
    }
    if (!espOutput(x, b, off, len, x.routeMtu, this.ident++, nowMs, r, end, seals)) {
      if (r.mib >= 0) this.mib.inc(r.mib);
      if (r.mib === XfrmStat.OutStateExpired) {
        if (seals !== null && seals.hasPending) this.sealPending(seals); // x's earlier packets, before its context is freed
        this.expireHard(x);
      }
      r.verdict = XVerdict.Drop;
      return XVerdict.Drop;
    }
    if (r.softExpired) this.events.push({ kind: 'expire', hard: false, state: x, at: x.expiredAt });
    r.verdict = XVerdict.Xmit;
    return XVerdict.Xmit;
  }

  /**
   * An outer IPv4 packet from the raw ESP or UDP socket. Deliver: the
   * decapsulated packet passed the policy check. NotEsp: UDP to another port.
   */
  input(b: Uint8Array, off: number, len: number, ifindex: number, nowMs: number, r: XfrmResult): XVerdict {
    this.busy = Busy.In;
    const v = this.input1(b, off, len, ifindex, nowMs, r);
    this.busy = Busy.None;
    return v;
  }

  private input1(b: Uint8Array, off: number, len: number, ifindex: number, nowMs: number, r: XfrmResult): XVerdict {
    r.clear();
    const ip = this.ip4;
    if (ip.check(b, off, len) !== Drop.None || !ip.verifyChecksum() || ip.isFragment) return this.dropHdr(r, XDrop.BadOuter);
    const hl = ip.headerLen;
    const payOff = ip.payloadOffset;
    const payLen = ip.payloadLen;
    let v: XVerdict;
    if (ip.protocol === IPPROTO_ESP) {
      v = espInput(this.sad, this.espIn, b, off, hl, payOff, payLen, 0, nowMs, r, this.opened);
    } else if (ip.protocol === IPPROTO_UDP) {
      v = this.udp.input(b, off, hl, payOff, payLen, this.natTPort, this.opened, nowMs, r); // keepalive/IKE/NotEsp leave r.state null, r.mib -1
    } else {
      r.verdict = XVerdict.NotEsp;
      return XVerdict.NotEsp;
    }
    if (v === XVerdict.Drop && r.mib >= 0) this.mib.inc(r.mib);
    if (r.state !== null && r.mib === XfrmStat.InStateExpired) this.expireHard(r.state);
    if (r.softExpired && r.state !== null) this.events.push({ kind: 'expire', hard: false, state: r.state, at: r.state.expiredAt });
    if (v !== XVerdict.Deliver) return v;
    const f = this.flow;
    if (!f.decode(b, r.off, r.len, ifindex)) return this.dropHdr(r, XDrop.BadInner);
    const mib = this.checkIn(f, r.state); // counts its own refusals
    if (mib < 0) return XVerdict.Deliver;
    r.verdict = XVerdict.Drop;
    r.mib = mib;
    return XVerdict.Drop;
  }

  /**
   * A UDP payload b[off, off+len) the NAT-T socket received from src:sport
   * (host-order u32, port) for dst (IP_PKTINFO) on ifindex, with outer TOS
   * `tos`. The kernel's xfrm4_udp_encap_rcv sees the IP and UDP headers; the
   * socket does not deliver them, so the 28 bytes before off (headroom the
   * caller guarantees: RangeError otherwise) get an IPv4 header (TTL 64, no
   * options, valid checksum) and a UDP header to natTPort, and input()
   * applies every rule once: keepalive, IKE marker, ESP, mapping events,
   * ECN from the TOS, transport mode's rebuilt header.
   */
  inputUdp(
    b: Uint8Array, off: number, len: number, src: number, sport: number, dst: number, ifindex: number, tos: number,
    nowMs: number, r: XfrmResult,
  ): XVerdict {
    return this.input(b, udpHeaders(b, off, len, src, sport, dst, tos, this.natTPort), len + 28, ifindex, nowMs, r);
  }

  /**
   * Phase 1 of a receive batch (open-queue.ts) for batch packet i, an outer
   * IPv4 packet as input() takes (udp false) or a NAT-T payload as
   * inputUdp() takes (its headers are written now, and again, the same, by
   * inputUdp): adds it to q if it is ESP that would reach open(). Changes nothing else.
   */
  prepareInput(b: Uint8Array, off: number, len: number, udp: boolean, src: number, sport: number, dst: number, tos: number, q: OpenQueue, i: number): void {
    const ipOff = udp ? udpHeaders(b, off, len, src, sport, dst, tos, this.natTPort) : off;
    prepareOuter(this.sad, this.espIn, this.ip4, this.natTPort, b, ipOff, udp ? len + 28 : len, q, i);
  }

  /** esp4_err for an underlay ICMP message b[off, off+len) at nowMs: the SA whose path MTU was lowered, or null. */
  espErr(b: Uint8Array, off: number, len: number, nowMs: number): XfrmState | null {
    return espErr(this.sad, this.errViews, b, off, len, nowMs);
  }

  /**
   * __xfrm_policy_check for a received packet's flow (policy-check.ts); `sa`
   * the state that decrypted it (null for a clear-text packet). Returns the
   * XfrmStat index counted for a refusal (the caller drops), or -1 when it may pass.
   */
  checkIn(f: Flow, sa: XfrmState | null): number {
    return policyCheckIn(this.spd, this.mib, f, sa);
  }

  /** The inbound policy check of a clear-text packet the host received (e.g. GRE for a tunnel): true = may pass. */
  checkInClear(b: Uint8Array, off: number, len: number, ifindex: number): boolean {
    if (this.spd.count === 0 && this.spd.defaults.in === 'accept') return true;
    const f = this.flow;
    if (!f.decode(b, off, len, ifindex)) return true; // the tunnel stack drops and counts malformed packets itself
    return this.checkIn(f, null) < 0;
  }

  /**
   * xfrm_timer_handler for every state: soft events once, hard expiry
   * deletes (and notifies); learnt path MTUs that expired at nowMs go back
   * to the underlay MTU. Returns the states whose routeMtu rose (the shell
   * re-syncs routes, as after espErr); usually empty.
   */
  tick(nowMs: number): XfrmState[] {
    const raised: XfrmState[] = [];
    for (const x of this.sad.list()) {
      if (x.expirePmtu(nowMs)) raised.push(x);
      const e = x.tick(nowMs);
      if (e === Expiry.None) continue;
      this.events.push({ kind: 'expire', hard: e === Expiry.Hard, state: x, at: null });
      if (e === Expiry.Hard) this.sad.remove(x);
    }
    for (const [k, t] of this.acquired) if (nowMs - t >= XFRM_ACQ_EXPIRES_S * 1000) this.acquired.delete(k);
    return raised;
  }

  /**
   * A hard byte/packet limit fired on a packet: xfrm_state_check_expire
   * starts the state timer at once, which deletes the state and sends the
   * hard expire (xfrm_timer_handler → km_state_expired(x, 1)) before any
   * later packet can look for it.
   */
  private expireHard(x: XfrmState): void {
    this.events.push({ kind: 'expire', hard: true, state: x, at: x.expiredAt });
    this.sad.remove(x);
  }

  private acquire(p: XfrmPolicy, t: Tmpl, f: Flow, nowMs: number): void {
    const key = `${p.index}/${p.tmpls.indexOf(t)}`;
    if (this.acquired.has(key)) return;
    this.acquired.set(key, nowMs);
    const n = f.family === 4 ? 4 : 16;
    this.events.push({
      kind: 'acquire', policy: p, tmpl: t, family: f.family, proto: f.proto,
      src: f.buf.slice(f.srcOff, f.srcOff + n), dst: f.buf.slice(f.dstOff, f.dstOff + n), // eslint-disable-line no-restricted-syntax -- an event's own copy, not the data path
    });
  }

  private count(i: number): number {
    this.mib.inc(i);
    return i;
  }

  private dropMib(r: XfrmResult, i: number): XVerdict {
    this.mib.inc(i);
    r.verdict = XVerdict.Drop;
    r.mib = i;
    return XVerdict.Drop;
  }

  /**
   * A received packet whose headers cannot be read: XfrmInHdrError, as
   * __xfrm_policy_check counts a session it cannot decode (the inner packet
   * after decapsulation). A malformed outer IPv4 or UDP header never reaches
   * the kernel's xfrm (ip_rcv_core and __udp4_lib_rcv drop it and count
   * InHdrErrors / Udp InErrors, MIBs tunkit does not keep), so the same
   * header-error counter names it here; r.drop keeps which header it was.
   */
  private dropHdr(r: XfrmResult, d: XDrop): XVerdict {
    this.dropMib(r, XfrmStat.InHdrError);
    r.drop = d;
    return XVerdict.Drop;
  }

  private dropX(r: XfrmResult, d: XDrop): XVerdict {
    r.verdict = XVerdict.Drop;
    r.drop = d;
    return XVerdict.Drop;
  }
}
