// One tunnel device's state: validated parameters, counters, sequence
// numbers, device MTU/up state, and the underlay route facts the shell feeds
// in (the core never looks at routes itself — it is sans-I/O).
//
// Path MTU: dst_mtu(rt) of the outer route = min(underlay MTU, learnt PMTU).
// A learnt PMTU follows __ip_rt_update_pmtu (net/ipv4/route.c): it only ever
// lowers the MTU, values below ip_rt_min_pmtu (552) are clamped to 552 and
// *locked* (outer DF is then cleared: iptunnel_xmit's ip_mtu_locked), and the
// entry expires after ip_rt_mtu_expires (10 min).

import { GrePacket } from '../wire/gre.js';
import { IPPROTO_GRE } from '../wire/ipproto.js';
import { defaultMtu, hardHeaderLen, tunnelHlen } from './params.js';
import { LinkStats } from './stats.js';
import {
  ETH_DATA_LEN, IP_RT_MIN_PMTU, IPTUNNEL_ERR_TIMEO_MS, PMTU_EXPIRES_MS, TNL_CSUM, TNL_KEY, TNL_SEQ,
} from './types.js';
import type { TunnelKind, TunnelParams } from './types.js';
import type { TraceHook } from './trace.js';

export class Tunnel {
  readonly p: TunnelParams;
  readonly kind: TunnelKind;
  readonly name: string;
  readonly stats = new LinkStats();
  /** The transmit path's GRE view (checksum fill), rebound per packet: per tunnel, never shared module state. */
  readonly greView = new GrePacket();
  /** tunnel->hlen: the GRE header length (0 for ipip/sit). */
  readonly hlen: number;
  /** dev->hard_header_len: 14 for gretap. */
  readonly hhLen: number;
  /**
   * local/remote/ikey as signed int32 (`| 0`): the receive path compares
   * these with signed reads of the packet, because u32 values ≥ 2^31 are
   * heap numbers in V8 and would allocate when passed around per packet.
   */
  readonly localS: number;
  readonly remoteS: number;
  readonly ikeyS: number;
  /** Device MTU (dev->mtu). */
  mtu: number;
  /** IFF_UP: lookups skip down devices; a down device transmits nothing. */
  isUp = false;
  /** Next GRE sequence number to send (o_seqno; first sent is 0) and expected next received (i_seqno); int32, wrapping. */
  oSeqno = 0;
  iSeqno = 0;
  /** Outer IPv4 identification counter (u16), seeded by the shell (__ip_select_ident stand-in). */
  ident: number;
  /** Underlay route facts, fed by the shell: MTU of the route to the remote, whether one exists, whether it loops into this device. */
  underlayMtu = ETH_DATA_LEN;
  hasRoute = true;
  routeLoops = false;
  /** Learnt PMTU (0 = none), its lock bit and expiry (ms, in the caller's clock). */
  private pmtuVal = 0;
  private pmtuLock = false;
  private pmtuExpiresMs = 0;
  /**
   * err_count / err_time: ICMP errors from the underlay noted by ipip_err /
   * ipgre_err / ipip6_err; for IPTUNNEL_ERR_TIMEO each transmit consumes one
   * and answers its sender with dst_link_failure (the packet still goes out).
   */
  errCount = 0;
  errTimeMs = 0;
  /** Insertion order; lookups prefer newer tunnels as the kernel's hlist_add_head does. */
  serial = 0;
  /** Optional per-packet decision hook (see trace.ts). */
  trace: TraceHook | null = null;

  constructor(p: TunnelParams, identSeed = 0) {
    this.p = p;
    this.kind = p.kind;
    this.name = p.name;
    this.hlen = tunnelHlen(p);
    this.hhLen = hardHeaderLen(p);
    this.mtu = p.mtu !== 0 ? p.mtu : defaultMtu(p, ETH_DATA_LEN);
    this.ident = identSeed & 0xffff;
    this.localS = p.local | 0;
    this.remoteS = p.remote | 0;
    this.ikeyS = p.ikey | 0;
  }

  get isGre(): boolean { return this.p.proto === IPPROTO_GRE; }
  get icsum(): boolean { return (this.p.iflags & TNL_CSUM) !== 0; }
  get iseq(): boolean { return (this.p.iflags & TNL_SEQ) !== 0; }
  get ikeyed(): boolean { return (this.p.iflags & TNL_KEY) !== 0; }

  /** dst_mtu of the outer route at `nowMs`: the underlay MTU, lowered by an unexpired learnt PMTU. */
  routeMtu(nowMs: number): number {
    if (this.pmtuVal !== 0 && nowMs >= this.pmtuExpiresMs) this.pmtuVal = 0;
    return this.pmtuVal !== 0 && this.pmtuVal < this.underlayMtu ? this.pmtuVal : this.underlayMtu;
  }

  /** ip_mtu_locked(): the learnt PMTU was below 552, so outer DF must be cleared. */
  pmtuLocked(nowMs: number): boolean {
    this.routeMtu(nowMs); // expires a stale entry
    return this.pmtuVal !== 0 && this.pmtuLock;
  }

  /**
   * ipv4_update_pmtu for the outer route, as ipip_err/ipgre_err call it on an
   * ICMP FRAG_NEEDED quoting one of our packets. Returns true if the PMTU changed.
   */
  updatePmtu(mtu: number, nowMs: number): boolean {
    const old = this.routeMtu(nowMs);
    if (this.pmtuVal !== 0 && this.pmtuLock) return false;
    if (old < mtu) return false;
    let v = mtu;
    let lock = false;
    if (v < IP_RT_MIN_PMTU) {
      lock = true;
      v = Math.min(old, IP_RT_MIN_PMTU);
    }
    // Same MTU again in the first half of the entry's life: nothing to do.
    if (v === this.pmtuVal && !lock && nowMs < this.pmtuExpiresMs - PMTU_EXPIRES_MS / 2) return false;
    const changed = v !== this.pmtuVal || lock !== this.pmtuLock;
    this.pmtuVal = v;
    this.pmtuLock = lock;
    this.pmtuExpiresMs = nowMs + PMTU_EXPIRES_MS;
    return changed;
  }

  /** Notes an underlay error (the tail of ipip_err / ipgre_err / ipip6_err). */
  noteUnderlayError(nowMs: number): void {
    this.errCount = nowMs < this.errTimeMs + IPTUNNEL_ERR_TIMEO_MS ? this.errCount + 1 : 1;
    this.errTimeMs = nowMs;
  }

  /**
   * ip_tunnel_xmit's err_count step: true when this transmit must also send
   * dst_link_failure() to its sender (within 30 s of the last error).
   */
  takeLinkFailure(nowMs: number): boolean {
    if (this.errCount <= 0) return false;
    if (nowMs < this.errTimeMs + IPTUNNEL_ERR_TIMEO_MS) {
      this.errCount--;
      return true;
    }
    this.errCount = 0;
    return false;
  }

  /** The learnt PMTU (0 if none or expired) for display. */
  learntPmtu(nowMs: number): number {
    this.routeMtu(nowMs);
    return this.pmtuVal;
  }

  /** ip_tunnel_key_match(): keyed tunnels accept only K packets with their key (int32); keyless only non-K packets. */
  keyMatch(pktHasKey: boolean, keyS: number): boolean {
    if (!pktHasKey) return !this.ikeyed;
    return this.ikeyed && this.ikeyS === keyS;
  }
}
