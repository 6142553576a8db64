// Tunnel tables and receive-side lookup.
//
// IpTunnelTable mirrors struct ip_tunnel_net + ip_tunnel_lookup()
// (net/ipv4/ip_tunnel.c) for ipip, gre and gretap:
//   1. exact local+remote;  2. remote only (local any);
//   3. local only (remote any), or local == a multicast remote;
//   4. key-only wildcard (both any) — the key compared directly, no flags check
//      when the packet has a key field (ipip passes TUNNEL_NO_KEY, which skips the key test);
//   steps 1–3 also need ip_tunnel_key_match(). Within each step a tunnel
//   bound to the receiving link wins at once; otherwise step 1 keeps the LAST
//   match seen and steps 2–4 the first candidate of any step. The kernel's
//   hash chains put newer tunnels first (hlist_add_head), so "first" means
//   newest. Then the fallback device (tunl0/gre0/gretap0) if it is up.
//   collect_md ("external") tunnels are not supported.
//
// SitTable mirrors ipip6_tunnel_lookup() (net/ipv6/sit.c): exact, remote-only,
// local-only — the link acts as a filter, not a preference — then the head of
// the wildcard list (the newest any/any tunnel, else sit0) if it is up.

import { VpnError } from '../wire/errors.js';
import { isIp4Multicast } from '../wire/addr.js';
import { Tunnel } from './tunnel.js';
import { FALLBACK_NAMES, TNL_KEY, TunnelKind } from './types.js';
import type { TunnelParams } from './types.js';
import { IPPROTO_GRE, IPPROTO_IPV6 } from '../wire/ipproto.js';

/** Common list handling: newest first, unique names, kernel duplicate rule. */
abstract class TableBase {
  /** Tunnels, newest first (hash-chain order). The fallback device is not in here. */
  protected list: Tunnel[] = [];
  readonly fallback: Tunnel;
  private serial = 0;

  constructor(readonly kind: TunnelKind) {
    this.fallback = new Tunnel(fallbackParams(kind));
  }

  get tunnels(): readonly Tunnel[] { return this.list; }

  /** Adds a tunnel (ip_tunnel_newlink): EEXIST if one with the same identity exists. */
  add(t: Tunnel): void {
    if (t.kind !== this.kind) throw new TypeError(`a ${t.kind} tunnel in a ${this.kind} table`);
    const dup = this.list.find((x) => this.sameIdentity(x.p, t.p));
    if (dup !== undefined) throw new VpnError('EEXIST', `tunnel ${dup.name} already has these endpoints${t.kind === TunnelKind.Sit ? '' : ' and key'}`);
    t.serial = ++this.serial;
    this.list.unshift(t);
  }

  remove(t: Tunnel): boolean {
    const i = this.list.indexOf(t);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /** ip_tunnel_find / ipip6_tunnel_locate identity. */
  protected abstract sameIdentity(a: TunnelParams, b: TunnelParams): boolean;
}

/**
 * The fallback device's parameters (ip_tunnel_init_net / sit_init_net), as
 * `ip -d link` shows them on Linux 6.1: no addresses, no key, nopmtudisc,
 * created down; tunl0 "ipip any ttl inherit", gre0/gretap0 "ttl inherit",
 * sit0 "sit ip6ip ttl 64".
 */
function fallbackParams(kind: TunnelKind): TunnelParams {
  const proto = kind === TunnelKind.Ipip ? 0 : kind === TunnelKind.Sit ? IPPROTO_IPV6 : IPPROTO_GRE;
  return {
    name: FALLBACK_NAMES[kind], kind, local: 0, remote: 0, link: 0, ttl: kind === TunnelKind.Sit ? 64 : 0, tos: 0, df: false, ignoreDf: false,
    iflags: 0, oflags: 0, ikey: 0, okey: 0, proto, mtu: 0,
  };
}

/** ipip / gre / gretap tunnels of one network namespace. */
export class IpTunnelTable extends TableBase {
  protected sameIdentity(a: TunnelParams, b: TunnelParams): boolean {
    // ip_tunnel_find: same local, remote, link, type and ip_tunnel_key_match(i_flags, i_key).
    const aKey = (a.iflags & TNL_KEY) !== 0;
    const bKey = (b.iflags & TNL_KEY) !== 0;
    return a.local === b.local && a.remote === b.remote && a.link === b.link && aKey === bKey && (!aKey || a.ikey === b.ikey);
  }

  /**
   * ip_tunnel_lookup for a packet from `remote` to `local` received on `link`.
   * Addresses and key are int32 (`value | 0`), see Tunnel.localS.
   * `hasKey`/`key`: the packet's GRE K bit and key; `noKey` is TUNNEL_NO_KEY
   * (ipip: no key field at all). Returns null when nothing (not even an up fallback) matches.
   */
  lookup(link: number, hasKey: boolean, noKey: boolean, key: number, remote: number, local: number): Tunnel | null {
    let cand: Tunnel | null = null;
    for (const t of this.list) {
      if (local !== t.localS || remote !== t.remoteS || !t.isUp || !t.keyMatch(hasKey, key)) continue;
      if (t.p.link === link) return t;
      cand = t;
    }
    for (const t of this.list) {
      if (remote !== t.remoteS || t.localS !== 0 || !t.isUp || !t.keyMatch(hasKey, key)) continue;
      if (t.p.link === link) return t;
      if (cand === null) cand = t;
    }
    for (const t of this.list) {
      const localOnly = local === t.localS && t.remoteS === 0;
      const mcast = local === t.remoteS && isIp4Multicast(local);
      if ((!localOnly && !mcast) || !t.isUp || !t.keyMatch(hasKey, key)) continue;
      if (t.p.link === link) return t;
      if (cand === null) cand = t;
    }
    for (const t of this.list) {
      if ((!noKey && t.ikeyS !== key) || t.localS !== 0 || t.remoteS !== 0 || !t.isUp) continue;
      if (t.p.link === link) return t;
      if (cand === null) cand = t;
    }
    if (cand !== null) return cand;
    return this.fallback.isUp ? this.fallback : null;
  }
}

/** ipip6_tunnel_lookup's link filter: unbound tunnels, or bound to the receiving link. */
const linkOk = (t: Tunnel, link: number): boolean => t.p.link === 0 || t.p.link === link;

/** sit tunnels of one network namespace. */
export class SitTable extends TableBase {
  protected sameIdentity(a: TunnelParams, b: TunnelParams): boolean {
    // ipip6_tunnel_locate: same remote, local and link.
    return a.local === b.local && a.remote === b.remote && a.link === b.link;
  }

  /** ipip6_tunnel_lookup for a packet from `remote` to `local` (int32) received on `link`. */
  lookup(link: number, remote: number, local: number): Tunnel | null {
    for (const t of this.list) {
      if (t.localS !== 0 && t.remoteS !== 0 && local === t.localS && remote === t.remoteS && linkOk(t, link) && t.isUp) return t;
    }
    for (const t of this.list) {
      if (t.localS === 0 && t.remoteS !== 0 && remote === t.remoteS && linkOk(t, link) && t.isUp) return t;
    }
    for (const t of this.list) {
      if (t.remoteS === 0 && t.localS !== 0 && local === t.localS && linkOk(t, link) && t.isUp) return t;
    }
    // tunnels_wc[0]: its head is the newest any/any tunnel, else sit0.
    let head = this.fallback;
    for (const t of this.list) {
      if (t.localS === 0 && t.remoteS === 0) {
        head = t;
        break;
      }
    }
    return head.isUp ? head : null;
  }
}
