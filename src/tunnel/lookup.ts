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
//
// Both look only at the buckets (buckets.ts) a packet can match — by remote
// and key class (ip_bucket's (remote, i_key) hash), by local for the
// remote-any tunnels, and the any/any list — walking each newest first, so
// the cost does not grow with the number of tunnels and every precedence
// rule above holds as in a scan of the whole newest-first list.

import { VpnError } from '../wire/errors.js';
import { isIp4Multicast } from '../wire/addr.js';
import { Buckets, KeyedBuckets } from './buckets.js';
import { Tunnel } from './tunnel.js';
import { FALLBACK_NAMES, TNL_KEY, TunnelKind } from './types.js';
import type { TunnelParams } from './types.js';
import { IPPROTO_GRE, IPPROTO_IPV6 } from '../wire/ipproto.js';

/** Common list handling: newest first, unique names, kernel duplicate rule. */
abstract class TableBase {
  /** Tunnels, oldest first. The fallback device is not in here. */
  private readonly order: Tunnel[] = [];
  private newestFirst: Tunnel[] | null = null;
  private readonly byIdentity = new Map<string, Tunnel>();
  private readonly byName = new Map<string, Tunnel>();
  readonly fallback: Tunnel;
  private serial = 0;

  constructor(readonly kind: TunnelKind) {
    this.fallback = new Tunnel(fallbackParams(kind));
  }

  /** Newest first (hash-chain order); a cached copy, rebuilt after a change. */
  get tunnels(): readonly Tunnel[] {
    if (this.newestFirst === null) this.newestFirst = [...this.order].reverse();
    return this.newestFirst;
  }

  /** Oldest first (creation order). */
  get oldestFirst(): readonly Tunnel[] { return this.order; }

  /** A tunnel of this table by name (not the fallback device). */
  named(name: string): Tunnel | null { return this.byName.get(name) ?? null; }

  /** Adds a tunnel (ip_tunnel_newlink): EEXIST if one with the same identity exists. O(1). */
  add(t: Tunnel): void {
    if (t.kind !== this.kind) throw new TypeError(`a ${t.kind} tunnel in a ${this.kind} table`);
    const k = this.identityKey(t.p);
    const dup = this.byIdentity.get(k);
    if (dup !== undefined) throw new VpnError('EEXIST', `tunnel ${dup.name} already has these endpoints${t.kind === TunnelKind.Sit ? '' : ' and key'}`);
    t.serial = ++this.serial;
    this.order.push(t);
    this.newestFirst = null;
    this.byIdentity.set(k, t);
    this.byName.set(t.name, t);
    this.index(t, true);
  }

  remove(t: Tunnel): boolean {
    const i = this.order.indexOf(t);
    if (i < 0) return false;
    this.order.splice(i, 1);
    this.newestFirst = null;
    const k = this.identityKey(t.p);
    if (this.byIdentity.get(k) === t) this.byIdentity.delete(k);
    if (this.byName.get(t.name) === t) this.byName.delete(t.name);
    this.index(t, false);
    return true;
  }

  /** Appends this table's tunnels whose remote is remoteS (int32), oldest first. */
  abstract collectRemote(remoteS: number, out: Tunnel[]): void;

  /** ip_tunnel_find / ipip6_tunnel_locate identity, as a string key. */
  protected abstract identityKey(p: TunnelParams): string;

  /** Adds t to (isAdd) or removes it from the lookup buckets. */
  protected abstract index(t: Tunnel, isAdd: boolean): void;
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
  /** Every tunnel by remote and key class: steps 1 and 2, and step 3's multicast remotes. */
  private readonly byRemote = new KeyedBuckets();
  /** Tunnels with remote any, by local and key class: step 3. */
  private readonly byLocal = new KeyedBuckets();
  /** Tunnels with local and remote any, oldest first, and by raw i_key: step 4. */
  private readonly wild: Tunnel[] = [];
  private readonly wildByKey = new Buckets();

  collectRemote(remoteS: number, out: Tunnel[]): void { this.byRemote.collect(remoteS, out); }

  protected identityKey(p: TunnelParams): string {
    // ip_tunnel_find: same local, remote, link, type and ip_tunnel_key_match(i_flags, i_key).
    return `${p.local}|${p.remote}|${p.link}|${(p.iflags & TNL_KEY) !== 0 ? p.ikey : '-'}`;
  }

  protected index(t: Tunnel, isAdd: boolean): void {
    if (isAdd) this.byRemote.add(t.remoteS, t);
    else this.byRemote.remove(t.remoteS, t);
    if (t.remoteS !== 0) return;
    if (isAdd) this.byLocal.add(t.localS, t);
    else this.byLocal.remove(t.localS, t);
    if (t.localS !== 0) return;
    if (isAdd) {
      this.wild.push(t);
      this.wildByKey.add(t.ikeyS, t);
    } else {
      this.wild.splice(this.wild.indexOf(t), 1);
      this.wildByKey.remove(t.ikeyS, t);
    }
  }

  /**
   * ip_tunnel_lookup for a packet from `remote` to `local` received on `link`.
   * Addresses and key are int32 (`value | 0`), see Tunnel.localS.
   * `hasKey`/`key`: the packet's GRE K bit and key; `noKey` is TUNNEL_NO_KEY
   * (ipip: no key field at all). Returns null when nothing (not even an up fallback) matches.
   */
  lookup(link: number, hasKey: boolean, noKey: boolean, key: number, remote: number, local: number): Tunnel | null {
    let cand: Tunnel | null = null;
    const g = this.byRemote.get(remote, hasKey, key); // remote and key match; newest at the end
    if (g !== undefined) {
      for (let i = g.length - 1; i >= 0; i--) { // 1. local and remote: the last (oldest) match is kept
        const t = g[i]!;
        if (local !== t.localS || !t.isUp) continue;
        if (t.p.link === link) return t;
        cand = t;
      }
      for (let i = g.length - 1; i >= 0; i--) { // 2. remote only
        const t = g[i]!;
        if (t.localS !== 0 || !t.isUp) continue;
        if (t.p.link === link) return t;
        if (cand === null) cand = t;
      }
    }
    // 3. local only, or a multicast local equal to the tunnel's remote: two buckets, merged newest first.
    const lo = this.byLocal.get(local, hasKey, key);
    const mc = isIp4Multicast(local) ? this.byRemote.get(local, hasKey, key) : undefined;
    let i = lo === undefined ? -1 : lo.length - 1;
    let j = mc === undefined ? -1 : mc.length - 1;
    while (i >= 0 || j >= 0) {
      const t = j < 0 || (i >= 0 && lo![i]!.serial > mc![j]!.serial) ? lo![i--]! : mc![j--]!;
      if (!t.isUp) continue;
      if (t.p.link === link) return t;
      if (cand === null) cand = t;
    }
    const w = noKey ? this.wild : this.wildByKey.get(key); // 4. any/any: i_key compared without the flag
    if (w !== undefined) {
      for (let k = w.length - 1; k >= 0; k--) {
        const t = w[k]!;
        if (!t.isUp) continue;
        if (t.p.link === link) return t;
        if (cand === null) cand = t;
      }
    }
    if (cand !== null) return cand;
    return this.fallback.isUp ? this.fallback : null;
  }
}

/** ipip6_tunnel_lookup's link filter: unbound tunnels, or bound to the receiving link. */
const linkOk = (t: Tunnel, link: number): boolean => t.p.link === 0 || t.p.link === link;

/** sit tunnels of one network namespace. */
export class SitTable extends TableBase {
  /** Every tunnel by remote (tunnels_r_l and tunnels_r). */
  private readonly byRemote = new Buckets();
  /** Tunnels with remote any, by local (tunnels_l). */
  private readonly byLocal = new Buckets();
  /** Tunnels with local and remote any, oldest first (tunnels_wc). */
  private readonly wild: Tunnel[] = [];

  collectRemote(remoteS: number, out: Tunnel[]): void { out.push(...(this.byRemote.get(remoteS) ?? [])); }

  protected identityKey(p: TunnelParams): string {
    // ipip6_tunnel_locate: same remote, local and link.
    return `${p.local}|${p.remote}|${p.link}`;
  }

  protected index(t: Tunnel, isAdd: boolean): void {
    if (isAdd) this.byRemote.add(t.remoteS, t);
    else this.byRemote.remove(t.remoteS, t);
    if (t.remoteS !== 0) return;
    if (isAdd) this.byLocal.add(t.localS, t);
    else this.byLocal.remove(t.localS, t);
    if (t.localS !== 0) return;
    if (isAdd) this.wild.push(t);
    else this.wild.splice(this.wild.indexOf(t), 1);
  }

  /** ipip6_tunnel_lookup for a packet from `remote` to `local` (int32) received on `link`. */
  lookup(link: number, remote: number, local: number): Tunnel | null {
    const g = this.byRemote.get(remote);
    if (g !== undefined) {
      for (let i = g.length - 1; i >= 0; i--) {
        const t = g[i]!;
        if (t.localS !== 0 && t.remoteS !== 0 && local === t.localS && linkOk(t, link) && t.isUp) return t;
      }
      for (let i = g.length - 1; i >= 0; i--) {
        const t = g[i]!;
        if (t.localS === 0 && t.remoteS !== 0 && linkOk(t, link) && t.isUp) return t;
      }
    }
    const l = this.byLocal.get(local);
    if (l !== undefined) {
      for (let i = l.length - 1; i >= 0; i--) {
        const t = l[i]!;
        if (t.localS !== 0 && linkOk(t, link) && t.isUp) return t;
      }
    }
    // tunnels_wc[0]: its head is the newest any/any tunnel, else sit0.
    const head = this.wild.length > 0 ? this.wild[this.wild.length - 1]! : this.fallback;
    return head.isUp ? head : null;
  }
}
