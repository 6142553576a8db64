// Fail closed across tunkitd's death (README "Fail closed"). Every TUN/TAP
// device tunkitd makes — tunnel devices, xfrm interfaces, the policy TUN
// ipsec0 — is persistent (TUNSETPERSIST) and carries the alias
// TUNKIT_ALIAS. When the process goes (kill -9, a crash, a stop) the device
// stays, up, with its addresses and every route through it; with no fd
// attached the kernel drops what is routed into it (drivers/net/tun.c
// tun_net_xmit finds no queue: tx_dropped), so traffic routed through a
// tunnel never falls back to the default route in clear text. The
// fail-closed blackholes of out policies (policy-routes.ts) carry
// RTPROT_TUNKIT, so they too are recognisably ours.
//
//   openOwnedTun(name)  absent → create, set the alias, then persist (a death
//                       in between leaves nothing: the fd held it);
//                       present with our alias → attach (TUNSETIFF): adopted;
//                       present otherwise → EEXIST naming it, left untouched.
//   removeTun(tun)      TUNSETPERSIST off + close: the kernel deletes it
//                       (`tunkit link del`).
//   sweepStale(…)       after a --config start: our devices and routes that
//                       the file no longer declares.
//   teardown()          `tunkitd --teardown`: every device with our alias and
//                       every RTPROT_TUNKIT route of the namespace.
//
// Control path only; each call opens its own rtnetlink socket.

import { RTN_BLACKHOLE, RTPROT_BOOT, RTPROT_TUNKIT } from '../wire/rtnetlink.js';
import type { RouteRepr } from '../wire/rtnetlink-route.js';
import { VpnError } from '../wire/errors.js';
import { native } from '../io/native.js';
import { NetlinkError, RtNetlink } from '../io/netlink.js';
import type { LinkInfo } from '../io/netlink.js';
import { openTun } from '../io/tun-linux.js';
import type { TunLinux, TunOptions } from '../io/tun-linux.js';
import { NfTables } from '../io/nftables.js';
import { routeKey } from './policy-routes.js';
import { FULL_TUNNEL_PREF, FULL_TUNNEL_TABLE } from './xfrm-routes.js';

/** IFLA_IFALIAS of every device tunkitd made (`ip -d link show` prints "alias tunkitd"). */
export const TUNKIT_ALIAS = 'tunkitd';

/** Runs fn with a fresh rtnetlink socket, closed after. */
function withNl<T>(fn: (nl: RtNetlink) => T): T {
  const nl = RtNetlink.open();
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}

/** The device `name` if it exists (RTM_GETLINK), else null. */
export function findLink(name: string): LinkInfo | null {
  return withNl((nl) => nl.link(name));
}

/** True when `name` exists and is a device tunkitd made (our alias): one a restart may adopt. */
export function isOwnedDevice(name: string): boolean {
  return findLink(name)?.alias === TUNKIT_ALIAS;
}

/**
 * Opens `name` as a persistent, marked TUN/TAP device: adopts ours, creates
 * a missing one, refuses anyone else's (EEXIST; EBUSY when a live process
 * holds ours, i.e. another tunkitd runs in this namespace). `adopted` says
 * which. Throws VpnError naming the device.
 */
export function openOwnedTun(name: string, opts: TunOptions): { tun: TunLinux; adopted: boolean } {
  const have = findLink(name);
  if (have !== null && have.alias !== TUNKIT_ALIAS) {
    const alias = have.alias !== '' ? `alias "${have.alias}"` : 'no alias';
    throw new VpnError('EEXIST', `device "${name}" exists and was not made by tunkitd (${alias}, not "${TUNKIT_ALIAS}"): `
      + 'another daemon\'s? tunkitd leaves it alone; remove it (ip link del) or stop its owner '
      + `(a device pre-created for tunkitd needs \`ip link set ${name} alias ${TUNKIT_ALIAS}\`)`, 'name');
  }
  let tun: TunLinux;
  try {
    tun = openTun(name, opts);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new VpnError(err.code ?? 'EIO', `${err.message}${openHint(name, have !== null, err.code, opts.tap === true)}`, 'name');
  }
  if (have !== null) return { tun, adopted: true };
  try {
    withNl((nl) => nl.linkSetAlias(tun.ifindex, TUNKIT_ALIAS));
    native().tunSetPersist(tun.fd, true);
  } catch (e) {
    void tun.close(); // not persistent yet: the device goes with the fd
    const err = e as NodeJS.ErrnoException;
    throw new VpnError(err.code ?? 'EIO', `${name}: ${err.message}`, 'name');
  }
  return { tun, adopted: false };
}

/**
 * Why TUNSETIFF failed, for the error text. Without CAP_NET_ADMIN
 * (tun_set_iff) a missing device cannot be created (EPERM), and an existing
 * one is attached only by its owner user or group (tun_not_capable: EPERM).
 */
function openHint(name: string, exists: boolean, code: string | undefined, tap: boolean): string {
  if (code === 'EBUSY' && exists) return ' (tunkitd\'s device is held by another process: is a tunkitd already running in this namespace?)';
  if (code === 'EINVAL' && exists) return ` (tunkitd's device left from before is of another type: tunkitd --teardown removes it, or re-create it with \`ip tuntap add dev ${name} mode ${tap ? 'tap' : 'tun'}\`)`;
  if (code !== 'EPERM') return '';
  const uid = process.getuid?.() ?? -1;
  if (exists) return ` (device "${name}" belongs to another user: without CAP_NET_ADMIN tunkitd attaches only devices created with \`ip tuntap add dev ${name} mode ${tap ? 'tap' : 'tun'} user ${uid}\`)`;
  return ` (creating device "${name}" needs CAP_NET_ADMIN: without it, pre-create it as root with `
    + `\`ip tuntap add dev ${name} mode ${tap ? 'tap' : 'tun'} user ${uid}${tap ? '' : ' vnet_hdr'}\` and \`ip link set ${name} alias ${TUNKIT_ALIAS}\`)`;
}

/** Deletes a device opened by openOwnedTun: persistence off, then the last fd closed. */
export function removeTun(tun: TunLinux): void {
  try {
    native().tunSetPersist(tun.fd, false);
  } catch {
    // the fd no longer reaches the device (deleted behind our back): nothing to clear
  }
  void tun.close();
}

/** What sweepStale and teardown removed, as `ip` would name it. */
export type Removed = string[];

/** `route del` text for a route of a dump. */
function routeText(r: RouteRepr, key: string, devs: ReadonlyMap<number, string>): string {
  const how = r.type === RTN_BLACKHOLE ? `blackhole ${key}` : `${key} dev ${devs.get(r.oif ?? 0) ?? String(r.oif)}`;
  return `route ${how}${r.priority !== null ? ` metric ${r.priority >>> 0}` : ''} proto ${r.protocol}`;
}

/** Key of a dumped route (routeKey), or null for anything but IPv4/IPv6. */
function keyOf(r: RouteRepr): string | null {
  if (r.family !== 2 && r.family !== 10) return null;
  return routeKey({ family: r.family === 2 ? 4 : 6, bytes: r.dst ?? new Uint8Array(16), plen: r.dstLen });
}

/**
 * Removes what tunkitd left from before and no longer wants: devices with
 * our alias not in `keepDevs`, RTPROT_TUNKIT blackholes and routes through
 * `policyDev` whose prefix is not in `keepRoutes`. Each failure is
 * reported in `errors`, the rest goes on.
 */
export function sweepStale(keepDevs: ReadonlySet<string>, policyDev: string, keepRoutes: ReadonlySet<string>): { removed: Removed; errors: string[] } {
  return withNl((nl) => {
    const removed: Removed = [];
    const errors: string[] = [];
    const links = nl.linkDump();
    const devs = new Map(links.map((l) => [l.index, l.name]));
    const policyIx = links.find((l) => l.name === policyDev && l.alias === TUNKIT_ALIAS)?.index ?? -1;
    for (const l of links) {
      if (l.alias !== TUNKIT_ALIAS || keepDevs.has(l.name)) continue;
      if (tryDo(errors, `link del ${l.name}`, () => nl.linkDel(l.index))) removed.push(`link ${l.name}`);
    }
    for (const family of [4, 6] as const) {
      for (const r of nl.routeDumpMain(family)) {
        const k = keyOf(r);
        // policy-routes.ts installs its routes into the policy TUN as `ip route` would (proto boot)
        const isOurs = (r.type === RTN_BLACKHOLE && r.protocol === RTPROT_TUNKIT) || (policyIx > 0 && r.oif === policyIx && r.protocol === RTPROT_BOOT);
        if (k === null || !isOurs || keepRoutes.has(k)) continue;
        const what = routeText(r, k, devs);
        if (tryDo(errors, `${what} del`, () => nl.routeDelExact(r))) removed.push(what);
      }
    }
    return { removed, errors };
  });
}

/**
 * `tunkitd --teardown`: deletes every device with our alias (their routes
 * go with them) and every RTPROT_TUNKIT route of this namespace: after it,
 * what tunkit protected goes by the other routes again.
 */
export function teardown(): { removed: Removed; errors: string[] } {
  const out = sweepStale(new Set(), '', new Set());
  withNl((nl) => {
    for (const family of [4, 6] as const) {
      // The full-tunnel table is tunkit's alone (xfrm-routes.ts): every route in it, then its rule.
      let routes: RouteRepr[] = [];
      tryDo(out.errors, `route show table ${FULL_TUNNEL_TABLE}`, () => { routes = nl.routeDumpTable(family, FULL_TUNNEL_TABLE); }); // ENOENT: no such table
      for (const r of routes) {
        const k = keyOf(r);
        const what = `route ${r.type === RTN_BLACKHOLE ? 'blackhole ' : ''}${k ?? '?'} table ${FULL_TUNNEL_TABLE}`;
        if (tryDo(out.errors, `${what} del`, () => nl.routeDelExact(r))) out.removed.push(what);
      }
      const rule = `rule pref ${FULL_TUNNEL_PREF} lookup ${FULL_TUNNEL_TABLE}${family === 6 ? ' (ipv6)' : ''}`;
      if (tryDo(out.errors, `${rule} del`, () => nl.rule(family, FULL_TUNNEL_PREF, FULL_TUNNEL_TABLE, true))) out.removed.push(rule);
    }
  });
  let nft: NfTables | null = null;
  try {
    nft = NfTables.open();
    if (nft.remove()) out.removed.push('nft table inet tunkit');
  } catch (e) {
    out.errors.push(`nft delete table inet tunkit: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    nft?.close();
  }
  return out;
}

function tryDo(errors: string[], what: string, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && (e.code === 'ESRCH' || e.code === 'ENODEV' || e.code === 'ENOENT')) return false; // already gone
    errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}
