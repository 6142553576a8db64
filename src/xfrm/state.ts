// One security association (struct xfrm_state): its validated config, the
// per-SA crypto context and replay window, and the live state `ip -s xfrm
// state` shows — per-SA stats, current lifetime, km state (valid → dying on
// a soft limit → expired on a hard one).
//
// Lifetimes (net/xfrm/xfrm_state.c): byte/packet limits are checked per
// packet by checkExpire (xfrm_state_check_expire: `>=` against the counts
// *before* this packet, so packet-hard N lets N packets through); time
// limits by tick (xfrm_timer_handler). Times are milliseconds of the clock
// the shell passes (wall clock, as the kernel's ktime_get_real_seconds);
// limits are in seconds.

import { ESP_HDR_LEN } from '../wire/esp.js';
import { UDP_ENCAP_ESPINUDP_NON_IKE, XFRM_MODE_TUNNEL } from './config.js';
import type { SaConfig } from './config.js';
import { makeEspCrypto, wipeKeys } from './esp-crypto.js';
import type { EspCrypto } from './esp-crypto.js';
import { ReplayWindow } from './replay.js';
import type { StateSpec } from './spec.js';
import { be32 } from '../wire/bytes.js';

/** net.ipv4.route.mtu_expires (ip_rt_mtu_expires): a learnt PMTU lasts 600 s. */
export const IP_RT_MTU_EXPIRES_MS = 600_000;

export const KmState = { Valid: 0, Dying: 1, Expired: 2 } as const;
export type KmState = (typeof KmState)[keyof typeof KmState];

/** What checkExpire/tick report: nothing, a soft limit just crossed (notify once), a hard one (delete). */
export const Expiry = { None: 0, Soft: 1, Hard: 2 } as const;
export type Expiry = (typeof Expiry)[keyof typeof Expiry];

export class XfrmState {
  readonly crypto: EspCrypto;
  readonly replay: ReplayWindow;
  /** x->props.header_len: ESP header + IV, + 20 outer IPv4 (tunnel), + 8 UDP (encap). */
  readonly headerLen: number;
  /** Largest trailer: padding to the block (blockAlign - 1) + Pad Length + Next Header + ICV. */
  readonly trailerLen: number;
  // xfrm_stats
  statReplayWindow = 0;
  statReplay = 0;
  statIntegrityFailed = 0;
  // xfrm_lifetime_cur
  curBytes = 0;
  curPackets = 0;
  readonly addTimeMs: number;
  /** 0 until the first packet (curlft.use_time). */
  useTimeMs = 0;
  km: KmState = KmState.Valid;
  /** Insertion order (for listing as the kernel does: newest first). */
  readonly genid: number;
  /** cfg.spi's bits as an int32 (cfg.spi | 0): a small integer to write per packet, where an SPI of 2^31 and up read from cfg is a boxed number. */
  readonly spiS: number;
  /** NAT-T (inbound SA): the peer source address (u32) and port last seen, from src and encap sport; a change raises one mapping event. */
  encapPeerAddr = 0;
  encapPeerPort = 0;
  /** MTU of the underlay route to cfg.dst (bytes), from the shell (`ip route get`; setUnderlayMtu). */
  underlayMtu = 1500;
  /** The path MTU packets use (bytes; PMTU check, TFC): underlayMtu, lowered by an unexpired learnt PMTU. */
  routeMtu = 1500;
  /** When the learnt PMTU expires (ms of the clock passed to learnPmtu/expirePmtu); 0 = none learnt. */
  pmtuExpiresMs = 0;

  /** cfg and spec change only through Sad.update (lifetimes, encap) and Sad.move (outer addresses, encap). */
  constructor(public cfg: SaConfig, public spec: StateSpec, nowMs: number, genid: number) {
    this.crypto = makeEspCrypto(cfg.crypto);
    this.replay = new ReplayWindow(cfg.replayMode, cfg.replayWindow);
    this.addTimeMs = nowMs;
    this.genid = genid;
    this.spiS = cfg.spi | 0;
    const outer = cfg.mode === XFRM_MODE_TUNNEL ? (cfg.family === 4 ? 20 : 40) : 0;
    // esp_init_state: + udphdr for espinudp, + udphdr + 2 * u32 (the zero marker) for espinudp-nonike.
    const udp = cfg.encap === null ? 0 : cfg.encap.type === UDP_ENCAP_ESPINUDP_NON_IKE ? 16 : 8;
    this.headerLen = ESP_HDR_LEN + this.crypto.ivLen + outer + udp;
    this.trailerLen = this.crypto.blockAlign - 1 + 2 + this.crypto.icvLen;
    // esp_input_done2 compares a packet's source with x->props.saddr and encap_sport (an inbound SA's peer side).
    this.notePeer();
  }

  /** An inbound SA's expected peer (x->props.saddr, encap_sport), from cfg. */
  private notePeer(): void {
    if (this.cfg.encap === null) return;
    const a = this.cfg.src.bytes;
    this.encapPeerAddr = be32(a, 0);
    this.encapPeerPort = this.cfg.encap.sport;
  }

  /**
   * Sad.move (which rehashes the state) and Sad.update only: new outer addresses and encap,
   * everything else — keys, sequence numbers, replay window, counters,
   * lifetimes — kept. `spec` is the same change in the control schema's form.
   */
  relocate(cfg: SaConfig, spec: StateSpec): void {
    this.cfg = cfg;
    this.spec = spec;
    this.notePeer();
  }

  /**
   * The state left the SAD (Sad.remove/flush): frees the crypto context,
   * wiping its key schedule, and zeroes the key bytes of cfg.crypto, which
   * the state owns from Sad.add on. spec keeps the keys as hex strings for
   * `state list --keys`; JS strings cannot be wiped. Idempotent.
   */
  destroy(): void {
    this.crypto.destroy();
    wipeKeys(this.cfg.crypto);
  }

  /** The shell's underlay route MTU (bytes); a learnt PMTU below it stays until it expires. */
  setUnderlayMtu(mtu: number): void {
    this.underlayMtu = mtu;
    this.routeMtu = this.pmtuExpiresMs !== 0 ? Math.min(this.routeMtu, mtu) : mtu;
  }

  /**
   * __ip_rt_update_pmtu for the route to cfg.dst (mtu already clamped to
   * ip_rt_min_pmtu): only ever lowers; the entry lives IP_RT_MTU_EXPIRES_MS
   * (the same MTU again in the second half of its life renews it). True
   * when routeMtu changed.
   */
  learnPmtu(mtu: number, nowMs: number): boolean {
    if (mtu > this.routeMtu) return false;
    if (mtu === this.routeMtu && (this.pmtuExpiresMs === 0 || nowMs < this.pmtuExpiresMs - IP_RT_MTU_EXPIRES_MS / 2)) return false;
    const changed = mtu !== this.routeMtu;
    this.routeMtu = mtu;
    this.pmtuExpiresMs = nowMs + IP_RT_MTU_EXPIRES_MS;
    return changed;
  }

  /** The learnt PMTU's expiry (the fnhe's dst->expires): back to underlayMtu at nowMs. True when routeMtu rose. */
  expirePmtu(nowMs: number): boolean {
    if (this.pmtuExpiresMs === 0 || nowMs < this.pmtuExpiresMs) return false;
    this.pmtuExpiresMs = 0;
    const old = this.routeMtu;
    this.routeMtu = this.underlayMtu;
    return this.routeMtu !== old;
  }

  /** True while packets may use the SA (xfrm_state_check / XFRM_STATE_VALID). */
  get isUsable(): boolean { return this.km !== KmState.Expired; }

  /**
   * xfrm_state_check_expire, before a packet is counted: sets the use time,
   * Hard when a byte/packet hard limit is reached (the state becomes
   * expired; the packet must be dropped), Soft the first time a soft limit
   * is reached (the caller raises the event once).
   */
  checkExpire(nowMs: number): Expiry {
    if (this.useTimeMs === 0) this.useTimeMs = nowMs;
    const l = this.cfg.limits;
    if (this.curBytes >= l.byteHard || this.curPackets >= l.packetHard) {
      this.km = KmState.Expired;
      this.expiredAt = { bytes: this.curBytes, packets: this.curPackets };
      return Expiry.Hard;
    }
    if (this.km === KmState.Valid && (this.curBytes >= l.byteSoft || this.curPackets >= l.packetSoft)) {
      this.km = KmState.Dying;
      this.expiredAt = { bytes: this.curBytes, packets: this.curPackets };
      return Expiry.Soft;
    }
    return Expiry.None;
  }

  /**
   * curlft when the last soft/hard byte or packet limit fired, before the
   * packet that fired it was counted — what km_state_expired reports.
   */
  expiredAt: { readonly bytes: number; readonly packets: number } | null = null;

  /** Counts one packet of `bytes` (x->curlft.bytes/packets). */
  count(bytes: number): void {
    this.curBytes += bytes;
    this.curPackets++;
  }

  /**
   * xfrm_timer_handler: the time limits. Hard add/use expiry → Hard (the
   * caller deletes the state and notifies); soft → Soft once.
   */
  tick(nowMs: number): Expiry {
    if (this.km === KmState.Expired) return Expiry.Hard;
    const l = this.cfg.limits;
    const age = (nowMs - this.addTimeMs) / 1000;
    const idle = this.useTimeMs === 0 ? 0 : (nowMs - this.useTimeMs) / 1000;
    // The kernel measures use-expiry from the first use (curlft.use_time), or from now if unused.
    if (age >= l.timeHard || (this.useTimeMs !== 0 && idle >= l.timeUseHard)) {
      this.km = KmState.Expired;
      return Expiry.Hard;
    }
    if (this.km === KmState.Valid && (age >= l.timeSoft || (this.useTimeMs !== 0 && idle >= l.timeUseSoft))) {
      this.km = KmState.Dying;
      return Expiry.Soft;
    }
    return Expiry.None;
  }
}
