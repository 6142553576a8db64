// Hash buckets of tunnels for the receive lookups (lookup.ts): the role of
// ip_tunnel_net's tunnels[IP_TNL_HASH_SIZE] chains, hashed by ip_bucket on
// (i_key, remote) (net/ipv4/ip_tunnel.c), and sit_net's tunnels_r_l /
// tunnels_r / tunnels_l / tunnels_wc (net/ipv6/sit.c).
//
// Our buckets are exact, not hashed chains: a bucket holds only tunnels with
// the same address (and, for KeyedBuckets, the same key class), so a lookup
// filters only what it could match. Each bucket is kept oldest first
// (append); callers walk it from the end to see the newest first, the
// kernel's hlist_add_head order. Addresses and keys are int32 (Tunnel.localS
// etc.), always V8 Smis: no boxing per packet.

import type { Tunnel } from './tunnel.js';

function put(m: Map<number, Tunnel[]>, k: number, t: Tunnel): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [t]);
  else l.push(t);
}

function drop(m: Map<number, Tunnel[]>, k: number, t: Tunnel): void {
  const l = m.get(k);
  if (l === undefined) return;
  const i = l.indexOf(t);
  if (i >= 0) l.splice(i, 1);
  if (l.length === 0) m.delete(k);
}

/** Tunnels by one int32 address. */
export class Buckets {
  private readonly m = new Map<number, Tunnel[]>();
  add(addr: number, t: Tunnel): void { put(this.m, addr, t); }
  remove(addr: number, t: Tunnel): void { drop(this.m, addr, t); }
  /** The tunnels with this address, oldest first; undefined when none. */
  get(addr: number): readonly Tunnel[] | undefined { return this.m.get(addr); }
}

/**
 * Tunnels by (address, key class): keyed tunnels (TUNNEL_KEY in i_flags) by
 * their i_key, keyless ones apart. get(addr, hasKey, key) returns exactly
 * the tunnels with that address for which ip_tunnel_key_match(hasKey, key)
 * holds (Tunnel.keyMatch): keyed ones with that key for a K packet, keyless
 * ones for a packet without a key.
 */
export class KeyedBuckets {
  private readonly keyed = new Map<number, Map<number, Tunnel[]>>();
  private readonly plain = new Map<number, Tunnel[]>();

  add(addr: number, t: Tunnel): void {
    if (!t.ikeyed) {
      put(this.plain, addr, t);
      return;
    }
    let m = this.keyed.get(addr);
    if (m === undefined) {
      m = new Map();
      this.keyed.set(addr, m);
    }
    put(m, t.ikeyS, t);
  }

  remove(addr: number, t: Tunnel): void {
    if (!t.ikeyed) {
      drop(this.plain, addr, t);
      return;
    }
    const m = this.keyed.get(addr);
    if (m === undefined) return;
    drop(m, t.ikeyS, t);
    if (m.size === 0) this.keyed.delete(addr);
  }

  /** Appends every tunnel with this address, whatever its key, oldest first (control plane: sorts). */
  collect(addr: number, out: Tunnel[]): void {
    const found = [...(this.plain.get(addr) ?? [])];
    for (const l of this.keyed.get(addr)?.values() ?? []) found.push(...l);
    out.push(...found.sort((a, b) => a.serial - b.serial));
  }

  get(addr: number, hasKey: boolean, key: number): readonly Tunnel[] | undefined {
    if (!hasKey) return this.plain.get(addr);
    const m = this.keyed.get(addr);
    return m === undefined ? undefined : m.get(key);
  }
}
