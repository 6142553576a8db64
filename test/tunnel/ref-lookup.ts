// ip_tunnel_lookup and ipip6_tunnel_lookup as linear scans over the tables'
// newest-first lists (the implementation before the hashed buckets): the
// reference the differential tests compare the bucketed lookups against.
import { isIp4Multicast } from '../../src/wire/addr.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';

/** ip_tunnel_lookup over `list` (newest first) and the table's fallback device. */
export function refIpLookup(list: readonly Tunnel[], fallback: Tunnel, link: number, hasKey: boolean, noKey: boolean, key: number, remote: number, local: number): Tunnel | null {
  let cand: Tunnel | null = null;
  for (const t of list) {
    if (local !== t.localS || remote !== t.remoteS || !t.isUp || !t.keyMatch(hasKey, key)) continue;
    if (t.p.link === link) return t;
    cand = t;
  }
  for (const t of list) {
    if (remote !== t.remoteS || t.localS !== 0 || !t.isUp || !t.keyMatch(hasKey, key)) continue;
    if (t.p.link === link) return t;
    if (cand === null) cand = t;
  }
  for (const t of list) {
    const localOnly = local === t.localS && t.remoteS === 0;
    const mcast = local === t.remoteS && isIp4Multicast(local);
    if ((!localOnly && !mcast) || !t.isUp || !t.keyMatch(hasKey, key)) continue;
    if (t.p.link === link) return t;
    if (cand === null) cand = t;
  }
  for (const t of list) {
    if ((!noKey && t.ikeyS !== key) || t.localS !== 0 || t.remoteS !== 0 || !t.isUp) continue;
    if (t.p.link === link) return t;
    if (cand === null) cand = t;
  }
  if (cand !== null) return cand;
  return fallback.isUp ? fallback : null;
}

const linkOk = (t: Tunnel, link: number): boolean => t.p.link === 0 || t.p.link === link;

/** ipip6_tunnel_lookup over `list` (newest first) and sit0. */
export function refSitLookup(list: readonly Tunnel[], fallback: Tunnel, link: number, remote: number, local: number): Tunnel | null {
  for (const t of list) {
    if (t.localS !== 0 && t.remoteS !== 0 && local === t.localS && remote === t.remoteS && linkOk(t, link) && t.isUp) return t;
  }
  for (const t of list) {
    if (t.localS === 0 && t.remoteS !== 0 && remote === t.remoteS && linkOk(t, link) && t.isUp) return t;
  }
  for (const t of list) {
    if (t.remoteS === 0 && t.localS !== 0 && local === t.localS && linkOk(t, link) && t.isUp) return t;
  }
  let head = fallback;
  for (const t of list) {
    if (t.localS === 0 && t.remoteS === 0) {
      head = t;
      break;
    }
  }
  return head.isUp ? head : null;
}
